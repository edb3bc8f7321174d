//! `vpc-link-status`: the VPC link a route goes through is AVAILABLE.

use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::{Findings, private_routes};
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::view::{LinkVersion, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "vpc-link-status",
        title: "VPC link is AVAILABLE",
        severity: Severity::Critical,
        explains: &[
            "Execution failed due to configuration error: There was an internal error while executing your request",
            "HTTP 500 {\"message\": \"Internal server error\"}",
        ],
        remediation: "Read the VPC link's statusMessage; fix what it names (a deleted or replaced load balancer, missing permissions, subnet or security group problems), then delete and recreate the VPC link and point the integration at it.",
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
        let arn = view.vpc_link_arn(&link.id);
        let name = link
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let why = link
            .status_message
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(|m| format!(" with message \"{}\"", m.trim_end_matches('.')))
            .unwrap_or_default();
        let (status, message) = match link.status.as_deref() {
            Some("AVAILABLE") => (
                Status::Pass,
                format!("VPC link {}{name} is AVAILABLE.", link.id),
            ),
            Some("PENDING") => (
                Status::Warn,
                format!(
                    "VPC link {}{name} is PENDING{why}; requests fail until it is AVAILABLE.",
                    link.id
                ),
            ),
            Some(s @ ("FAILED" | "DELETING")) => (
                Status::Fail,
                format!(
                    "VPC link {}{name} is {s}{why}; requests through it fail with HTTP 500 until it is AVAILABLE.",
                    link.id
                ),
            ),
            Some(other) => (
                Status::Fail,
                format!(
                    "VPC link {}{name} is in state {other}{why}; it needs to be AVAILABLE.",
                    link.id
                ),
            ),
            None => (
                Status::Error,
                format!(
                    "VPC link {}{name} was read without a status, so this check cannot decide.",
                    link.id
                ),
            ),
        };
        out.add(
            Finding::new(meta, status, arn, message)
                .routes([rp.label.clone()])
                .evidence(json!({
                    "vpc_link_id": link.id,
                    "status": link.status,
                    "status_message": link.status_message,
                    "target_arns": link.target_arns,
                })),
        );
    }
}
