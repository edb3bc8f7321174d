//! The 4xx and CloudFront checks (`authorizer-config`, `resource-policy`,
//! `cloudfront-origin-protocol`, `route-exists`) and the
//! `insecureSkipVerification` path of `tls-certificate-trust`, each on an
//! example changed one way: pass, fail and error for each.

mod common;

use apigw_audit_checks::view::Probe;
use apigw_audit_checks::{Finding, Selection, Status};
use common::{check_findings, example, region, worst_of};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::{Value, json};
use time::macros::datetime;

const AUTH_FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders-token-authorizer";
const SELF_CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/7c6b5a49-3827-4165-9f8e-7d6c5b4a3928";

fn api(v: &mut Value) -> &mut Value {
    &mut region(v)["apis"][0]
}

/// Applies `f` to every route definition, current and deployed.
fn each_route(v: &mut Value, f: impl Fn(&mut Value)) {
    let api = api(v);
    for r in api["routes"]["ok"].as_array_mut().expect("routes") {
        f(r);
    }
    if let Some(stages) = api["deployed_routes"].as_object_mut() {
        for routes in stages.values_mut() {
            for r in routes["ok"].as_array_mut().into_iter().flatten() {
                f(r);
            }
        }
    }
}

fn findings_with(v: &Value, check: &str, probe: Option<Probe>) -> Vec<Finding> {
    let sel = Selection {
        probe,
        ..common::prod()
    };
    check_findings(v, check, &sel)
}

fn worst(v: &Value, check: &str) -> (Status, String) {
    worst_of(&findings_with(v, check, None))
}

fn set_policy(v: &mut Value, statements: Value) {
    let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    region(v)["lambda_functions"][AUTH_FN]["ok"]["policy"] = json!(doc);
}

fn invoke_statement(condition: Value) -> Value {
    json!({"Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
           "Action": "lambda:InvokeFunction", "Resource": AUTH_FN, "Condition": condition})
}

#[test]
fn authorizer_permission_is_read_from_the_function_policy() {
    let v = example("rest-healthy");
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("header Authorization"), "{m}");

    let v = example("rest-authorizer-no-permission");
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("has no resource-based policy") && m.contains(AUTH_FN),
        "{m}"
    );

    // A permission for another API does not count.
    let mut v = example("rest-healthy");
    set_policy(
        &mut v,
        json!([invoke_statement(json!({"ArnLike": {"AWS:SourceArn":
            "arn:aws:execute-api:us-east-1:123456789012:otherapi999/authorizers/*"}}))]),
    );
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("arn:aws:execute-api:us-east-1:123456789012:k7m2x9q4ab/authorizers/t7x2qa"),
        "{m}"
    );

    // A condition the check cannot evaluate warns, never passes.
    let mut v = example("rest-healthy");
    set_policy(
        &mut v,
        json!([invoke_statement(
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})
        )]),
    );
    assert_eq!(worst(&v, "authorizer-config").0, Status::Warn);

    // An explicit Deny for API Gateway wins over the Allow.
    let mut v = example("rest-healthy");
    set_policy(
        &mut v,
        json!([invoke_statement(Value::Null), {"Sid": "lockdown", "Effect": "Deny",
            "Principal": "*", "Action": "lambda:*", "Resource": AUTH_FN}]),
    );
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("lockdown"), "{m}");
}

#[test]
fn authorizer_function_missing_unreadable_or_unnamed() {
    let mut v = example("rest-healthy");
    region(&mut v)["lambda_functions"][AUTH_FN] = json!({"not_found": {
        "operation": "lambda:GetFunctionConfiguration", "iam_action": "lambda:GetFunctionConfiguration",
        "kind": "not_found", "code": "ResourceNotFoundException", "message": "Function not found"}});
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("does not exist"), "{m}");

    let mut v = example("rest-healthy");
    region(&mut v)["lambda_functions"][AUTH_FN] = json!({"error": {
        "operation": "lambda:GetPolicy", "iam_action": "lambda:GetPolicy",
        "kind": "access_denied", "code": "AccessDeniedException", "message": "not authorized"}});
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Error);
    assert!(m.contains("lambda:GetPolicy"), "{m}");

    let mut v = example("rest-healthy");
    api(&mut v)["authorizers"]["ok"][0]["identity_sources"] = json!([]);
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("identity source"), "{m}");

    let mut v = example("rest-healthy");
    api(&mut v)["authorizers"] = json!({"error": {
        "operation": "apigateway:GetAuthorizers", "iam_action": "apigateway:GET",
        "kind": "access_denied", "code": "AccessDeniedException", "message": "denied"}});
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Error);
    assert!(m.contains("apigateway:GET"), "{m}");

    // A route naming an authorizer the API does not have.
    let mut v = example("rest-healthy");
    api(&mut v)["authorizers"] = json!({"ok": []});
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("t7x2qa"), "{m}");
}

#[test]
fn resource_policy_explicit_and_implicit_denies() {
    let v = example("rest-healthy");
    assert_eq!(worst(&v, "resource-policy").0, Status::Pass);

    let v = example("rest-resource-policy-deny");
    let fs = findings_with(&v, "resource-policy", None);
    let f = fs
        .iter()
        .find(|f| f.status == Status::Fail)
        .expect("a fail");
    assert!(f.message.contains("freeze-writes"), "{}", f.message);
    assert_eq!(f.routes, vec!["POST /orders".to_string()]);

    // A Deny-only policy: every caller not signed with IAM is implicitly denied.
    let mut v = example("rest-healthy");
    let deny_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]});
    api(&mut v)["info"]["ok"]["policy"] = json!(deny_only.to_string());
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("allows execute-api:Invoke to no caller"), "{m}");

    // The same Deny with an Allow: who gets in depends on the caller's
    // address, which configuration cannot show: a warning naming the
    // condition and whom it turns away.
    let mut v = example("rest-healthy");
    let mut doc = deny_only.clone();
    doc["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(json!({
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": "arn:aws:execute-api:us-east-1:123456789012:k7m2x9q4ab/*"}));
    api(&mut v)["info"]["ok"]["policy"] = json!(doc.to_string());
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("denies callers whose source IP is not 10.0.0.0/8")
            && m.contains("NotIpAddress"),
        "{m}"
    );

    // A private API without a policy denies everyone.
    let mut v = example("rest-healthy");
    api(&mut v)["info"]["ok"]["endpoint_types"] = json!(["PRIVATE"]);
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("Private API"), "{m}");

    let mut v = example("rest-healthy");
    api(&mut v)["info"]["ok"]["policy"] = json!("{not json");
    assert_eq!(worst(&v, "resource-policy").0, Status::Error);

    let mut v = example("rest-healthy");
    api(&mut v)["info"] = json!({"error": {"operation": "apigateway:GetRestApi",
        "iam_action": "apigateway:GET", "kind": "throttled", "code": "TooManyRequestsException",
        "message": "Rate exceeded"}});
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Error);
    assert!(
        m.contains("apigateway:GetRestApi") && m.contains("throttled"),
        "{m}"
    );

    let v = example("http-healthy");
    let fs = findings_with(&v, "resource-policy", None);
    assert!(fs.iter().all(|f| f.status == Status::Skip));
}

#[test]
fn cloudfront_origin_protocols() {
    let v = example("rest-healthy");
    let (s, m) = worst(&v, "cloudfront-origin-protocol");
    assert_eq!(s, Status::Pass, "{m}");

    let v = example("rest-cloudfront-http-only");
    let (s, m) = worst(&v, "cloudfront-origin-protocol");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("E2QWRUHAPOMQZL") && m.contains("orders-api") && m.contains("http-only"),
        "{m}"
    );

    // match-viewer fails only when a behavior lets viewers use HTTP.
    let mut v = example("rest-healthy");
    let dist = &mut region(&mut v)["distributions"]["ok"][0];
    dist["origins"][0]["protocol_policy"] = json!("match-viewer");
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Pass);
    region(&mut v)["distributions"]["ok"][0]["behaviors"][0]["viewer_protocol_policy"] =
        json!("allow-all");
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Fail);

    // An origin through the custom domain counts too; one serving another
    // stage (a path "/production" is not "/prod") does not.
    let mut v = example("rest-cloudfront-http-only");
    region(&mut v)["distributions"]["ok"][0]["origins"][0]["domain_name"] =
        json!("api.orders.example.com");
    region(&mut v)["distributions"]["ok"][0]["origins"][0]["origin_path"] = Value::Null;
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Fail);
    let mut v = example("rest-cloudfront-http-only");
    region(&mut v)["distributions"]["ok"][0]["origins"][0]["origin_path"] = json!("/production");
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Skip);

    let mut v = example("rest-healthy");
    region(&mut v)["distributions"] = json!({"error": {"operation": "cloudfront:ListDistributions",
        "iam_action": "cloudfront:ListDistributions", "kind": "access_denied",
        "code": "AccessDenied", "message": "denied"}});
    let (s, m) = worst(&v, "cloudfront-origin-protocol");
    assert_eq!(s, Status::Error);
    assert!(m.contains("cloudfront:ListDistributions"), "{m}");
}

fn probe(method: Option<&str>, path: &str) -> Option<Probe> {
    Some(Probe {
        api_id: "k7m2x9q4ab".into(),
        stage: "prod".into(),
        method: method.map(str::to_string),
        path: path.into(),
        via_execute_api: true,
    })
}

#[test]
fn route_exists_judges_the_probe_against_the_deployment() {
    let v = example("rest-healthy");
    let fs = findings_with(&v, "route-exists", probe(Some("GET"), "/orders/42"));
    assert_eq!(fs[0].status, Status::Pass, "{}", fs[0].message);

    let fs = findings_with(&v, "route-exists", probe(Some("GET"), "/v1/orders"));
    assert_eq!(fs[0].status, Status::Fail);
    assert!(fs[0].message.contains("/orders"), "{}", fs[0].message);

    let fs = findings_with(&v, "route-exists", probe(Some("DELETE"), "/orders"));
    assert_eq!(fs[0].status, Status::Fail);
    assert!(fs[0].message.contains("GET"), "{}", fs[0].message);

    // The stage serves what was deployed: a route added since is absent.
    let mut v = example("rest-healthy");
    let mut added = api(&mut v)["routes"]["ok"][1].clone();
    added["path"] = json!("/invoices");
    api(&mut v)["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
        .push(added);
    let fs = findings_with(&v, "route-exists", probe(Some("GET"), "/invoices"));
    assert_eq!(fs[0].status, Status::Fail, "{}", fs[0].message);

    let mut v = example("rest-healthy");
    api(&mut v)["deployed_routes"]["prod"] = json!({"error": {"operation": "apigateway:GetExport",
        "iam_action": "apigateway:GET", "kind": "access_denied", "code": "AccessDeniedException",
        "message": "denied"}});
    api(&mut v)["routes"] = api(&mut v)["deployed_routes"]["prod"].clone();
    let fs = findings_with(&v, "route-exists", probe(Some("GET"), "/orders"));
    assert_eq!(fs[0].status, Status::Error, "{}", fs[0].message);

    let fs = findings_with(&example("rest-healthy"), "route-exists", None);
    assert_eq!(fs[0].status, Status::Skip);
}

/// A self-signed CA certificate for the integration host, as a team using
/// its own CA would import into ACM.
fn private_ca_cert(ca: bool) -> String {
    let mut p =
        CertificateParams::new(vec!["orders.internal.example.com".to_string()]).expect("params");
    p.not_before = datetime!(2026-01-01 00:00 UTC);
    p.not_after = datetime!(2028-01-01 00:00 UTC);
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    }
    let key = KeyPair::generate().expect("key");
    p.self_signed(&key).expect("cert").pem()
}

#[test]
fn insecure_skip_verification_accepts_only_a_proper_private_root() {
    // Without the setting, a self-signed certificate fails.
    let v = example("rest-tls-self-signed");
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("insecureSkipVerification"), "{m}");

    // With it, the example's certificate still fails: it is no CA certificate.
    let mut v = example("rest-tls-self-signed");
    each_route(&mut v, |r| {
        if r["integration"]["connection_type"] == "VPC_LINK" {
            r["integration"]["tls_config"] = json!({"insecure_skip_verification": true});
        }
    });
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("basicConstraints CA:TRUE"), "{m}");

    // A self-signed root with CA:TRUE and keyCertSign is accepted.
    region(&mut v)["certificates"][SELF_CERT]["ok"]["pem"] = json!(private_ca_cert(true));
    let (s, m) = worst(&v, "tls-certificate-trust");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("insecureSkipVerification"), "{m}");

    region(&mut v)["certificates"][SELF_CERT]["ok"]["pem"] = json!(private_ca_cert(false));
    assert_eq!(worst(&v, "tls-certificate-trust").0, Status::Fail);

    // Routes without the setting are judged apart and still fail.
    let mut v = example("rest-tls-self-signed");
    region(&mut v)["certificates"][SELF_CERT]["ok"]["pem"] = json!(private_ca_cert(true));
    each_route(&mut v, |r| {
        if r["method"] == "GET" && r["path"] == "/orders" {
            r["integration"]["tls_config"] = json!({"insecure_skip_verification": true});
        }
    });
    let fs = findings_with(&v, "tls-certificate-trust", None);
    let fail = fs
        .iter()
        .find(|f| f.status == Status::Fail)
        .expect("a fail");
    assert!(
        !fail.routes.contains(&"GET /orders".to_string()),
        "{fail:?}"
    );
    assert!(!fail.routes.is_empty());
}

/// A policy of `statements` on the REST example's API.
fn with_policy(statements: Value) -> Value {
    let mut v = example("rest-healthy");
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    api(&mut v)["info"]["ok"]["policy"] = json!(doc.to_string());
    v
}

fn allow_all() -> Value {
    json!({"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"})
}

/// NotPrincipal, NotAction and NotResource apply to everything their list
/// does not name; a condition on the VPC endpoint or VPC decides, so warns.
#[test]
fn resource_policy_reads_not_elements_and_conditions() {
    // A Deny on everything but GET /orders blocks every other route.
    let v = with_policy(
        json!([allow_all(), {"Sid": "only-reads", "Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "NotResource": "execute-api:/*/GET/orders"}]),
    );
    let f = findings_with(&v, "resource-policy", None).remove(0);
    assert_eq!(f.status, Status::Fail, "{}", f.message);
    assert!(
        !f.routes.contains(&"GET /orders".to_string()),
        "{:?}",
        f.routes
    );
    assert!(
        f.routes.contains(&"POST /orders".to_string()),
        "{:?}",
        f.routes
    );
    assert!(f.message.contains("everything but"), "{}", f.message);

    // A Deny for everyone but one role applies to every other caller.
    let v = with_policy(json!([allow_all(), {"Effect": "Deny",
        "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/deployer"},
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]));
    assert_eq!(worst(&v, "resource-policy").0, Status::Fail);

    // A Deny of every action but another one covers Invoke.
    let v = with_policy(json!([allow_all(), {"Effect": "Deny", "Principal": "*",
        "NotAction": "execute-api:ManageConnections", "Resource": "execute-api:/*"}]));
    assert_eq!(worst(&v, "resource-policy").0, Status::Fail);
    // ...and one of every action but Invoke does not.
    let v = with_policy(json!([allow_all(), {"Effect": "Deny", "Principal": "*",
        "NotAction": "execute-api:Invoke", "Resource": "execute-api:/*"}]));
    assert_eq!(worst(&v, "resource-policy").0, Status::Pass);

    // The private-API pattern: denied outside one VPC endpoint.
    let v = with_policy(json!([allow_all(), {"Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]));
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("whose VPC endpoint is not vpce-0123456789abcdef0"),
        "{m}"
    );

    // Only a conditional Allow: callers outside it are denied by default.
    let v = with_policy(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d"}}}]),
    );
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("allows only callers whose VPC is vpc-0a1b2c3d"),
        "{m}"
    );

    // The policy unreadable: an error, never a pass.
    let mut v = example("rest-healthy");
    api(&mut v)["info"]["ok"]["policy"] = json!("{\"Statement\": 3}");
    assert_eq!(worst(&v, "resource-policy").0, Status::Error);
}

/// A REST Lambda authorizer that caches its policy while guarding several
/// methods warns: a cached policy naming one method denies the others.
#[test]
fn a_cached_authorizer_policy_on_several_methods_warns() {
    let ttl = |v: &mut Value, t: Value| api(v)["authorizers"]["ok"][0]["result_ttl_seconds"] = t;
    let mut v = example("rest-healthy");
    ttl(&mut v, json!(300));
    // One method behind it: nothing else to deny.
    assert_eq!(worst(&v, "authorizer-config").0, Status::Pass);

    each_route(&mut v, |r| {
        if r["method"] == "GET" && r["path"] == "/orders" {
            r["authorization_type"] = json!("CUSTOM");
            r["authorizer_id"] = json!("t7x2qa");
        }
    });
    let f = findings_with(&v, "authorizer-config", None).remove(0);
    assert_eq!(f.status, Status::Warn, "{}", f.message);
    assert!(
        f.message.contains("300 s")
            && f.message
                .contains("User is not authorized to access this resource")
            && f.message.contains("GET /orders"),
        "{}",
        f.message
    );
    assert_eq!(f.routes.len(), 2, "{:?}", f.routes);

    ttl(&mut v, json!(0));
    assert_eq!(worst(&v, "authorizer-config").0, Status::Pass);
    // Not reported: taken to cache, said so.
    ttl(&mut v, Value::Null);
    let (s, m) = worst(&v, "authorizer-config");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("does not report its cache TTL"), "{m}");
    // A failure of its own is not hidden behind the warning.
    region(&mut v)["lambda_functions"][AUTH_FN]["ok"]["policy"] = Value::Null;
    assert_eq!(worst(&v, "authorizer-config").0, Status::Fail);
}

/// Routes signed with IAM: the caller's identity is unknown, so a statement
/// naming principals may or may not apply (a warning), and its own
/// identity policy may allow the call where the resource policy says
/// nothing; a conditional Deny still decides (never a pass).
#[test]
fn resource_policy_on_iam_signed_routes() {
    let iam = |mut v: Value| {
        each_route(&mut v, |r| r["authorization_type"] = json!("AWS_IAM"));
        v
    };
    let role = "arn:aws:iam::123456789012:role/deployer";
    let allow_role = json!({"Effect": "Allow", "Principal": {"AWS": role},
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"});
    // Only one role: everyone else denied.
    let only_role = json!([allow_role, {"Effect": "Deny", "NotPrincipal": {"AWS": role},
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]);
    assert_eq!(
        worst(&with_policy(only_role.clone()), "resource-policy").0,
        Status::Fail
    );
    let (s, m) = worst(&iam(with_policy(only_role)), "resource-policy");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("denies callers other than AWS:") && m.contains(role),
        "{m}"
    );

    // A named Allow and a conditional Deny of everyone: the Deny decides.
    let v = iam(with_policy(
        json!([allow_role, {"Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]),
    ));
    let (s, m) = worst(&v, "resource-policy");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("vpce-0123456789abcdef0"), "{m}");

    // Nothing but a Deny for another role: the caller's identity policy decides.
    let v = iam(with_policy(
        json!([{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/other"},
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]),
    ));
    assert_eq!(worst(&v, "resource-policy").0, Status::Warn);
    // An unconditional Deny of everyone blocks signed callers too.
    let v = iam(with_policy(
        json!([allow_role, {"Effect": "Deny", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]),
    ));
    assert_eq!(worst(&v, "resource-policy").0, Status::Fail);
}

#[test]
fn execute_api_endpoint_disabled_is_reachable_only_through_a_custom_domain() {
    let v = example("rest-healthy");
    let (s, m) = worst(&v, "execute-api-endpoint");
    assert_eq!(s, Status::Pass, "{m}");

    // Disabled while CloudFront still uses the execute-api host: that
    // origin gets 403.
    let v = example("rest-execute-api-disabled");
    let fs = findings_with(&v, "execute-api-endpoint", None);
    let (s, m) = worst_of(&fs);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("E2QWRUHAPOMQZL") && m.contains("api.orders.example.com"),
        "{m}"
    );

    // Without that origin the custom domain serves the stage: pass.
    let mut v = example("rest-execute-api-disabled");
    region(&mut v)["distributions"] = json!({"ok": []});
    let (s, m) = worst(&v, "execute-api-endpoint");
    assert_eq!(s, Status::Pass, "{m}");
    // ...unless the URL asked about uses the execute-api host.
    let fs = findings_with(&v, "execute-api-endpoint", probe(Some("GET"), "/orders"));
    assert_eq!(worst_of(&fs).0, Status::Fail);
    let mut custom = probe(Some("GET"), "/orders");
    if let Some(p) = custom.as_mut() {
        p.via_execute_api = false;
    }
    assert_eq!(
        worst_of(&findings_with(&v, "execute-api-endpoint", custom)).0,
        Status::Pass
    );

    // No custom domain maps the stage: nobody can call it.
    region(&mut v)["domain_names"]["ok"][0]["mappings"][0]["stage"] = json!("beta");
    let (s, m) = worst(&v, "execute-api-endpoint");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("no custom domain"), "{m}");

    // The domains cannot be read: error, naming the call.
    region(&mut v)["domain_names"] = json!({"error": {"operation": "apigateway:GetDomainNames",
        "iam_action": "apigateway:GET", "kind": "access_denied", "code": "AccessDenied", "message": "denied"}});
    let (s, m) = worst(&v, "execute-api-endpoint");
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("apigateway:GetDomainNames"), "{m}");
}

const REFUNDS_FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders-refunds";

fn refunds(v: &mut Value) -> &mut Value {
    &mut region(v)["lambda_functions"][REFUNDS_FN]["ok"]
}

#[test]
fn lambda_integrations_exist_are_active_and_may_be_invoked() {
    let v = example("rest-healthy");
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Pass, "{m}");

    let v = example("rest-lambda-permission-for-another-path");
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains(REFUNDS_FN) && m.contains("/prod/POST/refunds"),
        "{m}"
    );

    // State, reserved concurrency, timeout.
    let mut v = example("rest-healthy");
    refunds(&mut v)["state"] = json!("Failed");
    assert_eq!(worst(&v, "lambda-integration").0, Status::Fail);
    refunds(&mut v)["state"] = json!("Inactive");
    assert_eq!(worst(&v, "lambda-integration").0, Status::Warn);
    refunds(&mut v)["state"] = json!("Active");
    refunds(&mut v)["reserved_concurrency"] = json!(0);
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("reserved concurrency of 0"), "{m}");
    let mut v = example("rest-healthy");
    refunds(&mut v)["reserved_concurrency"] = json!(5);
    refunds(&mut v)["timeout_seconds"] = json!(60);
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Warn);
    assert!(m.contains("60 s") && m.contains("29000 ms"), "{m}");

    // ANY needs every method: a policy for POST only warns.
    let mut v = example("rest-healthy");
    each_route(&mut v, |r| {
        if r["path"] == "/refunds" {
            r["method"] = json!("ANY");
        }
    });
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("GET") && !m.contains("POST,"), "{m}");

    // A role on the integration: its permission is not read.
    let mut v = example("rest-healthy");
    each_route(&mut v, |r| {
        if r["path"] == "/refunds" {
            r["integration"]["credentials"] = json!("arn:aws:iam::123456789012:role/apigw-invoke");
        }
    });
    assert_eq!(worst(&v, "lambda-integration").0, Status::Warn);

    // The function is gone, or cannot be read.
    let mut v = example("rest-healthy");
    region(&mut v)["lambda_functions"][REFUNDS_FN] = json!({"not_found": {
        "operation": "lambda:GetFunctionConfiguration", "iam_action": "lambda:GetFunctionConfiguration",
        "kind": "not_found", "code": "ResourceNotFoundException", "message": "Function not found"}});
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("does not exist"), "{m}");
    let mut v = example("rest-healthy");
    region(&mut v)["lambda_functions"][REFUNDS_FN] = json!({"error": {
        "operation": "lambda:GetFunctionConcurrency", "iam_action": "lambda:GetFunctionConcurrency",
        "kind": "access_denied", "code": "AccessDeniedException", "message": "denied"}});
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Error);
    assert!(m.contains("lambda:GetFunctionConcurrency"), "{m}");

    // A stage variable naming the function, unset on the stage.
    let mut v = example("rest-healthy");
    each_route(&mut v, |r| {
        if r["path"] == "/refunds" {
            r["integration"]["uri"] = json!(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.refundsFn}/invocations"
            );
        }
    });
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("refundsFn"), "{m}");
}

#[test]
fn cloudfront_host_header_port_and_tls() {
    let v = example("rest-cloudfront-forwards-host");
    let (s, m) = worst(&v, "cloudfront-origin-protocol");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("AllViewer") && m.contains("403"), "{m}");

    let behavior =
        |v: &mut Value| -> Value { region(v)["distributions"]["ok"][0]["behaviors"][0].take() };
    // Legacy settings forwarding Host (or every header) fail too.
    for header in ["Host", "*"] {
        let mut v = example("rest-healthy");
        let mut b = behavior(&mut v);
        b["origin_request_policy_id"] = Value::Null;
        b["forwarded_headers"] = json!(["Authorization", header]);
        region(&mut v)["distributions"]["ok"][0]["behaviors"][0] = b;
        assert_eq!(
            worst(&v, "cloudfront-origin-protocol").0,
            Status::Fail,
            "{header}"
        );
    }
    // A custom origin request policy is not read: warn.
    let mut v = example("rest-healthy");
    region(&mut v)["distributions"]["ok"][0]["behaviors"][0]["origin_request_policy_id"] =
        json!("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Warn);
    // Through the custom domain the viewer's Host is not judged.
    let mut v = example("rest-cloudfront-forwards-host");
    region(&mut v)["distributions"]["ok"][0]["origins"][0]["domain_name"] =
        json!("api.orders.example.com");
    region(&mut v)["distributions"]["ok"][0]["origins"][0]["origin_path"] = Value::Null;
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Pass);

    // Port and TLS protocols.
    let origin = |v: &mut Value, key: &str, val: Value| {
        region(v)["distributions"]["ok"][0]["origins"][0][key] = val;
    };
    let mut v = example("rest-healthy");
    origin(&mut v, "https_port", json!(8443));
    let (s, m) = worst(&v, "cloudfront-origin-protocol");
    assert_eq!(s, Status::Warn);
    assert!(m.contains("8443") && m.contains("443"), "{m}");
    let mut v = example("rest-healthy");
    origin(&mut v, "ssl_protocols", json!(["SSLv3"]));
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Fail);
    origin(&mut v, "ssl_protocols", json!(["TLSv1", "TLSv1.1"]));
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Warn);
    origin(&mut v, "ssl_protocols", json!(["TLSv1.1", "TLSv1.2"]));
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Pass);
}

#[test]
fn lambda_permissions_on_path_templates_methods_of_their_own_and_unknowns() {
    let set_path = |v: &mut Value, path: &str| {
        let path = path.to_string();
        each_route(v, move |r| {
            if r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/refunds"))
            {
                r["path"] = json!(path.clone());
            }
        });
    };
    let permit = |v: &mut Value, source: &str| {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "apigw", "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "lambda:InvokeFunction",
            "Resource": REFUNDS_FN, "Condition": {"ArnLike": {"AWS:SourceArn": source}}}]});
        refunds(v)["policy"] = json!(doc.to_string());
    };
    // A wildcard covers the template and a request's path alike: pass; the
    // literal template covers only one of them, which the guides leave
    // open: warn.
    let mut v = example("rest-healthy");
    set_path(&mut v, "/refunds/{id}");
    permit(
        &mut v,
        "arn:aws:execute-api:us-east-1:123456789012:k7m2x9q4ab/*/POST/refunds/*",
    );
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Pass, "{m}");
    permit(
        &mut v,
        "arn:aws:execute-api:us-east-1:123456789012:k7m2x9q4ab/*/POST/refunds/{id}",
    );
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("path template"), "{m}");

    // ANY beside a route of its own for OPTIONS: OPTIONS is not its call.
    let mut v = example("rest-healthy");
    permit(
        &mut v,
        "arn:aws:execute-api:us-east-1:123456789012:k7m2x9q4ab/*/*/refunds",
    );
    each_route(&mut v, |r| {
        if r["path"] == "/refunds" {
            r["method"] = json!("ANY");
        }
    });
    assert_eq!(worst(&v, "lambda-integration").0, Status::Pass);

    // A Deny under a condition keeps the Allow from passing.
    let mut v = example("rest-healthy");
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": REFUNDS_FN},
        {"Sid": "office-only", "Effect": "Deny", "Principal": {"Service": "apigateway.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": REFUNDS_FN,
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]});
    refunds(&mut v)["policy"] = json!(doc.to_string());
    let (s, m) = worst(&v, "lambda-integration");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("office-only"), "{m}");

    // A function that reports no timeout: not known to end in time.
    let mut v = example("rest-healthy");
    refunds(&mut v)
        .as_object_mut()
        .map(|o| o.remove("timeout_seconds"));
    assert_eq!(worst(&v, "lambda-integration").0, Status::Warn);
}

#[test]
fn a_cache_policy_whose_headers_are_not_read_warns() {
    let mut v = example("rest-healthy");
    region(&mut v)["distributions"]["ok"][0]["behaviors"][0]["cache_policy_id"] =
        json!("658327ea-f89d-4fab-a63d-7e88639e58f6");
    assert_eq!(worst(&v, "cloudfront-origin-protocol").0, Status::Pass);
    region(&mut v)["distributions"]["ok"][0]["behaviors"][0]["cache_policy_id"] =
        json!("7a1b2c3d-0000-4000-8000-123456789abc");
    let (s, m) = worst(&v, "cloudfront-origin-protocol");
    assert_eq!(s, Status::Warn);
    assert!(m.contains("cache policy 7a1b2c3d"), "{m}");
}

fn plans(v: &mut Value) -> &mut Value {
    &mut region(v)["usage_plans"]
}

fn prod_settings(v: &mut Value) -> &mut Value {
    let stages = api(v)["stages"]["ok"].as_array_mut().expect("stages");
    let prod = stages
        .iter_mut()
        .find(|s| s["name"] == "prod")
        .expect("prod");
    &mut prod["method_settings"]
}

fn prod_verdict_of(v: &Value, check: &str) -> (Status, String) {
    let fs: Vec<Finding> = findings_with(v, check, None)
        .into_iter()
        .filter(|f| {
            f.resource
                .as_deref()
                .is_some_and(|r| r.ends_with("/stages/prod"))
        })
        .collect();
    worst_of(&fs)
}

#[test]
fn api_keys_need_a_usage_plan_with_an_enabled_key() {
    let (s, m) = keys_verdict(&example("rest-healthy"));
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("usage plan u8p2l4"), "{m}");

    let (s, m) = keys_verdict(&example("rest-api-key-stage-in-no-usage-plan"));
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("POST /refunds") && m.contains("403 Forbidden"),
        "{m}"
    );

    // The plan's only key disabled.
    let mut v = example("rest-healthy");
    plans(&mut v)["ok"][0]["keys"]["ok"][0]["enabled"] = json!(false);
    let (s, m) = keys_verdict(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("no enabled API key"), "{m}");

    // Whether it is enabled unknown: not a pass.
    plans(&mut v)["ok"][0]["keys"]["ok"][0]["enabled"] = Value::Null;
    assert_eq!(keys_verdict(&v).0, Status::Warn);

    // Keys unreadable, plans unreadable, plans never read: errors.
    let denied = json!({"error": {"operation": "apigateway:GetUsagePlanKeys",
        "iam_action": "apigateway:GET", "kind": "access_denied", "code": "AccessDeniedException",
        "message": "not authorized"}});
    let mut v = example("rest-healthy");
    plans(&mut v)["ok"][0]["keys"] = denied.clone();
    let (s, m) = keys_verdict(&v);
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("apigateway:GetUsagePlanKeys"), "{m}");
    let mut v = example("rest-healthy");
    *plans(&mut v) = denied;
    assert_eq!(keys_verdict(&v).0, Status::Error);
    let mut v = example("rest-healthy");
    region(&mut v)
        .as_object_mut()
        .unwrap()
        .remove("usage_plans");
    let (s, m) = keys_verdict(&v);
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("apigateway:GetUsagePlans"), "{m}");

    // No method requiring a key: usage plans are not needed.
    let mut v = example("rest-healthy");
    region(&mut v)
        .as_object_mut()
        .unwrap()
        .remove("usage_plans");
    each_route(&mut v, |r| r["api_key_required"] = json!(false));
    assert_eq!(keys_verdict(&v).0, Status::Pass);
    // Not recorded whether any does: a warning.
    each_route(&mut v, |r| {
        r.as_object_mut().unwrap().remove("api_key_required");
    });
    assert_eq!(keys_verdict(&v).0, Status::Warn);
}

#[test]
fn usage_plan_limits_of_zero_refuse_the_keys_callers() {
    // A quota of 0 on the only plan: every keyed call 429.
    let mut v = example("rest-healthy");
    plans(&mut v)["ok"][0]["quota"]["limit"] = json!(0);
    let (s, m) = keys_verdict(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("quota of 0") && m.contains("429"), "{m}");

    // A second plan with limits serves its own callers: a warning.
    let mut second = plans(&mut v)["ok"][0].clone();
    second["id"] = json!("z9q8w7");
    second["quota"]["limit"] = json!(1000);
    plans(&mut v)["ok"].as_array_mut().unwrap().push(second);
    let (s, m) = keys_verdict(&v);
    assert_eq!(s, Status::Warn, "{m}");

    // The plan's per-method throttle of 0 for the only keyed route.
    let mut v = example("rest-healthy");
    plans(&mut v)["ok"][0]["api_stages"][1]["throttle"]["/refunds/POST"]["burst_limit"] = json!(0);
    assert_eq!(keys_verdict(&v).0, Status::Fail);
}

fn keys_verdict(v: &Value) -> (Status, String) {
    prod_verdict_of(v, "api-key-usage-plan")
}

fn throttle_verdict(v: &Value) -> (Status, String) {
    prod_verdict_of(v, "throttling")
}

#[test]
fn stage_and_method_throttles_of_zero_answer_429() {
    let (s, m) = throttle_verdict(&example("rest-stage-throttled-to-zero"));
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("*/*") && m.contains("burst limit of 0"), "{m}");

    // A method's own non-zero limits override the stage default for it;
    // the other routes still fail.
    let mut v = example("rest-stage-throttled-to-zero");
    prod_settings(&mut v)["~1refunds/POST"] = json!({"logging_level": "INFO",
        "throttling_rate_limit": 10.0, "throttling_burst_limit": 20});
    let (s, m) = throttle_verdict(&v);
    assert_eq!(s, Status::Fail);
    assert!(!m.contains("POST /refunds"), "{m}");
    // A method rate of 0 fails that method even under a healthy default;
    // -1 (not set here) defers to the default.
    let mut v = example("rest-healthy");
    prod_settings(&mut v)["~1orders/GET"] = json!({"throttling_rate_limit": 0.0,
        "throttling_burst_limit": -1});
    let (s, m) = throttle_verdict(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("~1orders/GET") && m.contains("GET /orders") && m.contains("rate limit of 0"),
        "{m}"
    );

    // Throttles not recorded on a REST method setting: not a pass.
    let mut v = example("rest-healthy");
    prod_settings(&mut v)["*/*"]
        .as_object_mut()
        .unwrap()
        .remove("throttling_burst_limit");
    assert_eq!(throttle_verdict(&v).0, Status::Warn);

    // HTTP APIs: a route setting of 0, keyed by route key.
    let mut v = example("http-healthy");
    let st = &mut api(&mut v)["stages"]["ok"][0]["method_settings"];
    st["GET /catalog/{proxy+}"] = json!({"throttling_rate_limit": 0.0});
    let (s, m) = throttle_verdict(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("GET /catalog/{proxy+}"), "{m}");
    let (s, m) = throttle_verdict(&example("http-healthy"));
    assert_eq!(s, Status::Pass, "{m}");
}
