//! `vpc-link-status`: the VPC link a route goes through is AVAILABLE.
//!
//! v1 links: AVAILABLE, PENDING, DELETING, FAILED. v2 links add INACTIVE: a
//! link that carried no traffic for 60 days loses its network interfaces
//! until traffic resumes, and the first requests after that fail.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::VpcLinkStatus;
use crate::toolkit::{CheckDef, Findings, StageCtx, private_routes};
use crate::view::AnyLink;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::VpcLinkStatus,
        title: "VPC link is AVAILABLE",
        severity: Severity::Critical,
        remediation: "Read the VPC link's status message and fix what it names (a deleted or replaced load balancer, missing permissions, subnets or security groups); a FAILED link must be deleted and recreated, and the integration or stage variable pointed at the new one. An INACTIVE v2 link becomes AVAILABLE again once traffic resumes; send a request (or recreate it) before relying on it.",
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
        let link = match view.link(rp) {
            Ok(l) => l,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let (id, name, status, status_message, generation, evidence) = match link {
            AnyLink::V1(l) => (
                &l.id,
                &l.name,
                l.status.as_ref(),
                &l.status_message,
                "VPC link",
                json!({"vpc_link_id": l.id, "version": "v1", "status": l.status,
                       "status_message": l.status_message, "target_arns": l.target_arns}),
            ),
            AnyLink::V2(l) => (
                &l.id,
                &l.name,
                l.status.as_ref(),
                &l.status_message,
                "VPC link v2",
                json!({"vpc_link_id": l.id, "version": "v2", "status": l.status,
                       "status_message": l.status_message, "subnet_ids": l.subnet_ids,
                       "security_group_ids": l.security_group_ids}),
            ),
        };
        let arn = view.vpc_link_arn(id);
        let name = name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let why = status_message
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(|m| format!(" with message \"{}\"", m.trim_end_matches('.')))
            .unwrap_or_default();
        let (status, message) = verdict(&format!("{generation} {id}{name}"), status, &why);
        out.add(
            Finding::new(meta, status, arn, message)
                .routes([rp.label.clone()])
                .evidence(|| evidence),
        );
    }
}

/// What the link's status means for requests through it; `who` names the
/// link, `why` is AWS's status message, if any.
fn verdict(who: &str, status: Option<&VpcLinkStatus>, why: &str) -> (Status, String) {
    match status {
        Some(VpcLinkStatus::Available) => (Status::Pass, format!("{who} is AVAILABLE.")),
        Some(VpcLinkStatus::Pending) => (
            Status::Warn,
            format!("{who} is PENDING{why}; requests fail until it is AVAILABLE."),
        ),
        Some(VpcLinkStatus::Inactive) => (
            Status::Fail,
            format!(
                "{who} is INACTIVE{why}: a link with no traffic for 60 days loses its network interfaces until traffic resumes, so requests fail until it is AVAILABLE again."
            ),
        ),
        Some(s @ (VpcLinkStatus::Failed | VpcLinkStatus::Deleting)) => (
            Status::Fail,
            format!("{who} is {s}{why}; requests through it fail until it is AVAILABLE."),
        ),
        Some(other) => (
            Status::Fail,
            format!("{who} is in state {other}{why}; it needs to be AVAILABLE."),
        ),
        None => (
            Status::Error,
            format!("{who} was read without a status, so this check cannot decide."),
        ),
    }
}
