//! `privatelink-inbound-rules`: (NLB with security groups behind a VPC link
//! v1) inbound-rule enforcement on PrivateLink traffic is off, or the NLB's
//! groups admit the listener port from any source.
//!
//! API Gateway's traffic reaches the NLB from an interface endpoint in an
//! AWS-owned VPC, whose addresses no configuration reveals. With
//! `EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic` on (the default
//! for an NLB with security groups), only a rule admitting every source is
//! known to let it in; a narrower rule is a `warn`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{Failure, Fetched, LoadBalancer};
use crate::net::sg::{self, Direction, Peer, SgVerdict};
use crate::net::{AddrSet, PortSet};
use crate::toolkit::{CheckDef, Findings, StageCtx, private_routes, skip};
use crate::view::{RoutePath, StageView};
use crate::walk::privatelink_nlb;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::PrivatelinkInboundRules,
        title: "NLB security groups admit PrivateLink traffic",
        severity: Severity::High,
        remediation: "Turn off inbound-rule evaluation for PrivateLink traffic on the NLB (aws elbv2 set-security-groups --load-balancer-arn ARN --security-groups SG... --enforce-security-group-inbound-rules-on-private-link-traffic off), as the API Gateway guide advises, or admit the listener port from 0.0.0.0/0 in the NLB's security group.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// Each NLB a PrivateLink route reaches: for each listener port, the
/// routes reaching it on that port; and every route reaching it.
type Needs<'a> = BTreeMap<&'a str, Need<'a>>;

struct Need<'a> {
    lb: &'a LoadBalancer,
    ports: BTreeMap<u16, BTreeSet<String>>,
    routes: BTreeSet<String>,
}

fn run(view: &StageCtx, out: &mut Findings) {
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for need in nlb_needs(view, routes, out).into_values() {
        judge(view, need, out);
    }
}

fn nlb_needs<'a>(view: &StageView<'a>, routes: &[RoutePath<'a>], out: &mut Findings) -> Needs<'a> {
    let mut needs: Needs<'a> = BTreeMap::new();
    for rp in routes {
        let lb = match privatelink_nlb(view, rp) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let entry = needs.entry(lb.arn.as_str()).or_insert_with(|| Need {
            lb,
            ports: BTreeMap::new(),
            routes: BTreeSet::new(),
        });
        if let Some(e) = rp.endpoint() {
            entry.ports.entry(e.port).or_default().insert(rp.label.clone());
        }
        entry.routes.insert(rp.label.clone());
    }
    needs
}

/// One NLB's finding: with enforcement on, its security groups must admit
/// API Gateway on every port a route uses, from any source. Each port is
/// its own flow: a port no rule admits fails the routes that use it, even
/// when another route's port is admitted.
fn judge(view: &StageView, need: Need, out: &mut Findings) {
    let meta = &CHECK.meta;
    let (lb, routes) = (need.lb, need.routes.into_iter().collect::<Vec<_>>());
    let ports: BTreeSet<u16> = need.ports.keys().copied().collect();
    if lb.security_groups.is_empty() {
        let why = format!(
            "NLB {} has no security groups, so no inbound rule filters PrivateLink traffic",
            lb.arn
        );
        out.add(skip(meta, &lb.arn, why).routes(routes));
        return;
    }
    let enforcement = lb.enforce_privatelink_inbound_rules.as_deref();
    let evidence_base = || base_evidence(lb, enforcement, &ports);
    if enforcement.is_some_and(|e| e.eq_ignore_ascii_case("off")) {
        let msg = format!(
            "NLB {} does not evaluate inbound rules on PrivateLink traffic, so its security groups do not filter API Gateway.",
            lb.arn
        );
        let f = Finding::new(meta, Status::Pass, &lb.arn, msg);
        out.add(f.routes(routes).evidence(evidence_base));
        return;
    }
    let groups = match view.security_groups(&lb.security_groups, &lb.arn) {
        Ok(g) => g,
        Err(b) => {
            out.blocked(&b, &routes);
            return;
        }
    };
    let peer = Peer {
        addrs: AddrSet::any(),
        groups: Vec::new(),
    };
    let pl = |id: &str| view.prefix_list_cidrs(id);
    let per_port: Vec<(u16, &BTreeSet<String>, sg::SgEvaluation)> = need
        .ports
        .iter()
        .map(|(p, rs)| {
            let e = sg::evaluate(&groups, Direction::Ingress, &peer, &PortSet::single(*p), &pl);
            (*p, rs, e)
        })
        .collect();
    let Some((status, message)) = enforced_verdict(lb, &per_port, enforcement) else {
        let (id, failure) = unread_prefix_list(view, &per_port);
        let what = format!("prefix list {id}");
        out.add(Finding::from_failure(meta, &lb.arn, &what, &failure).routes(routes));
        return;
    };
    let evidence = || {
        let mut evidence = evidence_base();
        evidence["ports"] = json!(per_port
            .iter()
            .map(|(p, rs, e)| json!({"port": p, "routes": rs, "verdict": e.verdict, "matched_rules": e.matched}))
            .collect::<Vec<_>>());
        evidence["rules"] = json!(sg::summarize_rules(&groups, Direction::Ingress));
        evidence
    };
    let f = Finding::new(meta, status, &lb.arn, message);
    out.add(f.routes(routes).evidence(evidence));
}

/// What every finding on the NLB shows: its groups and its enforcement.
fn base_evidence(lb: &LoadBalancer, enforcement: Option<&str>, ports: &BTreeSet<u16>) -> Value {
    json!({
        "load_balancer_arn": lb.arn,
        "security_groups": lb.security_groups,
        "enforce_security_group_inbound_rules_on_private_link_traffic": enforcement,
        "listener_ports": ports,
    })
}

/// The prefix list that kept the security groups from a verdict, and why
/// it could not be read.
fn unread_prefix_list(view: &StageView, per_port: &[(u16, &BTreeSet<String>, sg::SgEvaluation)]) -> (String, Failure) {
    let id = per_port
        .iter()
        .find_map(|(_, _, e)| e.unresolved_prefix_lists.first().cloned())
        .unwrap_or_default();
    let failure = match view.region.prefix_lists.get(&id) {
        Some(Fetched::Error(f)) | Some(Fetched::NotFound(f)) => f.clone(),
        _ => crate::view::not_collected("ec2:GetManagedPrefixListEntries"),
    };
    (id, failure)
}

/// The ports whose verdict is `v`, and the routes that use them.
fn ports_with(
    per_port: &[(u16, &BTreeSet<String>, sg::SgEvaluation)],
    v: SgVerdict,
) -> Option<(PortSet, Vec<String>)> {
    let hit: Vec<_> = per_port.iter().filter(|(_, _, e)| e.verdict == v).collect();
    if hit.is_empty() {
        return None;
    }
    let ports = PortSet::of(hit.iter().map(|(p, _, _)| *p));
    let routes: BTreeSet<String> = hit.iter().flat_map(|(_, rs, _)| rs.iter().cloned()).collect();
    Some((ports, routes.into_iter().collect()))
}

/// With enforcement on, what the security groups' verdicts, port by port,
/// mean for API Gateway, whose endpoint addresses are not knowable; `None`
/// when a prefix list could not be read.
fn enforced_verdict(
    lb: &LoadBalancer,
    per_port: &[(u16, &BTreeSet<String>, sg::SgEvaluation)],
    enforcement: Option<&str>,
) -> Option<(Status, String)> {
    let state = match enforcement {
        Some(v) => format!("enforcement {v}"),
        None => {
            "enforcement not reported (on by default for an NLB with security groups)".to_string()
        }
    };
    let sgs = lb.security_groups.join(", ");
    if per_port.is_empty() {
        return Some((
            Status::Warn,
            format!(
                "NLB {} evaluates inbound rules on PrivateLink traffic ({state}), and no route's integration URI names the port it uses, so whether its security groups {sgs} admit it cannot be judged; give the integration URI an explicit port.",
                lb.arn
            ),
        ));
    }
    if ports_with(per_port, SgVerdict::Unknown).is_some() {
        return None;
    }
    if let Some((ports, routes)) = ports_with(per_port, SgVerdict::None) {
        return Some((
            Status::Fail,
            format!(
                "NLB {} evaluates inbound rules on PrivateLink traffic ({state}) but its security groups {sgs} admit no TCP {ports}, the port of {}, so API Gateway's requests there are dropped; turn enforcement off or admit TCP {ports} from 0.0.0.0/0.",
                lb.arn,
                routes.join(", ")
            ),
        ));
    }
    if let Some((ports, routes)) = ports_with(per_port, SgVerdict::Partial) {
        return Some((
            Status::Warn,
            format!(
                "NLB {} evaluates inbound rules on PrivateLink traffic ({state}) and its security groups {sgs} admit TCP {ports} (used by {}) from only some sources, while API Gateway's endpoint addresses are not knowable; turn enforcement off or admit any source.",
                lb.arn,
                routes.join(", ")
            ),
        ));
    }
    let all = PortSet::of(per_port.iter().map(|(p, _, _)| *p));
    Some((
        Status::Pass,
        format!(
            "NLB {} evaluates inbound rules on PrivateLink traffic ({state}) and its security groups {sgs} admit TCP {all} from any source.",
            lb.arn
        ),
    ))
}
