//! The checks' finer verdicts, each on the healthy example changed in one
//! way a real account can be: warnings, overrides, exact node addresses,
//! IP targets, defaults AWS leaves unreported.

mod common;

use apigw_audit_checks::{Finding, Selection, Snapshot, Status, audit};
use common::{check_findings, deployed, example, region, worst_of};
use serde_json::{Value, json};

const NLB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/orders-nlb/4f1c2e0d9a3b7c65";
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-app-8080/0a9b8c7d6e5f4a3b";
const SVC: &str = "vpce-svc-0e4d1c2b3a4f5e6d7";
const APP_SG: &str = "sg-0a7b6c5d4e3f2a1b0";
const NLB_SG: &str = "sg-0d1e2f3a4b5c6d7e8";

fn healthy() -> Value {
    example("rest-healthy")
}

fn prod(v: &mut Value) -> &mut Value {
    region(v)["apis"][0]["stages"]["ok"]
        .as_array_mut()
        .expect("stages")
        .iter_mut()
        .find(|s| s["name"] == "prod")
        .expect("stage prod")
}

/// The findings of `check` on stage prod, deployed as changed.
fn findings(v: &Value, check: &str) -> Vec<Finding> {
    check_findings(&deployed(v), check, &common::prod())
}

fn worst(v: &Value, check: &str) -> (Status, String) {
    worst_of(&findings(v, check))
}

#[test]
fn vpc_link_pending_warns_and_deleting_fails() {
    let mut v = healthy();
    region(&mut v)["vpc_links"]["vl7k2m"]["ok"]["status"] = json!("PENDING");
    assert_eq!(worst(&v, "vpc-link-status").0, Status::Warn);
    region(&mut v)["vpc_links"]["vl7k2m"]["ok"]["status"] = json!("DELETING");
    let (s, m) = worst(&v, "vpc-link-status");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("vl7k2m") && m.contains("DELETING"), "{m}");
}

#[test]
fn vpc_link_reference_literal_id_and_empty_variable() {
    let mut v = healthy();
    for r in region(&mut v)["apis"][0]["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if r["integration"]["connection_type"] == "VPC_LINK" {
            r["integration"]["connection_id"] = json!("vl7k2m");
        }
    }
    let (s, m) = worst(&v, "vpc-link-reference");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("connection id vl7k2m"), "{m}");

    let mut v = healthy();
    prod(&mut v)["variables"]["vpcLinkId"] = json!("");
    let (s, m) = worst(&v, "vpc-link-reference");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("empty"), "{m}");

    let mut v = healthy();
    prod(&mut v)["variables"] = json!({});
    let (s, m) = worst(&v, "vpc-link-reference");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("`vpcLinkId`") && m.contains("not defined on stage prod"),
        "{m}"
    );
}

#[test]
fn load_balancer_states_and_type() {
    let mut v = healthy();
    region(&mut v)["load_balancers"][NLB]["ok"]["state"] = json!("provisioning");
    assert_eq!(worst(&v, "load-balancer-exists").0, Status::Warn);
    region(&mut v)["load_balancers"][NLB]["ok"]["state"] = json!("failed");
    assert_eq!(worst(&v, "load-balancer-exists").0, Status::Fail);
    let mut v = healthy();
    region(&mut v)["load_balancers"][NLB]["ok"]["lb_type"] = json!("application");
    let (s, m) = worst(&v, "load-balancer-exists");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("application"), "{m}");
}

fn conns(v: &mut Value) -> &mut Vec<Value> {
    region(v)["endpoint_connections"][SVC]["ok"]
        .as_array_mut()
        .expect("conns")
}

/// The endpoint service's allowed principals: without API Gateway's
/// account, an available connection still works but a new one would be
/// refused (a warning); unread, the verdict on the connection stands.
#[test]
fn endpoint_service_principals() {
    let perms = |v: &mut Value, p: Value| region(v)["endpoint_service_permissions"][SVC] = p;
    assert_eq!(worst(&healthy(), "endpoint-connection").0, Status::Pass);
    let mut v = healthy();
    perms(&mut v, json!({"ok": ["arn:aws:iam::111122223333:root"]}));
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("arn:aws:iam::392220576650:root") && m.contains("111122223333"),
        "{m}"
    );
    perms(&mut v, json!({"ok": ["*"]}));
    assert_eq!(worst(&v, "endpoint-connection").0, Status::Pass);
    // Not in the snapshot (recorded before they were read): the connection
    // decides alone. Unreadable: a pass could have been a warning.
    region(&mut v)["endpoint_service_permissions"] = json!({});
    assert_eq!(worst(&v, "endpoint-connection").0, Status::Pass);
    perms(
        &mut v,
        json!({"error": {"operation": "ec2:DescribeVpcEndpointServicePermissions",
        "iam_action": "ec2:DescribeVpcEndpointServicePermissions", "kind": "access_denied",
        "code": "UnauthorizedOperation", "message": "denied"}}),
    );
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Error, "{m}");
    assert!(
        m.contains("ec2:DescribeVpcEndpointServicePermissions"),
        "{m}"
    );
    // No connection, and no permission for a new one either.
    let mut v = healthy();
    perms(&mut v, json!({"ok": []}));
    region(&mut v)["endpoint_connections"][SVC] = json!({"ok": []});
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("allows no principal"), "{m}");
}

#[test]
fn endpoint_connection_states() {
    let mut v = healthy();
    region(&mut v)["endpoint_connections"][SVC]["ok"][0]["state"] = json!("pendingAcceptance");
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("pendingAcceptance"), "{m}");
    // Another consumer's connection says nothing about API Gateway's
    // (owned by 392220576650 in us-east-1): rejected beside it, a pass...
    let other =
        json!({"vpc_endpoint_id": "vpce-0aaa", "owner": "111122223333", "state": "available"});
    let mut v = healthy();
    let mut rejected = other.clone();
    rejected["state"] = json!("rejected");
    conns(&mut v).push(rejected);
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(m.contains("392220576650"), "{m}");
    // ...and available beside API Gateway's rejected one, a failure.
    let mut v = healthy();
    conns(&mut v)[0]["state"] = json!("rejected");
    conns(&mut v).push(other.clone());
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("rejected") && m.contains("be accepted"), "{m}");
    // API Gateway's missing, another consumer's available: a failure.
    let mut v = healthy();
    conns(&mut v)[0] = other.clone();
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("no endpoint connection owned by 392220576650"),
        "{m}"
    );
    // No owner reported: which is API Gateway's is unknown.
    let mut v = healthy();
    conns(&mut v)[0]["owner"] = Value::Null;
    assert_eq!(worst(&v, "endpoint-connection").0, Status::Warn);
    // A region the Developer Guide lists no account for: a warning.
    let mut v = healthy();
    region(&mut v)["region"] = json!("af-south-1");
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("af-south-1"), "{m}");
    let mut v = healthy();
    region(&mut v)["endpoint_connections"][SVC] = json!({"ok": []});
    assert_eq!(worst(&v, "endpoint-connection").0, Status::Fail);
    let mut v = healthy();
    region(&mut v)["endpoint_services"][NLB] = json!({"not_found": {
        "operation": "ec2:DescribeVpcEndpointServiceConfigurations", "iam_action": null,
        "kind": "not_found", "code": null, "message": "none"}});
    let (s, m) = worst(&v, "endpoint-connection");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("No VPC endpoint service fronts"), "{m}");
}

#[test]
fn listener_port_uses_the_explicit_uri_port_and_names_it() {
    let mut v = healthy();
    for r in region(&mut v)["apis"][0]["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        if r["method"] == "POST" {
            r["integration"]["uri"] =
                json!("http://orders-nlb-4f1c2e0d9a3b7c65.elb.us-east-1.amazonaws.com:8443/orders");
        }
    }
    let fs = findings(&v, "listener-port");
    let f = fs
        .iter()
        .find(|f| f.status == Status::Fail)
        .expect("a failure");
    assert!(f.message.contains("port 8443"), "{}", f.message);
    assert_eq!(
        f.routes,
        vec!["POST /orders".to_string()],
        "only the route on 8443 fails"
    );
}

#[test]
fn listener_port_fails_on_an_undefined_uri_variable() {
    let mut v = healthy();
    region(&mut v)["apis"][0]["routes"]["ok"][1]["integration"]["uri"] =
        json!("http://${stageVariables.nlbHost}/orders");
    let (s, m) = worst(&v, "listener-port");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("nlbHost"), "{m}");
}

#[test]
fn target_health_partial_empty_and_unmonitored() {
    let mut v = on_traffic_port();
    region(&mut v)["target_health"][TG]["ok"][1]["state"] = json!("unhealthy");
    region(&mut v)["target_health"][TG]["ok"][1]["reason"] = json!("Target.Timeout");
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Warn);
    assert!(m.contains("1 of 2") && m.contains("Target.Timeout"), "{m}");

    let mut v = healthy();
    region(&mut v)["target_health"][TG] = json!({"ok": []});
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("no registered targets"), "{m}");
    // Nothing to route to: the path checks behind it do not apply.
    assert_eq!(worst(&v, "security-groups").0, Status::Skip);

    let mut v = healthy();
    region(&mut v)["target_groups"][TG]["ok"]["health_check"]["enabled"] = json!(false);
    for t in targets(&mut v) {
        t["state"] = json!("unavailable");
        t["reason"] = json!("Target.HealthCheckDisabled");
    }
    assert_eq!(worst(&v, "target-health").0, Status::Warn);

    let mut v = healthy();
    region(&mut v)["target_health"][TG] = json!({"error": {"operation": "elasticloadbalancing:DescribeTargetHealth", "kind": "throttled", "message": "Rate exceeded"}});
    assert_eq!(worst(&v, "target-health").0, Status::Error);
}

/// The example with its health check moved onto the traffic port (8080).
fn on_traffic_port() -> Value {
    let mut v = healthy();
    region(&mut v)["target_groups"][TG]["ok"]["health_check"]["port"] = json!("traffic-port");
    for t in targets(&mut v) {
        t["health_check_port"] = json!("8080");
    }
    v
}

fn targets(v: &mut Value) -> &mut Vec<Value> {
    region(v)["target_health"][TG]["ok"]
        .as_array_mut()
        .expect("targets")
}

/// A healthy check on another port proves nothing about the traffic port;
/// draining and unused targets are no paths; targets all still `initial`
/// are not yet proven either way.
#[test]
fn target_health_counts_only_targets_proven_on_the_traffic_port() {
    let (s, m) = worst(&healthy(), "target-health");
    assert_eq!(s, Status::Warn, "the example probes 8081: {m}");
    assert!(m.contains("port 8081") && m.contains("port 8080"), "{m}");
    assert_eq!(worst(&on_traffic_port(), "target-health").0, Status::Pass);

    let mut v = on_traffic_port();
    targets(&mut v)[1]["state"] = json!("draining");
    targets(&mut v)[1]["reason"] = json!("Target.DeregistrationInProgress");
    // With cross-zone off, the zone the draining target leaves empty warns.
    assert_eq!(worst(&v, "target-health").0, Status::Warn);
    region(&mut v)["load_balancer_attributes"][NLB]["ok"]["load_balancing.cross_zone.enabled"] =
        json!("true");
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Pass, "{m}");
    assert!(
        m.contains("1 serving") && m.contains("Target.DeregistrationInProgress"),
        "{m}"
    );

    let mut v = on_traffic_port();
    targets(&mut v)[0]["state"] = json!("draining");
    targets(&mut v)[1]["state"] = json!("unused");
    targets(&mut v)[1]["reason"] = json!("Target.NotInUse");
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("no target that takes new requests"), "{m}");

    let mut v = on_traffic_port();
    for t in targets(&mut v) {
        t["state"] = json!("initial");
        t["reason"] = json!("Elb.RegistrationInProgress");
    }
    let (s, m) = worst(&v, "target-health");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("initial"), "{m}");
    targets(&mut v)[1]["state"] = json!("unhealthy");
    assert_eq!(worst(&v, "target-health").0, Status::Fail);
}

/// An NLB's node addresses, from its own interfaces (description `ELB
/// net/NAME/ID`) or reported on the load balancer, make the verdict exact;
/// without them a rule admitting part of a subnet warns, never passes.
#[test]
fn security_groups_judge_exact_node_addresses_when_aws_reports_them() {
    // The app group admits 8080/8081 from the two node addresses only.
    let mut v = healthy();
    let rule = json!([{"protocol": "tcp", "from_port": 8080, "to_port": 8081,
        "ipv4_ranges": ["10.20.1.10/32", "10.20.2.10/32"], "ipv6_ranges": [], "prefix_list_ids": [], "group_ids": []}]);
    region(&mut v)["security_groups"][APP_SG]["ok"]["ingress"] = rule;
    // The example holds the NLB's interfaces: exact, and admitted.
    assert_eq!(worst(&v, "security-groups").0, Status::Pass);
    // Without them, a /32 rule covers part of each subnet: warn.
    let mut bare = v.clone();
    region(&mut bare)["lb_interfaces"] = json!({});
    let (s, m) = worst(&bare, "security-groups");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("not visible"), "{m}");
    // A failed read of them: the same fallback, a warning, not an error.
    region(&mut bare)["lb_interfaces"][NLB] = json!({"error": {"operation": "ec2:DescribeNetworkInterfaces",
        "iam_action": "ec2:DescribeNetworkInterfaces", "kind": "access_denied", "code": "UnauthorizedOperation",
        "message": "denied"}});
    assert_eq!(worst(&bare, "security-groups").0, Status::Warn);
    // One node elsewhere than the rule says: a failure.
    region(&mut v)["lb_interfaces"][NLB]["ok"][1]["private_ips"] = json!(["10.20.2.11"]);
    assert_eq!(worst(&v, "security-groups").0, Status::Fail);
    // Addresses AWS reports on the load balancer take precedence.
    let zones = &mut region(&mut bare)["load_balancers"][NLB]["ok"]["zones"];
    zones[0]["private_ipv4_addresses"] = json!(["10.20.1.10"]);
    zones[1]["private_ipv4_addresses"] = json!(["10.20.2.10"]);
    assert_eq!(worst(&bare, "security-groups").0, Status::Pass);
    let zones = &mut region(&mut bare)["load_balancers"][NLB]["ok"]["zones"];
    zones[1]["private_ipv4_addresses"] = json!(["10.20.2.11"]);
    assert_eq!(worst(&bare, "security-groups").0, Status::Fail);
}

/// A network-ACL deny covering half of the NLB's subnet is exact once the
/// node addresses are known: it passes when the nodes sit in the other
/// half and fails when one sits in the denied half.
#[test]
fn nacl_half_subnet_deny_is_exact_with_node_addresses() {
    let mut v = healthy();
    let acl = &mut region(&mut v)["network_acls"]["subnet-0c99ee11dd22aa33f"]["ok"]["entries"];
    acl.as_array_mut()
        .expect("entries")
        .push(json!({"rule_number": 50, "egress": false,
        "protocol": "-1", "action": "deny", "cidr_block": "10.20.1.128/25",
        "ipv6_cidr_block": null, "from_port": null, "to_port": null}));
    // The node in 10.20.1.0/24 is 10.20.1.10: outside the denied half.
    assert_eq!(worst(&v, "network-acls").0, Status::Pass);
    region(&mut v)["lb_interfaces"][NLB]["ok"][0]["private_ips"] = json!(["10.20.1.200"]);
    assert_eq!(worst(&v, "network-acls").0, Status::Fail);
    region(&mut v)["lb_interfaces"] = json!({});
    assert_eq!(worst(&v, "network-acls").0, Status::Warn);
}

#[test]
fn security_groups_check_the_health_check_port_too() {
    let mut v = healthy();
    let sg = &mut region(&mut v)["security_groups"][APP_SG]["ok"]["ingress"];
    let kept: Vec<Value> = sg
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["from_port"] != 8081)
        .cloned()
        .collect();
    *sg = json!(kept);
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Fail);
    assert!(
        m.contains("TCP 8081 (the health-check port)") && m.contains("target i-0a1b2c3d4e5f60001"),
        "{m}"
    );
}

#[test]
fn nlb_security_group_egress_is_checked() {
    let mut v = healthy();
    region(&mut v)["security_groups"][NLB_SG]["ok"]["egress"] = json!([{"protocol": "tcp", "from_port": 443,
        "to_port": 443, "ipv4_ranges": ["0.0.0.0/0"], "ipv6_ranges": [], "prefix_list_ids": [], "group_ids": []}]);
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("outbound TCP 8080"), "{m}");
}

#[test]
fn ip_targets_are_found_through_their_network_interfaces() {
    let mut v = healthy();
    let r = region(&mut v);
    r["target_groups"][TG]["ok"]["target_type"] = json!("ip");
    let targets = json!([
        {"target_id": "10.20.11.37", "port": 8080, "availability_zone": "us-east-1a", "state": "healthy",
         "reason": null, "description": null, "health_check_port": "8081"},
        {"target_id": "172.16.5.9", "port": 8080, "availability_zone": "all", "state": "healthy",
         "reason": null, "description": null, "health_check_port": "8081"}
    ]);
    r["target_health"][TG] = json!({"ok": targets});
    r["network_interfaces"] = json!({
        "10.20.11.37": {"ok": [{"id": "eni-0abc", "subnet_id": "subnet-0c99ee11dd22aa33f", "vpc_id": "vpc-0a1b2c3d4e5f67890",
            "private_ips": ["10.20.11.37"], "security_groups": [APP_SG], "description": "ecs task"}]},
        "172.16.5.9": {"ok": []}
    });
    // The on-premises target's groups are invisible: a warning, not a pass.
    let (s, m) = worst(&v, "security-groups");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("172.16.5.9"), "{m}");
    // Removing it leaves the in-VPC target, which passes.
    region(&mut v)["target_health"][TG]["ok"]
        .as_array_mut()
        .expect("targets")
        .pop();
    assert_eq!(worst(&v, "security-groups").0, Status::Pass);
}

/// Load balancers reply from ports across 1024-65535 (VPC guide, "Network
/// ACLs", ephemeral ports): a return path that admits only part of it
/// drops every connection whose port falls in the gap, so it fails, with
/// the gap named.
#[test]
fn nacl_gap_in_the_ephemeral_range_fails_naming_the_gap() {
    let mut v = healthy();
    let acl = &mut region(&mut v)["network_acls"]["subnet-0c99ee11dd22aa33f"]["ok"]["entries"];
    for e in acl.as_array_mut().expect("entries") {
        if e["egress"] == true && e["rule_number"] == 100 {
            e["from_port"] = json!(32768);
        }
    }
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("ports 1024-32767 are denied whatever the address"),
        "{m}"
    );
}

/// A deny that covers only some of the peer's addresses (no port denied to
/// all of them) depends on which address sends: still a warning.
#[test]
fn nacl_deny_of_part_of_the_peer_range_warns() {
    let mut v = healthy();
    // The NLB's node addresses unknown: the peer is its whole subnet.
    region(&mut v)["lb_interfaces"] = json!({});
    let acl = &mut region(&mut v)["network_acls"]["subnet-0c99ee11dd22aa33f"]["ok"]["entries"];
    acl.as_array_mut()
        .expect("entries")
        .push(json!({"rule_number": 50, "egress": false,
        "protocol": "-1", "action": "deny", "cidr_block": "10.20.1.128/25",
        "ipv6_cidr_block": null, "from_port": null, "to_port": null}));
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(m.contains("10.20.1.128/25"), "{m}");
}

/// The traffic port and the health-check port are separate flows: an ACL
/// that admits only the health-check port keeps the targets healthy while
/// every request is dropped, which is a failure naming the request.
#[test]
fn nacl_that_admits_only_the_health_check_port_fails_the_request() {
    let narrowed = |from: u16, to: u16| {
        let mut v = healthy();
        for sid in ["subnet-0c99ee11dd22aa33f", "subnet-0d44bb55cc66ee77b"] {
            let acl = &mut region(&mut v)["network_acls"][sid]["ok"]["entries"];
            let entries = acl.as_array_mut().expect("entries");
            // Rule 110 admits every high port from anywhere; without it the
            // request ports are rule 100's alone.
            entries.retain(|e| !(e["egress"] == false && e["rule_number"] == 110));
            for e in entries.iter_mut() {
                if e["egress"] == false && e["rule_number"] == 100 {
                    e["from_port"] = json!(from);
                    e["to_port"] = json!(to);
                }
            }
        }
        v
    };
    assert_eq!(worst(&narrowed(8080, 8081), "network-acls").0, Status::Pass);
    let (s, m) = worst(&narrowed(8081, 8081), "network-acls");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(
        m.contains("TCP 8080") && m.contains("the load balancer's request to the target"),
        "{m}"
    );
    // And the other way round: the health check is dropped.
    let (s, m) = worst(&narrowed(8080, 8080), "network-acls");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("TCP 8081") && m.contains("health check"), "{m}");
}

#[test]
fn nacl_is_an_error_when_a_target_location_is_unreadable() {
    let mut v = healthy();
    assert_eq!(worst(&v, "network-acls").0, Status::Pass);
    region(&mut v)["instances"]["i-0a1b2c3d4e5f60002"] = json!({"error": {
        "operation": "ec2:DescribeInstances", "iam_action": "ec2:DescribeInstances",
        "kind": "throttled", "code": "RequestLimitExceeded", "message": "Request limit exceeded."}});
    let fs = findings(&v, "network-acls");
    let (s, m) = worst_of(&fs);
    assert_eq!(s, Status::Error, "{m}");
    assert!(m.contains("ec2:DescribeInstances"), "{m}");
    let f = fs
        .iter()
        .find(|f| f.resource.as_deref() == Some(TG))
        .expect("a finding on the target group whose target is unknown");
    assert_eq!(f.status, Status::Error, "{}", f.message);
    assert!(!f.routes.is_empty());
    // The ACLs that were read are judged, but none passes: the unknown
    // target's flows cross them too (out of the NLB's subnets, say).
    let acls: Vec<&Finding> = fs
        .iter()
        .filter(|f| {
            f.resource
                .as_deref()
                .is_some_and(|r| r.contains("network-acl"))
        })
        .collect();
    assert!(!acls.is_empty());
    for f in acls {
        assert_eq!(f.status, Status::Error, "{}", f.message);
        assert!(
            f.message
                .contains("passed only on the flows that could be read"),
            "{}",
            f.message
        );
    }
}

/// An IP target AWS shows on no interface of the account: its ACLs cannot
/// be seen, so the verdict warns, naming the address, never passes.
#[test]
fn nacl_warns_when_a_target_is_outside_the_account() {
    let mut v = healthy();
    let tg = &mut region(&mut v)["target_groups"][TG]["ok"];
    tg["target_type"] = json!("ip");
    region(&mut v)["target_health"][TG]["ok"] = json!([{"target_id": "172.16.5.9", "port": 8080,
        "availability_zone": "all", "state": "healthy", "reason": null, "description": null,
        "health_check_port": "8081"}]);
    region(&mut v)["network_interfaces"]["172.16.5.9"] = json!({"ok": []});
    let (s, m) = worst(&v, "network-acls");
    assert_eq!(s, Status::Warn, "{m}");
    assert!(
        m.contains("172.16.5.9") && m.contains("network ACLs"),
        "{m}"
    );
}

#[test]
fn privatelink_enforcement_defaults_and_partial_rules() {
    let mut v = healthy();
    // AWS omits the attribute: on, by default, for an NLB with groups.
    region(&mut v)["load_balancers"][NLB]["ok"]["enforce_privatelink_inbound_rules"] = Value::Null;
    // The group admits port 80 only from the VPC: depends on the source.
    let (s, m) = worst(&v, "privatelink-inbound-rules");
    assert_eq!(s, Status::Warn, "{m}");
    region(&mut v)["security_groups"][NLB_SG]["ok"]["ingress"] = json!([{"protocol": "tcp", "from_port": 80,
        "to_port": 80, "ipv4_ranges": ["0.0.0.0/0"], "ipv6_ranges": [], "prefix_list_ids": [], "group_ids": []}]);
    assert_eq!(worst(&v, "privatelink-inbound-rules").0, Status::Pass);
    region(&mut v)["load_balancers"][NLB]["ok"]["security_groups"] = json!([]);
    assert_eq!(worst(&v, "privatelink-inbound-rules").0, Status::Skip);
}

/// Enforcement on, each listener port a route uses is its own flow: a
/// route whose port no rule admits fails, naming the route and the port,
/// even though the other routes' port is admitted.
#[test]
fn privatelink_rules_are_judged_port_by_port() {
    let mut v = healthy();
    region(&mut v)["load_balancers"][NLB]["ok"]["enforce_privatelink_inbound_rules"] = json!("on");
    region(&mut v)["security_groups"][NLB_SG]["ok"]["ingress"] = json!([{"protocol": "tcp", "from_port": 80,
        "to_port": 80, "ipv4_ranges": ["0.0.0.0/0"], "ipv6_ranges": [], "prefix_list_ids": [], "group_ids": []}]);
    assert_eq!(worst(&v, "privatelink-inbound-rules").0, Status::Pass);
    let route = &mut region(&mut v)["apis"][0]["routes"]["ok"][3];
    route["integration"]["uri"] =
        json!("http://orders-nlb-4f1c2e0d9a3b7c65.elb.us-east-1.amazonaws.com:8443/orders/{id}");
    let label = format!(
        "{} {}",
        route["method"].as_str().unwrap_or("GET"),
        route["path"].as_str().unwrap_or("")
    );
    let (s, m) = worst(&v, "privatelink-inbound-rules");
    assert_eq!(s, Status::Fail, "{m}");
    assert!(m.contains("admit no TCP 8443"), "{m}");
    assert!(
        m.contains("/orders/{id}") && !m.contains("TCP 80,"),
        "{m} ({label})"
    );
}

#[test]
fn execution_logging_role_and_overrides() {
    let mut v = healthy();
    region(&mut v)["apigateway_account"]["ok"]["cloudwatch_role_arn"] = Value::Null;
    let (s, m) = worst(&v, "execution-logging");
    // Calls do not fail for want of logs: a warning, never a failure.
    assert_eq!(s, Status::Warn);
    assert!(m.contains("CloudWatch Logs role"), "{m}");

    let mut v = healthy();
    prod(&mut v)["method_settings"]["~1orders/POST"] =
        json!({"logging_level": "OFF", "data_trace_enabled": false, "metrics_enabled": false});
    let fs = findings(&v, "execution-logging");
    assert_eq!(fs[0].status, Status::Warn);
    assert_eq!(fs[0].routes, vec!["POST /orders".to_string()]);

    let mut v = healthy();
    prod(&mut v)["method_settings"]["*/*"]["logging_level"] = json!("ERROR");
    assert_eq!(worst(&v, "execution-logging").0, Status::Pass);
}

#[test]
fn a_stage_without_vpc_link_routes_skips_the_path_checks() {
    let mut v = healthy();
    for r in region(&mut v)["apis"][0]["routes"]["ok"]
        .as_array_mut()
        .expect("routes")
    {
        r["integration"]["connection_type"] = json!("INTERNET");
    }
    for check in [
        "vpc-link-status",
        "listener-port",
        "security-groups",
        "network-acls",
    ] {
        let (s, m) = worst(&v, check);
        assert_eq!(s, Status::Skip, "{check}: {m}");
        assert!(
            m.contains("no route of stage prod integrates through a VPC link"),
            "{m}"
        );
    }
}

#[test]
fn one_finding_per_check_and_resource() {
    let v = healthy();
    let snap = Snapshot::from_json(&v.to_string()).expect("snapshot");
    for api in audit(&snap, &Selection::default()) {
        for stage in api.stages {
            let mut seen = std::collections::BTreeSet::new();
            for f in &stage.findings {
                assert!(
                    seen.insert((f.check.to_string(), f.resource.clone())),
                    "duplicate {} on {:?}",
                    f.check,
                    f.resource
                );
            }
        }
    }
}
