//! `idle-timeout`: no hop closes idle connections before the hop in front of
//! it does. An NLB keeps idle TCP flows for `tcp.idle_timeout.seconds`
//! (default 350 s; fixed at 350 s on TLS listeners); an ALB registered as
//! its target closes idle connections after its own
//! `idle_timeout.timeout_seconds` (default 60 s). When the ALB closes first,
//! the NLB keeps forwarding onto a dead connection and the request fails
//! with "Execution failed due to an internal error". An instance's or IP
//! target's keep-alive is not visible to AWS: `pass`, with the NLB's value
//! and the advice to keep the target's keep-alive longer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{LbType, Listener, LoadBalancer, Protocol, TargetType};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx};
use crate::view::{Hop, StageView};
use crate::walk::TargetGroupHop;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::IdleTimeout,
        title: "Downstream hops keep idle connections as long as the NLB",
        severity: Severity::Medium,
        remediation: "Raise the ALB's idle timeout (idle_timeout.timeout_seconds) above the NLB listener's tcp.idle_timeout.seconds (350 s by default), or lower the NLB's; for instance and IP targets, keep the server's keep-alive timeout longer than the NLB's idle timeout.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// The NLB's default TCP idle timeout, and the fixed one of TLS listeners.
pub const NLB_DEFAULT_IDLE: i64 = 350;
/// An ALB's default idle timeout.
pub const ALB_DEFAULT_IDLE: i64 = 60;

fn attr(map: Option<&BTreeMap<String, String>>, key: &str) -> Option<i64> {
    map.and_then(|m| m.get(key))
        .and_then(|v| v.trim().parse().ok())
}

/// An NLB listener's idle timeout in seconds, and where the value came from.
fn nlb_idle(view: &StageView, listener: &Listener) -> Hop<(i64, &'static str)> {
    if listener.protocol == Some(Protocol::Tls) {
        return Ok((NLB_DEFAULT_IDLE, "fixed for TLS listeners"));
    }
    let attrs = view.get::<res::ListenerAttributes>(
        &listener.arn,
        &listener.arn,
        &format!("the attributes of listener {}", listener.arn),
    )?;
    Ok(match attr(attrs, "tcp.idle_timeout.seconds") {
        Some(v) => (v, "tcp.idle_timeout.seconds"),
        None => (NLB_DEFAULT_IDLE, "the default"),
    })
}

fn alb_idle(view: &StageView, alb: &LoadBalancer) -> Hop<(i64, &'static str)> {
    let attrs = view.get::<res::LoadBalancerAttributes>(
        &alb.arn,
        &alb.arn,
        &format!("the attributes of {}", alb.arn),
    )?;
    Ok(match attr(attrs, "idle_timeout.timeout_seconds") {
        Some(v) => (v, "idle_timeout.timeout_seconds"),
        None => (ALB_DEFAULT_IDLE, "the default"),
    })
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let w = out.walked(view);
    out.skip_dead_ends(w);
    // Listener ARN -> (judgement, routes, what the pass message says).
    let mut acc: BTreeMap<String, (Judgement, BTreeSet<String>, String)> = BTreeMap::new();
    for hop in &w.target_groups {
        for listener in &hop.listeners {
            let entry = acc
                .entry(listener.arn.clone())
                .or_insert_with(|| (Judgement::new(), BTreeSet::new(), String::new()));
            entry.1.extend(hop.routes.iter().cloned());
            judge_listener(view, hop, listener, entry);
        }
    }
    for (arn, (j, routes, summary)) in acc {
        let worst = j.worst();
        let pass = format!(
            "{summary}, and no hop behind it is known to close idle connections sooner; keep the targets' keep-alive timeout longer than that."
        );
        let mut f = j.finding(meta, &arn, pass, json!({}));
        if worst == Some(Status::Pass) {
            f = f.remediation("Keep every target's keep-alive timeout longer than the load balancer's idle timeout, since AWS cannot see it.");
        }
        out.add(f.routes(routes));
    }
}

/// One listener a target group is reached through: an ALB's own idle
/// timeout is all AWS shows; an NLB's must not outlast the ALB behind it.
fn judge_listener(
    view: &StageView,
    hop: &TargetGroupHop,
    listener: &Listener,
    entry: &mut (Judgement, BTreeSet<String>, String),
) {
    let lb = hop.lb;
    if lb.lb_type != Some(LbType::Network) {
        // The first hop is an ALB: what its targets keep is not visible.
        match alb_idle(view, lb) {
            Ok((secs, src)) => {
                entry.2 = format!(
                    "ALB {} closes idle connections after {secs} s ({src})",
                    lb.arn
                );
                entry.0.push(
                    Status::Pass,
                    String::new(),
                    || json!({"load_balancer": lb.arn, "idle_timeout_seconds": secs, "source": src}),
                );
            }
            Err(b) => entry.0.push_blocked(&b, "the ALB's idle timeout"),
        }
        return;
    }
    let (nlb_secs, nlb_src) = match nlb_idle(view, listener) {
        Ok(v) => v,
        Err(b) => {
            entry.0.push_blocked(&b, "the NLB's idle timeout");
            return;
        }
    };
    entry.2 = format!(
        "NLB listener {} keeps idle flows for {nlb_secs} s ({nlb_src})",
        listener.arn
    );
    if hop.tg.target_type != Some(TargetType::Alb) {
        entry.0.push(
            Status::Pass,
            String::new(),
            || json!({"listener": listener.arn, "nlb_idle_timeout_seconds": nlb_secs, "source": nlb_src,
                   "next_hop": hop.tg.target_type, "next_hop_idle_timeout": "not visible to AWS"}),
        );
        return;
    }
    judge_albs_behind(view, hop, listener, (nlb_secs, nlb_src), &mut entry.0);
}

/// The ALBs an NLB's target group holds must keep idle connections at
/// least as long as the NLB keeps idle flows.
fn judge_albs_behind(
    view: &StageView,
    hop: &TargetGroupHop,
    listener: &Listener,
    (nlb_secs, nlb_src): (i64, &str),
    j: &mut Judgement,
) {
    let targets = match view.target_health(hop.tg) {
        Ok(t) => t,
        Err(b) => {
            j.push_blocked(&b, "the ALB behind the NLB");
            return;
        }
    };
    for t in targets {
        let alb = match view.load_balancer(&t.target_id) {
            Ok(a) => a,
            Err(b) => {
                j.push_blocked(&b, "the ALB's idle timeout");
                continue;
            }
        };
        match alb_idle(view, alb) {
            Ok((alb_secs, alb_src)) => {
                let ev = || {
                    json!({"listener": listener.arn, "nlb_idle_timeout_seconds": nlb_secs, "nlb_source": nlb_src,
                                "alb": alb.arn, "alb_idle_timeout_seconds": alb_secs, "alb_source": alb_src})
                };
                if alb_secs < nlb_secs {
                    j.push(
                        Status::Fail,
                        format!(
                            "ALB {} closes idle connections after {alb_secs} s ({alb_src}), before NLB listener {} forgets them after {nlb_secs} s ({nlb_src}), so requests on a reused flow fail; the ALB's idle timeout needs to exceed {nlb_secs} s",
                            alb.arn, listener.arn
                        ),
                        ev,
                    );
                } else {
                    j.push(Status::Pass, String::new(), ev);
                }
            }
            Err(b) => j.push_blocked(&b, "the ALB's idle timeout"),
        }
    }
}
