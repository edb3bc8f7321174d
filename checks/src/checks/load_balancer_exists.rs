//! `load-balancer-exists`: the load balancer a VPC link targets exists, is a
//! network load balancer (VPC link v1 accepts nothing else) and is active.

use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::{Findings, private_routes};
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::Fetched;
use crate::view::{LinkVersion, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "load-balancer-exists",
        title: "Load balancer exists and is active",
        severity: Severity::Critical,
        explains: &[
            "Execution failed due to configuration error: There was an internal error while executing your request",
            "HTTP 500 {\"message\": \"Internal server error\"}",
        ],
        remediation: "Recreate the load balancer (or pick the one that replaced it) and create a VPC link targeting its ARN; a VPC link cannot be repointed, so update the integrations or the stage variable to the new link and redeploy.",
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
        let link = match view.link_v1(rp) {
            Ok(l) => l,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let Some(arn) = link.target_arns.first() else {
            out.add(
                Finding::new(
                    meta,
                    Status::Fail,
                    view.vpc_link_arn(&link.id),
                    format!(
                        "VPC link {} targets no load balancer; it needs the ARN of a network load balancer.",
                        link.id
                    ),
                )
                .routes([rp.label.clone()])
                .evidence(json!({ "vpc_link_id": link.id, "target_arns": link.target_arns })),
            );
            continue;
        };
        let f = match view.region.load_balancers.get(arn.as_str()) {
            Some(Fetched::Ok(lb)) => {
                let lb_type = lb.lb_type.as_deref().unwrap_or("unknown");
                let state = lb.state.as_deref();
                let evidence = json!({
                    "vpc_link_id": link.id,
                    "load_balancer_arn": lb.arn,
                    "type": lb.lb_type,
                    "state": lb.state,
                    "state_reason": lb.state_reason,
                });
                let (status, message) = if lb_type != "network" {
                    (
                        Status::Fail,
                        format!(
                            "VPC link {} targets {arn}, a load balancer of type {lb_type}; a VPC link (v1) needs a network load balancer.",
                            link.id
                        ),
                    )
                } else {
                    match state {
                        Some("active") => (Status::Pass, format!("Network load balancer {arn} exists and is active.")),
                        Some(s @ ("provisioning" | "active_impaired")) => (
                            Status::Warn,
                            format!("Network load balancer {arn} is {s}; it serves reliably only when active."),
                        ),
                        Some(s) => (
                            Status::Fail,
                            format!(
                                "Network load balancer {arn} is {s}{}; it needs to be active.",
                                lb.state_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
                            ),
                        ),
                        None => (
                            Status::Error,
                            format!("Network load balancer {arn} was read without a state, so this check cannot decide."),
                        ),
                    }
                };
                Finding::new(meta, status, arn, message).evidence(evidence)
            }
            Some(Fetched::NotFound(_)) => Finding::new(
                meta,
                Status::Fail,
                arn,
                format!(
                    "VPC link {} targets load balancer {arn}, which no longer exists; the link needs an existing network load balancer.",
                    link.id
                ),
            )
            .evidence(json!({ "vpc_link_id": link.id, "load_balancer_arn": arn, "exists": false })),
            Some(Fetched::Error(f)) => Finding::from_failure(meta, arn, &format!("load balancer {arn}"), f),
            None => match view.load_balancer(arn) {
                Err(b) => {
                    out.blocked(&b, &[&rp.label]);
                    continue;
                }
                Ok(_) => continue,
            },
        };
        out.add(f.routes([rp.label.clone()]));
    }
}
