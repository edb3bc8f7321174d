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

/// Each NLB a PrivateLink route reaches: the ports it is reached on, and
/// the routes reaching it.
type Needs<'a> = BTreeMap<&'a str, (&'a LoadBalancer, BTreeSet<u16>, BTreeSet<String>)>;

fn run(view: &StageCtx, out: &mut Findings) {
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for (lb, ports, routes) in nlb_needs(view, routes, out).into_values() {
        judge(view, lb, &ports, routes.into_iter().collect(), out);
    }
}

fn nlb_needs<'a>(view: &StageView<'a>, routes: &[RoutePath<'a>], out: &mut Findings) -> Needs<'a> {
    let mut needs: BTreeMap<&str, (&LoadBalancer, BTreeSet<u16>, BTreeSet<String>)> =
        BTreeMap::new();
    for rp in routes {
        let lb = match privatelink_nlb(view, rp) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let entry = needs
            .entry(lb.arn.as_str())
            .or_insert_with(|| (lb, BTreeSet::new(), BTreeSet::new()));
        if let Some(e) = rp.endpoint() {
            entry.1.insert(e.port);
        }
        entry.2.insert(rp.label.clone());
    }
    needs
}

/// One NLB's finding: with enforcement on, its security groups must admit
/// API Gateway on every port, from any source.
fn judge(
    view: &StageView,
    lb: &LoadBalancer,
    ports: &BTreeSet<u16>,
    routes: Vec<String>,
    out: &mut Findings,
) {
    let meta = &CHECK.meta;
    if lb.security_groups.is_empty() {
        out.add(
            skip(
                meta,
                &lb.arn,
                format!(
                    "NLB {} has no security groups, so no inbound rule filters PrivateLink traffic",
                    lb.arn
                ),
            )
            .routes(routes),
        );
        return;
    }
    let enforcement = lb.enforce_privatelink_inbound_rules.as_deref();
    let evidence_base = || base_evidence(lb, enforcement, ports);
    if enforcement.is_some_and(|e| e.eq_ignore_ascii_case("off")) {
        out.add(
            Finding::new(
                meta,
                Status::Pass,
                &lb.arn,
                format!(
                    "NLB {} does not evaluate inbound rules on PrivateLink traffic, so its security groups do not filter API Gateway.",
                    lb.arn
                ),
            )
            .routes(routes)
            .evidence(evidence_base),
        );
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
    let port_set = PortSet::of(ports.iter().copied());
    let e = sg::evaluate(&groups, Direction::Ingress, &peer, &port_set, &pl);
    let evidence = || {
        let mut evidence = evidence_base();
        evidence["verdict"] = json!(e.verdict);
        evidence["matched_rules"] = json!(e.matched);
        evidence["rules"] = json!(sg::summarize_rules(&groups, Direction::Ingress));
        evidence
    };
    let Some((status, message)) = enforced_verdict(lb, &e, enforcement, &port_set) else {
        let (id, failure) = unread_prefix_list(view, &e);
        out.add(
            Finding::from_failure(meta, &lb.arn, &format!("prefix list {id}"), &failure)
                .routes(routes),
        );
        return;
    };
    out.add(
        Finding::new(meta, status, &lb.arn, message)
            .routes(routes)
            .evidence(evidence),
    );
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
fn unread_prefix_list(view: &StageView, e: &sg::SgEvaluation) -> (String, Failure) {
    let id = e
        .unresolved_prefix_lists
        .first()
        .cloned()
        .unwrap_or_default();
    let failure = match view.region.prefix_lists.get(&id) {
        Some(Fetched::Error(f)) | Some(Fetched::NotFound(f)) => f.clone(),
        _ => crate::view::not_collected("ec2:GetManagedPrefixListEntries"),
    };
    (id, failure)
}

/// With enforcement on, what the security groups' verdict means for API
/// Gateway, whose endpoint addresses are not knowable; `None` when a
/// prefix list could not be read.
fn enforced_verdict(
    lb: &LoadBalancer,
    e: &sg::SgEvaluation,
    enforcement: Option<&str>,
    port_set: &PortSet,
) -> Option<(Status, String)> {
    let state = match enforcement {
        Some(v) => format!("enforcement {v}"),
        None => {
            "enforcement not reported (on by default for an NLB with security groups)".to_string()
        }
    };
    let sgs = lb.security_groups.join(", ");
    let verdict = match e.verdict {
        SgVerdict::All => (
            Status::Pass,
            format!(
                "NLB {} evaluates inbound rules on PrivateLink traffic ({state}) and its security groups {sgs} admit TCP {port_set} from any source.",
                lb.arn
            ),
        ),
        SgVerdict::None => (
            Status::Fail,
            format!(
                "NLB {} evaluates inbound rules on PrivateLink traffic ({state}) but its security groups {sgs} admit no TCP {port_set}, so API Gateway's requests are dropped; turn enforcement off or admit the port.",
                lb.arn
            ),
        ),
        SgVerdict::Partial => (
            Status::Warn,
            format!(
                "NLB {} evaluates inbound rules on PrivateLink traffic ({state}) and its security groups {sgs} admit TCP {port_set} from only some sources, while API Gateway's endpoint addresses are not knowable; turn enforcement off or admit any source.",
                lb.arn
            ),
        ),
        SgVerdict::Unknown => return None,
    };
    Some(verdict)
}
