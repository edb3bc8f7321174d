//! `api-key-usage-plan`: a REST method requiring an API key can be called
//! with one.
//!
//! - The caller's key must be in a usage plan of the stage: "API Gateway
//!   reads the key and compares it against the keys in the usage plan ...
//!   Otherwise, it throws an InvalidKeyParameter exception. As a result,
//!   the caller receives a 403 Forbidden response" (Developer Guide,
//!   "Choose an API key source"). A key that is not enabled cannot be used
//!   (API reference, ApiKey.enabled: "Specifies whether the API Key can be
//!   used by callers").
//! - A usage plan's quota of 0 is exceeded by the first call (gateway
//!   response QUOTA_EXCEEDED, 429), and its throttles are the token bucket
//!   `throttling` reads: a rate or burst of 0 lets no call through.
//!
//! HTTP APIs have no API keys.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{ApiKind, Fetched, PlanKey, Route, UsagePlan};
use crate::resources::{Kind, Want};
use crate::toolkit::{self, CheckDef, Findings, Judgement, StageCtx, skip};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::ApiKeyUsagePlan,
        title: "Methods requiring an API key can be called with one",
        severity: Severity::High,
        remediation: "Add the stage to a usage plan (aws apigateway update-usage-plan --usage-plan-id ID --patch-operations op=add,path=/apiStages,value=API_ID:STAGE) holding an enabled key (aws apigateway create-usage-plan-key; aws apigateway update-api-key --patch-operations op=replace,path=/enabled,value=true), with a quota and throttles above 0.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    if view.api.kind == ApiKind::Http {
        return out.add(skip(meta, &view.stage_arn, "HTTP APIs have no API keys"));
    }
    let Some(routes) = toolkit::all_routes(view, out) else {
        return;
    };
    let keyed: Vec<&Route> = routes
        .iter()
        .filter(|r| r.api_key_required == Some(true))
        .collect();
    let mut j = Judgement::new();
    let keys = judge_keys(view, routes, &keyed, &mut j);
    let pass = format!("On stage {} of API {}, {keys}.", view.stage.name, view.api.id);
    out.add(j.finding(meta, &view.stage_arn, pass, json!({})));
}

/// Judges the routes requiring an API key against the stage's usage plans;
/// returns what a pass says about them.
fn judge_keys(view: &StageView, routes: &[Route], keyed: &[&Route], j: &mut Judgement) -> String {
    if keyed.is_empty() {
        if routes.iter().any(|r| r.api_key_required.is_none()) {
            j.push(Status::Warn, format!(
                "The snapshot does not say whether the methods of stage {} require an API key (apiKeyRequired was not recorded), so a 403 Forbidden from a missing usage plan cannot be ruled out", view.stage.name),
                || json!({ "api_key_required": null }));
        }
        return "no method requires an API key".to_string();
    }
    let labels: Vec<String> = keyed.iter().map(|r| r.label()).collect();
    let plans = match view.listing(
        &view.region.usage_plans,
        Want::new(Kind::UsagePlans, ""),
        &view.stage_arn,
        "the usage plans of the region",
    ) {
        Ok(p) => p,
        Err(b) => {
            j.push_blocked(&b, "the API keys of the stage's methods");
            return String::new();
        }
    };
    let serving: Vec<&UsagePlan> = plans
        .iter()
        .filter(|p| p.api_stages.iter().any(|s| s.api_id == view.api.id && s.stage == view.stage.name))
        .collect();
    let ev = || json!({ "api_key_routes": labels, "usage_plans": serving.iter().map(|p| &p.id).collect::<Vec<_>>() });
    if serving.is_empty() {
        j.push(Status::Fail, format!(
            "Stage {} of API {} serves {} route(s) requiring an API key ({}) and no usage plan of the region includes the stage, so every call to them is answered 403 Forbidden; the stage needs a usage plan with an enabled key",
            view.stage.name, view.api.id, labels.len(), labels.join(", ")), ev);
        return String::new();
    }
    judge_plans(view, &serving, keyed, j);
    format!(
        "the {} route(s) requiring an API key are served by usage plan {}",
        keyed.len(),
        serving.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
    )
}

/// The plans serving the stage: some enabled key, and a limit above 0.
fn judge_plans(view: &StageView, serving: &[&UsagePlan], keyed: &[&Route], j: &mut Judgement) {
    let mut usable = 0;
    let mut unknown = Vec::new();
    let mut blocked = Vec::new();
    for p in serving {
        let keys: &[PlanKey] = match &p.keys {
            Fetched::Ok(k) => k,
            Fetched::NotFound(f) | Fetched::Error(f) => {
                j.push_failure(&format!("the API keys of usage plan {}", p.id), f);
                return;
            }
        };
        if keys.iter().any(|k| k.enabled.is_none()) {
            unknown.push(p.id.as_str());
        }
        if !keys.iter().any(|k| k.enabled == Some(true)) {
            continue;
        }
        match zero_limit(view, p, keyed) {
            Some(why) => blocked.push(format!("usage plan {} {why}", p.id)),
            None => usable += 1,
        }
    }
    let ids: Vec<&str> = serving.iter().map(|p| p.id.as_str()).collect();
    let ev = || json!({ "usage_plans": ids, "blocked": blocked, "keys_unknown": unknown });
    let stage = &view.stage.name;
    if usable > 0 && blocked.is_empty() {
        j.push(Status::Pass, String::new(), ev);
    } else if usable > 0 {
        j.push(Status::Warn, format!(
            "Callers holding the keys of {} are answered 429 Too Many Requests on stage {stage}, while other usage plans of the stage serve theirs", blocked.join("; ")), ev);
    } else if !blocked.is_empty() {
        j.push(Status::Fail, format!(
            "Every usage plan with an enabled key on stage {stage} allows no call ({}), so calls with an API key are answered 429 Too Many Requests; a plan needs limits above 0", blocked.join("; ")), ev);
    } else if !unknown.is_empty() {
        j.push(Status::Warn, format!(
            "Whether the keys of usage plan {} are enabled was not reported, so stage {stage}'s methods requiring an API key may answer every call 403 Forbidden", unknown.join(", ")), ev);
    } else {
        j.push(Status::Fail, format!(
            "Usage plan {} serves stage {stage} but has no enabled API key, so its methods requiring a key answer every call 403 Forbidden; the plan needs an enabled key", ids.join(", ")), ev);
    }
}

/// Why plan `p` lets no keyed call of the stage through, if it does not:
/// a quota or plan throttle of 0, or a method throttle of 0 on every
/// keyed route.
fn zero_limit(view: &StageView, p: &UsagePlan, keyed: &[&Route]) -> Option<String> {
    if let Some(q) = p.quota.as_ref().and_then(|q| q.limit).filter(|l| *l == 0) {
        return Some(format!(
            "has a quota of {q} requests per {}",
            p.quota.as_ref().and_then(|q| q.period.as_deref()).unwrap_or("period")
        ));
    }
    if let Some(t) = p
        .throttle
        .as_ref()
        .filter(|t| t.rate_limit == Some(0.0) || t.burst_limit == Some(0))
    {
        return Some(format!(
            "throttles to rate {} and burst {}",
            t.rate_limit.unwrap_or_default(),
            t.burst_limit.unwrap_or_default()
        ));
    }
    let stage = p
        .api_stages
        .iter()
        .find(|s| s.api_id == view.api.id && s.stage == view.stage.name)?;
    let zero = |r: &&&Route| {
        stage
            .throttle
            .get(&format!("{}/{}", r.path, r.method))
            .is_some_and(|t| t.rate_limit == Some(0.0) || t.burst_limit == Some(0))
    };
    keyed.iter().all(|r| zero(&r)).then(|| {
        "throttles every method requiring a key to 0 for this stage".to_string()
    })
}

