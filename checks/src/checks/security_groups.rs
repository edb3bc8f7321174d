//! `security-groups`: security groups allow the whole path on the real
//! ports.
//!
//! VPC link v1 (REST): traffic arrives at the NLB through PrivateLink and
//! reaches targets with the NLB nodes' private addresses as its source. So
//! each target's groups must admit the NLB's subnets (or the NLB's own
//! groups, when it has some) on the traffic port and on the health-check
//! port, and an NLB with groups must allow both out to the target. The NLB
//! nodes' exact addresses are not part of the configuration read, so a rule
//! admitting only part of an NLB subnet is a `warn` (depends on the
//! address), never a `pass`.

use std::collections::BTreeSet;

use ipnet::Ipv4Net;
use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::{Findings, blocked_finding};
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::hops::{Judgement, TargetGroupHop, node_sources, target_ports, v1_target_groups};
use crate::model::{Fetched, SecurityGroup};
use crate::net::sg::{self, Direction, Peer, SgVerdict};
use crate::net::{AddrSet, PortSet};
use crate::view::{StageView, TargetLocation};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "security-groups",
        title: "Security groups allow the path on the real ports",
        severity: Severity::High,
        explains: &[
            "Execution failed due to a timeout error",
            "HTTP 504 {\"message\": \"Endpoint request timed out\"}",
            "Execution failed due to configuration error: There was an internal error while executing your request",
        ],
        remediation: "Add an inbound rule to the target's security group for the traffic port and the health-check port from the load balancer's subnets (or from the load balancer's security group, when it has one); if the load balancer has security groups, allow the same ports outbound to the targets.",
        aliases: &[],
    },
    run,
};

fn run(view: &StageView, out: &mut Findings) {
    let walk = v1_target_groups(view, out);
    walk.skip_dead_ends(out);
    for hop in &walk.hops {
        let routes: Vec<String> = hop.routes.iter().cloned().collect();
        let f = match judge_v1(view, hop) {
            Ok(f) => f,
            Err(b) => blocked_finding(&CHECK.meta, &b),
        };
        out.add(f.routes(routes));
    }
}

fn port_role(port: u16, traffic: u16, health: u16) -> &'static str {
    match (port == traffic, port == health) {
        (true, true) => "traffic and health-check port",
        (true, false) => "traffic port",
        _ => "health-check port",
    }
}

fn judge_v1(view: &StageView, hop: &TargetGroupHop) -> crate::view::Hop<Finding> {
    let meta = &CHECK.meta;
    let (lb, tg) = (hop.lb, hop.tg);
    let resource = tg.arn.as_str();
    let sources = node_sources(view, lb, resource)?;
    let exact = sources.iter().all(|s| s.exact);
    let nlb_addrs = sources
        .iter()
        .fold(AddrSet::empty(), |acc, s| acc.union(&s.addrs));
    let nlb_sgs = view.security_groups(&lb.security_groups, resource)?;
    let targets = view.target_health(tg)?;
    let tg_name = tg.name.as_deref().unwrap_or(&tg.arn);
    if targets.is_empty() {
        return Ok(Finding::new(
            meta,
            Status::Skip,
            resource,
            format!(
                "Not applicable: target group {tg_name} has no registered targets (see target-health)."
            ),
        ));
    }
    let pl = |id: &str| view.prefix_list_cidrs(id);
    let what = if exact {
        "the NLB's node addresses"
    } else {
        "the NLB's subnets"
    };
    let source_desc = if lb.security_groups.is_empty() {
        format!("{what} {nlb_addrs}")
    } else {
        format!(
            "{what} {nlb_addrs} or its security groups {}",
            lb.security_groups.join(", ")
        )
    };
    let mut j = Judgement::new();
    let mut checked_ports: BTreeSet<u16> = BTreeSet::new();
    for t in targets {
        let loc: TargetLocation = match view.target_location(tg, t) {
            Ok(l) => l,
            Err(b) => {
                j.push_blocked(
                    &b,
                    &format!("whether target {} admits the NLB", t.target_id),
                );
                continue;
            }
        };
        let Some((traffic, health)) = target_ports(tg, t) else {
            j.push(
                Status::Warn,
                format!(
                    "Target {} of {tg_name} has no port or an unreadable health-check port ({:?}), so its rules cannot be checked",
                    t.target_id, tg.health_check.port
                ),
                json!({ "target": t.target_id }),
            );
            continue;
        };
        let tsgs: Vec<&SecurityGroup> = match view.security_groups(&loc.security_groups, resource) {
            Ok(g) => g,
            Err(b) => {
                j.push_blocked(&b, &format!("target {}'s security groups", t.target_id));
                continue;
            }
        };
        let peer = Peer {
            addrs: nlb_addrs.clone(),
            groups: lb.security_groups.clone(),
        };
        let ports: BTreeSet<u16> = [traffic, health].into_iter().collect();
        for &port in &ports {
            checked_ports.insert(port);
            let role = port_role(port, traffic, health);
            let e = sg::evaluate(
                &tsgs,
                Direction::Ingress,
                &peer,
                &PortSet::single(port),
                &pl,
            );
            let who = format!(
                "Security group(s) {} of target {} ({})",
                loc.security_groups.join(", "),
                loc.target,
                loc.ip
            );
            let ev = json!({
                "direction": "ingress",
                "target": loc.target,
                "target_ip": loc.ip.to_string(),
                "security_groups": loc.security_groups,
                "port": port,
                "role": role,
                "source": nlb_addrs.to_string(),
                "source_groups": lb.security_groups,
                "verdict": e.verdict,
                "matched_rules": e.matched,
                "rules": sg::summarize_rules(&tsgs, Direction::Ingress),
            });
            match e.verdict {
                SgVerdict::All => j.push(Status::Pass, String::new(), ev),
                SgVerdict::None => j.push(
                    Status::Fail,
                    format!(
                        "{who} admit no TCP {port} ({role}) from {source_desc}; they need an inbound rule for TCP {port} from those addresses"
                    ),
                    ev,
                ),
                // With the nodes' own addresses known, a node left out is a
                // certain failure for the traffic it carries.
                SgVerdict::Partial if exact => j.push(
                    Status::Fail,
                    format!(
                        "{who} admit TCP {port} ({role}) from only some of {source_desc}, so requests through the other nodes are dropped; they need a rule for every node address"
                    ),
                    ev,
                ),
                SgVerdict::Partial => j.push(
                    Status::Warn,
                    format!(
                        "{who} admit TCP {port} ({role}) from only part of {source_desc}, and which address each NLB node uses is not visible in configuration; allow the whole subnets"
                    ),
                    ev,
                ),
                SgVerdict::Unknown => push_unknown(view, &mut j, &e.unresolved_prefix_lists, ev),
            }
            if !nlb_sgs.is_empty() {
                let dest = Peer {
                    addrs: AddrSet::from_nets([&Ipv4Net::from(loc.ip)]),
                    groups: loc.security_groups.clone(),
                };
                let e = sg::evaluate(
                    &nlb_sgs,
                    Direction::Egress,
                    &dest,
                    &PortSet::single(port),
                    &pl,
                );
                let ev = json!({
                    "direction": "egress",
                    "load_balancer": lb.arn,
                    "security_groups": lb.security_groups,
                    "target": loc.target,
                    "target_ip": loc.ip.to_string(),
                    "port": port,
                    "role": role,
                    "verdict": e.verdict,
                    "matched_rules": e.matched,
                    "rules": sg::summarize_rules(&nlb_sgs, Direction::Egress),
                });
                match e.verdict {
                    SgVerdict::All => j.push(Status::Pass, String::new(), ev),
                    SgVerdict::None | SgVerdict::Partial => j.push(
                        Status::Fail,
                        format!(
                            "Security group(s) {} of NLB {} allow no outbound TCP {port} ({role}) to target {} ({}); they need an outbound rule for TCP {port} to the target or its security group",
                            lb.security_groups.join(", "),
                            lb.arn,
                            loc.target,
                            loc.ip
                        ),
                        ev,
                    ),
                    SgVerdict::Unknown => push_unknown(view, &mut j, &e.unresolved_prefix_lists, ev),
                }
            }
        }
    }
    let ports: Vec<String> = checked_ports.iter().map(|p| p.to_string()).collect();
    Ok(j.finding(
        meta,
        resource,
        format!(
            "Every target of {tg_name} admits TCP {} from {source_desc}.",
            if ports.is_empty() {
                "(no port)".to_string()
            } else {
                ports.join(", ")
            }
        ),
        json!({ "target_group_arn": tg.arn, "load_balancer_arn": lb.arn }),
    ))
}

fn push_unknown(view: &StageView, j: &mut Judgement, lists: &[String], _ev: serde_json::Value) {
    for id in lists {
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
