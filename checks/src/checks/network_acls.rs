//! `network-acls`: the network ACLs of every subnet on the path allow the
//! request and its return traffic.
//!
//! NACLs are stateless and checked at subnet boundaries, so each hop that
//! crosses subnets is four flows: request out of the source subnet, request
//! into the destination subnet, and the reply (to ephemeral ports
//! 1024-65535, VPC guide "Network ACLs", ephemeral ports) back through
//! both. A part of a port range denied whatever the address (a return path
//! that admits only 32768-65535, say) fails every connection whose port
//! falls there: `fail`, the gap named. The traffic and health-check ports
//! are separate flows. Traffic that stays inside one subnet
//! crosses no ACL. The hops are those `security-groups` judges, plus, for
//! VPC link v1, PrivateLink -> NLB subnets, whose source address is not
//! knowable (three-valued: allowed for every source, none, or some).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::NetworkAcl;
use crate::net::nacl;
use crate::net::{AddrSet, Coverage, PortSet};
use crate::sides::{
    Carries,
    Side, TargetSources, Zone, lb_place, link_place, location_place, target_ports, target_sources,
};
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, blocked_finding};
use crate::view::{Blocked, BlockedKind, Front, Hop, StageView};
use crate::walk::{CloudMapHop, ListenerHop, TargetGroupHop};

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

/// The flows of one hop, and the ends whose place on the network is
/// unknown: no ACL can be judged for those, so they are never a pass.
#[derive(Default)]
struct HopFlows {
    flows: Vec<Flow>,
    unknown: Vec<(String, Blocked)>,
}

impl From<Vec<Flow>> for HopFlows {
    fn from(flows: Vec<Flow>) -> Self {
        HopFlows {
            flows,
            unknown: Vec::new(),
        }
    }
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
    let mut judge = |got: Hop<HopFlows>, resource: &str, routes: &BTreeSet<String>, out: &mut Findings| {
        match got {
            Ok(h) => {
                unknown_ends(resource, &h.unknown, routes, out);
                judge_all(view, &mut acls, h.flows, routes, out);
            }
            Err(b) => out.add(blocked_finding(&CHECK.meta, &b).routes(routes.iter().cloned())),
        }
    };
    for hop in &w.listeners {
        judge(listener_flows(view, hop).map(HopFlows::from), &hop.lb.arn, &hop.routes, out);
    }
    for hop in &w.target_groups {
        judge(target_flows(view, hop), &hop.tg.arn, &hop.routes, out);
    }
    for hop in &w.cloud_map {
        judge(cloud_map_flows(view, hop), &hop.service.arn, &hop.routes, out);
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
        // An ACL is crossed by many hops: where a route's walk stopped, its
        // flows through this ACL may be missing, so a pass proves nothing.
        let f = out.unless_partial(f.routes(per.routes));
        out.add(f);
    }
}

/// One finding on `resource` for the ends of its hop whose subnet is
/// unknown: `error` naming the failed read, or `warn` when AWS cannot show
/// it (an address outside the account), since their ACLs are not judged.
fn unknown_ends(
    resource: &str,
    unknown: &[(String, Blocked)],
    routes: &BTreeSet<String>,
    out: &mut Findings,
) {
    if unknown.is_empty() {
        return;
    }
    let mut j = Judgement::new();
    for (end, b) in unknown {
        j.push_blocked(b, &format!("the network ACLs on the path to {end}"));
    }
    let f = j.finding(&CHECK.meta, resource, String::new(), json!({}));
    out.add(f.routes(routes.iter().cloned()));
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
            lb_place(view, hop.lb, resource).map(|nlb| privatelink_flows(&nlb, hop.listener.port))
        }
        Front::Link(link) => link_place(view, link, resource).and_then(|src| {
            let dst = lb_place(view, hop.lb, resource)?;
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
fn cloud_map_flows(view: &StageView, hop: &CloudMapHop) -> Hop<HopFlows> {
    let resource = hop.service.arn.as_str();
    let src = link_place(view, hop.link, resource)?;
    let mut out = HopFlows::default();
    for inst in &hop.service.instances {
        let end = format!("Cloud Map instance {}", inst.id);
        let (Some(ip), Some(port)) = (&inst.ipv4, inst.port) else {
            let why = format!("{end} registers no IPv4 address or port");
            out.unknown.push((end, skip_blocked(resource, why)));
            continue;
        };
        let loc = match view.ip_location(ip, None, resource) {
            Ok(l) => l,
            Err(b) => {
                out.unknown.push((format!("{end} ({ip})"), b));
                continue;
            }
        };
        out.flows.extend(hop_flows(
            &src,
            &location_place(&loc),
            &PortSet::single(port),
            "the link's request to the instance",
        ));
    }
    Ok(out)
}

fn skip_blocked(resource: &str, why: String) -> Blocked {
    Blocked {
        resource: resource.to_string(),
        kind: BlockedKind::Skip(why),
    }
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
        Coverage::Partial if e.denied_for_every_address.is_some() => {
            let gap = e.denied_for_every_address.as_deref().unwrap_or_default();
            j.push(
                Status::Fail,
                format!(
                    "{subject} admits only part of {traffic}, which carries {}: ports {gap} are denied whatever the address, so every connection whose port falls there fails; it needs an allow rule for {} numbered below any deny",
                    flow.role, flow.ports
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
                "connections from or to the blocked addresses fail, so allow the whole range"
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

/// Load balancer -> every target of a group: the requests on the traffic
/// port from each source they come from (the NLB, or with client IP
/// preservation the VPC link's interfaces), and the health checks from the
/// load balancer, as separate flows.
fn target_flows(view: &StageView, hop: &TargetGroupHop) -> Hop<HopFlows> {
    let tg = hop.tg;
    let resource = tg.arn.as_str();
    // Both ends are walked before either failure returns, so a planning run
    // asks for every part in one level.
    let sources = target_sources(view, hop, resource, false);
    let mut out = HopFlows::default();
    let mut ends = Vec::new();
    for t in view.target_health(tg)? {
        let end = format!("target {}", t.target_id);
        let Some((traffic, health)) = target_ports(tg, t) else {
            let why = format!("{end} has no port or an unreadable health-check port");
            out.unknown.push((end, skip_blocked(resource, why)));
            continue;
        };
        match view.target_locations(tg, t) {
            Ok(locs) => {
                for loc in locs {
                    touch_acl(view, &loc.subnet_id);
                    ends.push((location_place(&loc), traffic, health));
                }
            }
            Err(b) => out.unknown.push((end, b)),
        }
    }
    let sources = sources?;
    for (dst, traffic, health) in ends {
        out.flows.extend(flows_to_target(&sources, &dst, traffic, health));
    }
    Ok(out)
}

/// The flows into one target. An ACL that admits only the health-check
/// port keeps the targets healthy while every request is dropped, so the
/// two ports are never judged as one range.
fn flows_to_target(sources: &TargetSources, dst: &Side, traffic: u16, health: u16) -> Vec<Flow> {
    let mut flows = Vec::new();
    for f in sources.flows_to(dst, traffic, health) {
        let role = match f.carries {
            Carries::Both => "the load balancer's request and health check to the target",
            Carries::Requests => "the load balancer's request to the target",
            Carries::HealthChecks => "the load balancer's health check to the target",
        };
        flows.extend(hop_flows(&f.src, dst, &PortSet::single(f.port), role));
    }
    flows
}

/// Looks a subnet's ACL up ahead of need: a planning run then reads it in
/// the same level as the subnet, not one level after.
fn touch_acl(view: &StageView, subnet_id: &str) {
    let _ = view.network_acl(subnet_id, subnet_id);
}
