//! End to end against moto: a REST API with a VPC link (v1) to an NLB,
//! built through ordinary AWS calls, audited live by the real binary; then
//! broken one way at a time, and exactly the check meant for each break
//! fails.

mod common;

use common::*;
use serde_json::{Value, json};

fn audit_json(key: &str, api: &str) -> (serde_json::Value, i32) {
    let out = run(tool(key).args(["audit", "--api-id", api, "--output", "json"]));
    (json_of(&out), out.status.code().unwrap_or(-1))
}

fn broken(suffix: &str, octet: u8, brk: &str, expected: &str) {
    let s = build("rest-v1", suffix, octet);
    apply(&s, brk);
    let api = s["api_id"].as_str().expect("api id");
    let (report, code) = audit_json(&format!("AKID{suffix}"), api);
    assert_only_fails(&report, expected);
    assert_eq!(code, 1, "a failing check exits 1");
}

#[test]
fn healthy_rest_api_passes_every_check_and_replays_offline() {
    let s = build("rest-v1", "healthy", 31);
    let api = s["api_id"].as_str().expect("api id");
    let dir = tempfile::tempdir().expect("temp dir");
    let snap = dir.path().join("snap.json");
    let out = run(tool("AKIDhealthy").args([
        "audit",
        "--api-id",
        api,
        "--stage",
        "prod",
        "--output",
        "json",
        "--record",
        snap.to_str().expect("utf-8"),
    ]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = json_of(&out);
    let w = worst_by_check(&live);
    for (check, status) in &w {
        // moto's NLB has no security groups, so PrivateLink enforcement does
        // not apply; the integration speaks plain HTTP, so TLS checks do not;
        // no route has an authorizer, no distribution fronts the API and no
        // URL was asked about; the instances' keep-alive is not visible to
        // AWS, so idle-timeout cannot judge it.
        let skippable = [
            "idle-timeout",
            "privatelink-inbound-rules",
            "tls-certificate-hostname",
            "tls-certificate-trust",
            "authorizer-config",
            "cloudfront-origin-protocol",
            "route-exists",
            "lambda-integration",
        ];
        let ok = status == "pass" || (skippable.contains(&check.as_str()) && status == "skip");
        assert!(ok, "{check} is {status} on a healthy API: {w:?}");
    }
    assert_eq!(live["source"], "live");
    assert_eq!(live["apis"][0]["kind"], "rest");

    let out = run(tool("AKIDhealthy").args([
        "audit",
        "--snapshot",
        snap.to_str().expect("utf-8"),
        "--output",
        "json",
    ]));
    assert_eq!(out.status.code(), Some(0));
    let mut offline = json_of(&out);
    let mut live = live;
    assert_eq!(offline["source"], "snapshot");
    for r in [&mut live, &mut offline] {
        r.as_object_mut().expect("object").remove("generated_at");
        r.as_object_mut().expect("object").remove("source");
    }
    assert_eq!(
        live, offline,
        "the snapshot audit must equal the live audit"
    );
}

#[test]
fn vpc_link_failed() {
    broken("linkfailed", 32, "vpc-link-failed", "vpc-link-status");
}

/// Another consumer's available connection does not stand in for API
/// Gateway's, which is found by its owner.
#[test]
fn endpoint_connection_of_another_owner_is_not_api_gateways() {
    broken(
        "foreign",
        174,
        "endpoint-connection-foreign",
        "endpoint-connection",
    );
}

/// API Gateway's account removed from the endpoint service's allowed
/// principals: the connection still works, a new one would be refused.
#[test]
fn endpoint_service_without_api_gateways_principal_warns() {
    let s = build("rest-v1", "principal", 182);
    apply(&s, "endpoint-service-principal-removed");
    let (report, code) = audit_json("AKIDprincipal", s["api_id"].as_str().expect("api id"));
    assert_only(&report, &[], &["endpoint-connection"]);
    let m = messages(&report, "endpoint-connection").join(" ");
    assert!(m.contains("arn:aws:iam::392220576650:root"), "{m}");
    assert_eq!(code, 0);
}

#[test]
fn endpoint_connection_rejected() {
    broken(
        "rejected",
        33,
        "endpoint-connection-rejected",
        "endpoint-connection",
    );
}

#[test]
fn listener_removed() {
    broken("nolistener", 34, "listener-removed", "listener-port");
}

#[test]
fn target_unhealthy() {
    broken("unhealthy", 35, "target-unhealthy", "target-health");
}

/// Cross-zone load balancing is off on moto's NLB (as on AWS by default):
/// with the instance in the second zone unhealthy, that zone's node has no
/// healthy target, so target-health warns, naming the zone and the setting.
#[test]
fn a_zone_without_a_healthy_target_warns() {
    let s = build("rest-v1", "onezone", 105);
    apply(&s, "one-zone-unhealthy");
    let (report, code) = audit_json("AKIDonezone", s["api_id"].as_str().expect("api id"));
    let w = worst_by_check(&report);
    assert_eq!(w["target-health"], "warn", "{w:?}");
    let f = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "target-health")
        .expect("target-health");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("us-east-1b") && m.contains("load_balancing.cross_zone.enabled = false"),
        "{m}"
    );
    assert_eq!(code, 0, "a warning alone exits 0: {w:?}");
}

/// The NLB's node addresses, from its interfaces (the launcher creates
/// them as AWS does): a deny of the half of a subnet holding a node is an
/// exact failure, not a warning about part of the subnet.
#[test]
fn nacl_deny_of_the_half_subnet_holding_a_node_fails() {
    broken("nodehalf", 106, "nacl-denies-node-half", "network-acls");
}

/// Route tables against moto: the NLB's subnets route the first app
/// subnet, more specifically than the local route, to an appliance's
/// interface, which then decides: route-tables warns, naming it.
#[test]
fn a_route_through_an_appliance_warns() {
    let s = build("rest-v1", "appliance", 107);
    apply(&s, "nlb-route-via-appliance");
    let (report, code) = audit_json("AKIDappliance", s["api_id"].as_str().expect("api id"));
    let w = worst_by_check(&report);
    assert_eq!(w["route-tables"], "warn", "{w:?}");
    let m = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "route-tables" && f["status"] == "warn")
        .filter_map(|f| f["message"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        m.contains("through eni-") && m.contains("which decides"),
        "{m}"
    );
    assert_eq!(code, 0, "{w:?}");
}

/// The audit's network-acls finding on `blueprint`, which must be the only
/// failing check, and its message.
fn nacl_message(suffix: &str, octet: u8, blueprint: &str) -> String {
    let s = build("rest-v1", suffix, octet);
    apply(&s, blueprint);
    let (report, code) = audit_json(
        &format!("AKID{suffix}"),
        s["api_id"].as_str().expect("api id"),
    );
    assert_only_fails(&report, "network-acls");
    assert_eq!(code, 1);
    acl_failures(&report)
}

/// The messages of the failing network-acls findings, joined.
fn acl_failures(report: &Value) -> String {
    report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "network-acls" && f["status"] == "fail")
        .filter_map(|f| f["message"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A return path admitting only part of the ephemeral range fails every
/// connection whose port falls in the gap: a failure naming the gap.
#[test]
fn a_gap_in_the_return_ports_fails_naming_it() {
    let m = nacl_message("returngap", 108, "nacl-return-gap");
    assert!(
        m.contains("ports 1024-32767 are denied whatever the address"),
        "{m}"
    );
}

/// The traffic and health-check ports are separate flows: an ACL that
/// admits only the health-check port fails the requests.
#[test]
fn an_acl_admitting_only_the_health_check_port_fails_the_requests() {
    let s = build("rest-v1", "healthonly", 109);
    apply(&s, "nacl-admits-health-port-only");
    let (report, code) = audit_json("AKIDhealthonly", s["api_id"].as_str().expect("api id"));
    // Health checks on 8081 pass and prove nothing about 8080: a warning.
    assert_only(&report, &["network-acls"], &["target-health"]);
    assert_eq!(code, 1);
    let m = acl_failures(&report);
    assert!(
        m.contains("TCP 8080") && m.contains("the load balancer's request to the target"),
        "{m}"
    );
}

#[test]
fn nacl_denies_the_return_path() {
    broken("naclreturn", 36, "nacl-return-denied", "network-acls");
}

#[test]
fn target_security_group_revoked() {
    broken("sgrevoked", 37, "target-sg-revoked", "security-groups");
}

#[test]
fn stage_variable_names_a_missing_link() {
    broken("stagevar", 38, "stage-variable-wrong", "vpc-link-reference");
}

#[test]
fn nlb_deleted() {
    broken("nlbdeleted", 39, "nlb-deleted", "load-balancer-exists");
}

#[test]
fn execution_logging_off() {
    let s = build("rest-v1", "logoff", 40);
    apply(&s, "logging-off");
    let (report, code) = audit_json("AKIDlogoff", s["api_id"].as_str().expect("api id"));
    // Calls do not fail for want of logs: a warning, exit 0 by default.
    assert_only(&report, &[], &["execution-logging"]);
    assert_eq!(code, 0);
}

#[test]
fn access_denied_on_one_call_errors_only_the_checks_that_need_it() {
    let s = build("rest-v1", "denied", 41);
    let api = s["api_id"].as_str().expect("api id");
    set_faults(
        "AKIDdenied",
        &json!({ "ec2:DescribeNetworkAcls": "access-denied" }),
    );
    let (report, code) = audit_json("AKIDdenied", api);
    let w = worst_by_check(&report);
    assert_eq!(w["network-acls"], "error", "{w:?}");
    for (check, status) in &w {
        if check != "network-acls" {
            assert!(
                status == "pass" || status == "skip",
                "{check} is {status}: {w:?}"
            );
        }
    }
    let f = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "network-acls")
        .expect("a network-acls finding");
    let msg = f["message"].as_str().expect("message");
    assert!(msg.contains("ec2:DescribeNetworkAcls"), "{msg}");
    assert!(
        f["remediation"]
            .as_str()
            .expect("remediation")
            .contains("Allow ec2:DescribeNetworkAcls"),
        "{f}"
    );
    assert_eq!(code, 3, "an error and no failure exits 3");
}

#[test]
fn unknown_api_id_is_one_line_and_exit_2() {
    let out = run(tool("AKIDunknown").args(["audit", "--api-id", "doesnotexist"]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("doesnotexist"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_stage_is_one_line_and_exit_2() {
    let s = build("rest-v1", "nostage", 42);
    let api = s["api_id"].as_str().expect("api id");
    let out = run(tool("AKIDnostage").args(["audit", "--api-id", api, "--stage", "nope"]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("nope"), "{err}");
}

/// A TLS listener presenting an IAM server certificate: read through
/// iam:GetServerCertificate, its name judged (it covers the host) and its
/// chain judged (self-signed: not trusted), never left an error.
#[test]
fn tls_listener_with_an_iam_server_certificate() {
    let s = build("rest-v1", "tlsiam", 176);
    apply(&s, "tls-listener-iam-certificate");
    let key = "AKIDtlsiam";
    let (report, code) = audit_json(key, s["api_id"].as_str().expect("api id"));
    let w = worst_by_check(&report);
    assert_eq!(w["tls-certificate-hostname"], "pass", "{w:?}");
    assert_eq!(w["tls-certificate-trust"], "fail", "{w:?}");
    assert!(
        requests_by(key)
            .iter()
            .any(|op| op == "iam:GetServerCertificate"),
        "{:?}",
        requests_by(key)
    );
    assert!(!w.values().any(|s| s == "error"), "{w:?}");
    assert_eq!(code, 1);
}

/// An NLB TLS listener decrypts; behind it a TCP group whose targets'
/// HTTPS health check shows they wait for TLS gets plain bytes.
#[test]
fn tls_listener_in_front_of_targets_that_speak_tls() {
    let s = build("rest-v1", "tlstwice", 179);
    apply(&s, "tls-listener-tls-targets");
    let (report, code) = audit_json("AKIDtlstwice", s["api_id"].as_str().expect("api id"));
    // The certificate is self-signed too (the emulator's cannot chain).
    assert_only(&report, &["protocol-match", "tls-certificate-trust"], &[]);
    assert_eq!(code, 1);
}

/// The messages of `check`'s findings on the report's first stage.
fn messages<'r>(report: &'r Value, check: &str) -> Vec<&'r str> {
    report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["check"] == check)
        .filter_map(|f| f["message"].as_str())
        .collect()
}

/// A conditional Deny decides who gets in by something configuration
/// cannot show (the caller's VPC endpoint): a warning naming it, exit 0.
#[test]
fn a_conditional_deny_in_the_resource_policy_warns() {
    let s = build("rest-v1", "policyvpce", 180);
    apply(&s, "policy-outside-endpoint-denied");
    let (report, code) = audit_json("AKIDpolicyvpce", s["api_id"].as_str().expect("api id"));
    assert_only(&report, &[], &["resource-policy"]);
    let m = messages(&report, "resource-policy").join(" ");
    assert!(
        m.contains("whose VPC endpoint is not vpce-0a1b2c3d4e5f60718"),
        "{m}"
    );
    assert_eq!(code, 0);
}

/// Targets all still in their initial health checks are not proven either
/// way: a warning, not a failure.
#[test]
fn targets_still_initial_warn() {
    let s = build("rest-v1", "initial", 181);
    apply(&s, "targets-initial");
    let (report, code) = audit_json("AKIDinitial", s["api_id"].as_str().expect("api id"));
    assert_only(&report, &[], &["target-health"]);
    let m = messages(&report, "target-health");
    assert!(
        m.iter().any(|m| m.contains("initial health checks")),
        "{m:?}"
    );
    assert_eq!(code, 0);
}

#[test]
fn tls_listener_certificate_for_another_host() {
    let s = build("rest-v1", "tlshost", 43);
    apply(&s, "tls-listener-other-host");
    let (report, code) = audit_json("AKIDtlshost", s["api_id"].as_str().expect("api id"));
    let w = worst_by_check(&report);
    assert_eq!(w["tls-certificate-hostname"], "fail", "{w:?}");
    // A certificate imported into the emulator cannot chain to a public
    // root, so trust fails as well; nothing else does.
    assert_eq!(w["tls-certificate-trust"], "fail", "{w:?}");
    for (check, status) in &w {
        if !check.starts_with("tls-") {
            assert!(
                status == "pass" || status == "skip",
                "{check} is {status}: {w:?}"
            );
        }
    }
    let f = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "tls-certificate-hostname")
        .expect("finding")
        .clone();
    let msg = f["message"].as_str().expect("message");
    assert!(
        msg.contains("orders.internal.example") && msg.contains("api.internal.example"),
        "{msg}"
    );
    assert_eq!(code, 1);
}

#[test]
fn integration_changed_after_deployment_is_drift() {
    let s = build("rest-v1", "drift", 44);
    apply(&s, "integration-changed-after-deployment");
    let (report, code) = audit_json("AKIDdrift", s["api_id"].as_str().expect("api id"));
    let w = worst_by_check(&report);
    assert_eq!(w["deployment-drift"], "warn", "{w:?}");
    // The stage still serves port 80, which the NLB listens on: the checks
    // judge the deployment, so nothing fails.
    for (check, status) in &w {
        if check != "deployment-drift" {
            assert!(
                status == "pass" || status == "skip",
                "{check} is {status}: {w:?}"
            );
        }
    }
    let f = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "deployment-drift")
        .expect("finding")
        .clone();
    assert_eq!(
        f["routes"],
        serde_json::json!(["GET /orders", "POST /orders"])
    );
    assert!(
        f["message"].as_str().expect("message").contains("uri"),
        "{f}"
    );
    assert_eq!(code, 0, "a warning does not fail the default gate");
}

/// The exact calls a healthy REST API costs, per operation, as the tool
/// counts them and as moto received them: a change that reads something
/// twice, or stops batching, fails here.
#[test]
fn a_healthy_rest_api_costs_exactly_these_calls() {
    let s = build("rest-v1", "callcount", 52);
    let api = s["api_id"].as_str().expect("api id");
    let key = "AKIDcallcount";
    let out = run(tool(key).args(["audit", "--api-id", api, "--stats", "--output", "json"]));
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    let stats = &report["stats"];
    let counted: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(stats["calls"].clone()).expect("calls");
    let expected: std::collections::BTreeMap<String, u64> = [
        // Level 1: the API's kind, and the stages and routes of both kinds
        // (the HTTP ones answer 404 and are dropped); the account settings,
        // both link listings.
        ("apigateway:GetRestApi", 1),
        ("apigateway:GetApi", 1),
        ("apigateway:GetStages", 2),
        ("apigateway:GetResources", 1),
        ("apigateway:GetRoutes", 1),
        ("apigateway:GetIntegrations", 1),
        ("apigateway:GetAccount", 1),
        ("apigateway:GetVpcLinks", 2),
        ("sts:GetCallerIdentity", 1),
        // Level 2: the stage's deployment, the NLB with its listeners, target
        // groups and endpoint service, custom domains (REST and HTTP
        // listings) and CloudFront.
        ("apigateway:GetExport", 1),
        ("elasticloadbalancing:DescribeLoadBalancers", 1),
        ("elasticloadbalancing:DescribeListeners", 1),
        ("elasticloadbalancing:DescribeTargetGroups", 1),
        ("ec2:DescribeVpcEndpointServiceConfigurations", 1),
        ("apigateway:GetDomainNames", 2),
        ("cloudfront:ListDistributions", 1),
        // Level 3: target health, the target group's attributes (its
        // cross-zone setting, which defers to the NLB's), endpoint
        // connections and the service's allowed principals. (No listener
        // attributes: the targets are instances, whose keep-alive
        // idle-timeout cannot judge, so it reads none.)
        ("elasticloadbalancing:DescribeTargetHealth", 1),
        ("elasticloadbalancing:DescribeTargetGroupAttributes", 1),
        ("elasticloadbalancing:DescribeLoadBalancerAttributes", 1),
        ("ec2:DescribeVpcEndpointConnections", 1),
        ("ec2:DescribeVpcEndpointServicePermissions", 1),
        // Level 4: the targets; level 5: their network, one batched call
        // each, the NLB's node interfaces, and the route tables of the
        // NLB's and the targets' VPC (one describe of that VPC's tables).
        ("ec2:DescribeInstances", 1),
        ("ec2:DescribeNetworkInterfaces", 1),
        ("ec2:DescribeRouteTables", 1),
        ("ec2:DescribeSubnets", 1),
        ("ec2:DescribeSecurityGroups", 1),
        ("ec2:DescribeNetworkAcls", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(counted, expected);
    assert_eq!(stats["critical_path_depth"], 5);
    // The process's own peak memory, which the benchmark reports.
    if cfg!(target_os = "linux") {
        assert!(
            stats["peak_rss_bytes"]
                .as_u64()
                .is_some_and(|b| b > 1_000_000 && b < 1_000_000_000),
            "{stats}"
        );
    }
    assert_eq!(stats["retries"], 0);
    assert_eq!(stats["throttles"], 0);
    let mut received: std::collections::BTreeMap<String, u64> = Default::default();
    for op in requests_by(key) {
        *received.entry(op).or_insert(0) += 1;
    }
    assert_eq!(counted, received, "the tool counts what moto received");
}

/// AWS-like rate limits in front of moto: with the tool's own pacing lifted
/// the emulator throttles it, the SDK's adaptive retries recover, and the
/// report is complete and the same as unthrottled; with pacing matched to
/// the limits, nothing is throttled at all.
#[test]
fn throttling_ends_in_a_complete_report_and_pacing_avoids_it() {
    let s = build("rest-v1", "throttled", 53);
    apply(&s, "two-more-apis");
    let api = s["api_id"].as_str().expect("api id");
    // Small buckets, so that an unpaced audit overflows them at once.
    let limits = json!({"_buckets": {"apigateway": [4, 4], "elasticloadbalancing": [4, 4], "ec2:*": [4, 4]}});
    for key in ["AKIDthrottled", "AKIDpaced"] {
        set_faults(key, &limits);
    }
    let calm = {
        let out = run(tool("AKIDcalm").args(["audit", "--api-id", api, "--output", "json"]));
        assert_eq!(out.status.code(), Some(0));
        worst_by_check(&json_of(&out))
    };

    let out = run(tool("AKIDthrottled").args([
        "audit",
        "--api-id",
        api,
        "--output",
        "json",
        "--stats",
        "--max-attempts",
        "10",
        "--rate-limit",
        "apigateway=off",
        "--rate-limit",
        "elasticloadbalancing=off",
        "--rate-limit",
        "ec2:*=off",
    ]));
    let report = json_of(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report["stats"]["throttles"].as_u64().expect("throttles") > 0,
        "{}",
        report["stats"]
    );
    assert!(report["stats"]["retries"].as_u64().expect("retries") > 0);
    assert_eq!(
        worst_by_check(&report),
        calm,
        "the same verdicts as unthrottled"
    );

    let out = run(tool("AKIDpaced").args([
        "audit",
        "--api-id",
        api,
        "--output",
        "json",
        "--stats",
        "--rate-limit",
        "apigateway=4/2",
        "--rate-limit",
        "elasticloadbalancing=4/2",
        "--rate-limit",
        "ec2:*=4/2",
    ]));
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        report["stats"]["throttles"],
        0,
        "{} throttled: {:?}",
        report["stats"],
        throttled_by("AKIDpaced")
    );
    assert!(report["stats"]["rate_limit_waits"].as_u64().expect("waits") > 0);
    assert_eq!(worst_by_check(&report), calm);
}

/// `--deadline`: a read still unanswered when it passes is cut there, its
/// check is `error` saying so, the rest of the report is written, and the
/// exit code is 3; the run does not wait for the call timeout.
#[test]
fn deadline_cuts_pending_reads_into_errors_and_writes_the_report() {
    let s = build("rest-v1", "deadline", 171);
    let api = s["api_id"].as_str().expect("api id");
    set_faults(
        "AKIDdeadline",
        &json!({ "ec2:DescribeNetworkAcls": "slow:40" }),
    );
    let started = std::time::Instant::now();
    let out = run(tool("AKIDdeadline").args([
        "audit",
        "--api-id",
        api,
        "--output",
        "json",
        "--deadline",
        "4s",
        "--call-timeout",
        "60",
        "--max-attempts",
        "1",
    ]));
    let took = started.elapsed();
    let report = json_of(&out);
    let w = worst_by_check(&report);
    assert_eq!(w["network-acls"], "error", "{w:?}");
    assert_eq!(
        w["vpc-link-status"], "pass",
        "reads done before the deadline count: {w:?}"
    );
    let msg = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "network-acls")
        .and_then(|f| f["message"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(msg.contains("--deadline"), "{msg}");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        took < std::time::Duration::from_secs(30),
        "the deadline, not the 40 s answer or the 60 s call timeout, ended the run: {took:?}"
    );
    // A bad value is refused before anything runs.
    for bad in ["0s", "8d", "soon"] {
        let out = run(tool("AKIDdeadline").args(["audit", "--api-id", api, "--deadline", bad]));
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

/// With the default endpoint disabled the stage is reachable only through
/// a custom domain: none fails, one mapping the stage passes.
#[test]
fn a_disabled_execute_api_endpoint_needs_a_custom_domain() {
    // A region of its own: the pinned call counts of the healthy API in
    // us-east-1 would see this custom domain's mappings read.
    let s = build_in("sa-east-1", "rest-v1", "noexec", 183);
    apply(&s, "execute-api-disabled");
    let api = s["api_id"].as_str().expect("api id");
    let audit = || {
        let out = run(tool("AKIDnoexec").args([
            "audit",
            "--region",
            "sa-east-1",
            "--api-id",
            api,
            "--output",
            "json",
        ]));
        (json_of(&out), out.status.code().unwrap_or(-1))
    };
    let (report, code) = audit();
    assert_only_fails(&report, "execute-api-endpoint");
    assert_eq!(code, 1);
    let m = messages(&report, "execute-api-endpoint").join(" ");
    assert!(m.contains("no custom domain"), "{m}");
    apply(&s, "custom-domain");
    let (report, code) = audit();
    assert_only(&report, &[], &[]);
    assert_eq!(code, 0, "{report}");
    let m = messages(&report, "execute-api-endpoint").join(" ");
    assert!(
        m.contains(&format!("api-{api}.example.com").to_lowercase()),
        "{m}"
    );
}

/// A Lambda proxy route: invocable passes; without API Gateway's
/// permission, or with a reserved concurrency of 0, it fails.
#[test]
fn lambda_integrations_need_a_permission_and_concurrency() {
    for (suffix, octet, blueprint, fails) in [
        ("lamok", 185, "lambda-route", false),
        ("lamperm", 186, "lambda-route-unpermitted", true),
        ("lamthrottle", 187, "lambda-route-throttled", true),
    ] {
        let s = build("rest-v1", suffix, octet);
        apply(&s, blueprint);
        let api = s["api_id"].as_str().expect("api id");
        let (report, code) = audit_json(&format!("AKID{suffix}"), api);
        let m = messages(&report, "lambda-integration").join(" ");
        assert!(m.contains("orders-refunds"), "{blueprint}: {m}");
        if fails {
            assert_only_fails(&report, "lambda-integration");
            assert_eq!(code, 1, "{blueprint}");
        } else {
            assert_only(&report, &[], &[]);
            assert_eq!(code, 0, "{blueprint}: {report}");
        }
    }
}

/// A distribution forwarding the viewer's Host to the execute-api origin
/// fails (API Gateway answers 403); without it the same origin passes.
#[test]
fn cloudfront_forwarding_the_viewer_host_fails() {
    let s = build("rest-v1", "cfhost", 188);
    apply(&s, "cloudfront-forwards-host");
    let api = s["api_id"].as_str().expect("api id");
    let (report, code) = audit_json("AKIDcfhost", api);
    assert_only_fails(&report, "cloudfront-origin-protocol");
    assert_eq!(code, 1);
    let m = messages(&report, "cloudfront-origin-protocol").join(" ");
    assert!(m.contains("viewer header Host") && m.contains("403"), "{m}");
    let s = build("rest-v1", "cfnohost", 189);
    apply(&s, "cloudfront-https-only");
    let (report, code) = audit_json("AKIDcfnohost", s["api_id"].as_str().expect("api id"));
    assert_only(&report, &[], &[]);
    assert_eq!(code, 0, "{report}");
}

/// A method requiring an API key needs the stage in a usage plan with an
/// enabled key (else 403); a stage burst of 0 answers every call 429.
#[test]
fn api_keys_need_a_usage_plan_and_throttles_must_not_be_zero() {
    for (suffix, octet, blueprint, fails) in [
        ("keyok", 190, "api-key-route-plan", None),
        (
            "keynoplan",
            191,
            "api-key-route-no-plan",
            Some("api-key-usage-plan"),
        ),
        (
            "keyoff",
            192,
            "api-key-route-disabled-key",
            Some("api-key-usage-plan"),
        ),
        ("burst0", 193, "stage-burst-zero", Some("throttling")),
    ] {
        let s = build("rest-v1", suffix, octet);
        apply(&s, blueprint);
        let api = s["api_id"].as_str().expect("api id");
        let (report, code) = audit_json(&format!("AKID{suffix}"), api);
        match fails {
            Some(check) => {
                let m = messages(&report, check).join(" ");
                let want = if check == "throttling" {
                    "429"
                } else {
                    "403 Forbidden"
                };
                assert!(m.contains(want), "{blueprint}: {m}");
                assert_only_fails(&report, check);
                assert_eq!(code, 1, "{blueprint}");
            }
            None => {
                let m = messages(&report, "api-key-usage-plan").join(" ");
                assert!(
                    m.contains("GET /partners") || m.contains("usage plan"),
                    "{blueprint}: {m}"
                );
                assert_only(&report, &[], &[]);
                assert_eq!(code, 0, "{blueprint}: {report}");
            }
        }
    }
}
