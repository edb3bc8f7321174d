//! `route-tables` on the examples changed the ways real routing differs: a
//! route overriding the local one toward an appliance, a target outside the
//! VPC with or without a route to it, a blackhole, an unreadable table.

mod common;

use apigw_audit_checks::{Finding, Status};
use common::{check_findings, deployed, example, region, worst_of};
use serde_json::{Value, json};

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-app-8080/0a9b8c7d6e5f4a3b";
const NLB_SUBNETS: [&str; 2] = ["subnet-0a11aa22bb33cc44d", "subnet-0b55dd66ee77ff88a"];
const APP_SUBNET: &str = "subnet-0c99ee11dd22aa33f";

fn findings(v: &Value) -> Vec<Finding> {
    check_findings(&deployed(v), "route-tables", &common::prod())
}

fn worst(v: &Value) -> (Status, String) {
    worst_of(&findings(v))
}

fn route(dest: &str, target: &str, state: &str) -> Value {
    json!({"destination": dest, "target": target, "state": state})
}

/// Gives `subnets` a table of their own with `routes` besides the local one.
fn own_table(v: &mut Value, subnets: &[&str], id: &str, routes: Vec<Value>) {
    let mut all = vec![route("10.20.0.0/16", "local", "active")];
    all.extend(routes);
    for s in subnets {
        region(v)["route_tables"][*s] = json!({"ok": {"id": id, "vpc_id": "vpc-0a1b2c3d4e5f67890",
            "main": false, "routes": all}});
    }
}

/// One IP target on premises (172.16.5.9), on no interface of the account.
fn on_premises_target(v: &mut Value) {
    region(v)["target_groups"][TG]["ok"]["target_type"] = json!("ip");
    region(v)["target_health"][TG]["ok"] = json!([{"target_id": "172.16.5.9", "port": 8080,
        "availability_zone": "all", "state": "healthy", "reason": null, "description": null,
        "health_check_port": "8081"}]);
    region(v)["network_interfaces"]["172.16.5.9"] = json!({"ok": []});
}

#[test]
fn the_local_route_carries_a_path_inside_the_vpc() {
    let v = example("rest-healthy");
    let fs = findings(&v);
    assert!(!fs.is_empty());
    let (s, m) = worst_of(&fs);
    assert_eq!(s, Status::Pass, "{m}");
    assert!(
        m.contains("routes every flow on the path inside the VPC"),
        "{m}"
    );
}

/// A route more specific than the local one, toward a firewall endpoint,
/// hands the verdict to the appliance: a warning naming it.
#[test]
fn a_local_route_overridden_toward_an_appliance_warns() {
    let mut v = example("rest-healthy");
    own_table(
        &mut v,
        &NLB_SUBNETS,
        "rtb-0inspect",
        vec![route("10.20.11.0/24", "vpce-0fw1234567890abcd", "active")],
    );
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("vpce-0fw1234567890abcd") && m.contains("rtb-0inspect"),
        "{m}"
    );
}

/// A target outside the VPC: no route to it fails; a route through a
/// transit gateway warns (the far side is not visible); a blackhole route
/// fails; an internet gateway for a private address fails.
#[test]
fn a_target_outside_the_vpc_needs_a_route_to_it() {
    let mut v = example("rest-healthy");
    on_premises_target(&mut v);
    own_table(&mut v, &NLB_SUBNETS, "rtb-0nlb", vec![]);
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("has no route to target 172.16.5.9"), "{m}");
    own_table(
        &mut v,
        &NLB_SUBNETS,
        "rtb-0nlb",
        vec![route("172.16.0.0/12", "tgw-0abc1234567890def", "active")],
    );
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("out of the VPC through tgw-0abc1234567890def"),
        "{m}"
    );
    own_table(
        &mut v,
        &NLB_SUBNETS,
        "rtb-0nlb",
        vec![route("172.16.0.0/12", "tgw-0abc1234567890def", "blackhole")],
    );
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("a blackhole"), "{m}");
    own_table(
        &mut v,
        &NLB_SUBNETS,
        "rtb-0nlb",
        vec![route("0.0.0.0/0", "igw-0abc1234567890def", "active")],
    );
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("does not forward to private addresses"), "{m}");
}

/// The return path too: the app subnet's table sends the replies to the
/// NLB's subnets toward an appliance.
#[test]
fn the_reply_is_routed_too() {
    let mut v = example("rest-healthy");
    own_table(
        &mut v,
        &[APP_SUBNET],
        "rtb-0app",
        vec![route("10.20.1.0/24", "eni-0appliance12345678", "active")],
    );
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("the reply to") && m.contains("eni-0appliance12345678"),
        "{m}"
    );
}

/// A table that cannot be read is an error naming the call, never a pass.
#[test]
fn an_unreadable_route_table_is_an_error() {
    let mut v = example("rest-healthy");
    region(&mut v)["route_tables"][APP_SUBNET] = json!({"error": {"operation": "ec2:DescribeRouteTables",
        "iam_action": "ec2:DescribeRouteTables", "kind": "access_denied", "code": "UnauthorizedOperation",
        "message": "denied"}});
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("ec2:DescribeRouteTables"), "{m}");
    // Absent from the snapshot: the same.
    let mut v = example("rest-healthy");
    region(&mut v)["route_tables"] = json!({});
    assert_eq!(worst(&v).0, Status::Error);
}

/// A table routing to a prefix list this check does not expand: a part no
/// CIDR route covers is a warning, not a failure.
#[test]
fn prefix_list_routes_are_not_guessed() {
    let mut v = example("rest-healthy");
    on_premises_target(&mut v);
    let mut rt = vec![
        json!({"destination": null, "destination_prefix_list": "pl-0onprem123", "target": "tgw-0abc", "state": "active"}),
    ];
    rt.push(route("10.20.0.0/16", "local", "active"));
    for s in NLB_SUBNETS {
        region(&mut v)["route_tables"][s] = json!({"ok": {"id": "rtb-0pl", "vpc_id": "vpc-0a1b2c3d4e5f67890",
            "main": false, "routes": rt}});
    }
    let (s, m) = worst(&v);
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("pl-0onprem123"), "{m}");
}
