//! `route-tables`: the route table of every subnet on the path sends each
//! hop's traffic, and its reply, where it must go.
//!
//! A subnet uses its own route table, else its VPC's main one, and a packet
//! follows the most specific route covering its destination (VPC guide,
//! "Route tables", "Route priority"). Within a VPC that is the `local`
//! route; a more specific route overriding it toward a firewall or Gateway
//! Load Balancer endpoint, a network interface or an instance hands the
//! verdict to that appliance (`warn`); a route leaving the VPC (transit
//! gateway, peering, virtual private gateway) reaches what this check
//! cannot see (`warn`); no route, a `blackhole` route, or an internet
//! gateway for a private address drops the traffic (`fail`). The hops are
//! those the other network checks judge: VPC link v2 -> load balancer, load
//! balancer -> targets (from the source each request has, see
//! [`crate::sides::target_sources`]), VPC link v2 -> Cloud Map instance,
//! each with its reply.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{RouteTable, VpcRoute};
use crate::net::{AddrSet, parse_v4};
use crate::sides::{Side, lb_place, link_place, target_sources};
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, blocked_finding};
use crate::view::{BlockedKind, Front, Hop, StageView};
use crate::walk::Walk;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::RouteTables,
        title: "Route tables route the path and its replies",
        severity: Severity::High,
        remediation: "Give the subnet's route table a route to the destination (the VPC's local route covers its own CIDRs; a target outside them needs a route to the peering connection, transit gateway or virtual private gateway that reaches it), replace a blackhole route, and make sure an appliance a more specific route sends traffic to forwards it.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// One direction of one hop, as one subnet's route table sees it.
struct Flow {
    subnet: String,
    vpc: Option<String>,
    dest: AddrSet,
    dest_desc: String,
    role: String,
}

#[derive(Default)]
struct PerTable {
    judgement: Judgement,
    routes: BTreeSet<String>,
    subnets: BTreeSet<String>,
    id: String,
    seen: BTreeSet<(String, String)>,
}

fn run(view: &StageCtx, out: &mut Findings) {
    let w = out.walked(view);
    out.skip_dead_ends(w);
    let mut tables: BTreeMap<String, PerTable> = BTreeMap::new();
    for (got, routes) in hops(view, w) {
        match got {
            Ok(flows) => judge_all(view, &mut tables, flows, &routes, out),
            Err(b) => out.add(blocked_finding(&CHECK.meta, &b).routes(routes.iter().cloned())),
        }
    }
    for (arn, per) in tables {
        let subnets: Vec<String> = per.subnets.iter().cloned().collect();
        let pass = format!(
            "Route table {} (subnets {}) routes every flow on the path inside the VPC.",
            per.id,
            subnets.join(", ")
        );
        let f = per
            .judgement
            .finding(&CHECK.meta, &arn, pass, json!({ "route_table_id": per.id, "subnets": subnets }));
        // A route whose walk stopped may cross this table beyond the stop.
        let f = out.unless_partial(f.routes(per.routes));
        out.add(f);
    }
}

type Hops = Vec<(Hop<Vec<Flow>>, BTreeSet<String>)>;

/// The flows of every hop of the walk, with the routes each belongs to.
fn hops(view: &StageView, w: &Walk) -> Hops {
    ask_ahead(view, w);
    let mut out: Hops = Vec::new();
    for hop in &w.listeners {
        if let Front::Link(link) = hop.front {
            let res = hop.lb.arn.as_str();
            let flows = link_place(view, link, res).and_then(|src| {
                let dst = lb_place(view, hop.lb, res)?;
                Ok(both_ways(&src, None, &dst, hop.lb.vpc_id.as_deref(), "the link's request to the load balancer"))
            });
            out.push((flows, hop.routes.clone()));
        }
    }
    for hop in &w.target_groups {
        out.push((target_flows(view, hop), hop.routes.clone()));
    }
    for hop in &w.cloud_map {
        out.push((cloud_map_flows(view, hop), hop.routes.clone()));
    }
    out
}

/// Looks up the route tables of the subnets the walk names before the
/// subnets themselves are read, so a planning run reads them in the same
/// level as the subnets instead of one level after.
fn ask_ahead(view: &StageView, w: &Walk) {
    let touch = |sid: &str, vpc: Option<&str>| {
        let _ = view.route_table(sid, vpc, sid);
    };
    for hop in &w.listeners {
        if let Front::Link(link) = hop.front {
            link.subnet_ids.iter().for_each(|s| touch(s, None));
        }
    }
    for hop in &w.target_groups {
        let vpc = hop.lb.vpc_id.as_deref();
        hop.lb.zones.iter().filter_map(|z| z.subnet_id.as_deref()).for_each(|s| touch(s, vpc));
        let Ok(targets) = view.target_health(hop.tg) else { continue };
        for t in targets {
            for loc in view.target_locations(hop.tg, t).unwrap_or_default() {
                touch(&loc.subnet_id, loc.vpc_id.as_deref());
            }
        }
    }
    for hop in &w.cloud_map {
        hop.link.subnet_ids.iter().for_each(|s| touch(s, None));
    }
}

/// Load balancer -> each target, from every source its requests and
/// health checks come from, and each reply. An IP target on no interface
/// of the account (on premises, another VPC) is judged one way: the route
/// toward it; its own network is not visible.
fn target_flows(view: &StageView, hop: &crate::walk::TargetGroupHop) -> Hop<Vec<Flow>> {
    let res = hop.tg.arn.as_str();
    let sources = target_sources(view, hop, res, false);
    let (mut dsts, mut outside) = (Vec::new(), Vec::new());
    for t in view.target_health(hop.tg)? {
        match view.target_locations(hop.tg, t) {
            Ok(locs) => dsts.extend(locs.iter().map(|l| (crate::sides::location_place(l), l.vpc_id.clone()))),
            Err(b) if matches!(b.kind, BlockedKind::Skip(_)) && parse_v4(&format!("{}/32", t.target_id)).is_some() => {
                outside.push(t.target_id.clone());
            }
            Err(b) => return Err(b),
        }
    }
    let sources = sources?;
    let vpc = hop.lb.vpc_id.as_deref();
    let mut srcs: Vec<&Side> = sources.requests.iter().map(|(s, _)| s).collect();
    srcs.push(&sources.health);
    let mut flows = Vec::new();
    for src in &srcs {
        for (dst, dst_vpc) in &dsts {
            let role = "the load balancer's traffic to the target";
            flows.extend(both_ways(&sources.toward(src, dst), vpc, dst, dst_vpc.as_deref(), role));
        }
        for ip in &outside {
            let dest = parse_v4(&format!("{ip}/32")).map(|n| AddrSet::from_net(&n)).unwrap_or_else(AddrSet::empty);
            flows.extend(src.zones.iter().map(|z| Flow {
                subnet: z.subnet_id.clone(),
                vpc: vpc.map(str::to_string),
                dest: dest.clone(),
                dest_desc: format!("target {ip}, on no interface of the account"),
                role: "the load balancer's traffic to the target".to_string(),
            }));
        }
    }
    Ok(flows)
}

/// VPC link v2 -> each Cloud Map instance it reaches, and the reply.
fn cloud_map_flows(view: &StageView, hop: &crate::walk::CloudMapHop) -> Hop<Vec<Flow>> {
    let res = hop.service.arn.as_str();
    let src = link_place(view, hop.link, res)?;
    let mut flows = Vec::new();
    for inst in &hop.service.instances {
        let Some(ip) = &inst.ipv4 else { continue };
        let loc = view.ip_location(ip, None, res)?;
        let dst = crate::sides::location_place(&loc);
        let role = "the link's request to the instance";
        flows.extend(both_ways(&src, None, &dst, loc.vpc_id.as_deref(), role));
    }
    Ok(flows)
}

/// A hop's request from each subnet of `src` to `dst`'s addresses, and the
/// reply from each subnet of `dst` back to `src`'s; traffic that stays in
/// one subnet uses no route but the local one, so it is not a flow.
fn both_ways(src: &Side, src_vpc: Option<&str>, dst: &Side, dst_vpc: Option<&str>, role: &str) -> Vec<Flow> {
    let mut flows = Vec::new();
    for s in &src.zones {
        for d in &dst.zones {
            if s.subnet_id == d.subnet_id {
                continue;
            }
            flows.push(Flow {
                subnet: s.subnet_id.clone(),
                vpc: src_vpc.map(str::to_string),
                dest: d.addrs.clone(),
                dest_desc: format!("{} ({})", dst.label, d.addrs),
                role: role.to_string(),
            });
            flows.push(Flow {
                subnet: d.subnet_id.clone(),
                vpc: dst_vpc.map(str::to_string),
                dest: s.addrs.clone(),
                dest_desc: format!("{} ({})", src.label, s.addrs),
                role: format!("the reply to {role}"),
            });
        }
    }
    flows
}

fn judge_all(
    view: &StageView,
    tables: &mut BTreeMap<String, PerTable>,
    flows: Vec<Flow>,
    routes: &BTreeSet<String>,
    out: &mut Findings,
) {
    for flow in flows {
        let subnet_arn = view.ec2_arn("subnet", &flow.subnet, None);
        let table = match view.route_table(&flow.subnet, flow.vpc.as_deref(), &subnet_arn) {
            Ok(t) => t,
            Err(b) => {
                out.add(blocked_finding(&CHECK.meta, &b).routes(routes.iter().cloned()));
                continue;
            }
        };
        let per = tables.entry(view.ec2_arn("route-table", &table.id, None)).or_default();
        per.id = table.id.clone();
        per.subnets.insert(flow.subnet.clone());
        per.routes.extend(routes.iter().cloned());
        if per.seen.insert((flow.subnet.clone(), flow.dest.to_string())) {
            judge_flow(&mut per.judgement, table, &flow);
        }
    }
}

/// Which route carries each part of `dest`: the most specific covering it
/// (VPC guide, "Route priority"), and the part no route covers.
fn resolve<'t>(table: &'t RouteTable, dest: &AddrSet) -> (Vec<(&'t VpcRoute, AddrSet)>, AddrSet) {
    let mut routes: Vec<(&VpcRoute, ipnet::Ipv4Net)> = table
        .routes
        .iter()
        .filter_map(|r| Some((r, parse_v4(r.destination.as_deref()?)?)))
        .collect();
    routes.sort_by_key(|(_, n)| std::cmp::Reverse(n.prefix_len()));
    let mut left = dest.0.clone();
    let mut parts = Vec::new();
    for (r, net) in routes {
        let part = left.intersect(&AddrSet::from_net(&net).0);
        if !part.is_empty() {
            left = left.subtract(&part);
            parts.push((r, AddrSet(part)));
        }
    }
    (parts, AddrSet(left))
}

fn judge_flow(j: &mut Judgement, table: &RouteTable, flow: &Flow) {
    let (parts, unrouted) = resolve(table, &flow.dest);
    let at = format!("Route table {} of subnet {}", table.id, flow.subnet);
    let ev = |route: Option<&VpcRoute>, part: &AddrSet| {
        let (route, part) = (route.cloned(), part.to_string());
        move || json!({"route_table_id": table.id, "subnet": flow.subnet, "destination": flow.dest_desc,
            "role": flow.role, "addresses": part, "route": route})
    };
    if !unrouted.0.is_empty() {
        let prefix_lists: Vec<&str> = table
            .routes
            .iter()
            .filter_map(|r| r.destination_prefix_list.as_deref())
            .collect();
        if prefix_lists.is_empty() {
            j.push(Status::Fail, format!(
                "{at} has no route to {} ({}), which carries {}; it needs a route toward it (the local route covers only the VPC's own CIDRs)",
                flow.dest_desc, unrouted, flow.role), ev(None, &unrouted));
        } else {
            j.push(Status::Warn, format!(
                "{at} has no CIDR route to {} ({}), which carries {}, and routes to prefix list(s) {} that this check does not expand, so whether one covers it cannot be verified",
                flow.dest_desc, unrouted, flow.role, prefix_lists.join(", ")), ev(None, &unrouted));
        }
    }
    for (route, part) in &parts {
        let (status, sentence) = route_verdict(&at, route, part, flow);
        j.push(status, sentence, ev(Some(route), part));
    }
}

/// What one route does to the part of a flow it carries.
fn route_verdict(at: &str, route: &VpcRoute, part: &AddrSet, flow: &Flow) -> (Status, String) {
    let target = route.target.as_deref().unwrap_or("an unknown target");
    let dest = route.destination.as_deref().unwrap_or("?");
    let carries = format!("{} ({part}), which carries {}", flow.dest_desc, flow.role);
    if route.state.as_deref() == Some("blackhole") {
        return (Status::Fail, format!(
            "{at} sends {carries} to route {dest} -> {target}, a blackhole (its target no longer exists); it needs that route replaced or removed"));
    }
    match target {
        "local" => (Status::Pass, String::new()),
        t if t.starts_with("vpce-") || t.starts_with("eni-") || t.starts_with("i-") => (Status::Warn, format!(
            "{at} sends {carries} through {t} (route {dest}: a firewall or Gateway Load Balancer endpoint, an interface or an instance), which decides whether it passes")),
        t if t.starts_with("igw-") && is_private(part) => (Status::Fail, format!(
            "{at} sends {carries} to internet gateway {t} (route {dest}), which does not forward to private addresses; it needs a route inside the VPC or to the network that holds them")),
        t => (Status::Warn, format!(
            "{at} sends {carries} out of the VPC through {t} (route {dest}), whose routes beyond it this check cannot see")),
    }
}

/// Whether every address of `a` is private (RFC 1918).
fn is_private(a: &AddrSet) -> bool {
    let private = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
        .iter()
        .filter_map(|c| parse_v4(c))
        .fold(AddrSet::empty(), |acc, n| acc.union(&AddrSet::from_net(&n)));
    a.0.is_subset_of(&private.0)
}
