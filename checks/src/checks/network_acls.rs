//! `network-acls`: the network ACLs of every subnet on the path allow the
//! request and its return traffic.
//!
//! NACLs are stateless and checked at subnet boundaries, so each hop that
//! crosses subnets is four flows: request out of the source subnet, request
//! into the destination subnet, and the reply (to ephemeral ports
//! 1024-65535) back through both. Traffic that stays inside one subnet
//! crosses no ACL. For VPC link v1 the hops are PrivateLink -> NLB subnet
//! (source address unknowable: three-valued) and NLB subnet -> target
//! subnet, on the traffic and health-check ports.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::{Findings, blocked_finding};
use crate::finding::{CheckMeta, Severity, Status};
use crate::hops::{
    Judgement, NodeSource, TargetGroupHop, node_sources, target_ports, v1_target_groups,
};
use crate::model::NetworkAcl;
use crate::net::nacl;
use crate::net::{AddrSet, Coverage, PortSet};
use crate::view::{Blocked, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "network-acls",
        title: "Network ACLs allow the request and its return traffic",
        severity: Severity::High,
        explains: &[
            "Execution failed due to a timeout error",
            "HTTP 504 {\"message\": \"Endpoint request timed out\"}",
            "Execution failed due to configuration error: There was an internal error while executing your request",
        ],
        remediation: "Add network ACL rules, numbered below any deny that matches first, that allow the request port inbound on the destination subnet and outbound on the source subnet, and the ephemeral ports 1024-65535 for the return traffic in the opposite directions.",
        aliases: &[],
    },
    run,
};

/// One direction of one hop through one subnet's ACL.
struct Flow {
    subnet: String,
    egress: bool,
    peer: AddrSet,
    /// How to name the peer in a message (an address set may be a subnet,
    /// a target or "any PrivateLink source").
    peer_desc: String,
    ports: PortSet,
    role: String,
    /// A peer whose exact address is unknowable: partial coverage is then
    /// "depends on the source", not a failure.
    peer_unknowable: bool,
}

#[derive(Default)]
struct PerAcl {
    judgement: Judgement,
    routes: BTreeSet<String>,
    seen: BTreeSet<(String, bool, String, String)>,
    acl_id: String,
    subnets: BTreeSet<String>,
}

fn run(view: &StageView, out: &mut Findings) {
    let walk = v1_target_groups(view, out);
    walk.skip_dead_ends(out);
    let mut acls: BTreeMap<String, PerAcl> = BTreeMap::new();
    for hop in &walk.hops {
        let routes: Vec<String> = hop.routes.iter().cloned().collect();
        let flows = match v1_flows(view, hop) {
            Ok(f) => f,
            Err(b) => {
                out.add(blocked_finding(&CHECK.meta, &b).routes(routes));
                continue;
            }
        };
        for flow in flows {
            let subnet_arn = view.ec2_arn("subnet", &flow.subnet, None);
            let acl = match view.network_acl(&flow.subnet, &subnet_arn) {
                Ok(a) => a,
                Err(b) => {
                    out.add(blocked_finding(&CHECK.meta, &b).routes(routes.clone()));
                    continue;
                }
            };
            let arn = view.nacl_arn(acl);
            let entry = acls.entry(arn).or_default();
            entry.acl_id = acl.id.clone();
            entry.subnets.insert(flow.subnet.clone());
            entry.routes.extend(routes.iter().cloned());
            let key = (
                flow.subnet.clone(),
                flow.egress,
                flow.peer.to_string(),
                flow.ports.to_string(),
            );
            if entry.seen.insert(key) {
                judge_flow(&mut entry.judgement, acl, &flow);
            }
        }
    }
    for (arn, per) in acls {
        let subnets: Vec<String> = per.subnets.iter().cloned().collect();
        let f = per.judgement.finding(
            &CHECK.meta,
            &arn,
            format!(
                "Network ACL {} (subnets {}) allows every request and return flow on the path.",
                per.acl_id,
                subnets.join(", ")
            ),
            json!({ "network_acl_id": per.acl_id, "subnets": subnets }),
        );
        out.add(f.routes(per.routes));
    }
}

fn judge_flow(j: &mut Judgement, acl: &NetworkAcl, flow: &Flow) {
    let e = nacl::evaluate(acl, flow.egress, &flow.peer, &flow.ports);
    let (dir, prep) = if flow.egress {
        ("outbound", "to")
    } else {
        ("inbound", "from")
    };
    let ev = json!({
        "network_acl_id": acl.id,
        "subnet": flow.subnet,
        "direction": dir,
        "peer": flow.peer_desc,
        "peer_addresses": flow.peer.to_string(),
        "ports": flow.ports.to_string(),
        "role": flow.role,
        "evaluation": e,
    });
    let subject = format!("Network ACL {} of subnet {}", acl.id, flow.subnet);
    let traffic = format!("{dir} TCP {} {prep} {}", flow.ports, flow.peer_desc);
    match e.coverage {
        Coverage::All => j.push(Status::Pass, String::new(), ev),
        Coverage::None => {
            let (why, need) = match e.first_denial.as_ref().map(|d| d.rule.as_str()) {
                Some("*") | None => (
                    "no rule allows it".to_string(),
                    "an allow rule for that traffic".to_string(),
                ),
                Some(rule) => (
                    format!("rule {rule} denies it"),
                    format!("an allow rule numbered below {rule}"),
                ),
            };
            j.push(
                Status::Fail,
                format!(
                    "{subject} blocks {traffic}, which carries {}: {why}; it needs {need}",
                    flow.role
                ),
                ev,
            )
        }
        Coverage::Partial => {
            let blocked = e.first_denial.as_ref().map_or_else(String::new, |d| {
                let by = if d.rule == "*" {
                    "no rule allows it".to_string()
                } else {
                    format!("rule {} denies it", d.rule)
                };
                format!(" ({} port {}: {by})", d.addresses, d.ports)
            });
            let tail = if flow.peer_unknowable {
                "whether a request passes depends on its exact source address, so allow the whole range"
            } else {
                "connections that fall in the blocked part fail, so allow the whole range"
            };
            j.push(
                Status::Warn,
                format!(
                    "{subject} admits only part of {traffic}, which carries {}{blocked}; {tail}",
                    flow.role
                ),
                ev,
            );
        }
    }
}

fn v1_flows(view: &StageView, hop: &TargetGroupHop) -> Result<Vec<Flow>, Blocked> {
    let (lb, tg) = (hop.lb, hop.tg);
    let resource = tg.arn.as_str();
    let nlb_subnets = node_sources(view, lb, resource)?;
    let mut flows = Vec::new();
    let listener_ports = PortSet::of(hop.listeners.iter().filter_map(|l| l.port));
    for NodeSource { subnet_id: sid, .. } in &nlb_subnets {
        flows.push(Flow {
            subnet: sid.clone(),
            egress: false,
            peer: AddrSet::any(),
            peer_desc: "any PrivateLink source".into(),
            ports: listener_ports.clone(),
            role: "API Gateway's request to the NLB listener".into(),
            peer_unknowable: true,
        });
        flows.push(Flow {
            subnet: sid.clone(),
            egress: true,
            peer: AddrSet::any(),
            peer_desc: "any PrivateLink source".into(),
            ports: PortSet::ephemeral(),
            role: "the NLB's reply to API Gateway".into(),
            peer_unknowable: true,
        });
    }
    let targets = view.target_health(tg)?;
    for t in targets {
        let loc = match view.target_location(tg, t) {
            Ok(l) => l,
            // Where a target sits is unknowable or unreadable; the
            // security-groups check reports it, and no flow can be built.
            Err(_) => continue,
        };
        let Some((traffic, health)) = target_ports(tg, t) else {
            continue;
        };
        let tnet = AddrSet::from_nets([&Ipv4Net::from(loc.ip)]);
        let ports = PortSet::of([traffic, health]);
        for node in &nlb_subnets {
            let sid = &node.subnet_id;
            if *sid == loc.subnet_id {
                continue;
            }
            let nlb_net = node.addrs.clone();
            let target_desc = format!("target {} ({})", loc.target, loc.ip);
            let nlb_desc = if node.exact {
                format!("the NLB node {} in subnet {sid}", node.addrs)
            } else {
                format!("NLB subnet {sid} ({})", node.cidr)
            };
            flows.push(Flow {
                subnet: sid.clone(),
                egress: true,
                peer: tnet.clone(),
                peer_desc: target_desc.clone(),
                ports: ports.clone(),
                role: "the NLB's request and health check to the target".into(),
                peer_unknowable: false,
            });
            flows.push(Flow {
                subnet: loc.subnet_id.clone(),
                egress: false,
                peer: nlb_net.clone(),
                peer_desc: nlb_desc.clone(),
                ports: ports.clone(),
                role: "the NLB's request and health check to the target".into(),
                // Without the node's own address, which part of its subnet
                // it uses is not known.
                peer_unknowable: !node.exact,
            });
            flows.push(Flow {
                subnet: loc.subnet_id.clone(),
                egress: true,
                peer: nlb_net,
                peer_desc: nlb_desc,
                ports: PortSet::ephemeral(),
                role: "the target's reply to the NLB".into(),
                peer_unknowable: false,
            });
            flows.push(Flow {
                subnet: sid.clone(),
                egress: false,
                peer: tnet.clone(),
                peer_desc: target_desc,
                ports: PortSet::ephemeral(),
                role: "the target's reply to the NLB".into(),
                peer_unknowable: false,
            });
        }
    }
    Ok(flows)
}
