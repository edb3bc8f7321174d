//! `security-groups`: security groups allow the whole path on the real
//! ports.
//!
//! Each hop is judged at both ends, since security groups are stateful and
//! checked where traffic leaves and where it arrives:
//!
//! - VPC link v2 -> load balancer, on the listener port: the link's groups
//!   must allow it out, the load balancer's groups (if any) must admit it
//!   from the link's groups or subnets.
//! - load balancer -> targets, on the traffic port and the health-check
//!   port: the load balancer's groups (if any) must allow them out, each
//!   target's groups must admit them from the load balancer's groups or its
//!   nodes. Through VPC link v1 (PrivateLink) targets see the NLB nodes'
//!   private addresses as the source. An ALB behind an NLB is a target.
//! - VPC link v2 -> Cloud Map instance, on the instance's port.
//!
//! Where an end's exact address is not in the configuration (a link's
//! interfaces, a node without a reported address) a rule admitting only part
//! of its subnet is a `warn`; with exact addresses a node left out `fail`s.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::Fetched;
use crate::net::PortSet;
use crate::net::sg::{self, Direction, Peer, SgVerdict};
use crate::sides::{Carries, Side, TargetSources, lb_side, link_side, location_side, target_ports, target_sources};
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, blocked_finding, skip};
use crate::view::{Front, Hop, StageView};
use crate::walk::{TargetGroupHop, Walk};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::SecurityGroups,
        title: "Security groups allow the path on the real ports",
        severity: Severity::High,
        remediation: "Add the missing rule the finding names: inbound on the receiving end's security group for the port, from the sending end's security group (or its subnets), and outbound on the sending end's group when it restricts egress; for targets, allow both the traffic port and the health-check port.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

#[derive(Default)]
struct PerResource {
    judgement: Judgement,
    routes: BTreeSet<String>,
    ports: BTreeSet<u16>,
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let w = out.walked(view);
    out.skip_dead_ends(w);
    let mut acc: BTreeMap<String, PerResource> = BTreeMap::new();
    link_to_load_balancers(view, w, &mut acc);
    // Load balancer -> targets (an ALB behind an NLB included).
    for hop in &w.target_groups {
        let resource = hop.tg.arn.as_str();
        let r = acc.entry(resource.to_string()).or_default();
        r.routes.extend(hop.routes.iter().cloned());
        if let Err(b) = judge_targets(view, hop, resource, r) {
            let routes: Vec<String> = r.routes.iter().cloned().collect();
            acc.remove(resource);
            out.add(blocked_finding(meta, &b).routes(routes));
        }
    }
    link_to_cloud_map(view, w, &mut acc);
    for (resource, r) in acc {
        out.add(finding(&resource, r));
    }
}

/// VPC link v2 -> load balancer: the link's interfaces reach the listener.
fn link_to_load_balancers(view: &StageView, w: &Walk, acc: &mut BTreeMap<String, PerResource>) {
    for hop in &w.listeners {
        let Front::Link(link) = hop.front else {
            continue;
        };
        let resource = hop.lb.arn.as_str();
        let Some(port) = hop.listener.port else {
            continue;
        };
        let r = acc.entry(resource.to_string()).or_default();
        r.routes.extend(hop.routes.iter().cloned());
        let sides = link_side(view, link, resource)
            .and_then(|s| lb_side(view, hop.lb, resource).map(|d| (s, d)));
        match sides {
            Ok((src, dst)) => {
                r.ports.insert(port);
                judge(
                    view,
                    &mut r.judgement,
                    &src,
                    &dst,
                    port,
                    "the request to the listener",
                );
            }
            Err(b) => r
                .judgement
                .push_blocked(&b, "the path to the load balancer"),
        }
    }
}

/// VPC link v2 -> Cloud Map instances, at the addresses they register.
fn link_to_cloud_map(view: &StageView, w: &Walk, acc: &mut BTreeMap<String, PerResource>) {
    for hop in &w.cloud_map {
        let resource = hop.service.arn.as_str();
        let r = acc.entry(resource.to_string()).or_default();
        r.routes.extend(hop.routes.iter().cloned());
        let src = match link_side(view, hop.link, resource) {
            Ok(s) => s,
            Err(b) => {
                r.judgement.push_blocked(&b, "the path to the instances");
                continue;
            }
        };
        for inst in &hop.service.instances {
            let (Some(ip), Some(port)) = (&inst.ipv4, inst.port) else {
                r.judgement.push(
                    Status::Warn,
                    format!(
                        "Cloud Map instance {} registers no IPv4 address or port, so the path to it cannot be verified",
                        inst.id
                    ),
                    || json!({ "instance": inst.id }),
                );
                continue;
            };
            let dst = view
                .ip_location(ip, None, resource)
                .and_then(|loc| location_side(view, &loc, resource));
            match dst {
                Ok(mut dst) => {
                    dst.label = format!("Cloud Map instance {} ({ip})", inst.id);
                    r.ports.insert(port);
                    judge(
                        view,
                        &mut r.judgement,
                        &src,
                        &dst,
                        port,
                        "the request to the instance",
                    );
                }
                Err(b) => r
                    .judgement
                    .push_blocked(&b, &format!("the path to instance {}", inst.id)),
            }
        }
    }
}

/// One resource's finding: `skip` when nothing on its path carries
/// security groups, else the worst of its flows.
fn finding(resource: &str, r: PerResource) -> Finding {
    let meta = &CHECK.meta;
    if r.judgement.is_empty() {
        let reason =
            format!("nothing on the path behind {resource} carries security groups to check");
        let evidence = || json!({ "flows": [], "ports": r.ports });
        return skip(meta, resource, reason)
            .evidence(evidence)
            .routes(r.routes);
    }
    let ports: Vec<String> = r.ports.iter().map(|p| p.to_string()).collect();
    let pass = format!(
        "Security groups on the path to {resource} allow TCP {} in both directions where they apply.",
        if ports.is_empty() {
            "(no port)".to_string()
        } else {
            ports.join(", ")
        }
    );
    let f = r
        .judgement
        .finding(meta, resource, pass, json!({ "ports": r.ports }));
    f.routes(r.routes)
}

fn judge_targets(
    view: &StageView,
    hop: &TargetGroupHop,
    resource: &str,
    r: &mut PerResource,
) -> Hop<()> {
    let tg = hop.tg;
    // The sources are resolved after the targets are walked, so a planning
    // run asks for both ends in the same level.
    let sources = target_sources(view, hop, resource, true);
    let targets = view.target_health(tg)?;
    if targets.is_empty() {
        return crate::view::skip(
            resource,
            format!(
                "target group {} has no registered targets (see target-health)",
                tg.name.as_deref().unwrap_or(&tg.arn)
            ),
        );
    }
    let ends = target_ends(view, tg, targets, resource, r);
    let sources = sources?;
    for (dst, traffic, health) in ends {
        judge_target(view, r, &sources, &dst, (traffic, health));
    }
    Ok(())
}

/// Each target's place and security groups, with its traffic and
/// health-check ports; a target that cannot be placed is recorded.
fn target_ends<'a>(
    view: &StageView<'a>,
    tg: &crate::model::TargetGroup,
    targets: &[crate::model::TargetHealth],
    resource: &str,
    r: &mut PerResource,
) -> Vec<(Side<'a>, u16, u16)> {
    let mut ends = Vec::new();
    for t in targets {
        let Some((traffic, health)) = target_ports(tg, t) else {
            r.judgement.push(
                Status::Warn,
                format!(
                    "Target {} of {} has no port or an unreadable health-check port ({:?}), so its rules cannot be checked",
                    t.target_id, tg.arn, tg.health_check.port
                ),
                || json!({ "target": t.target_id }),
            );
            continue;
        };
        let locs = match view.target_locations(tg, t) {
            Ok(l) => l,
            Err(b) => {
                r.judgement.push_blocked(
                    &b,
                    &format!("whether target {} admits the load balancer", t.target_id),
                );
                continue;
            }
        };
        for loc in locs {
            match location_side(view, &loc, resource) {
                Ok(d) => ends.push((d, traffic, health)),
                Err(b) => r
                    .judgement
                    .push_blocked(&b, &format!("{}'s security groups", loc.target)),
            }
        }
    }
    ends
}

/// One target: the requests on the traffic port from each source they
/// come from, and the health checks from the load balancer, as separate
/// flows (one port admitted does not admit the other).
fn judge_target(
    view: &StageView,
    r: &mut PerResource,
    sources: &TargetSources,
    dst: &Side,
    (traffic, health): (u16, u16),
) {
    r.ports.insert(traffic);
    r.ports.insert(health);
    for f in sources.flows_to(dst, traffic, health) {
        let role = match (f.carries, f.preserved) {
            (Carries::Both, _) => "the traffic and health-check port".to_string(),
            (Carries::HealthChecks, _) => "the health-check port".to_string(),
            (Carries::Requests, None) => "the traffic port".to_string(),
            (Carries::Requests, Some(why)) => {
                format!("the traffic port, whose requests keep their source since {why}")
            }
        };
        judge(view, &mut r.judgement, &f.src, dst, f.port, &role);
    }
}

fn groups_text(side: &Side) -> String {
    side.group_ids.join(", ")
}

/// Judges one hop on one port at both ends.
fn judge(view: &StageView, j: &mut Judgement, src: &Side, dst: &Side, port: u16, role: &str) {
    let pl = |id: &str| view.prefix_list_cidrs(id);
    let ports = PortSet::single(port);
    if !dst.groups.is_empty() {
        let peer = Peer {
            addrs: src.addrs(),
            groups: src.group_ids.clone(),
        };
        let e = sg::evaluate(&dst.groups, Direction::Ingress, &peer, &ports, &pl);
        let from = if src.group_ids.is_empty() {
            format!("{} ({})", src.label, src.addrs())
        } else {
            format!(
                "{} ({} or its groups {})",
                src.label,
                src.addrs(),
                groups_text(src)
            )
        };
        let ev = || {
            json!({
                "direction": "ingress", "at": dst.label, "security_groups": dst.group_ids, "port": port, "role": role,
                "from": src.label, "from_addresses": src.addrs().to_string(), "from_groups": src.group_ids,
                "verdict": e.verdict, "matched_rules": e.matched, "rules": sg::summarize_rules(&dst.groups, Direction::Ingress),
            })
        };
        let who = format!("Security group(s) {} of {}", groups_text(dst), dst.label);
        push_verdict(
            view,
            j,
            e.verdict,
            src.exact(),
            &e.unresolved_prefix_lists,
            ev,
            || {
                (
                    format!(
                        "{who} admit no TCP {port} ({role}) from {from}; they need an inbound rule for TCP {port} from it"
                    ),
                    format!("{who} admit TCP {port} ({role}) from only some of {from}"),
                )
            },
        );
    }
    if !src.groups.is_empty() {
        let peer = Peer {
            addrs: dst.addrs(),
            groups: dst.group_ids.clone(),
        };
        let e = sg::evaluate(&src.groups, Direction::Egress, &peer, &ports, &pl);
        let ev = || {
            json!({
                "direction": "egress", "at": src.label, "security_groups": src.group_ids, "port": port, "role": role,
                "to": dst.label, "to_addresses": dst.addrs().to_string(), "to_groups": dst.group_ids,
                "verdict": e.verdict, "matched_rules": e.matched, "rules": sg::summarize_rules(&src.groups, Direction::Egress),
            })
        };
        let who = format!("Security group(s) {} of {}", groups_text(src), src.label);
        let to = dst.described();
        push_verdict(
            view,
            j,
            e.verdict,
            dst.exact(),
            &e.unresolved_prefix_lists,
            ev,
            || {
                (
                    format!(
                        "{who} allow no outbound TCP {port} ({role}) to {to}; they need an outbound rule for TCP {port} to it or its security group"
                    ),
                    format!("{who} allow outbound TCP {port} ({role}) to only some of {to}"),
                )
            },
        );
    }
}

/// Turns a verdict into a flow of the judgement. A partial verdict fails
/// when the peer's addresses are exact (a known node is left out) and warns
/// when they are only its subnet (which address it uses is not known).
fn push_verdict(
    view: &StageView,
    j: &mut Judgement,
    verdict: SgVerdict,
    peer_exact: bool,
    unresolved: &[String],
    ev: impl FnOnce() -> serde_json::Value,
    sentences: impl FnOnce() -> (String, String),
) {
    match verdict {
        SgVerdict::All => j.push(Status::Pass, String::new(), ev),
        SgVerdict::None => j.push(Status::Fail, sentences().0, ev),
        SgVerdict::Partial if peer_exact => {
            let s = sentences().1;
            j.push(Status::Fail, format!("{s}, so traffic from the others is dropped; they need a rule covering every address"), ev);
        }
        SgVerdict::Partial => {
            let s = sentences().1;
            j.push(
                Status::Warn,
                format!("{s}, and which address is used there is not visible in configuration; allow the whole subnets or the security group"),
                ev,
            );
        }
        SgVerdict::Unknown => {
            for id in unresolved {
                match view.region.prefix_lists.get(id) {
                    Some(Fetched::Error(f)) | Some(Fetched::NotFound(f)) => {
                        j.push_failure(&format!("prefix list {id}"), f)
                    }
                    _ => j.push_failure(
                        &format!("prefix list {id}"),
                        &crate::view::not_collected("ec2:GetManagedPrefixListEntries"),
                    ),
                }
            }
        }
    }
}
