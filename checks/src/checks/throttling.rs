//! `throttling`: no route of the stage is throttled to 0 requests.
//!
//! Throttles are a token bucket; "the burst limit corresponds to the
//! maximum number of concurrent request submissions that API Gateway can
//! fulfill at any moment without returning 429 Too Many Requests"
//! (Developer Guide, "Throttle requests to your REST APIs"; the HTTP API
//! page says the same), so a burst of 0 serves none, and a rate of 0 never
//! refills the bucket. The guides call throttles "targets rather than
//! guaranteed request ceilings", which does not make 0 a usable limit.
//!
//! Method settings key an override `~1path~1to/METHOD` (the path's `/`
//! written `~1`, as in UpdateStage's PATCH paths) or `~1path/*`; `*/*` is
//! the stage's default. HTTP APIs key route settings by route key. A
//! negative limit (REST's -1) is "not set here". Each limit is taken from
//! the most specific setting that sets it. Usage plans' own limits are
//! `api-key-usage-plan`'s.

use std::collections::BTreeMap;

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{ApiKind, MethodSetting, Route};
use crate::toolkit::{self, CheckDef, Findings, Judgement, StageCtx};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::Throttling,
        title: "No route is throttled to 0 requests",
        severity: Severity::High,
        remediation: "Set the stage's and methods' throttles above 0 (aws apigateway update-stage --patch-operations op=replace,path=/*/*/throttling/burstLimit,value=BURST and .../rateLimit; for HTTP APIs aws apigatewayv2 update-stage --default-route-settings ThrottlingRateLimit=RATE,ThrottlingBurstLimit=BURST, or --route-settings for one route).",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let Some(routes) = toolkit::all_routes(view, out) else {
        return;
    };
    let mut j = Judgement::new();
    unrecorded_throttles(view, &mut j);
    judge_throttles(view, routes, &mut j);
    let pass = format!(
        "No route of stage {} is throttled to 0 requests (its method settings {}).",
        view.stage.name,
        if view.stage.method_settings.is_empty() {
            "set no throttle: the account's limits apply".to_string()
        } else {
            format!("{} checked", view.stage.method_settings.keys().cloned().collect::<Vec<_>>().join(", "))
        }
    );
    out.add(j.finding(&CHECK.meta, &view.stage_arn, pass, json!({})));
}

/// A REST method setting always carries both limits (the CLI reference's
/// get-stage example shows them); one without is a snapshot recorded
/// before they were read, which cannot rule a throttle of 0 out.
fn unrecorded_throttles(view: &StageView, j: &mut Judgement) {
    if view.api.kind != ApiKind::Rest {
        return;
    }
    let keys: Vec<&str> = view
        .stage
        .method_settings
        .iter()
        .filter(|(_, s)| s.throttling_rate_limit.is_none() || s.throttling_burst_limit.is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    if !keys.is_empty() {
        j.push(Status::Warn, format!(
            "The throttles of method settings {} of stage {} were not recorded, so a limit of 0 answering calls 429 cannot be ruled out",
            keys.join(", "), view.stage.name), || json!({ "method_settings_without_throttles": keys }));
    }
}

/// The stage's (or the method's own) throttle for `r`, and the key of the
/// method setting it comes from, each limit taken from the most specific
/// setting that sets it.
fn throttle_of<'a>(view: &'a StageView, r: &Route) -> Vec<(&'static str, f64, &'a str)> {
    let keys = match view.api.kind {
        ApiKind::Rest => {
            let path = r.path.replace('/', "~1");
            vec![format!("{path}/{}", r.method), format!("{path}/*")]
        }
        ApiKind::Http if r.path == "$default" => vec!["$default".to_string()],
        ApiKind::Http => vec![format!("{} {}", r.method, r.path)],
    };
    let settings: Vec<(&str, &MethodSetting)> = keys
        .iter()
        .map(String::as_str)
        .chain(["*/*"])
        .filter_map(|k| view.stage.method_settings.get_key_value(k))
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let rate = settings.iter().find_map(|(k, s)| {
        s.throttling_rate_limit
            .filter(|v| *v >= 0.0)
            .map(|v| ("rate", v, *k))
    });
    let burst = settings.iter().find_map(|(k, s)| {
        s.throttling_burst_limit
            .filter(|v| *v >= 0)
            .map(|v| ("burst", v as f64, *k))
    });
    rate.into_iter().chain(burst).collect()
}

/// Every route's throttles; a limit of 0 fails once per method setting,
/// naming the routes it stops.
fn judge_throttles(view: &StageView, routes: &[Route], j: &mut Judgement) {
    let mut zero: BTreeMap<(&str, &'static str), Vec<String>> = BTreeMap::new();
    let mut limits = Vec::new();
    for r in routes {
        for (what, value, key) in throttle_of(view, r) {
            limits.push(json!({ "route": r.label(), "limit": what, "value": value, "method_setting": key }));
            if value == 0.0 {
                zero.entry((key, what)).or_default().push(r.label());
            }
        }
    }
    if zero.is_empty() {
        return j.push(Status::Pass, String::new(), || json!({ "throttles": limits }));
    }
    for ((key, what), labels) in zero {
        let means = if what == "burst" {
            "a token bucket of 0 serves no request"
        } else {
            "a bucket refilled at 0 requests per second serves none once its burst is spent"
        };
        j.push(Status::Fail, format!(
            "Method setting {key} of stage {} throttles routes {} to a {what} limit of 0: {means}, so calls are answered 429 Too Many Requests; it needs a {what} limit above 0",
            view.stage.name, labels.join(", ")), || json!({ "method_setting": key, "limit": what, "routes": labels }));
    }
}

