//! What API Gateway speaks to the listener and what answers behind it: an
//! HTTP API's TLS configuration, an NLB's TLS listener in front of targets
//! that speak TLS themselves, and ALB target groups whose protocol version
//! takes no HTTP/1.1. Each on a recorded example changed one way.

mod common;

use apigw_audit_checks::{Selection, Status};
use common::{check_findings, deployed, example, region, worst_of};
use serde_json::{Value, json};

const ALB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/catalog-alb/7a6b5c4d3e2f1a09";
const ALB_LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/catalog-alb/7a6b5c4d3e2f1a09/2b3c4d5e6f7a8b9c";
const TG_WEB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/catalog-web/1c2d3e4f5a6b7c8d";
const NLB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/4f1c2e0d9a3b7c65";
const TG_APP: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-app-8080/0a9b8c7d6e5f4a3b";

fn worst(v: &Value, check: &str) -> (Status, String) {
    worst_of(&check_findings(&deployed(v), check, &Selection::default()))
}

/// http-healthy with its ALB listener made HTTPS on 443.
fn https_alb() -> Value {
    let mut v = example("http-healthy");
    let l = &mut region(&mut v)["listeners"][ALB]["ok"][0];
    l["protocol"] = json!("HTTPS");
    l["port"] = json!(443);
    l["certificate_arns"] = json!([
        "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    ]);
    l["ssl_policy"] = json!("ELBSecurityPolicy-TLS13-1-2-2021-06");
    v
}

/// Sets the TLS configuration of every route that integrates with the ALB.
fn set_tls_config(v: &mut Value, tls: Value) {
    for r in region(v)["apis"][0]["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if r["integration"]["uri"] == ALB_LISTENER {
            r["integration"]["tls_config"] = tls.clone();
        }
    }
}

/// "If you specify a TLS configuration, private integration traffic uses
/// the HTTPS protocol": without one an HTTP API sends plain HTTP, whatever
/// the listener speaks.
#[test]
fn http_api_speaks_tls_only_with_a_tls_config() {
    let v = https_alb();
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("no tlsConfig") && m.contains("serverNameToVerify"),
        "{m}"
    );
    // No TLS on the route: the certificate checks do not run there.
    for check in ["tls-certificate-hostname", "tls-certificate-trust"] {
        assert_eq!(worst(&v, check).0, Status::Skip, "{check}");
    }

    let mut v = https_alb();
    set_tls_config(
        &mut v,
        json!({"insecure_skip_verification": null, "server_name_to_verify": "catalog.example.com"}),
    );
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("has a tlsConfig"), "{m}");

    // A TLS configuration naming no server: TLS, on an assumption.
    set_tls_config(
        &mut v,
        json!({"insecure_skip_verification": null, "server_name_to_verify": null}),
    );
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("assumption"), "{m}");

    // A TLS configuration toward a plain HTTP listener.
    let mut v = example("http-healthy");
    set_tls_config(
        &mut v,
        json!({"insecure_skip_verification": null, "server_name_to_verify": "catalog.example.com"}),
    );
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("HTTP 80"), "{m}");

    // The healthy example itself: plain HTTP to an HTTP listener.
    assert_eq!(
        worst(&example("http-healthy"), "protocol-match").0,
        Status::Pass
    );
}

/// An ALB target group's protocol version: API Gateway sends HTTP/1.1,
/// which HTTP2 and GRPC target groups answer with an error.
#[test]
fn alb_target_groups_must_take_http_1_1() {
    for (version, want) in [
        ("HTTP1", Status::Pass),
        ("HTTP2", Status::Fail),
        ("GRPC", Status::Fail),
    ] {
        let mut v = example("http-healthy");
        region(&mut v)["target_groups"][TG_WEB]["ok"]["protocol_version"] = json!(version);
        let (s, m) = worst(&v, "protocol-match");
        assert_eq!(s, want, "{version}: {m}");
        if want == Status::Fail {
            assert!(m.contains(version) && m.contains("HTTP/1.1"), "{m}");
        }
    }
    // The target group behind the listener unreadable: never a pass.
    let mut v = example("http-healthy");
    region(&mut v)["target_groups"][TG_WEB] = json!({"error": {"operation": "elasticloadbalancing:DescribeTargetGroups",
        "iam_action": "elasticloadbalancing:DescribeTargetGroups", "kind": "throttled", "code": "Throttling",
        "message": "Rate exceeded"}});
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Error, "{m}");
}

/// An NLB TLS listener decrypts, and a TCP target group carries the plain
/// bytes on: targets that wait for a handshake there cannot answer.
#[test]
fn tls_listener_in_front_of_targets_that_speak_tls() {
    let base = example("rest-tls-hostname-mismatch");
    // As recorded: the targets speak plain HTTP (HTTP health check).
    assert_eq!(worst(&base, "protocol-match").0, Status::Pass);

    let mut v = base.clone();
    let hc = &mut region(&mut v)["target_groups"][TG_APP]["ok"]["health_check"];
    hc["protocol"] = json!("HTTPS");
    hc["port"] = json!("traffic-port");
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("decrypted") && m.contains("make the listener TCP"),
        "{m}"
    );

    // A TLS target group re-encrypts: what the targets want.
    region(&mut v)["target_groups"][TG_APP]["ok"]["protocol"] = json!("TLS");
    assert_eq!(worst(&v, "protocol-match").0, Status::Pass);

    // Targets on 443 with a TCP health check: TLS is only assumed.
    let mut v = base.clone();
    let tg = &mut region(&mut v)["target_groups"][TG_APP]["ok"];
    tg["port"] = json!(443);
    tg["health_check"]["protocol"] = json!("TCP");
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("port 443"), "{m}");
    assert!(m.contains(NLB.rsplit('/').nth(1).expect("name")), "{m}");
}

/// A GRPC group only a listener rule forwards to gets that rule's requests,
/// perhaps not API Gateway's: a warning. A tlsConfig naming no server
/// toward a plain listener rests on an assumption: a warning too.
#[test]
fn verdicts_resting_on_what_configuration_cannot_show_warn() {
    const TG_SEARCH: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/catalog-search/9e8f7a6b5c4d3e2f";
    let mut v = example("http-healthy");
    region(&mut v)["target_groups"][TG_SEARCH]["ok"]["protocol_version"] = json!("GRPC");
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("listener rule"), "{m}");

    let mut v = example("http-healthy");
    set_tls_config(
        &mut v,
        json!({"insecure_skip_verification": null, "server_name_to_verify": null}),
    );
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("assumption"), "{m}");

    // Behind a TLS listener, an unreadable target group might decide.
    let mut v = example("rest-tls-hostname-mismatch");
    region(&mut v)["target_groups"][TG_APP] = json!({"error": {"operation": "elasticloadbalancing:DescribeTargetGroups",
        "iam_action": "elasticloadbalancing:DescribeTargetGroups", "kind": "throttled", "code": "Throttling",
        "message": "Rate exceeded"}});
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("DescribeTargetGroups"), "{m}");
}

fn set_timeouts(v: &mut Value, ms: Value) {
    let api = &mut region(v)["apis"][0];
    let set = |routes: &mut Value| {
        for r in routes.as_array_mut().into_iter().flatten() {
            if r["integration"]["integration_type"] != "MOCK" {
                r["integration"]["timeout_ms"] = ms.clone();
            }
        }
    };
    set(&mut api["routes"]["ok"]);
    for d in api["deployed_routes"]
        .as_object_mut()
        .into_iter()
        .flat_map(|d| d.values_mut())
    {
        set(&mut d["ok"]);
    }
}

#[test]
fn integration_timeouts_against_the_api_limit_and_the_alb() {
    let (s, m) = worst(&example("http-healthy"), "integration-timeout");
    assert_eq!(s, Status::Pass, "{m}");
    let (s, m) = worst(&example("rest-healthy"), "integration-timeout");
    assert_eq!(s, Status::Pass, "{m}");

    // The ALB closes idle connections after 10 s; the integration waits 30.
    let v = example("http-alb-idle-below-integration-timeout");
    let (s, m) = worst(&v, "integration-timeout");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("10 s") && m.contains("30000 ms") && m.contains("catalog-alb"),
        "{m}"
    );
    // A 9 s integration fits under it.
    let mut v = example("http-alb-idle-below-integration-timeout");
    set_timeouts(&mut v, json!(9000));
    assert_eq!(worst(&v, "integration-timeout").0, Status::Pass);
    // Unreadable ALB attributes: error naming the call.
    let mut v = example("http-healthy");
    let alb = region(&mut v)["load_balancer_attributes"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("an ALB");
    region(&mut v)["load_balancer_attributes"][&alb] = json!({"error": {
        "operation": "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "iam_action": "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "kind": "access_denied", "code": "AccessDenied", "message": "denied"}});
    let (s, m) = worst(&v, "integration-timeout");
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("DescribeLoadBalancerAttributes"), "{m}");

    // HTTP APIs stop at 30 s; REST at 29 s unless raised (not on edge).
    let mut v = example("http-healthy");
    set_timeouts(&mut v, json!(45000));
    let (s, m) = worst(&v, "integration-timeout");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("45000 ms") && m.contains("30000 ms"), "{m}");
    let mut v = example("rest-healthy");
    set_timeouts(&mut v, json!(20));
    assert_eq!(worst(&v, "integration-timeout").0, Status::Fail);
    let mut v = example("rest-healthy");
    set_timeouts(&mut v, json!(60000));
    let (s, m) = worst(&v, "integration-timeout");
    assert_eq!(s, Status::Pass, "{m}");
    region(&mut v)["apis"][0]["info"]["ok"]["endpoint_types"] = json!(["EDGE"]);
    let (s, m) = worst(&v, "integration-timeout");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("edge-optimized"), "{m}");
    // Unset: the API's default applies.
    let mut v = example("http-alb-idle-below-integration-timeout");
    set_timeouts(&mut v, Value::Null);
    assert_eq!(worst(&v, "integration-timeout").0, Status::Warn);
}

#[test]
fn a_long_rest_timeout_on_an_api_of_unknown_endpoint_type_warns() {
    let mut v = example("rest-healthy");
    set_timeouts(&mut v, json!(60000));
    region(&mut v)["apis"][0]["info"] = json!({"error": {"operation": "apigateway:GetRestApi",
        "iam_action": "apigateway:GET", "kind": "access_denied", "code": "AccessDenied", "message": "denied"}});
    let (s, m) = worst(&v, "integration-timeout");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("endpoint type could not be read"), "{m}");
}
