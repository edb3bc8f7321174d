//! A check never says `pass` (or `fail`) without the data: every resource of
//! every healthy example topology is, in turn, made unreadable (a failed call) and
//! missing (a snapshot that lacks it). Each time, the checks that needed it
//! must turn `error`, naming the failed operation, and nothing may turn
//! `fail` or newly `pass`.

use std::collections::BTreeMap;

use apigw_audit_checks::{Selection, Snapshot, Status, audit};
use serde_json::{Value, json};

fn example(name: &str) -> Value {
    let path = format!(
        "{}/../examples/snapshots/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("json")
}

fn healthy() -> Value {
    example("rest-healthy")
}

/// Every healthy topology the examples hold.
const TOPOLOGIES: &[&str] = &[
    "rest-healthy",
    "http-healthy",
    "rest-vpc-link-v2-healthy",
    "rest-nlb-to-alb-healthy",
];

/// (stage, check, resource) -> status
fn verdicts(v: &Value) -> BTreeMap<(String, String, String), Status> {
    let snap = Snapshot::from_json(&v.to_string()).expect("snapshot");
    let mut out = BTreeMap::new();
    for api in audit(&snap, &Selection::default()) {
        for stage in api.stages {
            for f in stage.findings {
                out.insert(
                    (
                        stage.name.clone().unwrap_or_default(),
                        f.check.to_string(),
                        f.resource.clone().unwrap_or_default(),
                    ),
                    f.status,
                );
            }
        }
    }
    out
}

fn failure(op: &str) -> Value {
    json!({ "error": {
        "operation": op, "iam_action": op, "kind": "access_denied",
        "code": "AccessDenied", "message": "User is not authorized to perform this operation"
    }})
}

const MAPS: &[(&str, &str)] = &[
    ("vpc_links", "apigateway:GetVpcLinks"),
    ("vpc_links_v2", "apigateway:GetVpcLinks"),
    ("listener_rules", "elasticloadbalancing:DescribeRules"),
    ("network_interfaces", "ec2:DescribeNetworkInterfaces"),
    ("cloud_map_services", "servicediscovery:ListInstances"),
    (
        "listener_certificates",
        "elasticloadbalancing:DescribeListenerCertificates",
    ),
    ("certificates", "acm:DescribeCertificate"),
    (
        "listener_attributes",
        "elasticloadbalancing:DescribeListenerAttributes",
    ),
    (
        "load_balancer_attributes",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
    ),
    (
        "load_balancers",
        "elasticloadbalancing:DescribeLoadBalancers",
    ),
    ("listeners", "elasticloadbalancing:DescribeListeners"),
    ("target_groups", "elasticloadbalancing:DescribeTargetGroups"),
    ("target_health", "elasticloadbalancing:DescribeTargetHealth"),
    ("instances", "ec2:DescribeInstances"),
    ("subnets", "ec2:DescribeSubnets"),
    ("security_groups", "ec2:DescribeSecurityGroups"),
    ("network_acls", "ec2:DescribeNetworkAcls"),
    ("route_tables", "ec2:DescribeRouteTables"),
    (
        "target_group_attributes",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
    ),
    ("prefix_lists", "ec2:GetManagedPrefixListEntries"),
    (
        "endpoint_services",
        "ec2:DescribeVpcEndpointServiceConfigurations",
    ),
    ("endpoint_connections", "ec2:DescribeVpcEndpointConnections"),
    ("lambda_functions", "lambda:GetFunctionConfiguration"),
];

/// Single listings, by their JSON path inside the first region, with the
/// check that needs each.
const LISTINGS: &[(&[&str], &str, &str)] = &[
    (
        &["distributions"],
        "cloudfront:ListDistributions",
        "cloudfront-origin-protocol",
    ),
    (
        &["domain_names"],
        "apigateway:GetDomainNames",
        "cloudfront-origin-protocol",
    ),
    (
        &["apis", "0", "authorizers"],
        "apigateway:GetAuthorizers",
        "authorizer-config",
    ),
    (
        &["apis", "0", "info"],
        "apigateway:GetRestApi",
        "resource-policy",
    ),
];

fn at<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Value {
    let mut cur = &mut v["regions"][0];
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    cur
}

#[test]
fn unreadable_or_unrecorded_listings_are_errors_never_pass() {
    let base = healthy();
    let before = verdicts(&base);
    for (path, op, check) in LISTINGS {
        let mut failed = base.clone();
        *at(&mut failed, path) = failure(op);
        let mut absent = base.clone();
        if path.len() == 1 {
            absent["regions"][0]
                .as_object_mut()
                .expect("region")
                .remove(path[0]);
        } else {
            // An API record always carries its fields; absent means null.
            *at(&mut absent, path) = Value::Null;
        }
        for (label, v) in [("unreadable", &failed), ("absent", &absent)] {
            if label == "absent" && Snapshot::from_json(&v.to_string()).is_err() {
                // A snapshot without a required field is refused whole.
                continue;
            }
            let label = format!("{path:?} {label}");
            assert_no_verdict_without_data(&label, &before, v);
            let after = verdicts(v);
            assert!(
                after
                    .iter()
                    .any(|((_, c, _), s)| c == check && *s == Status::Error),
                "{label}: {check} did not turn error: {after:?}"
            );
            let named = audit(
                &Snapshot::from_json(&v.to_string()).expect("snapshot"),
                &Selection::default(),
            )
            .into_iter()
            .flat_map(|a| a.stages)
            .flat_map(|s| s.findings)
            .filter(|f| f.check == *check && f.status == Status::Error)
            .all(|f| f.message.contains(op) || label.ends_with("absent"));
            assert!(named, "{label}: the error does not name {op}");
        }
    }
}

fn assert_no_verdict_without_data(
    label: &str,
    before: &BTreeMap<(String, String, String), Status>,
    after_v: &Value,
) {
    let after = verdicts(after_v);
    for (key, status) in &after {
        match before.get(key) {
            Some(old) if old == status => {}
            Some(old) => assert!(
                matches!(status, Status::Error | Status::Skip),
                "{label}: {key:?} went from {old:?} to {status:?}"
            ),
            None => assert!(
                matches!(status, Status::Error | Status::Skip),
                "{label}: new finding {key:?} is {status:?}"
            ),
        }
    }
    // Every check that had a pass must still have a finding (error or
    // otherwise) on each stage: a vanished verdict would hide the gap.
    for (stage, check, _) in before.keys() {
        assert!(
            after.keys().any(|(s, c, _)| s == stage && c == check),
            "{label}: {check} on {stage} produced no finding"
        );
    }
}

/// Whether some check reads this entry of an example: a prefix list that
/// feeds only a port-22 rule no path uses, and target subnets whose own
/// records nothing needs (their ACLs are what matters), are recorded for
/// evidence only.
fn used(map: &str, key: &str) -> bool {
    !(map == "prefix_lists"
        || (map == "subnets"
            && [
                "subnet-0c99ee11dd22aa33f",
                "subnet-0d44bb55cc66ee77b",
                "subnet-05e6f708192a3b4c5",
                "subnet-06f708192a3b4c5d6",
            ]
            .contains(&key)))
}

#[test]
fn every_unreadable_resource_turns_its_checks_to_error_never_pass() {
    for name in TOPOLOGIES {
        unreadable_resources(name, example(name));
    }
    unreadable_resources("a healthy TLS path", tls_healthy());
}

/// The host-name example pointed at a host its real public certificate
/// covers: a TLS path on which every check passes.
fn tls_healthy() -> Value {
    let mut v = example("rest-tls-hostname-mismatch");
    let api = &mut v["regions"][0]["apis"][0];
    for r in api["routes"]["ok"].as_array_mut().expect("routes") {
        if let Some(uri) = r["integration"]["uri"].as_str() {
            let uri = uri.replace("orders.internal.example.com", "aws-us-east-1.amazon.com");
            r["integration"]["uri"] = json!(uri);
        }
    }
    let current = api["routes"].clone();
    for stage in ["beta", "prod"] {
        api["deployed_routes"][stage] = current.clone();
    }
    v
}

fn unreadable_resources(name: &str, base: Value) {
    let before = verdicts(&base);
    // Nothing fails or errs before (a warning is a verdict too: the REST
    // examples' target-health warns on its 8081 health check).
    assert!(
        before
            .values()
            .all(|s| matches!(s, Status::Pass | Status::Skip | Status::Warn)),
        "{name}"
    );
    for (map, op) in MAPS {
        let keys: Vec<String> = base["regions"][0][map]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for key in keys {
            let mut v = base.clone();
            v["regions"][0][map][&key] = failure(op);
            let label = format!("{name}: {map}[{key}] unreadable");
            assert_no_verdict_without_data(&label, &before, &v);
            let after = verdicts(&v);
            if used(map, &key) {
                assert!(
                    after.values().any(|s| *s == Status::Error),
                    "{label}: no check noticed"
                );
            }

            let mut v = base.clone();
            v["regions"][0][map]
                .as_object_mut()
                .expect("map")
                .remove(&key);
            let label = format!("{name}: {map}[{key}] absent from the snapshot");
            assert_no_verdict_without_data(&label, &before, &v);
            if used(map, &key) {
                assert!(
                    verdicts(&v).values().any(|s| *s == Status::Error),
                    "{label}: no check noticed"
                );
            }
        }
    }
}

#[test]
fn unreadable_routes_stages_or_account_settings_are_errors() {
    let base = healthy();
    // The stage's deployed definition is what the checks walk: with the
    // current one unreadable only the drift check cannot decide.
    let before = verdicts(&base);
    let mut v = base.clone();
    v["regions"][0]["apis"][0]["routes"] = failure("apigateway:GetResources");
    for (key, status) in verdicts(&v) {
        let want = if key.1 == "deployment-drift" {
            Status::Error
        } else {
            before[&key]
        };
        assert_eq!(status, want, "current routes unreadable: {key:?}");
    }
    // With neither definition readable, every route check is an error.
    let mut v = base.clone();
    v["regions"][0]["apis"][0]["routes"] = failure("apigateway:GetResources");
    v["regions"][0]["apis"][0]["deployed_routes"]["prod"] = failure("apigateway:GetExport");
    v["regions"][0]["apis"][0]["deployed_routes"]["beta"] = failure("apigateway:GetExport");
    for ((_, check, _), status) in verdicts(&v) {
        // The stage default alone decides logging; distributions, a
        // policy-less API, a missing URL and the API's endpoint setting
        // need no route.
        if [
            "execution-logging",
            "cloudfront-origin-protocol",
            "resource-policy",
            "route-exists",
            "execute-api-endpoint",
        ]
        .contains(&check.as_str())
        {
            continue;
        }
        assert_eq!(status, Status::Error, "no definition readable: {check}");
    }
    let mut v = base.clone();
    v["regions"][0]["apis"][0]["stages"] = failure("apigateway:GetStages");
    assert!(verdicts(&v).values().all(|s| *s == Status::Error));
    let mut v = base.clone();
    v["regions"][0]["apigateway_account"] = failure("apigateway:GetAccount");
    for (key, status) in verdicts(&v) {
        let want = if key.1 == "execution-logging" {
            Status::Error
        } else {
            before[&key]
        };
        assert_eq!(status, want, "{key:?}");
    }
}

#[test]
fn a_prefix_list_that_decides_a_rule_makes_the_verdict_unknown_when_unreadable() {
    let mut v = healthy();
    let sg = "sg-0a7b6c5d4e3f2a1b0";
    // The app group now admits 8080 and 8081 only through the prefix list.
    let rules = json!([{
        "protocol": "tcp", "from_port": 8080, "to_port": 8081, "ipv4_ranges": [], "ipv6_ranges": [],
        "prefix_list_ids": ["pl-0b1c2d3e4f5a6b7c8"], "group_ids": []
    }]);
    v["regions"][0]["security_groups"][sg]["ok"]["ingress"] = rules;
    v["regions"][0]["prefix_lists"]["pl-0b1c2d3e4f5a6b7c8"]["ok"]["cidrs"] =
        json!(["10.20.0.0/16"]);
    let ok = verdicts(&v);
    assert!(
        ok.iter()
            .any(|((_, c, _), s)| c == "security-groups" && *s == Status::Pass)
    );
    v["regions"][0]["prefix_lists"]["pl-0b1c2d3e4f5a6b7c8"] =
        failure("ec2:GetManagedPrefixListEntries");
    let after = verdicts(&v);
    assert!(
        after
            .iter()
            .any(|((_, c, _), s)| c == "security-groups" && *s == Status::Error)
    );
    assert!(
        !after
            .iter()
            .any(|((_, c, _), s)| c == "security-groups" && *s == Status::Pass)
    );
}
