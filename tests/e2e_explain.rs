//! End to end against moto for `explain` and the 4xx/CloudFront checks: a
//! TOKEN authorizer whose Lambda function API Gateway may not invoke, a
//! CloudFront distribution reaching the API over plain HTTP, a URL missing
//! its `/api` prefix, and execution-log lines written to CloudWatch Logs
//! and classified by `--from-logs`.

mod common;

use common::*;
use serde_json::Value;

fn audit_json(key: &str, api: &str) -> (Value, i32) {
    let out = run(tool(key).args(["audit", "--api-id", api, "--output", "json"]));
    (json_of(&out), out.status.code().unwrap_or(-1))
}

fn explain_json(key: &str, args: &[&str]) -> (Value, i32) {
    let out = run(tool(key)
        .arg("explain")
        .args(args)
        .args(["--output", "json"]));
    (json_of(&out), out.status.code().unwrap_or(-1))
}

fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["apis"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .flat_map(|s| s["findings"].as_array().expect("findings"))
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding in {report}"))
}

/// (check, status) of every finding of an explain report.
fn verdicts(report: &Value) -> Vec<(String, String)> {
    report["apis"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["stages"].as_array().into_iter().flatten())
        .flat_map(|s| s["findings"].as_array().into_iter().flatten())
        .map(|f| {
            (
                f["check"].as_str().unwrap_or_default().to_string(),
                f["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn token_authorizer_without_invoke_permission_fails_authorizer_config() {
    let s = build("rest-v1", "authnoperm", 45);
    apply(&s, "authorizer-without-permission");
    let api = s["api_id"].as_str().expect("api id");
    let (report, code) = audit_json("AKIDauthnoperm", api);
    assert_only_fails(&report, "authorizer-config");
    let f = finding(&report, "authorizer-config");
    let msg = f["message"].as_str().expect("message");
    assert!(
        msg.contains(&format!("orders-authorizer-{api}")) && msg.contains("500 instead of 401"),
        "{msg}"
    );
    assert_eq!(f["routes"], serde_json::json!(["POST /orders"]));
    assert_eq!(code, 1);

    // explain for the 500 the caller sees runs just that check.
    let (ex, code) = explain_json(
        "AKIDauthnoperm",
        &[
            "--status",
            "500",
            "--error-type",
            "AuthorizerConfigurationException",
            "--api-id",
            api,
        ],
    );
    assert_eq!(ex["matches"][0]["signature"], "authorizer-configuration");
    assert_eq!(
        verdicts(&ex),
        vec![("authorizer-config".to_string(), "fail".to_string())]
    );
    assert_eq!(code, 1);
}

#[test]
fn permitted_authorizer_and_https_cloudfront_pass() {
    let s = build("rest-v1", "authok", 46);
    apply(&s, "authorizer-with-permission");
    apply(&s, "cloudfront-https-only");
    let (report, code) = audit_json("AKIDauthok", s["api_id"].as_str().expect("api id"));
    let w = worst_by_check(&report);
    assert_eq!(w["authorizer-config"], "pass", "{w:?}");
    assert_eq!(w["cloudfront-origin-protocol"], "pass", "{w:?}");
    let msg = finding(&report, "authorizer-config")["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(msg.contains("header Authorization"), "{msg}");
    assert_eq!(code, 0, "{w:?}");
}

#[test]
fn cloudfront_http_only_origin_fails_cloudfront_origin_protocol() {
    let s = build("rest-v1", "cfhttp", 47);
    apply(&s, "cloudfront-http-only");
    let (report, code) = audit_json("AKIDcfhttp", s["api_id"].as_str().expect("api id"));
    assert_only_fails(&report, "cloudfront-origin-protocol");
    let f = finding(&report, "cloudfront-origin-protocol");
    let msg = f["message"].as_str().expect("message");
    assert!(
        msg.contains("orders-api") && msg.contains("http-only"),
        "{msg}"
    );
    assert!(
        f["resource"]
            .as_str()
            .is_some_and(|r| r.contains(":distribution/")),
        "{f}"
    );
    assert_eq!(code, 1);
}

#[test]
fn explain_url_missing_its_prefix_names_the_right_path() {
    let s = build("rest-v1", "prefix", 48);
    apply(&s, "api-prefix-route");
    let api = s["api_id"].as_str().expect("api id");
    let url = |path: &str| format!("https://{api}.execute-api.us-east-1.amazonaws.com{path}");
    let (ex, code) = explain_json(
        "AKIDprefix",
        &[
            "--status",
            "403",
            "--message",
            "{\"message\":\"Missing Authentication Token\"}",
            "--url",
            &url("/prod/v1/orders"),
            "--method",
            "GET",
        ],
    );
    assert_eq!(
        ex["matches"][0]["signature"],
        "missing-authentication-token"
    );
    assert_eq!(ex["route"]["exists"], false, "{ex}");
    assert_eq!(ex["route"]["stage"], "prod");
    assert_eq!(ex["route"]["closest"][0], "/api/v1/orders", "{ex}");
    assert_eq!(
        verdicts(&ex),
        vec![
            ("deployment-drift".to_string(), "pass".to_string()),
            ("route-exists".to_string(), "fail".to_string()),
            // The URL uses the execute-api host, which the API serves.
            ("execute-api-endpoint".to_string(), "pass".to_string()),
        ]
    );
    assert_eq!(code, 1);

    // The same URL with the prefix is served.
    let (ex, code) = explain_json(
        "AKIDprefix",
        &["--url", &url("/prod/api/v1/orders"), "--method", "GET"],
    );
    assert_eq!(ex["route"]["exists"], true, "{ex}");
    assert_eq!(code, 0);

    // No log group in the emulator: --from-logs says so and audits it all.
    let (ex, code) = explain_json(
        "AKIDprefix",
        &["--api-id", api, "--stage", "prod", "--from-logs", "30m"],
    );
    let note = ex["logs"]["note"].as_str().expect("a note");
    assert!(note.contains("logs:FilterLogEvents"), "{note}");
    assert!(
        verdicts(&ex).len() >= apigw_audit_checks::CHECKS.len(),
        "{ex}"
    );
    assert_eq!(code, 0, "{ex}");
}

#[test]
fn from_logs_classifies_execution_log_lines_and_runs_the_deciding_checks() {
    let s = build("rest-v1", "logs", 49);
    apply(&s, "execution-log-errors");
    let api = s["api_id"].as_str().expect("api id");
    let (ex, code) = explain_json(
        "AKIDlogs",
        &["--api-id", api, "--stage", "prod", "--from-logs", "30m"],
    );
    let logs = &ex["logs"];
    assert_eq!(
        logs["log_group"],
        format!("API-Gateway-Execution-Logs_{api}/prod")
    );
    // The line three hours old is outside the window.
    assert_eq!(logs["lines_read"], 10, "{logs}");
    let causes = logs["causes"].as_array().expect("causes");
    assert_eq!(
        causes[0]["signature"], "internal-configuration-error",
        "{logs}"
    );
    assert_eq!(causes[0]["count"], 3, "{logs}");
    assert_eq!(causes[1]["signature"], "host-name-mismatch", "{logs}");
    assert_eq!(causes[1]["count"], 1, "{logs}");
    assert!(
        causes[1]["example"]
            .as_str()
            .is_some_and(|e| e.contains("CN=api.internal.example")),
        "{logs}"
    );
    assert_eq!(causes.len(), 2, "routine lines are not errors: {logs}");
    // The checks deciding between those causes ran, and on this healthy
    // path they pass.
    let v = verdicts(&ex);
    for check in [
        "vpc-link-status",
        "target-health",
        "tls-certificate-hostname",
    ] {
        assert!(v.iter().any(|(c, _)| c == check), "{check} not run: {v:?}");
    }
    assert!(v.iter().all(|(_, s)| s == "pass" || s == "skip"), "{v:?}");
    assert!(!v.iter().any(|(c, _)| c == "execution-logging"), "{v:?}");
    assert_eq!(code, 0);

    // The text form prints the counts with one example line each.
    let out = run(tool("AKIDlogs").args([
        "explain",
        "--api-id",
        api,
        "--stage",
        "prod",
        "--from-logs",
        "30m",
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3 x internal-configuration-error")
            && text.contains("1 x host-name-mismatch"),
        "{text}"
    );
}
