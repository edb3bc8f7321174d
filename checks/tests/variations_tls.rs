//! TLS, protocol, idle-timeout and deployment verdicts, each on an example
//! changed one way.

mod common;

use apigw_audit_checks::{Finding, Status};
use common::{check_findings, example, region, worst_of};
use serde_json::{Value, json};

const TLS_LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/orders-nlb/4f1c2e0d9a3b7c65/6a5b4c3d2e1f0a98";
const AWS_CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/3f1e2d4c-5b6a-4789-8abc-def012345678";
const SELF_CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/7c6b5a49-3827-4165-9f8e-7d6c5b4a3928";
const ALB_CHAIN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders-alb/8b9c0d1e2f3a4b5c";

fn findings(v: &Value, check: &str) -> Vec<Finding> {
    check_findings(v, check, &common::prod())
}

fn worst(v: &Value, check: &str) -> (Status, String) {
    worst_of(&findings(v, check))
}

/// The hostname example with the integration host changed to one the real
/// certificate covers: a fully healthy TLS path.
fn tls_healthy() -> Value {
    let mut v = example("rest-tls-hostname-mismatch");
    for r in region(&mut v)["apis"][0]["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if let Some(uri) = r["integration"]["uri"].as_str() {
            let uri = uri.replace("orders.internal.example.com", "aws-us-east-1.amazon.com");
            r["integration"]["uri"] = json!(uri);
        }
    }
    let current = region(&mut v)["apis"][0]["routes"].clone();
    for stage in ["beta", "prod"] {
        region(&mut v)["apis"][0]["deployed_routes"][stage] = current.clone();
    }
    v
}

#[test]
fn a_matching_public_certificate_passes_both_tls_checks() {
    let v = tls_healthy();
    let (s, m) = worst(&v, "tls-certificate-hostname");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(
        m.contains("aws-us-east-1.amazon.com") && m.contains(AWS_CERT),
        "{m}"
    );
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("2026-10-17"), "{m}");
}

#[test]
fn expiry_within_30_days_warns_and_after_it_fails() {
    let mut v = tls_healthy();
    v["recorded_at"] = json!("2026-10-01T00:00:00Z");
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("within 30 days"), "{m}");
    v["recorded_at"] = json!("2026-11-20T00:00:00Z");
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("expired"), "{m}");
}

#[test]
fn sni_picks_the_certificate_that_covers_the_host() {
    // The default certificate is for another name; an SNI certificate covers
    // the integration host, and the load balancer presents that one.
    let mut v = example("rest-tls-self-signed");
    let other = json!({"ok": {"arn": AWS_CERT, "domain_name": "aws.amazon.com", "subject_alternative_names": ["aws.amazon.com"],
        "status": "ISSUED", "cert_type": "IMPORTED", "not_before": null, "not_after": null, "pem": null, "chain_pem": null}});
    region(&mut v)["certificates"][AWS_CERT] = other;
    region(&mut v)["listener_certificates"][TLS_LISTENER] = json!({"ok": [{"arn": AWS_CERT, "is_default": true}, {"arn": SELF_CERT, "is_default": false}]});
    let (s, m) = worst(&v, "tls-certificate-hostname");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains(SELF_CERT), "{m}");
    // Trust is judged on the certificate actually presented: the self-signed one.
    let fs = findings(&v, "tls-certificate-trust");
    assert!(
        fs.iter()
            .any(|f| f.resource.as_deref() == Some(SELF_CERT) && f.status == Status::Fail)
    );
}

#[test]
fn certificate_status_type_and_insecure_skip() {
    let mut v = tls_healthy();
    region(&mut v)["certificates"][AWS_CERT]["ok"]["status"] = json!("PENDING_VALIDATION");
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("PENDING_VALIDATION"), "{m}");

    let mut v = example("rest-tls-self-signed");
    region(&mut v)["certificates"][SELF_CERT]["ok"]["cert_type"] = json!("PRIVATE");
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("private CA") && m.contains("insecureSkipVerification"),
        "{m}"
    );

    let mut v = example("rest-tls-self-signed");
    region(&mut v)["certificates"][SELF_CERT]["ok"]["pem"] = Value::Null;
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("acm:GetCertificate"), "{m}");
}

#[test]
fn unreadable_or_iam_certificates_are_errors_never_passes() {
    let mut v = tls_healthy();
    region(&mut v)["certificates"][AWS_CERT] = json!({"error": {"operation": "acm:DescribeCertificate",
        "iam_action": "acm:DescribeCertificate", "kind": "access_denied", "code": "AccessDeniedException", "message": "denied"}});
    for check in ["tls-certificate-hostname", "tls-certificate-trust"] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Error, "{check}: {m}");
    }
}

/// A listener presenting an IAM server certificate: read through
/// iam:GetServerCertificate and judged as an ACM one; unreadable, an error
/// naming that call; not recorded, an error too, never a pass.
#[test]
fn iam_server_certificates_are_judged_like_acm_ones() {
    let iam = "arn:aws:iam::123456789012:server-certificate/orders";
    let with_iam = |cert: Option<Value>| {
        let mut v = tls_healthy();
        region(&mut v)["listener_certificates"][TLS_LISTENER] =
            json!({"ok": [{"arn": iam, "is_default": true}]});
        let certs = region(&mut v)["certificates"]
            .as_object_mut()
            .expect("certificates");
        let mut acm = certs.remove(AWS_CERT).expect("the ACM certificate");
        acm["ok"]["arn"] = json!(iam);
        acm["ok"]["cert_type"] = json!("IMPORTED");
        match cert {
            Some(c) => certs.insert(iam.to_string(), c),
            None => certs.insert(iam.to_string(), acm),
        };
        v
    };
    let v = with_iam(None);
    for check in ["tls-certificate-hostname", "tls-certificate-trust"] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Pass, "{check}: {m}");
        assert!(m.contains(iam), "{check}: {m}");
    }
    let v = with_iam(Some(
        json!({"error": {"operation": "iam:GetServerCertificate",
        "iam_action": "iam:GetServerCertificate", "kind": "access_denied", "code": "AccessDenied",
        "message": "denied"}}),
    ));
    for check in ["tls-certificate-hostname", "tls-certificate-trust"] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Error, "{check}: {m}");
        assert!(m.contains("iam:GetServerCertificate"), "{check}: {m}");
    }
    let mut v = with_iam(None);
    region(&mut v)["certificates"]
        .as_object_mut()
        .expect("certificates")
        .remove(iam);
    assert_eq!(worst(&v, "tls-certificate-hostname").0, Status::Error);
}

#[test]
fn tls_checks_skip_plain_http_and_passthrough() {
    let v = example("rest-healthy");
    let (s, m) = worst(&v, "tls-certificate-hostname");
    assert_eq!(s, Status::Skip);
    assert!(m.contains("plain HTTP"), "{m}");
    let v = example("rest-tls-plain-http-target");
    for check in ["tls-certificate-hostname", "tls-certificate-trust"] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Skip, "{check}");
        assert!(m.contains("not visible to AWS"), "{m}");
    }
}

#[test]
fn protocol_match_through_passthrough_needs_a_tls_target() {
    let mut v = example("rest-tls-plain-http-target");
    let tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-app-8080/0a9b8c7d6e5f4a3b";
    region(&mut v)["target_groups"][tg]["ok"]["health_check"]["protocol"] = json!("HTTPS");
    assert_eq!(worst(&v, "protocol-match").0, Status::Pass);
    region(&mut v)["target_groups"][tg]["ok"]["health_check"]["protocol"] = json!("TCP");
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Warn, "{m}");
    // http:// to a TLS listener fails.
    let mut v = example("rest-tls-self-signed");
    for r in region(&mut v)["apis"][0]["deployed_routes"]["prod"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if let Some(uri) = r["integration"]["uri"].as_str() {
            let uri = uri
                .replace("https://", "http://")
                .replace("example.com/", "example.com:443/");
            r["integration"]["uri"] = json!(uri);
        }
    }
    let (s, m) = worst(&v, "protocol-match");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("waits for a TLS handshake"), "{m}");
}

#[test]
fn idle_timeout_defaults_and_values() {
    let mut v = example("rest-nlb-to-alb-healthy");
    // Attributes AWS did not report: the documented defaults, 350 s vs 60 s.
    region(&mut v)["load_balancer_attributes"][ALB_CHAIN] = json!({"ok": {}});
    let (s, m) = worst(&v, "idle-timeout");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("60 s (the default)") && m.contains("350 s"),
        "{m}"
    );
    // A shorter NLB idle timeout than the ALB's passes.
    let listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/orders-nlb/4f1c2e0d9a3b7c65/9e8d7c6b5a493827";
    region(&mut v)["listener_attributes"][listener] =
        json!({"ok": {"tcp.idle_timeout.seconds": "60"}});
    assert_eq!(worst(&v, "idle-timeout").0, Status::Pass);
    // Unreadable NLB attributes in front of an ALB: an error.
    let mut v = example("rest-nlb-to-alb-healthy");
    region(&mut v)["listener_attributes"] = json!({});
    assert_eq!(worst(&v, "idle-timeout").0, Status::Error);
}

/// Instance targets: their keep-alive is not visible to AWS, so the check
/// never passes; it skips with the advice, and needs no attribute to say so.
#[test]
fn idle_timeout_never_passes_on_a_hop_aws_cannot_see() {
    let f = findings(&example("rest-healthy"), "idle-timeout").remove(0);
    assert_eq!(f.status, Status::Skip, "{}", f.message);
    assert!(
        f.message.contains("not visible to AWS")
            && f.message.contains("350 s by default")
            && f.remediation
                .as_deref()
                .is_some_and(|r| r.contains("keep-alive")),
        "{f:?}"
    );
    // The listener's attributes are not needed, so losing them changes nothing.
    let mut v = example("rest-healthy");
    region(&mut v)["listener_attributes"] = json!({});
    assert_eq!(worst(&v, "idle-timeout").0, Status::Skip);
    // An HTTP API's ALB with instance targets: the same.
    let f = findings(&example("http-healthy"), "idle-timeout").remove(0);
    assert_eq!(f.status, Status::Skip, "{}", f.message);
    assert!(
        f.message.contains("idle_timeout.timeout_seconds"),
        "{}",
        f.message
    );
}

fn unreadable_export(v: &mut Value) {
    region(v)["apis"][0]["deployed_routes"]["prod"] = json!({"error": {"operation": "apigateway:GetExport",
        "iam_action": "apigateway:GET on arn:aws:apigateway:us-east-1::/restapis/k7m2x9q4ab/stages/prod/exports/oas30",
        "kind": "access_denied", "code": "AccessDeniedException", "message": "denied"}});
}

/// When the stage's deployed definition cannot be read, what it serves is
/// unknown: no route-walking check may pass on the current definition.
#[test]
fn unreadable_deployment_is_never_a_pass_on_the_current_definition() {
    let mut v = example("rest-healthy");
    unreadable_export(&mut v);
    let (s, m) = worst(&v, "deployment-drift");
    assert_eq!(s, Status::Error);
    assert!(m.contains("apigateway:GetExport"), "{m}");
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Error, "{m}");
    assert!(
        m.contains("Could not read the stage's deployed definition") && m.contains("GetExport"),
        "{m}"
    );
    let snap = apigw_audit_checks::Snapshot::from_json(&v.to_string()).expect("snapshot");
    for f in apigw_audit_checks::audit(&snap, &common::prod())
        .into_iter()
        .flat_map(|a| a.stages)
        .flat_map(|s| s.findings)
        .filter(|f| !f.routes.is_empty())
    {
        assert_ne!(f.status, Status::Pass, "{}: {}", f.check, f.message);
    }
    // The same read, readable: those checks pass.
    let v = example("rest-healthy");
    assert_eq!(worst(&v, "security-groups").0, Status::Pass);
}

/// A failure the current definition shows is kept, with the note: the
/// next deployment serves it.
#[test]
fn unreadable_deployment_keeps_a_fail_found_on_the_current_definition() {
    let mut v = example("rest-no-healthy-target");
    unreadable_export(&mut v);
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("judged on the API's current definition"), "{m}");
}

#[test]
fn drift_names_routes_and_fields() {
    let v = example("rest-undeployed-fix");
    let f = findings(&v, "deployment-drift").remove(0);
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.routes,
        vec!["GET /orders", "GET /orders/{id}", "POST /orders"]
    );
    assert!(
        f.message.contains("uri") && f.message.contains("d4x9k2"),
        "{}",
        f.message
    );
    let mut v = example("rest-healthy");
    region(&mut v)["apis"][0]["deployed_routes"]["prod"]["ok"]
        .as_array_mut()
        .expect("routes")
        .pop();
    let (s, m) = worst(&v, "deployment-drift");
    assert_eq!(s, Status::Warn);
    assert!(m.contains("added after the deployment"), "{m}");
    assert_eq!(
        worst(&example("rest-healthy"), "deployment-drift").0,
        Status::Pass
    );
}

#[test]
fn an_export_with_another_link_is_what_is_judged() {
    // The deployment still names a link the current definition dropped.
    let mut v = example("rest-healthy");
    for r in region(&mut v)["apis"][0]["deployed_routes"]["prod"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if r["integration"]["connection_type"] == "VPC_LINK" {
            r["integration"]["connection_id"] = json!("vlg0ne");
        }
    }
    region(&mut v)["vpc_links"]["vlg0ne"] = json!({"not_found": {"operation": "apigateway:GetVpcLinks",
        "iam_action": null, "kind": "not_found", "code": null, "message": "gone"}});
    let (s, m) = worst(&v, "vpc-link-reference");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("vlg0ne"), "{m}");
}

#[test]
fn the_cn_counts_only_without_sans() {
    // Domain name (CN) covers the host, the SANs do not: clients ignore the CN.
    let mut v = example("rest-tls-self-signed");
    let c = &mut region(&mut v)["certificates"][SELF_CERT]["ok"];
    c["subject_alternative_names"] = json!(["orders-old.internal.example.com"]);
    let (s, m) = worst(&v, "tls-certificate-hostname");
    assert_eq!(s, Status::Fail, "{m}");
    // Without SANs, the CN decides.
    region(&mut v)["certificates"][SELF_CERT]["ok"]["subject_alternative_names"] = json!([]);
    assert_eq!(worst(&v, "tls-certificate-hostname").0, Status::Pass);
}
