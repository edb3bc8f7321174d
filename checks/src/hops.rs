//! The walks several path checks share: from a stage's VPC-link routes to the
//! target groups behind them, and from a target group to its targets' ports.
//!
//! Grouping routes by target group here is what keeps evaluation linear in
//! the snapshot: a security group or NACL path behind a target group is
//! judged once per stage, however many routes reach it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::engine::{Findings, private_routes};
use crate::finding::{CheckMeta, Finding, Status, failure_remediation, failure_sentence};
use crate::model::{Failure, Listener, LoadBalancer, TargetGroup, TargetHealth};
use crate::net::AddrSet;
use crate::view::{Blocked, BlockedKind, Hop, LinkVersion, StageView};
use ipnet::Ipv4Net;

/// A target group reached from a load balancer's listener, with the routes
/// that reach it.
pub struct TargetGroupHop<'a> {
    pub lb: &'a LoadBalancer,
    pub listeners: Vec<&'a Listener>,
    pub tg: &'a TargetGroup,
    pub routes: BTreeSet<String>,
}

/// Where a walk from a listener ends without reaching a target group.
pub enum DeadEnd<'a> {
    /// The listener forwards to no target group.
    NoForward {
        listener: &'a Listener,
        route: String,
    },
    /// The listener forwards to a target group that does not exist.
    MissingGroup { arn: &'a str, route: String },
}

/// The result of walking a stage's routes to their target groups.
pub struct Walk<'a> {
    pub hops: Vec<TargetGroupHop<'a>>,
    /// Reported as failures by `target-health`, as skips by the others.
    pub dead_ends: Vec<DeadEnd<'a>>,
}

impl Walk<'_> {
    /// Reports the dead ends as not applicable, pointing at `target-health`.
    pub fn skip_dead_ends(&self, out: &mut Findings) {
        for d in &self.dead_ends {
            let (resource, route, reason) = match d {
                DeadEnd::NoForward { listener, route } => (
                    listener.arn.as_str(),
                    route,
                    format!(
                        "listener {} forwards to no target group (see target-health)",
                        listener.arn
                    ),
                ),
                DeadEnd::MissingGroup { arn, route } => (
                    *arn,
                    route,
                    format!("target group {arn} does not exist (see target-health)"),
                ),
            };
            out.add(
                Finding::new(
                    out.meta(),
                    Status::Skip,
                    resource,
                    format!("Not applicable: {reason}."),
                )
                .routes([route.clone()]),
            );
        }
    }
}

/// Every (load balancer, target group) the stage's VPC link v1 routes reach.
/// Routes that stop before a listener are reported on `out` as skipped or
/// errored; those that stop after one are returned as dead ends.
pub fn v1_target_groups<'a>(view: &StageView<'a>, out: &mut Findings) -> Walk<'a> {
    let mut walk = Walk {
        hops: Vec::new(),
        dead_ends: Vec::new(),
    };
    let Some(routes) = private_routes(view, out) else {
        return walk;
    };
    let mut hops: BTreeMap<(&str, &str), TargetGroupHop<'a>> = BTreeMap::new();
    for rp in routes {
        if rp.link.version != LinkVersion::V1 {
            continue;
        }
        let (lb, listener) = match view.v1_listener(rp) {
            Ok(x) => x,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let arns = StageView::forward_target_groups(listener);
        if arns.is_empty() {
            walk.dead_ends.push(DeadEnd::NoForward {
                listener,
                route: rp.label.clone(),
            });
        }
        for arn in arns {
            let tg = match view.target_group(arn) {
                Ok(tg) => tg,
                Err(b) if matches!(b.kind, BlockedKind::Skip(_)) => {
                    walk.dead_ends.push(DeadEnd::MissingGroup {
                        arn,
                        route: rp.label.clone(),
                    });
                    continue;
                }
                Err(b) => {
                    out.blocked(&b, &[&rp.label]);
                    continue;
                }
            };
            let hop = hops
                .entry((lb.arn.as_str(), tg.arn.as_str()))
                .or_insert_with(|| TargetGroupHop {
                    lb,
                    listeners: Vec::new(),
                    tg,
                    routes: BTreeSet::new(),
                });
            if !hop.listeners.iter().any(|l| l.arn == listener.arn) {
                hop.listeners.push(listener);
            }
            hop.routes.insert(rp.label.clone());
        }
    }
    walk.hops = hops.into_values().collect();
    walk
}

/// One zone of a load balancer as a traffic source: its subnet, and the
/// addresses its node may use (the node's own address when AWS reports it,
/// else the whole subnet).
pub struct NodeSource {
    pub subnet_id: String,
    pub cidr: Ipv4Net,
    pub addrs: AddrSet,
    /// Whether `addrs` is the node's exact address.
    pub exact: bool,
}

/// The zones of `lb` as traffic sources, or where reading them stopped.
pub fn node_sources(view: &StageView, lb: &LoadBalancer, resource: &str) -> Hop<Vec<NodeSource>> {
    let mut out = Vec::new();
    for z in &lb.zones {
        let Some(sid) = &z.subnet_id else { continue };
        let cidr = view.subnet_cidr(sid, resource)?;
        let nodes: Vec<Ipv4Net> = z
            .private_ipv4_addresses
            .iter()
            .filter_map(|a| a.parse::<std::net::Ipv4Addr>().ok())
            .map(Ipv4Net::from)
            .collect();
        let exact = !nodes.is_empty();
        out.push(NodeSource {
            subnet_id: sid.clone(),
            cidr,
            addrs: if exact {
                AddrSet::from_nets(nodes.iter())
            } else {
                AddrSet::from_net(&cidr)
            },
            exact,
        });
    }
    Ok(out)
}

/// The port a target receives traffic on, and the port its health checks
/// probe (`traffic-port` means the same one).
pub fn target_ports(tg: &TargetGroup, target: &TargetHealth) -> Option<(u16, u16)> {
    let traffic = target.port.or(tg.port)?;
    let health = match tg.health_check.port.as_deref() {
        None | Some("traffic-port") => traffic,
        Some(p) => p.trim().parse().ok()?,
    };
    Some((traffic, health))
}

/// Accumulates the verdicts of many flows into one finding for one
/// resource: the worst verdict decides, and its sentence is the message.
pub struct Judgement {
    items: Vec<(Status, String, Option<String>)>,
    evidence: Vec<Value>,
}

impl Judgement {
    pub fn new() -> Self {
        Judgement {
            items: Vec::new(),
            evidence: Vec::new(),
        }
    }

    pub fn push(&mut self, status: Status, sentence: String, evidence: Value) {
        self.items.push((status, sentence, None));
        self.evidence.push(evidence);
    }

    /// Records a flow that could not be judged because `what` could not be
    /// read; the finding then carries the failure's remediation.
    pub fn push_failure(&mut self, what: &str, failure: &Failure) {
        self.items.push((
            Status::Error,
            failure_sentence(what, failure),
            Some(failure_remediation(failure)),
        ));
        self.evidence
            .push(json!({ "what": what, "failure": failure }));
    }

    /// Records a hop walk that stopped: a skip is a flow this check cannot
    /// see (`warn`: it might be blocked), an error a flow it cannot read.
    pub fn push_blocked(&mut self, b: &Blocked, unseen_means: &str) {
        match &b.kind {
            BlockedKind::Skip(reason) => self.push(
                Status::Warn,
                format!(
                    "{}, so {unseen_means} cannot be verified",
                    capitalize(reason)
                ),
                json!({ "unverifiable": reason }),
            ),
            BlockedKind::Error { what, failure } => self.push_failure(what, failure),
        }
    }

    pub fn worst(&self) -> Option<Status> {
        self.items.iter().map(|(s, _, _)| *s).max()
    }

    /// The finding, with `pass_message` when every flow passed. The
    /// message is the first worst sentence, with a count of the others.
    pub fn finding(
        self,
        meta: &CheckMeta,
        resource: &str,
        pass_message: String,
        extra: Value,
    ) -> Finding {
        let worst = self.worst().unwrap_or(Status::Pass);
        let message = if worst == Status::Pass || worst == Status::Skip {
            pass_message
        } else {
            let same: Vec<&(Status, String, Option<String>)> =
                self.items.iter().filter(|(s, _, _)| *s == worst).collect();
            let first = same[0].1.trim_end_matches('.');
            if same.len() > 1 {
                format!("{first} ({} more like it in the evidence).", same.len() - 1)
            } else {
                format!("{first}.")
            }
        };
        let remediation = self
            .items
            .iter()
            .find(|(s, _, r)| *s == worst && r.is_some())
            .and_then(|(_, _, r)| r.clone());
        let mut evidence = json!({ "flows": self.evidence });
        if let (Value::Object(map), Value::Object(more)) = (&mut evidence, extra) {
            map.extend(more);
        }
        let f = Finding::new(meta, worst, resource, message).evidence(evidence);
        match remediation {
            Some(r) => f.remediation(r),
            None => f,
        }
    }
}

impl Default for Judgement {
    fn default() -> Self {
        Self::new()
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
