//! `target-health`: every target group behind the listener a route reaches
//! has a healthy target.
//!
//! No healthy target fails (an NLB with none fails open to every target, so
//! requests go to targets known to be failing); some targets not healthy
//! warns, with the states and reason codes AWS gives.

use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::Findings;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::hops::{DeadEnd, v1_target_groups};
use crate::model::{TargetGroup, TargetHealth};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "target-health",
        title: "Target groups have healthy targets",
        severity: Severity::High,
        explains: &[
            "Execution failed due to configuration error: There was an internal error while executing your request",
            "Execution failed due to a timeout error",
            "HTTP 504 {\"message\": \"Endpoint request timed out\"}",
        ],
        remediation: "Register targets in the target group and make them pass health checks: read each reason code (Target.FailedHealthChecks: the health check path or port fails; Target.Timeout: security groups or NACLs drop the health check; Target.NotInUse: the target's Availability Zone is not enabled on the load balancer; Target.NotRegistered: nothing is registered).",
        aliases: &[],
    },
    run,
};

fn run(view: &StageView, out: &mut Findings) {
    let meta = &CHECK.meta;
    let walk = v1_target_groups(view, out);
    for dead in &walk.dead_ends {
        let f = match dead {
            DeadEnd::NoForward { listener, route } => Finding::new(
                meta,
                Status::Fail,
                &listener.arn,
                format!(
                    "Listener {} forwards to no target group, so requests have nowhere to go; it needs a forward action to a target group with healthy targets.",
                    listener.arn
                ),
            )
            .routes([route.clone()])
            .evidence(json!({ "listener_arn": listener.arn, "default_actions": listener.default_actions })),
            DeadEnd::MissingGroup { arn, route } => Finding::new(
                meta,
                Status::Fail,
                *arn,
                format!("The listener forwards to target group {arn}, which does not exist; it needs an existing target group."),
            )
            .routes([route.clone()])
            .evidence(json!({ "target_group_arn": arn, "exists": false })),
        };
        out.add(f);
    }
    for hop in walk.hops {
        match view.target_health(hop.tg) {
            Ok(targets) => out.add(judge(hop.tg, targets).routes(hop.routes)),
            Err(b) => out.blocked(&b, &hop.routes.into_iter().collect::<Vec<_>>()),
        }
    }
}

/// The verdict on one target group's health.
pub fn judge(tg: &TargetGroup, targets: &[TargetHealth]) -> Finding {
    let meta = &CHECK.meta;
    let name = tg.name.as_deref().unwrap_or(&tg.arn);
    let healthy = targets
        .iter()
        .filter(|t| t.state.as_deref() == Some("healthy"))
        .count();
    let others: Vec<String> = targets
        .iter()
        .filter(|t| t.state.as_deref() != Some("healthy"))
        .map(|t| {
            format!(
                "{}{} {}{}",
                t.target_id,
                t.port.map(|p| format!(":{p}")).unwrap_or_default(),
                t.state.as_deref().unwrap_or("unknown"),
                t.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let evidence = json!({
        "target_group_arn": tg.arn,
        "target_type": tg.target_type,
        "health_check": tg.health_check,
        "targets": targets,
        "healthy": healthy,
        "total": targets.len(),
    });
    let health_checks_off = tg.health_check.enabled == Some(false);
    let (status, message) = if targets.is_empty() {
        (
            Status::Fail,
            format!(
                "Target group {name} has no registered targets, so requests have nowhere to go; it needs at least one healthy target."
            ),
        )
    } else if healthy == targets.len() {
        (
            Status::Pass,
            format!(
                "All {} target(s) of target group {name} are healthy.",
                targets.len()
            ),
        )
    } else if healthy == 0
        && health_checks_off
        && targets
            .iter()
            .all(|t| t.state.as_deref() == Some("unavailable"))
    {
        (
            Status::Warn,
            format!(
                "Target group {name} has health checks disabled, so none of its {} target(s) is known to be healthy; the load balancer sends traffic to all of them blindly.",
                targets.len()
            ),
        )
    } else if healthy == 0 {
        (
            Status::Fail,
            format!(
                "Target group {name} has no healthy target ({}); it needs at least one healthy target.",
                others.join(", ")
            ),
        )
    } else {
        (
            Status::Warn,
            format!(
                "Target group {name} has {healthy} of {} target(s) healthy; the others are {}.",
                targets.len(),
                others.join(", ")
            ),
        )
    };
    Finding::new(meta, status, &tg.arn, message).evidence(evidence)
}
