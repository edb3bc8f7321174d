//! `idle-timeout`: no hop closes idle connections before the hop in front of
//! it does. An NLB keeps idle TCP flows for `tcp.idle_timeout.seconds`
//! (default 350 s; fixed at 350 s on TLS listeners); an ALB registered as
//! its target closes idle connections after its own
//! `idle_timeout.timeout_seconds` (default 60 s). When the ALB closes first,
//! the NLB keeps forwarding onto a dead connection and the request fails
//! with "Execution failed due to an internal error". An instance's, IP's
//! or Lambda's keep-alive is not visible to AWS: such a hop is `skip` with
//! the advice to keep the target's keep-alive longer, never `pass`, and the
//! attributes that would only feed that advice are not read. (NLB guide,
//! "Update the TCP idle timeout": 350 s by default, 60-6000 s on TCP
//! listeners, 350 s and not modifiable on TLS listeners.)

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{LbType, Listener, LoadBalancer, Protocol, TargetType};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, skip};
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

/// An ALB's idle timeout in seconds (`idle_timeout.timeout_seconds`, else
/// the default), and where the value came from.
pub fn alb_idle(view: &StageView, alb: &LoadBalancer) -> Hop<(i64, &'static str)> {
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

/// What one listener's paths add up to: the verdicts of the hops AWS shows
/// both sides of, and the hops whose far side it cannot see.
#[derive(Default)]
struct ListenerVerdict {
    judged: Judgement,
    routes: BTreeSet<String>,
    summary: String,
    /// One sentence per target group whose targets' keep-alive AWS does
    /// not show, with the timeout they must outlast.
    unseen: BTreeSet<String>,
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let w = out.walked(view);
    out.skip_dead_ends(w);
    let mut acc: BTreeMap<String, ListenerVerdict> = BTreeMap::new();
    for hop in &w.target_groups {
        for listener in &hop.listeners {
            let entry = acc.entry(listener.arn.clone()).or_default();
            entry.routes.extend(hop.routes.iter().cloned());
            judge_listener(view, hop, listener, entry);
        }
    }
    for (arn, v) in acc {
        let unseen: Vec<&str> = v.unseen.iter().map(String::as_str).collect();
        let f = if v.judged.is_empty() {
            // Nothing both sides of which AWS shows: never a pass.
            skip(meta, &arn, unseen.join("; "))
                .remediation("Keep every target's keep-alive timeout longer than the load balancer's idle timeout, since AWS cannot see it.")
        } else {
            let also = if unseen.is_empty() {
                String::new()
            } else {
                format!(" ({})", unseen.join("; "))
            };
            let pass = format!(
                "{}, and the ALB behind it keeps idle connections at least as long{also}.",
                v.summary
            );
            v.judged.finding(meta, &arn, pass, json!({}))
        };
        out.add(f.routes(v.routes));
    }
}

/// One listener a target group is reached through. Only an NLB in front of
/// an ALB shows both sides of a hop; an instance's, IP's or Lambda's
/// keep-alive is not visible to AWS, so those hops are recorded as unseen
/// (and their attributes not read, since no verdict needs them).
fn judge_listener(
    view: &StageView,
    hop: &TargetGroupHop,
    listener: &Listener,
    entry: &mut ListenerVerdict,
) {
    let lb = hop.lb;
    let behind = hop
        .tg
        .target_type
        .as_ref()
        .map(|t| t.as_str().to_string())
        .unwrap_or_else(|| "unknown-type".to_string());
    if lb.lb_type != Some(LbType::Network) {
        entry.unseen.insert(format!(
            "the keep-alive of target group {}'s {behind} targets is not visible to AWS, so whether they outlast ALB {}'s idle timeout (idle_timeout.timeout_seconds, {ALB_DEFAULT_IDLE} s by default) cannot be judged",
            hop.tg.arn, lb.arn
        ));
        return;
    }
    if hop.tg.target_type != Some(TargetType::Alb) {
        let nlb = if listener.protocol == Some(Protocol::Tls) {
            format!("NLB listener {}'s idle timeout ({NLB_DEFAULT_IDLE} s, fixed for TLS listeners)", listener.arn)
        } else {
            format!("NLB listener {}'s tcp.idle_timeout.seconds ({NLB_DEFAULT_IDLE} s by default)", listener.arn)
        };
        entry.unseen.insert(format!(
            "the keep-alive of target group {}'s {behind} targets is not visible to AWS, so whether they outlast {nlb} cannot be judged",
            hop.tg.arn
        ));
        return;
    }
    let (nlb_secs, nlb_src) = match nlb_idle(view, listener) {
        Ok(v) => v,
        Err(b) => {
            entry.judged.push_blocked(&b, "the NLB's idle timeout");
            return;
        }
    };
    entry.summary = format!(
        "NLB listener {} keeps idle flows for {nlb_secs} s ({nlb_src})",
        listener.arn
    );
    judge_albs_behind(view, hop, listener, (nlb_secs, nlb_src), &mut entry.judged);
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
