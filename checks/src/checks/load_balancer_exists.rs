//! `load-balancer-exists`: the load balancer a route's integration reaches
//! (the v1 link's NLB, a REST integration target, or the load balancer of an
//! HTTP API's listener ARN) exists, is of a type that link accepts, and is
//! active.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{LbState, LbType, LoadBalancer};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding, private_routes, skip};
use crate::view::{Front, RouteTarget};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::LoadBalancerExists,
        title: "Load balancer exists and is active",
        severity: Severity::Critical,
        remediation: "Recreate the load balancer (or pick the one that replaced it): a VPC link v1 cannot be repointed, so create a new link targeting its ARN and update the integrations or stage variable; for VPC link v2, update the integration's target or listener ARN. Then redeploy the stage.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for rp in routes {
        let target = match view.route_target(rp) {
            Ok(RouteTarget::Lb(t)) => t,
            Ok(RouteTarget::CloudMap { service_arn, .. }) => {
                out.add(
                    skip(meta, &service_arn, format!("{} integrates with Cloud Map service {service_arn}, not a load balancer",
                            rp.label
                        ))
                    .routes([rp.label.clone()]),
                );
                continue;
            }
            Err(b) => {
                // A v1 link without a target is this check's failure.
                let f = match view.link(rp) {
                    Ok(crate::view::AnyLink::V1(l)) if l.target_arns.is_empty() => Finding::new(
                        meta,
                        Status::Fail,
                        view.vpc_link_arn(&l.id),
                        format!(
                            "VPC link {} targets no load balancer; it needs the ARN of a network load balancer.",
                            l.id
                        ),
                    ),
                    _ => blocked_finding(meta, &b),
                };
                out.add(f.routes([rp.label.clone()]));
                continue;
            }
        };
        let arn = target.lb_arn.as_str();
        let v1 = matches!(target.front, Front::PrivateLink);
        let found = view.get::<res::LoadBalancer>(arn, arn, &format!("load balancer {arn}"));
        let f = match found {
            Err(b) => blocked_finding(meta, &b),
            Ok(None) => Finding::new(
                meta,
                Status::Fail,
                arn,
                format!(
                    "{} reaches load balancer {arn}, which no longer exists; it needs an existing load balancer.",
                    target.via
                ),
            )
            .evidence(|| json!({ "load_balancer_arn": arn, "exists": false, "via": target.via })),
            Ok(Some(lb)) => judge(lb, arn, v1, &target.via),
        };
        out.add(f.routes([rp.label.clone()]));
    }
}

/// A load balancer that exists: of a type the link can reach, and active.
fn judge(lb: &LoadBalancer, arn: &str, v1: bool, via: &str) -> Finding {
    let meta = &CHECK.meta;
    let lb_type = lb.lb_type.as_ref().map_or("unknown", LbType::as_str);
    let evidence = || {
        json!({
            "load_balancer_arn": lb.arn,
            "type": lb.lb_type,
            "state": lb.state,
            "state_reason": lb.state_reason,
            "via": via,
        })
    };
    let (status, message) = if v1 && lb.lb_type != Some(LbType::Network) {
        (
            Status::Fail,
            format!(
                "{} targets {arn}, a load balancer of type {lb_type}; a VPC link (v1) needs a network load balancer.",
                via
            ),
        )
    } else if !v1 && !matches!(lb.lb_type, Some(LbType::Network | LbType::Application)) {
        (
            Status::Fail,
            format!(
                "{} reaches {arn}, a load balancer of type {lb_type}; a VPC link v2 needs an application or network load balancer.",
                via
            ),
        )
    } else {
        match &lb.state {
            Some(LbState::Active) => (
                Status::Pass,
                format!("Load balancer {arn} exists and is active."),
            ),
            Some(s @ (LbState::Provisioning | LbState::ActiveImpaired)) => (
                Status::Warn,
                format!("Load balancer {arn} is {s}; it serves reliably only when active."),
            ),
            Some(s) => (
                Status::Fail,
                format!(
                    "Load balancer {arn} is {s}{}; it needs to be active.",
                    lb.state_reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
            ),
            None => (
                Status::Error,
                format!(
                    "Load balancer {arn} was read without a state, so this check cannot decide."
                ),
            ),
        }
    };
    Finding::new(meta, status, arn, message).evidence(evidence)
}
