//! Where the traffic a target receives comes from, and which zones carry
//! it: client IP preservation (the requests' source) apart from the health
//! checks' (always the load balancer), and cross-zone load balancing. Each
//! case changes one example the way a real account differs.

mod common;

use apigw_audit_checks::{Finding, Status};
use common::{check_findings, deployed, example, region, worst_of};
use serde_json::{Value, json};

const TG_BILL: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/billing-app/5f6a7b8c9d0e1f2a";
const SG_WEB: &str = "sg-0f2a3b4c5d6e7f809";
const NLB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/4f1c2e0d9a3b7c65";
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-app-8080/0a9b8c7d6e5f4a3b";
const APP_SG: &str = "sg-0a7b6c5d4e3f2a1b0";

fn findings(v: &Value, check: &str) -> Vec<Finding> {
    check_findings(&deployed(v), check, &common::prod())
}

fn worst(v: &Value, check: &str) -> (Status, String) {
    worst_of(&findings(v, check))
}

fn rule(from: u16, to: u16, cidrs: &[&str]) -> Value {
    json!({"protocol": "tcp", "from_port": from, "to_port": to, "ipv4_ranges": cidrs,
        "ipv6_ranges": [], "prefix_list_ids": [], "group_ids": []})
}

/// The REST API behind a VPC link v2 to an NLB whose instance targets admit
/// 8080 from the NLB's subnets only, not from its security group.
fn v2_targets_admit_the_nlb_subnets() -> Value {
    let mut v = example("rest-vpc-link-v2-healthy");
    region(&mut v)["security_groups"][SG_WEB]["ok"]["ingress"] =
        json!([rule(8080, 8080, &["10.40.11.0/24", "10.40.12.0/24"])]);
    v
}

fn preserve(v: &mut Value, value: Option<&str>) {
    let attrs = &mut region(v)["target_group_attributes"][TG_BILL]["ok"];
    match value {
        Some(s) => attrs["preserve_client_ip.enabled"] = json!(s),
        None => {
            attrs
                .as_object_mut()
                .expect("attributes")
                .remove("preserve_client_ip.enabled");
        }
    }
}

/// Behind a VPC link v2, an NLB that preserves client addresses hands the
/// targets the link's interface addresses: a group admitting only the
/// NLB's subnets drops every request, though the health checks (from the
/// NLB) pass. With preservation off the NLB's addresses arrive, and pass.
#[test]
fn client_ip_preservation_decides_the_source_the_targets_see() {
    let mut v = v2_targets_admit_the_nlb_subnets();
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("VPC link vl2ab3cd's interfaces through NLB billing-nlb")
            && m.contains("client IP preservation is on")
            && m.contains("preserve_client_ip.enabled = true"),
        "{m}"
    );
    preserve(&mut v, Some("false"));
    assert_eq!(worst(&v, "security-groups").0, Status::Pass);
    // Not reported: the documented default, on for instance targets...
    preserve(&mut v, None);
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("the default for instance targets"), "{m}");
    // ...and off for IP targets over TCP.
    region(&mut v)["target_groups"][TG_BILL]["ok"]["target_type"] = json!("ip");
    region(&mut v)["network_interfaces"] = json!({
        "i-0b1c2d3e4f5a60011": {"ok": []}, "i-0b1c2d3e4f5a60012": {"ok": []}});
    let mut ip = v.clone();
    let targets = json!([
        {"target_id": "10.40.21.15", "port": 8080, "availability_zone": "us-east-1a", "state": "healthy",
         "reason": null, "description": null, "health_check_port": "8080"}]);
    region(&mut ip)["target_health"][TG_BILL] = json!({"ok": targets});
    region(&mut ip)["network_interfaces"] = json!({"10.40.21.15": {"ok": [{"id": "eni-0web",
        "subnet_id": "subnet-05e6f708192a3b4c5", "vpc_id": "vpc-0b2c3d4e5f6a78901",
        "private_ips": ["10.40.21.15"], "security_groups": [SG_WEB], "description": "web"}]}});
    assert_eq!(worst(&ip, "security-groups").0, Status::Pass);
}

/// The health checks always come from the NLB's own addresses: a group
/// that admits the link's subnets (the preserved source) but not the NLB
/// fails the health-check flow, naming it.
#[test]
fn health_checks_come_from_the_load_balancer_whatever_the_preservation() {
    let mut v = example("rest-vpc-link-v2-healthy");
    region(&mut v)["security_groups"][SG_WEB]["ok"]["ingress"] =
        json!([rule(8080, 8080, &["10.40.1.0/24", "10.40.2.0/24"])]);
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("the health-check port") && m.contains("NLB billing-nlb"),
        "{m}"
    );
}

/// A rule naming the NLB's own security group admits its traffic whether
/// or not the client address is preserved (ELB guide): the example's web
/// group does, and passes with preservation on.
#[test]
fn a_rule_naming_the_nlb_group_admits_preserved_traffic() {
    let v = example("rest-vpc-link-v2-healthy");
    assert_eq!(worst(&v, "security-groups").0, Status::Pass);
}

/// Preservation unreadable behind a VPC link v2: the source is unknown, so
/// the verdict is an error naming the call; behind a VPC link v1 it has no
/// effect, so the attribute is not needed.
#[test]
fn unreadable_preservation_is_an_error_only_where_it_matters() {
    let unread = json!({"error": {"operation": "elasticloadbalancing:DescribeTargetGroupAttributes",
        "iam_action": "elasticloadbalancing:DescribeTargetGroupAttributes", "kind": "access_denied",
        "code": "AccessDenied", "message": "denied"}});
    let mut v = example("rest-vpc-link-v2-healthy");
    region(&mut v)["target_group_attributes"][TG_BILL] = unread.clone();
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Error, "{m}");
    assert!(
        m.contains("elasticloadbalancing:DescribeTargetGroupAttributes"),
        "{m}"
    );
    let mut v = example("rest-healthy");
    region(&mut v)["target_group_attributes"][TG] = unread;
    assert_eq!(worst(&v, "security-groups").0, Status::Pass);
    assert_eq!(worst(&v, "network-acls").0, Status::Pass);
}

/// The NACL check judges the preserved source too: the app subnets' ACL
/// admits 8080 from the NLB's subnets only, so the link's requests drop.
#[test]
fn network_acls_judge_the_preserved_source() {
    let mut v = example("rest-vpc-link-v2-healthy");
    assert_eq!(worst(&v, "network-acls").0, Status::Pass);
    let acl = json!({"ok": {"id": "acl-0web", "vpc_id": "vpc-0b2c3d4e5f6a78901", "owner_id": "123456789012",
        "is_default": false, "entries": [
        {"rule_number": 100, "egress": false, "protocol": "6", "action": "allow", "cidr_block": "10.40.11.0/24",
         "ipv6_cidr_block": null, "from_port": 8080, "to_port": 8080},
        {"rule_number": 101, "egress": false, "protocol": "6", "action": "allow", "cidr_block": "10.40.12.0/24",
         "ipv6_cidr_block": null, "from_port": 8080, "to_port": 8080},
        {"rule_number": 100, "egress": true, "protocol": "-1", "action": "allow", "cidr_block": "0.0.0.0/0",
         "ipv6_cidr_block": null, "from_port": null, "to_port": null}]}});
    for sid in ["subnet-05e6f708192a3b4c5", "subnet-06f708192a3b4c5d6"] {
        region(&mut v)["network_acls"][sid] = acl.clone();
    }
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("the load balancer's request to the target"),
        "{m}"
    );
    preserve(&mut v, Some("false"));
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Pass, "{m}");
}

/// The REST example with its health check on the traffic port, so that a
/// healthy group passes (on 8081 it proves nothing about 8080: a warning).
fn probed_on_traffic_port() -> Value {
    let mut v = example("rest-healthy");
    region(&mut v)["target_groups"][TG]["ok"]["health_check"]["port"] = json!("traffic-port");
    for t in region(&mut v)["target_health"][TG]["ok"]
        .as_array_mut()
        .expect("targets")
    {
        t["health_check_port"] = json!("8080");
    }
    v
}

/// Cross-zone load balancing off (the NLB default): each node sends only to
/// its own zone, so a zone without a healthy target warns, naming the zone
/// and the setting; with it on, or every zone covered, no warning.
#[test]
fn a_zone_without_a_healthy_target_warns_when_cross_zone_is_off() {
    let mut v = probed_on_traffic_port();
    let f = findings(&v, "target-health").remove(0);
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert!(
        f.message
            .contains("every enabled zone (us-east-1a, us-east-1b) has a healthy target"),
        "{}",
        f.message
    );
    let targets = &mut region(&mut v)["target_health"][TG]["ok"];
    targets[1]["state"] = json!("unhealthy");
    targets[1]["reason"] = json!("Target.FailedHealthChecks");
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("us-east-1b") && m.contains("load_balancing.cross_zone.enabled = false"),
        "{m}"
    );
    // The target group turns cross-zone on: every node reaches every target.
    region(&mut v)["target_group_attributes"][TG]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("true");
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(!m.contains("us-east-1b have no healthy"), "{m}");
    // Deferring to a load balancer that turns it on: the same.
    region(&mut v)["target_group_attributes"][TG]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("use_load_balancer_configuration");
    region(&mut v)["load_balancer_attributes"][NLB]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("true");
    assert!(!worst(&v, "target-health").1.contains("Cross-zone"));
}

/// A healthy target group proves nothing about its zones when cross-zone
/// cannot be read: an error naming the call, never a pass.
#[test]
fn unreadable_cross_zone_settings_are_errors() {
    let mut v = probed_on_traffic_port();
    region(&mut v)["load_balancer_attributes"][NLB] = json!({"error": {"operation":
        "elasticloadbalancing:DescribeLoadBalancerAttributes", "iam_action":
        "elasticloadbalancing:DescribeLoadBalancerAttributes", "kind": "throttled", "code": "Throttling",
        "message": "Rate exceeded"}});
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("DescribeLoadBalancerAttributes"), "{m}");
    // The group's own setting decides without the load balancer's.
    region(&mut v)["target_group_attributes"][TG]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("false");
    let f = findings(&v, "target-health").remove(0);
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert!(
        f.message.contains("target group orders-app-8080 sets"),
        "{}",
        f.message
    );
}

/// Behind a VPC link v1 client IP preservation has no effect: the targets
/// see the NLB's addresses, so a group admitting only the NLB's subnets
/// passes even with preservation on.
#[test]
fn privatelink_traffic_comes_from_the_nlb_whatever_the_preservation() {
    let mut v = example("rest-healthy");
    region(&mut v)["target_group_attributes"][TG]["ok"]["preserve_client_ip.enabled"] =
        json!("true");
    region(&mut v)["security_groups"][APP_SG]["ok"]["ingress"] =
        json!([rule(8080, 8081, &["10.20.1.0/24", "10.20.2.0/24"])]);
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Pass, "{m}");
}

/// With cross-zone load balancing off (the example's NLB default), each
/// node sends only to targets in its own zone, so an ACL that drops the
/// other zone's node passes: that pair carries no traffic. With cross-zone
/// on every node reaches every target, and the same ACL fails. The same
/// holds for security groups.
#[test]
fn cross_zone_off_judges_only_same_zone_pairs() {
    let mut v = example("rest-healthy");
    // The first app subnet (us-east-1a) drops everything from the NLB's
    // us-east-1b subnet.
    let acl = &mut region(&mut v)["network_acls"]["subnet-0c99ee11dd22aa33f"]["ok"]["entries"];
    acl.as_array_mut()
        .expect("entries")
        .push(json!({"rule_number": 40, "egress": false,
        "protocol": "-1", "action": "deny", "cidr_block": "10.20.2.0/24",
        "ipv6_cidr_block": null, "from_port": null, "to_port": null}));
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Pass, "{m}");
    region(&mut v)["target_group_attributes"][TG]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("true");
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("10.20.2.10"), "{m}");
    // Security groups: the first target admits only its own zone's node.
    let mut v = example("rest-healthy");
    region(&mut v)["instances"]["i-0a1b2c3d4e5f60002"]["ok"]["security_groups"] =
        json!(["sg-0b2zone"]);
    region(&mut v)["security_groups"]["sg-0b2zone"] = json!({"ok": {"id": "sg-0b2zone", "name": "zone-b",
        "vpc_id": "vpc-0a1b2c3d4e5f67890", "owner_id": "123456789012",
        "ingress": [rule(8080, 8081, &["10.20.2.10/32"])], "egress": [rule(0, 65535, &["0.0.0.0/0"])]}});
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Pass, "{m}");
    region(&mut v)["load_balancer_attributes"][NLB]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("true");
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Fail, "{m}");
}
