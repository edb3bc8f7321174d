//! `target-health`: every target group behind the listener a route reaches
//! (through ALB rules and NLB -> ALB chains too) has a healthy target, and
//! every Cloud Map service an HTTP API integrates with has a healthy
//! instance.
//!
//! No healthy target fails (an NLB with none fails open to every target, so
//! requests go to targets known to be failing); some targets not healthy
//! warns, with the states and reason codes AWS gives. Behind an NLB without
//! cross-zone load balancing, a zone with no healthy target warns too (see
//! [`zones`]).

mod zones;

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{CloudMapHealth, CloudMapService, TargetGroup, TargetHealth, TargetHealthState};
use crate::toolkit::{CheckDef, Findings, StageCtx};
use crate::walk::DeadEnd;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::TargetHealth,
        title: "Target groups have healthy targets",
        severity: Severity::High,
        remediation: "Register targets in the target group and make them pass health checks: read each reason code (Target.FailedHealthChecks or Target.ResponseCodeMismatch: the health check path or port fails; Target.Timeout: security groups or NACLs drop the health check; Target.NotInUse: the target's Availability Zone is not enabled on the load balancer; Target.NotRegistered: nothing is registered). For Cloud Map, register instances and make their health checks pass.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let w = out.walked(view);
    for dead in &w.dead_ends {
        let f = match dead {
            DeadEnd::NoForward { listener, route } => Finding::new(
                meta,
                Status::Fail,
                &listener.arn,
                format!(
                    "Listener {} forwards to no target group with traffic, so requests have nowhere to go; it needs a forward action to a target group with healthy targets.",
                    listener.arn
                ),
            )
            .routes([route.clone()])
            .evidence(|| json!({ "listener_arn": listener.arn, "default_actions": listener.default_actions })),
            DeadEnd::MissingGroup { arn, route } => Finding::new(
                meta,
                Status::Fail,
                *arn,
                format!("The listener forwards to target group {arn}, which does not exist; it needs an existing target group."),
            )
            .routes([route.clone()])
            .evidence(|| json!({ "target_group_arn": arn, "exists": false })),
        };
        out.add(f);
    }
    for hop in &w.target_groups {
        let routes: Vec<String> = hop.routes.iter().cloned().collect();
        zones::ask_ahead(view, hop);
        match view.target_health(hop.tg) {
            Ok(targets) => {
                let f = judge(hop.tg, targets);
                out.add(zones::judge(view, hop, targets, f).routes(routes))
            }
            Err(b) => out.blocked(&b, &routes),
        }
    }
    for hop in &w.cloud_map {
        out.add(judge_cloud_map(hop.service).routes(hop.routes.iter().cloned()));
    }
}

/// The verdict on one target group's health.
/// A target as messages name it: id, port, state and AWS's reason.
fn describe_target(t: &TargetHealth) -> String {
    format!(
        "{}{} {}{}",
        t.target_id,
        t.port.map(|p| format!(":{p}")).unwrap_or_default(),
        t.state
            .as_ref()
            .map_or("unknown", TargetHealthState::as_str),
        t.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )
}

pub fn judge(tg: &TargetGroup, targets: &[TargetHealth]) -> Finding {
    let meta = &CHECK.meta;
    let healthy = targets
        .iter()
        .filter(|t| t.state == Some(TargetHealthState::Healthy))
        .count();
    let evidence = || {
        json!({
            "target_group_arn": tg.arn,
            "target_type": tg.target_type,
            "health_check": tg.health_check,
            "targets": targets,
            "healthy": healthy,
            "total": targets.len(),
        })
    };
    let (status, fix, message) = verdict(tg, targets);
    let f = Finding::new(meta, status, &tg.arn, message).evidence(evidence);
    match fix {
        Some(fix) => f.remediation(fix),
        None => f,
    }
}

/// What to change when every serving target is healthy on a port traffic
/// does not go to (the check's own remediation is about unhealthy ones).
const PROBE_THE_TRAFFIC_PORT: &str = "Point the target group's health check at the traffic port (aws elbv2 modify-target-group --health-check-port traffic-port), or make sure the port it probes fails whenever the traffic port does.";

/// A verdict's status, a remediation of its own where the check's does not
/// fit, and its sentence.
type Verdict = (Status, Option<&'static str>, String);

/// A target that takes new requests. "The load balancer stops routing
/// requests to a target as soon as it is deregistered" (draining), and an
/// `unused` one is not registered, not used by a rule, stopped or in a zone
/// that is not enabled (ALB guide, "Health checks for your target groups",
/// target health states): neither is a path.
fn serves(t: &TargetHealth) -> bool {
    !matches!(
        t.state,
        Some(TargetHealthState::Draining | TargetHealthState::Unused)
    )
}

/// The health-check port when it is not the port traffic goes to, which
/// makes a healthy target prove nothing about the traffic port.
fn probed_elsewhere(tg: &TargetGroup, t: &TargetHealth) -> Option<u16> {
    let port = t
        .health_check_port
        .as_deref()
        .or(tg.health_check.port.as_deref())?;
    let port = port.parse::<u16>().ok()?;
    (Some(port) != t.port.or(tg.port)).then_some(port)
}

/// The status and sentence on one target group's targets.
fn verdict(tg: &TargetGroup, targets: &[TargetHealth]) -> Verdict {
    let name = tg.name.as_deref().unwrap_or(&tg.arn);
    let serving: Vec<&TargetHealth> = targets.iter().filter(|t| serves(t)).collect();
    let is = |t: &&TargetHealth, s: TargetHealthState| t.state == Some(s);
    let healthy = serving.iter().filter(|t| is(t, TargetHealthState::Healthy)).count();
    let others: Vec<String> = targets
        .iter()
        .filter(|t| t.state != Some(TargetHealthState::Healthy))
        .map(describe_target)
        .collect();
    let listed = others.join(", ");
    if targets.is_empty() {
        return (Status::Fail, None, format!(
            "Target group {name} has no registered targets, so requests have nowhere to go; it needs at least one healthy target."
        ));
    }
    if serving.is_empty() {
        return (Status::Fail, None, format!(
            "Target group {name} has no target that takes new requests ({listed}); draining and unused targets get none, so it needs at least one healthy registered target."
        ));
    }
    if healthy == serving.len() {
        return all_healthy(tg, name, &serving, &others);
    }
    if healthy == 0 && serving.iter().all(|t| is(t, TargetHealthState::Unavailable)) && tg.health_check.enabled == Some(false) {
        return (Status::Warn, None, format!(
            "Target group {name} has health checks disabled, so none of its {} target(s) is known to be healthy; the load balancer sends traffic to all of them blindly.",
            serving.len()
        ));
    }
    if healthy == 0 && serving.iter().all(|t| is(t, TargetHealthState::Initial)) {
        return (Status::Warn, None, format!(
            "Target group {name} has only targets still in their initial health checks ({listed}), so none is proven healthy yet; look again once registration finishes."
        ));
    }
    if healthy == 0 {
        return (Status::Fail, None, format!(
            "Target group {name} has no healthy target ({listed}); it needs at least one healthy target."
        ));
    }
    (Status::Warn, None, format!(
        "Target group {name} has {healthy} of {} serving target(s) healthy; the others are {listed}.",
        serving.len()
    ))
}

/// Every serving target healthy: a pass, unless the health check probes a
/// port traffic does not go to.
fn all_healthy(tg: &TargetGroup, name: &str, serving: &[&TargetHealth], others: &[String]) -> Verdict {
    if let Some((t, port)) = serving.iter().find_map(|t| probed_elsewhere(tg, t).map(|p| (t, p))) {
        let traffic = t.port.or(tg.port).map_or("unknown".to_string(), |p| p.to_string());
        return (Status::Warn, Some(PROBE_THE_TRAFFIC_PORT), format!(
            "All {} serving target(s) of target group {name} pass a health check on port {port}, but traffic goes to port {traffic}, so nothing proves they answer there; point the health check at the traffic port.",
            serving.len()
        ));
    }
    let aside = if others.is_empty() {
        String::new()
    } else {
        format!(" ({} take no new requests: {})", others.len(), others.join(", "))
    };
    (Status::Pass, None, format!(
        "All {} serving target(s) of target group {name} are healthy{aside}.",
        serving.len()
    ))
}

/// The verdict on a Cloud Map service's instances. API Gateway discovers
/// only healthy instances when the service checks health; without health
/// checks every registered instance is served.
pub fn judge_cloud_map(svc: &CloudMapService) -> Finding {
    let meta = &CHECK.meta;
    let name = svc.name.as_deref().unwrap_or(&svc.id);
    let total = svc.instances.len();
    let healthy = svc
        .instances
        .iter()
        .filter(|i| i.health == Some(CloudMapHealth::Healthy))
        .count();
    let others: Vec<String> = svc
        .instances
        .iter()
        .filter(|i| i.health != Some(CloudMapHealth::Healthy))
        .map(|i| {
            format!(
                "{} {}",
                i.id,
                i.health.as_ref().map_or("UNKNOWN", CloudMapHealth::as_str)
            )
        })
        .collect();
    let evidence = || json!({ "service": svc });
    let (status, message) = if total == 0 {
        (
            Status::Fail,
            format!(
                "Cloud Map service {name} has no registered instance, so API Gateway discovers nowhere to send requests; it needs at least one healthy instance."
            ),
        )
    } else if svc.health_check.is_none() {
        (
            Status::Pass,
            format!(
                "Cloud Map service {name} has {total} instance(s) and checks no health, so all of them are served."
            ),
        )
    } else if healthy == total {
        (
            Status::Pass,
            format!("All {total} instance(s) of Cloud Map service {name} are healthy."),
        )
    } else if healthy == 0 {
        (
            Status::Fail,
            format!(
                "Cloud Map service {name} has no healthy instance ({}); it needs at least one healthy instance.",
                others.join(", ")
            ),
        )
    } else {
        (
            Status::Warn,
            format!(
                "Cloud Map service {name} has {healthy} of {total} instance(s) healthy; the others are {}.",
                others.join(", ")
            ),
        )
    };
    Finding::new(meta, status, &svc.arn, message).evidence(evidence)
}
