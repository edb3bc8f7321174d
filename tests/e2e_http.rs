//! End to end against moto: an HTTP API with a VPC link v2 to an internal
//! ALB listener with a path rule and two target groups (instances, and IP
//! targets), audited live; then broken the ways only this topology breaks;
//! and one command auditing a REST and an HTTP API, kinds detected.

mod common;

use common::*;

fn audit_json(key: &str, apis: &[&str]) -> (serde_json::Value, i32) {
    let mut cmd = tool(key);
    cmd.args(["audit", "--output", "json"]);
    for a in apis {
        cmd.args(["--api-id", a]);
    }
    let out = run(&mut cmd);
    (json_of(&out), out.status.code().unwrap_or(-1))
}

fn broken(suffix: &str, octet: u8, brk: &str, expected: &str) {
    let s = build("http-v2", suffix, octet);
    apply(&s, brk);
    let (report, code) = audit_json(
        &format!("AKID{suffix}"),
        &[s["api_id"].as_str().expect("api id")],
    );
    assert_only_fails(&report, expected);
    assert_eq!(code, 1);
}

#[test]
fn healthy_http_api_through_an_alb_passes() {
    let s = build("http-v2", "h2ok", 60);
    let (report, code) = audit_json("AKIDh2ok", &[s["api_id"].as_str().expect("api id")]);
    let w = worst_by_check(&report);
    assert_eq!(code, 0, "{w:?}");
    assert_eq!(report["apis"][0]["kind"], "http");
    // The JWT authorizer was found by the name the deployment's export
    // gives it, through the API's authorizer listing.
    assert_eq!(w["authorizer-config"], "pass", "{w:?}");
    for (check, status) in &w {
        // PrivateLink checks do not apply to VPC link v2; TLS checks do not
        // apply to a plain HTTP listener; HTTP APIs have no resource policy;
        // no distribution fronts the API and no URL was asked about; the
        // instances' keep-alive behind the ALB is not visible to AWS; HTTP
        // APIs have no API keys.
        let skipped_ok = [
            "idle-timeout",
            "endpoint-connection",
            "privatelink-inbound-rules",
            "tls-certificate-hostname",
            "tls-certificate-trust",
            "resource-policy",
            "cloudfront-origin-protocol",
            "route-exists",
            "lambda-integration",
            "api-key-usage-plan",
        ]
        .contains(&check.as_str());
        assert!(
            status == "pass" || (skipped_ok && status == "skip"),
            "{check} is {status}: {w:?}"
        );
    }
    // Both target groups, the rule's and the default's, were judged.
    let findings = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings");
    for tg in ["web_tg", "search_tg"] {
        let arn = s[tg].as_str().expect("arn");
        assert!(
            findings.iter().any(|f| f["check"] == "target-health"
                && f["resource"] == arn
                && f["status"] == "pass"),
            "{tg} not judged"
        );
    }
}

#[test]
fn vpc_link_v2_inactive() {
    broken("h2inactive", 61, "link-v2-inactive", "vpc-link-status");
}

#[test]
fn link_security_group_egress_removed() {
    broken("h2egress", 62, "link-sg-egress-removed", "security-groups");
}

#[test]
fn rule_target_group_emptied() {
    broken("h2empty", 63, "search-group-emptied", "target-health");
}

#[test]
fn one_command_audits_a_rest_and_an_http_api() {
    let rest = build("rest-v1", "mixrest", 64);
    let http = build("http-v2", "mixhttp", 65);
    let ids = [
        rest["api_id"].as_str().expect("id"),
        http["api_id"].as_str().expect("id"),
    ];
    let (report, code) = audit_json("AKIDmixed", &ids);
    assert_eq!(code, 0, "{:?}", worst_by_check(&report));
    let kinds: std::collections::BTreeMap<String, String> = report["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap_or_default().to_string(),
                a["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(kinds.get(ids[0]).map(String::as_str), Some("rest"));
    assert_eq!(kinds.get(ids[1]).map(String::as_str), Some("http"));
}

/// The findings of `check` on `resource` in a one-API report.
fn on<'r>(
    report: &'r serde_json::Value,
    check: &str,
    resource: &str,
) -> Vec<&'r serde_json::Value> {
    report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == check && f["resource"] == resource)
        .collect()
}

/// Client IP preservation against moto: a route through the VPC link v2 to
/// an NLB whose instance targets admit the NLB's subnets only. AWS reports
/// preservation on for instance targets (moto does not report it: the
/// launcher adds it), so the requests arrive from the link's interfaces and
/// security-groups fails on that target group; with preservation turned
/// off, the NLB's addresses arrive and it passes.
#[test]
fn client_ip_preservation_decides_what_the_targets_must_admit() {
    let s = build("http-v2", "h2keep", 66);
    apply(&s, "nlb-behind-link");
    let api = s["api_id"].as_str().expect("api id");
    let (report, _) = audit_json("AKIDh2keep", &[api]);
    let nlb_tg = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "security-groups")
        .filter_map(|f| f["resource"].as_str())
        .find(|r| r.contains("targetgroup/orders-tcp-"))
        .expect("the NLB's target group is judged")
        .to_string();
    let f = on(&report, "security-groups", &nlb_tg);
    assert_eq!(f[0]["status"], "fail", "{f:?}");
    let m = f[0]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("through NLB") && m.contains("preserve_client_ip.enabled = true"),
        "{m}"
    );
    apply(&s, "nlb-preserve-ip-off");
    let (report, _) = audit_json("AKIDh2keepoff", &[api]);
    let f = on(&report, "security-groups", &nlb_tg);
    assert_eq!(f[0]["status"], "pass", "{f:?}");
}

/// GetApis lists WebSocket APIs beside HTTP APIs: the region's audit judges
/// the HTTP API, names the WebSocket API under `skipped_apis` with the
/// reason and reads nothing of it; naming it alone is bad input (exit 2).
#[test]
fn websocket_apis_are_recognised_and_skipped() {
    let s = build_in("ca-central-1", "http-v2", "wsmix", 175);
    apply(&s, "websocket-api");
    let key = "AKIDwebsocket";
    let out = run(tool(key).args([
        "audit",
        "--all-apis",
        "--region",
        "ca-central-1",
        "--output",
        "json",
    ]));
    let report = json_of(&out);
    validate_report(&report);
    let apis = report["apis"].as_array().expect("apis");
    assert_eq!(apis.len(), 1, "only the HTTP API is judged");
    assert_eq!(apis[0]["id"], s["api_id"]);
    let skipped = report["skipped_apis"].as_array().expect("skipped_apis");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["kind"], "websocket");
    assert_eq!(skipped[0]["name"], "ws-chat");
    assert_eq!(skipped[0]["region"], "ca-central-1");
    let ws = skipped[0]["id"].as_str().expect("id");
    // Nothing of the WebSocket API was read: the HTTP API's stages only.
    let calls = requests_by(key);
    let stages = calls.iter().filter(|c| c.ends_with("GetStages")).count();
    assert_eq!(stages, 1, "{calls:?}");
    // The table says so too.
    let out = run(tool(key).args(["audit", "--all-apis", "--region", "ca-central-1"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Skipped API {ws} (ws-chat) in ca-central-1")),
        "{text}"
    );
    // Named alone: one line on stderr, exit 2, and nothing recorded.
    let dir = tempfile::tempdir().expect("dir");
    let snap = dir.path().join("ws.json");
    let out = run(tool(key)
        .args([
            "audit",
            "--api-id",
            ws,
            "--region",
            "ca-central-1",
            "--record",
        ])
        .arg(&snap));
    assert_eq!(out.status.code(), Some(2));
    assert!(!snap.exists(), "a refused run recorded a snapshot");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("WebSocket API"), "{err}");
}

/// An HTTP API talks TLS to its private integration only with a tlsConfig:
/// without one, an HTTPS listener gets plain HTTP and protocol-match fails
/// (the TLS checks do not run); with serverNameToVerify, the route is TLS
/// and the certificate is judged (self-signed here: trust fails).
#[test]
fn http_api_speaks_tls_only_with_a_tls_config() {
    broken("h2https", 177, "alb-listener-https", "protocol-match");

    let s = build("http-v2", "h2tls", 178);
    apply(&s, "alb-listener-https");
    apply(&s, "integration-tls-config");
    let (report, _) = audit_json("AKIDh2tls", &[s["api_id"].as_str().expect("api id")]);
    let w = worst_by_check(&report);
    assert_eq!(w["protocol-match"], "pass", "{w:?}");
    assert_eq!(w["tls-certificate-hostname"], "pass", "{w:?}");
    assert_eq!(w["tls-certificate-trust"], "fail", "{w:?}");
}

/// An ALB idle timeout below the integration's 30 s warns: the ALB answers
/// 504 to requests slower than it.
#[test]
fn an_alb_idle_timeout_below_the_integration_timeout_warns() {
    let s = build("http-v2", "albidle", 184);
    apply(&s, "alb-idle-10s");
    let (report, code) = audit_json("AKIDalbidle", &[s["api_id"].as_str().expect("api id")]);
    assert_only(&report, &[], &["integration-timeout"]);
    assert_eq!(code, 0);
}
