//! `network-acls`: the network ACLs of every subnet on the path allow the
//! request and its return traffic.
//!
//! NACLs are stateless and checked at subnet boundaries, so each hop that
//! crosses subnets is four flows: request out of the source subnet, request
//! into the destination subnet, and the reply (to ephemeral ports
//! 1024-65535) back through both. Traffic that stays inside one subnet
//! crosses no ACL. The hops are those `security-groups` judges, plus, for
//! VPC link v1, PrivateLink -> NLB subnets, whose source address is not
//! knowable (three-valued: allowed for every source, none, or some).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{LoadBalancer, NetworkAcl, TargetGroup};
use crate::net::nacl;
use crate::net::{AddrSet, Coverage, PortSet};
use crate::sides::{Side, Zone, lb_side, link_side, location_side, target_ports};
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, blocked_finding};
use crate::view::{Blocked, Front, Hop, StageView};
use crate::walk::{CloudMapHop, ListenerHop};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::NetworkAcls,
        title: "Network ACLs allow the request and its return traffic",
        severity: Severity::High,
        remediation: "Add network ACL rules, numbered below any deny that matches first, that allow the request port inbound on the destination subnet and outbound on the source subnet, and the ephemeral ports 1024-65535 for the return traffic in the opposite directions.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
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

fn run(view: &StageCtx, out: &mut Findings) {
    let w = out.walked(view);
    out.skip_dead_ends(w);
    let mut acls: BTreeMap<String, PerAcl> = BTreeMap::new();
    let blocked = |b: &Blocked, routes: &BTreeSet<String>| {
        blocked_finding(&CHECK.meta, b).routes(routes.iter().cloned())
    };
    for hop in &w.listeners {
        match listener_flows(view, hop) {
            Ok(f) => judge_all(view, &mut acls, f, &hop.routes, out),
            Err(b) => out.add(blocked(&b, &hop.routes)),
        }
    }
    for hop in &w.target_groups {
        match target_flows(view, hop.lb, hop.tg) {
            Ok(f) => judge_all(view, &mut acls, f, &hop.routes, out),
            Err(b) => out.add(blocked(&b, &hop.routes)),
        }
    }
    for hop in &w.cloud_map {
        match cloud_map_flows(view, hop) {
            Ok(f) => judge_all(view, &mut acls, f, &hop.routes, out),
            Err(b) => out.add(blocked(&b, &hop.routes)),
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

/// Judges each flow against the ACL of its subnet, once per ACL and flow
/// however many routes cross it.
fn judge_all(
    view: &StageView,
    acls: &mut BTreeMap<String, PerAcl>,
    flows: Vec<Flow>,
    routes: &BTreeSet<String>,
    out: &mut Findings,
) {
    let routes: Vec<String> = routes.iter().cloned().collect();
    for flow in flows {
        let subnet_arn = view.ec2_arn("subnet", &flow.subnet, None);
        let acl = match view.network_acl(&flow.subnet, &subnet_arn) {
            Ok(a) => a,
            Err(b) => {
                out.add(blocked_finding(&CHECK.meta, &b).routes(routes.clone()));
                continue;
            }
        };
        let entry = acls.entry(view.nacl_arn(acl)).or_default();
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

/// The flows into a listener: from the link's subnets (v2) or, through
/// PrivateLink, from anywhere into the NLB's subnets (v1).
fn listener_flows(view: &StageView, hop: &ListenerHop) -> Hop<Vec<Flow>> {
    let resource = hop.lb.arn.as_str();
    for sid in hop.lb.zones.iter().filter_map(|z| z.subnet_id.as_deref()) {
        touch_acl(view, sid);
    }
    if let Front::Link(link) = hop.front {
        for sid in &link.subnet_ids {
            touch_acl(view, sid);
        }
    }
    match hop.front {
        Front::PrivateLink => {
            lb_side(view, hop.lb, resource).map(|nlb| privatelink_flows(&nlb, hop.listener.port))
        }
        Front::Link(link) => link_side(view, link, resource).and_then(|src| {
            let dst = lb_side(view, hop.lb, resource)?;
            let ports = PortSet::of(hop.listener.port);
            Ok(hop_flows(
                &src,
                &dst,
                &ports,
                "the link's request to the load balancer",
            ))
        }),
        // The NLB -> ALB hop is the NLB's target group hop.
        Front::Nlb { .. } => Ok(Vec::new()),
    }
}

/// The flows from a VPC link v2 to the Cloud Map instances it reaches.
fn cloud_map_flows(view: &StageView, hop: &CloudMapHop) -> Hop<Vec<Flow>> {
    let resource = hop.service.arn.as_str();
    let src = link_side(view, hop.link, resource)?;
    let mut flows = Vec::new();
    for inst in &hop.service.instances {
        let (Some(ip), Some(port)) = (&inst.ipv4, inst.port) else {
            continue;
        };
        // An instance whose interface is not visible: security-groups
        // reports it; no subnet, so no ACL to judge.
        let Ok(loc) = view.ip_location(ip, None, resource) else {
            continue;
        };
        let Ok(dst) = location_side(view, &loc, resource) else {
            continue;
        };
        flows.extend(hop_flows(
            &src,
            &dst,
            &PortSet::single(port),
            "the link's request to the instance",
        ));
    }
    Ok(flows)
}

fn judge_flow(j: &mut Judgement, acl: &NetworkAcl, flow: &Flow) {
    let e = nacl::evaluate(acl, flow.egress, &flow.peer, &flow.ports);
    let (dir, prep) = if flow.egress {
        ("outbound", "to")
    } else {
        ("inbound", "from")
    };
    let ev = || {
        json!({
            "network_acl_id": acl.id,
            "subnet": flow.subnet,
            "direction": dir,
            "peer": flow.peer_desc,
            "peer_addresses": flow.peer.to_string(),
            "ports": flow.ports.to_string(),
            "role": flow.role,
            "evaluation": e,
        })
    };
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

/// API Gateway's PrivateLink traffic into the NLB's subnets and the
/// replies: the endpoint's addresses are not knowable, so any source.
fn privatelink_flows(nlb: &Side, listener_port: Option<u16>) -> Vec<Flow> {
    let mut flows = Vec::new();
    for z in &nlb.zones {
        flows.push(Flow {
            subnet: z.subnet_id.clone(),
            egress: false,
            peer: AddrSet::any(),
            peer_desc: "any PrivateLink source".into(),
            ports: PortSet::of(listener_port),
            role: "API Gateway's request to the NLB listener".into(),
            peer_unknowable: true,
        });
        flows.push(Flow {
            subnet: z.subnet_id.clone(),
            egress: true,
            peer: AddrSet::any(),
            peer_desc: "any PrivateLink source".into(),
            ports: PortSet::ephemeral(),
            role: "the NLB's reply to API Gateway".into(),
            peer_unknowable: true,
        });
    }
    flows
}

fn zone_desc(side: &Side, z: &Zone) -> String {
    match (z.exact, z.cidr) {
        (true, _) => format!("{} ({}) in subnet {}", side.label, z.addrs, z.subnet_id),
        (false, Some(c)) => format!("{} in subnet {} ({c})", side.label, z.subnet_id),
        (false, None) => format!("{} in subnet {}", side.label, z.subnet_id),
    }
}

/// The four stateless flows of a hop between every pair of subnets of its
/// two ends (none within one subnet): request out and in, reply out and in.
fn hop_flows(src: &Side, dst: &Side, ports: &PortSet, role: &str) -> Vec<Flow> {
    let mut flows = Vec::new();
    for s in &src.zones {
        for d in &dst.zones {
            if s.subnet_id == d.subnet_id {
                continue;
            }
            let (sd, dd) = (zone_desc(src, s), zone_desc(dst, d));
            let reply = format!("the reply to {role}");
            flows.push(Flow {
                subnet: s.subnet_id.clone(),
                egress: true,
                peer: d.addrs.clone(),
                peer_desc: dd.clone(),
                ports: ports.clone(),
                role: role.to_string(),
                peer_unknowable: !d.exact,
            });
            flows.push(Flow {
                subnet: d.subnet_id.clone(),
                egress: false,
                peer: s.addrs.clone(),
                peer_desc: sd.clone(),
                ports: ports.clone(),
                role: role.to_string(),
                peer_unknowable: !s.exact,
            });
            flows.push(Flow {
                subnet: d.subnet_id.clone(),
                egress: true,
                peer: s.addrs.clone(),
                peer_desc: sd,
                ports: PortSet::ephemeral(),
                role: reply.clone(),
                peer_unknowable: false,
            });
            flows.push(Flow {
                subnet: s.subnet_id.clone(),
                egress: false,
                peer: d.addrs.clone(),
                peer_desc: dd,
                ports: PortSet::ephemeral(),
                role: reply,
                peer_unknowable: false,
            });
        }
    }
    flows
}

/// Load balancer -> every target of a group, on the traffic and
/// health-check ports.
fn target_flows(view: &StageView, lb: &LoadBalancer, tg: &TargetGroup) -> Hop<Vec<Flow>> {
    let resource = tg.arn.as_str();
    // Both ends are walked before either failure returns, so a planning run
    // asks for every part in one level.
    let src = lb_side(view, lb, resource);
    let mut ends = Vec::new();
    for t in view.target_health(tg)? {
        let Some((traffic, health)) = target_ports(tg, t) else {
            continue;
        };
        // Where a target sits is unknowable or unreadable: security-groups
        // reports it, and no flow can be built.
        let Ok(locs) = view.target_locations(tg, t) else {
            continue;
        };
        for loc in locs {
            touch_acl(view, &loc.subnet_id);
            let Ok(dst) = location_side(view, &loc, resource) else {
                continue;
            };
            ends.push((dst, traffic, health));
        }
    }
    let src = src?;
    let mut flows = Vec::new();
    for (dst, traffic, health) in ends {
        flows.extend(hop_flows(
            &src,
            &dst,
            &PortSet::of([traffic, health]),
            "the load balancer's request and health check to the target",
        ));
    }
    Ok(flows)
}

/// Looks a subnet's ACL up ahead of need: a planning run then reads it in
/// the same level as the subnet, not one level after.
fn touch_acl(view: &StageView, subnet_id: &str) {
    let _ = view.network_acl(subnet_id, subnet_id);
}
