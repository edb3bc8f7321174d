//! Verdicts specific to VPC link v2, HTTP APIs, ALB rules, Cloud Map and
//! NLB -> ALB chains, each on a healthy example changed one way.

mod common;

use apigw_audit_checks::{Finding, Selection, Status};
use common::{check_findings, deployed, example, region, worst_of};
use serde_json::{Value, json};

const ALB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/catalog-alb/7a6b5c4d3e2f1a09";
const ALB_LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/catalog-alb/7a6b5c4d3e2f1a09/2b3c4d5e6f7a8b9c";
const TG_SEARCH: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/catalog-search/9e8f7a6b5c4d3e2f";
const SRV: &str = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-6xq4f2mzk3a7b5c1";
const NLB2: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/billing-nlb/3d4e5f6a7b8c9d0e";
const ALB_CHAIN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders-alb/8b9c0d1e2f3a4b5c";
const TG_ALB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-to-alb/6a7b8c9d0e1f2a3b";

fn findings(v: &Value, check: &str) -> Vec<Finding> {
    check_findings(&deployed(v), check, &Selection::default())
}

fn worst(v: &Value, check: &str) -> (Status, String) {
    worst_of(&findings(v, check))
}

fn on(v: &Value, check: &str, resource: &str) -> Finding {
    findings(v, check)
        .into_iter()
        .find(|f| f.resource.as_deref() == Some(resource))
        .unwrap_or_else(|| panic!("no {check} finding on {resource}"))
}

#[test]
fn http_listener_arn_that_does_not_exist_fails_listener_port() {
    let mut v = example("http-healthy");
    let bogus = format!(
        "{}/ffffffffffffffff",
        &ALB_LISTENER[..ALB_LISTENER.rfind('/').expect("slash")]
    );
    for r in region(&mut v)["apis"][0]["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if r["integration"]["uri"] == ALB_LISTENER {
            r["integration"]["uri"] = json!(bogus);
        }
    }
    let f = on(&v, "listener-port", ALB);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains(&bogus), "{}", f.message);
    assert_eq!(f.routes, vec!["GET /catalog/{proxy+}".to_string()]);
    // Nothing downstream of a missing listener can be judged: skipped, not passed.
    assert_eq!(on(&v, "target-health", ALB).status, Status::Skip);
}

#[test]
fn http_integration_uri_must_be_an_arn() {
    let mut v = example("http-healthy");
    region(&mut v)["apis"][0]["routes"]["ok"][0]["integration"]["uri"] =
        json!("http://catalog.internal/");
    let (s, m) = worst(&v, "listener-port");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("must be a listener or Cloud Map service ARN"),
        "{m}"
    );
}

#[test]
fn rest_integration_target_deleted_fails_load_balancer_exists() {
    let mut v = example("rest-vpc-link-v2-healthy");
    region(&mut v)["load_balancers"][NLB2] = json!({"not_found": {"operation": "elasticloadbalancing:DescribeLoadBalancers",
        "iam_action": null, "kind": "not_found", "code": "LoadBalancerNotFound", "message": "not found"}});
    let f = on(&v, "load-balancer-exists", NLB2);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("integration target"), "{}", f.message);
}

#[test]
fn rest_integration_target_listens_on_the_uri_port() {
    let mut v = example("rest-vpc-link-v2-healthy");
    region(&mut v)["listeners"][NLB2]["ok"][0]["port"] = json!(443);
    let f = on(&v, "listener-port", NLB2);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("port 8443"), "{}", f.message);
}

#[test]
fn v2_routes_skip_the_privatelink_checks_with_the_reason() {
    let v = example("rest-vpc-link-v2-healthy");
    for check in ["endpoint-connection", "privatelink-inbound-rules"] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Skip, "{check}");
        assert!(m.contains("VPC link v2"), "{m}");
    }
}

#[test]
fn weight_zero_forwards_carry_no_traffic() {
    let mut v = example("http-alb-rule-empty-target-group");
    assert_eq!(worst(&v, "target-health").0, Status::Fail);
    // The rule keeps the empty group at weight 0 (a blue/green standby).
    region(&mut v)["listener_rules"][ALB_LISTENER]["ok"][0]["actions"][0]["target_groups"][0]["weight"] =
        json!(0);
    assert_eq!(worst(&v, "target-health").0, Status::Pass);
    assert!(
        findings(&v, "target-health")
            .iter()
            .all(|f| f.resource.as_deref() != Some(TG_SEARCH))
    );
}

#[test]
fn unreadable_alb_rules_make_target_health_an_error() {
    let mut v = example("http-healthy");
    region(&mut v)["listener_rules"][ALB_LISTENER] = json!({"error": {"operation": "elasticloadbalancing:DescribeRules",
        "iam_action": "elasticloadbalancing:DescribeRules", "kind": "access_denied", "code": "AccessDenied", "message": "denied"}});
    let f = on(&v, "target-health", ALB_LISTENER);
    assert_eq!(f.status, Status::Error);
    assert!(
        f.message.contains("elasticloadbalancing:DescribeRules"),
        "{}",
        f.message
    );
}

#[test]
fn cloud_map_health_verdicts() {
    let mut v = example("http-healthy");
    let svc = &mut region(&mut v)["cloud_map_services"][SRV]["ok"];
    svc["instances"][1]["health"] = json!("UNHEALTHY");
    assert_eq!(on(&v, "target-health", SRV).status, Status::Warn);
    let svc = &mut region(&mut v)["cloud_map_services"][SRV]["ok"];
    svc["health_check"] = Value::Null;
    svc["instances"][0]["health"] = Value::Null;
    svc["instances"][1]["health"] = Value::Null;
    let f = on(&v, "target-health", SRV);
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert!(f.message.contains("checks no health"), "{}", f.message);
    region(&mut v)["cloud_map_services"][SRV]["ok"]["instances"] = json!([]);
    assert_eq!(on(&v, "target-health", SRV).status, Status::Fail);
}

#[test]
fn cloud_map_instance_without_an_address_is_a_warning() {
    let mut v = example("http-healthy");
    region(&mut v)["cloud_map_services"][SRV]["ok"]["instances"][0]["ipv4"] = Value::Null;
    let f = on(&v, "security-groups", SRV);
    assert_eq!(f.status, Status::Warn, "{}", f.message);
    assert!(
        f.message.contains("registers no IPv4 address"),
        "{}",
        f.message
    );
}

#[test]
fn http_api_without_access_logging_warns_in_execution_logging() {
    let mut v = example("http-healthy");
    region(&mut v)["apis"][0]["stages"]["ok"][0]["access_log"] = Value::Null;
    let (s, m) = worst(&v, "execution-logging");
    assert_eq!(s, Status::Warn, "calls do not fail for want of logs");
    assert!(m.contains("access logging"), "{m}");
}

#[test]
fn nlb_to_alb_chain_needs_the_alb_listener_and_its_security_group() {
    let mut v = example("rest-nlb-to-alb-healthy");
    region(&mut v)["listeners"][ALB_CHAIN]["ok"][0]["port"] = json!(8000);
    let f = on(&v, "listener-port", ALB_CHAIN);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("port 80"), "{}", f.message);

    let mut v = example("rest-nlb-to-alb-healthy");
    region(&mut v)["security_groups"]["sg-0b8c9d0e1f2a3b4c5"]["ok"]["ingress"] = json!([]);
    let f = on(&v, "security-groups", TG_ALB);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("ALB orders-alb"), "{}", f.message);

    let mut v = example("rest-nlb-to-alb-healthy");
    let tg_app = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-app-http/7b8c9d0e1f2a3b4c";
    for t in region(&mut v)["target_health"][tg_app]["ok"]
        .as_array_mut()
        .expect("targets")
    {
        t["state"] = json!("unhealthy");
        t["reason"] = json!("Target.Timeout");
    }
    let f = on(&v, "target-health", tg_app);
    assert_eq!(
        f.status,
        Status::Fail,
        "the ALB's own target group is judged too"
    );
}

#[test]
fn vpc_link_v2_listing_unreadable_is_an_error() {
    let mut v = example("http-healthy");
    region(&mut v)["vpc_links_v2"]["vl2ab3cd"] = json!({"error": {"operation": "apigateway:GetVpcLinks",
        "iam_action": "apigateway:GET on arn:aws:apigateway:us-east-1::/vpclinks", "kind": "access_denied",
        "code": "AccessDeniedException", "message": "denied"}});
    for check in [
        "vpc-link-status",
        "vpc-link-reference",
        "target-health",
        "security-groups",
    ] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Error, "{check}: {m}");
    }
}

/// A network ACL is crossed by many hops of a route: when the route's walk
/// stops (the ALB's rules unreadable), its flows through that ACL beyond
/// the stop are unknown, so no ACL on the route may pass; each is an error
/// naming the failed read, never a pass on the flows that happened to be
/// read.
#[test]
fn an_acl_on_a_route_whose_walk_stopped_is_never_a_pass() {
    let mut v = example("rest-nlb-to-alb-healthy");
    assert_eq!(worst(&v, "network-acls").0, Status::Pass);
    let rules = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/orders-alb/8b9c0d1e2f3a4b5c/9c0d1e2f3a4b5c6d";
    region(&mut v)["listener_rules"][rules] = json!({"error": {"operation": "elasticloadbalancing:DescribeRules",
        "iam_action": "elasticloadbalancing:DescribeRules", "kind": "throttled", "code": "Throttling",
        "message": "Rate exceeded"}});
    let fs = findings(&v, "network-acls");
    assert!(!fs.is_empty());
    for f in &fs {
        assert_ne!(f.status, Status::Pass, "{f:?}");
        if f.resource
            .as_deref()
            .is_some_and(|r| r.contains("network-acl/"))
        {
            assert!(
                f.message.contains("elasticloadbalancing:DescribeRules"),
                "{}",
                f.message
            );
        }
    }
}
