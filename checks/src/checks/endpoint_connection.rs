//! `endpoint-connection`: (VPC link v1) the NLB's VPC endpoint service exists
//! and API Gateway's endpoint connection to it is `available`.
//!
//! API Gateway reaches a v1 link's NLB through PrivateLink: it creates an
//! endpoint service for the NLB in your account and connects an interface
//! endpoint of its own to it. A connection someone rejected, or a service
//! someone deleted, breaks every route on the link while the link itself can
//! still read AVAILABLE.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{
    EndpointConnection, EndpointConnectionState, EndpointService, EndpointServiceState,
    LoadBalancer,
};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding, private_routes};
use crate::view::StageView;
use crate::walk::privatelink_nlb;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::EndpointConnection,
        title: "PrivateLink endpoint connection to the NLB is available",
        severity: Severity::Critical,
        remediation: "Accept the pending or rejected endpoint connection on the NLB's endpoint service (aws ec2 accept-vpc-endpoint-connections); if the endpoint service was deleted, delete and recreate the VPC link so API Gateway creates it again.",
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
        let lb = match privatelink_nlb(view, rp) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let svc = view.get::<res::EndpointService>(
            &lb.arn,
            &lb.arn,
            &format!("the endpoint service of {}", lb.arn),
        );
        let f = match svc {
            Err(b) => blocked_finding(meta, &b),
            Ok(None) => Finding::new(
                meta,
                Status::Fail,
                &lb.arn,
                format!(
                    "No VPC endpoint service fronts network load balancer {}, so API Gateway has no PrivateLink path to it; the VPC link needs one.",
                    lb.arn
                ),
            )
            .evidence(|| json!({ "load_balancer_arn": lb.arn, "endpoint_service": null })),
            Ok(Some(svc)) => judge_service(view, lb, svc),
        };
        out.add(f.routes([rp.label.clone()]));
    }
}

/// The finding on the endpoint service fronting the NLB: API Gateway's
/// endpoint connects through it, so it and a connection must be available.
fn judge_service(view: &StageView, lb: &LoadBalancer, svc: &EndpointService) -> Finding {
    let meta = &CHECK.meta;
    let svc_arn = view.ec2_arn("vpc-endpoint-service", &svc.service_id, None);
    let conns = view.get::<res::EndpointConnections>(
        &svc.service_id,
        &svc_arn,
        &format!("the endpoint connections of {}", svc.service_id),
    );
    match conns {
        Err(b) => blocked_finding(meta, &b),
        // A service AWS says has no connection list: none.
        Ok(None) => Finding::new(
            meta,
            Status::Fail,
            &svc_arn,
            format!(
                "Endpoint service {} of NLB {} has no endpoint connection, so API Gateway is not connected; it needs an available connection.",
                svc.service_id, lb.arn
            ),
        ),
        Ok(Some(conns)) => {
            let evidence = || {
                json!({
                    "load_balancer_arn": lb.arn,
                    "service_id": svc.service_id,
                    "service_name": svc.service_name,
                    "service_state": svc.state,
                    "acceptance_required": svc.acceptance_required,
                    "connections": conns,
                })
            };
            let (status, message) = connections_verdict(lb, svc, conns);
            Finding::new(meta, status, svc_arn, message).evidence(evidence)
        }
    }
}

/// The service's state and its connections' states, worst first.
fn connections_verdict(
    lb: &LoadBalancer,
    svc: &EndpointService,
    conns: &[EndpointConnection],
) -> (Status, String) {
    let states: Vec<String> = conns
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.vpc_endpoint_id.as_deref().unwrap_or("(unnamed endpoint)"),
                c.state
                    .as_ref()
                    .map_or("unknown", EndpointConnectionState::as_str)
            )
        })
        .collect();
    let available = conns
        .iter()
        .filter(|c| c.state == Some(EndpointConnectionState::Available))
        .count();
    let svc_state = svc
        .state
        .as_ref()
        .map_or("unknown", EndpointServiceState::as_str);
    if svc.state != Some(EndpointServiceState::Available) {
        (
            Status::Fail,
            format!(
                "Endpoint service {} of NLB {} is {svc_state}; it needs to be Available for API Gateway to connect.",
                svc.service_id, lb.arn
            ),
        )
    } else if conns.is_empty() {
        (
            Status::Fail,
            format!(
                "Endpoint service {} of NLB {} has no endpoint connection, so API Gateway is not connected; it needs an available connection.",
                svc.service_id, lb.arn
            ),
        )
    } else if available == 0 {
        (
            Status::Fail,
            format!(
                "Endpoint service {} of NLB {} has no available endpoint connection (found: {}); API Gateway's connection needs to be available.",
                svc.service_id,
                lb.arn,
                states.join(", ")
            ),
        )
    } else if available < conns.len() {
        (
            Status::Warn,
            format!(
                "Endpoint service {} of NLB {} has {available} available connection(s) but also others not available (found: {}); if one of those is API Gateway's, its requests fail.",
                svc.service_id,
                lb.arn,
                states.join(", ")
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "Endpoint service {} of NLB {} is Available and its endpoint connection(s) are available ({}).",
                svc.service_id,
                lb.arn,
                states.join(", ")
            ),
        )
    }
}
