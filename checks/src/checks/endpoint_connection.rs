//! `endpoint-connection`: (VPC link v1) the NLB's VPC endpoint service exists
//! and API Gateway's endpoint connection to it is `available`.
//!
//! API Gateway reaches a v1 link's NLB through PrivateLink: it creates an
//! endpoint service for the NLB in your account and connects an interface
//! endpoint of its own to it. A connection someone rejected, or a service
//! someone deleted, breaks every route on the link while the link itself can
//! still read AVAILABLE.

use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::{Findings, private_routes};
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::Fetched;
use crate::view::{LinkVersion, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "endpoint-connection",
        title: "PrivateLink endpoint connection to the NLB is available",
        severity: Severity::Critical,
        explains: &[
            "Execution failed due to configuration error: There was an internal error while executing your request",
            "HTTP 500 {\"message\": \"Internal server error\"}",
        ],
        remediation: "Accept the pending or rejected endpoint connection on the NLB's endpoint service (aws ec2 accept-vpc-endpoint-connections); if the endpoint service was deleted, delete and recreate the VPC link so API Gateway creates it again.",
        aliases: &[],
    },
    run,
};

fn run(view: &StageView, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for rp in routes {
        if rp.link.version != LinkVersion::V1 {
            continue;
        }
        let lb = match view.link_v1_load_balancer(rp) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let f = match view.region.endpoint_services.get(&lb.arn) {
            None => Finding::from_failure(
                meta,
                &lb.arn,
                &format!("the endpoint service of {}", lb.arn),
                &crate::model::Failure {
                    operation: "ec2:DescribeVpcEndpointServiceConfigurations".into(),
                    iam_action: None,
                    kind: crate::model::FailureKind::Malformed,
                    code: None,
                    message: "the snapshot holds no result for it".into(),
                },
            ),
            Some(Fetched::Error(f)) => {
                Finding::from_failure(meta, &lb.arn, &format!("the endpoint service of {}", lb.arn), f)
            }
            Some(Fetched::NotFound(_)) => Finding::new(
                meta,
                Status::Fail,
                &lb.arn,
                format!(
                    "No VPC endpoint service fronts network load balancer {}, so API Gateway has no PrivateLink path to it; the VPC link needs one.",
                    lb.arn
                ),
            )
            .evidence(json!({ "load_balancer_arn": lb.arn, "endpoint_service": null })),
            Some(Fetched::Ok(svc)) => {
                let svc_arn = view.ec2_arn("vpc-endpoint-service", &svc.service_id, None);
                match view.region.endpoint_connections.get(&svc.service_id) {
                    None => Finding::from_failure(
                        meta,
                        &svc_arn,
                        &format!("the endpoint connections of {}", svc.service_id),
                        &crate::model::Failure {
                            operation: "ec2:DescribeVpcEndpointConnections".into(),
                            iam_action: None,
                            kind: crate::model::FailureKind::Malformed,
                            code: None,
                            message: "the snapshot holds no result for it".into(),
                        },
                    ),
                    Some(Fetched::Error(f)) | Some(Fetched::NotFound(f)) => Finding::from_failure(
                        meta,
                        &svc_arn,
                        &format!("the endpoint connections of {}", svc.service_id),
                        f,
                    ),
                    Some(Fetched::Ok(conns)) => {
                        let states: Vec<String> = conns
                            .iter()
                            .map(|c| {
                                format!(
                                    "{} {}",
                                    c.vpc_endpoint_id.as_deref().unwrap_or("(unnamed endpoint)"),
                                    c.state.as_deref().unwrap_or("unknown")
                                )
                            })
                            .collect();
                        let available = conns
                            .iter()
                            .filter(|c| c.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("available")))
                            .count();
                        let evidence = json!({
                            "load_balancer_arn": lb.arn,
                            "service_id": svc.service_id,
                            "service_name": svc.service_name,
                            "service_state": svc.state,
                            "acceptance_required": svc.acceptance_required,
                            "connections": conns,
                        });
                        let svc_state = svc.state.as_deref().unwrap_or("unknown");
                        let (status, message) = if !svc_state.eq_ignore_ascii_case("available") {
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
                        };
                        Finding::new(meta, status, svc_arn, message).evidence(evidence)
                    }
                }
            }
        };
        out.add(f.routes([rp.label.clone()]));
    }
}
