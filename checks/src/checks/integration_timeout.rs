//! `integration-timeout`: each integration's `timeoutInMillis` is within
//! its API type's limit, and no ALB on the route closes the request's
//! connection before API Gateway gives up on it.
//!
//! Limits, from the API references (`Integration.timeoutInMillis`: "between
//! 50 and 29,000 milliseconds. The default value is 29,000 milliseconds ...
//! You can increase the default value to longer than 29 seconds for
//! Regional or private APIs only"; apigatewayv2 `TimeoutInMillis`: "between
//! 50 and 30,000 milliseconds for HTTP APIs ... The default timeout is ...
//! 30 seconds for HTTP APIs") and the quota tables (HTTP APIs: "Maximum
//! integration timeout | 30 seconds | No"; REST edge-optimized: 50 ms - 29 s,
//! not adjustable). A REST value above 29 s on a Regional or private API is
//! one API Gateway accepted under a raised quota, so it passes, saying so.
//!
//! An ALB answers 504 when "the load balancer established a connection to
//! the target, but the target didn't respond before the idle timeout period
//! elapsed" (knowledge center "eks-http-504-errors", which also gives the
//! ALB's default of 60 s), so an ALB idle timeout shorter than the
//! integration timeout cuts slow requests the integration would still wait
//! for. Whether requests are that slow is not
//! configuration: `warn`, naming both values.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{ApiKind, Fetched, LbType, Route};
use crate::toolkit::{self, CheckDef, Findings, Judgement, StageCtx, skip};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::IntegrationTimeout,
        title: "Integration timeouts fit the API and the next hop",
        severity: Severity::Medium,
        remediation: "Keep timeoutInMillis within the API type's limit (REST 50-29000 ms unless the account's quota was raised, for Regional and private APIs only; HTTP APIs 50-30000 ms), and raise the ALB's idle_timeout.timeout_seconds above the integration timeout (aws elbv2 modify-load-balancer-attributes --attributes Key=idle_timeout.timeout_seconds,Value=SECONDS).",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// REST's default and (without a raised quota) maximum, in ms.
pub const REST_DEFAULT_MS: i64 = 29_000;
/// HTTP APIs' default and fixed maximum, in ms.
pub const HTTP_MAX_MS: i64 = 30_000;
const MIN_MS: i64 = 50;

/// The timeout API Gateway applies to `route`, and whether it is the default.
pub fn effective_timeout_ms(kind: ApiKind, route: &Route) -> Option<(i64, bool)> {
    let i = route.integration.as_ref()?;
    if i.integration_type.eq_ignore_ascii_case("MOCK") {
        return None;
    }
    Some(match (i.timeout_ms, kind) {
        (Some(ms), _) => (ms, false),
        (None, ApiKind::Rest) => (REST_DEFAULT_MS, true),
        (None, ApiKind::Http) => (HTTP_MAX_MS, true),
    })
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = toolkit::all_routes(view, out) else {
        return;
    };
    let timed: BTreeMap<String, i64> = routes
        .iter()
        .filter_map(|r| effective_timeout_ms(view.api.kind, r).map(|(ms, _)| (r.label(), ms)))
        .collect();
    if timed.is_empty() {
        return out.add(skip(
            meta,
            &view.stage_arn,
            format!(
                "stage {} has no integration other than MOCK, which has no timeout to judge",
                view.stage.name
            ),
        ));
    }
    let mut j = Judgement::new();
    for r in routes {
        judge_limit(view, r, &mut j);
    }
    judge_albs(view, &timed, out, &mut j);
    let raised: Vec<&str> = timed
        .iter()
        .filter(|(_, ms)| view.api.kind == ApiKind::Rest && **ms > REST_DEFAULT_MS)
        .map(|(r, _)| r.as_str())
        .collect();
    let quota = if raised.is_empty() {
        String::new()
    } else {
        format!(
            " (routes {} wait longer than the {REST_DEFAULT_MS} ms default, which API Gateway accepts only under a raised account quota)",
            raised.join(", ")
        )
    };
    let pass = format!(
        "Every integration timeout of stage {} is within the {} API limit{quota} and no ALB on its VPC-link routes closes idle connections sooner.",
        view.stage.name,
        view.api.kind.as_str().to_uppercase()
    );
    out.add(j.finding(meta, &view.stage_arn, pass, json!({ "timeouts_ms": timed })));
}

/// The route's timeout against its API type's documented range.
fn judge_limit(view: &StageView, r: &Route, j: &mut Judgement) {
    let Some((ms, default)) = effective_timeout_ms(view.api.kind, r) else {
        return;
    };
    let label = r.label();
    let ev = || json!({ "route": label, "timeout_ms": ms, "default": default });
    // Whether the API is edge-optimized; `None` when its record is unreadable.
    let edge = match &view.api.info {
        Fetched::Ok(i) => Some(i.endpoint_types.iter().any(|t| t.eq_ignore_ascii_case("EDGE"))),
        _ => None,
    };
    let (status, sentence) = match view.api.kind {
        _ if ms < MIN_MS => (Status::Fail, format!(
            "Route {label} has an integration timeout of {ms} ms, below API Gateway's minimum of {MIN_MS} ms, so every call times out with 504; it needs at least {MIN_MS} ms")),
        ApiKind::Http if ms > HTTP_MAX_MS => (Status::Fail, format!(
            "Route {label} has an integration timeout of {ms} ms, above the HTTP API maximum of {HTTP_MAX_MS} ms, which cannot be raised; it needs at most {HTTP_MAX_MS} ms")),
        ApiKind::Rest if ms > REST_DEFAULT_MS && edge.is_none() => (Status::Warn, format!(
            "Route {label} has an integration timeout of {ms} ms, above the {REST_DEFAULT_MS} ms an edge-optimized API cannot exceed, and API {}'s endpoint type could not be read; calls slower than {REST_DEFAULT_MS} ms may end in 504", view.api.id)),
        ApiKind::Rest if ms > REST_DEFAULT_MS && edge == Some(true) => (Status::Warn, format!(
            "Route {label} has an integration timeout of {ms} ms on an edge-optimized API, whose limit of {REST_DEFAULT_MS} ms the quota table says cannot be raised; calls slower than {REST_DEFAULT_MS} ms are assumed to end in 504")),
        _ => (Status::Pass, String::new()),
    };
    j.push(status, sentence, ev);
}

/// Every ALB on the stage's routes against the longest integration
/// timeout of the routes through it.
fn judge_albs(view: &StageCtx, timed: &BTreeMap<String, i64>, out: &mut Findings, j: &mut Judgement) {
    if view.private_routes().map_or(true, |r| r.is_empty()) {
        return;
    }
    let w = out.walked(view);
    let mut albs: BTreeMap<&str, (&crate::model::LoadBalancer, BTreeSet<String>)> = BTreeMap::new();
    for hop in w.target_groups.iter().filter(|h| h.lb.lb_type == Some(LbType::Application)) {
        let e = albs.entry(hop.lb.arn.as_str()).or_insert((hop.lb, BTreeSet::new()));
        e.1.extend(hop.routes.iter().cloned());
    }
    for (arn, (alb, routes)) in albs {
        let Some((route, ms)) = routes
            .iter()
            .filter_map(|r| timed.get(r).map(|ms| (r, *ms)))
            .max_by_key(|(_, ms)| *ms)
        else {
            continue;
        };
        let (secs, src) = match super::idle_timeout::alb_idle(view, alb) {
            Ok(v) => v,
            Err(b) => {
                j.push_blocked(&b, "the ALB's idle timeout");
                continue;
            }
        };
        let ev = || json!({ "alb": alb.arn, "idle_timeout_seconds": secs, "source": src, "route": route, "timeout_ms": ms });
        if secs * 1000 < ms {
            j.push(Status::Warn, format!(
                "ALB {arn} closes a connection idle for {secs} s ({src}) while route {route} waits up to {ms} ms for its integration, so requests slower than {secs} s get 504 from the ALB; its idle timeout needs at least {} s",
                (ms + 999) / 1000
            ), ev);
        } else {
            j.push(Status::Pass, String::new(), ev);
        }
    }
}
