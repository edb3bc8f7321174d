//! `lambda-integration`: every Lambda function a route integrates with
//! (REST `AWS`/`AWS_PROXY`, HTTP API `AWS_PROXY`) exists, is `Active`, is
//! not throttled to nothing, may be invoked by API Gateway for that route,
//! and does not run longer than the integration waits.
//!
//! What AWS documents, and the verdicts it gives:
//! - "If the Lambda API rejects the invocation request, API Gateway returns
//!   a 500 error code" (Lambda guide, "Handling errors with an API Gateway
//!   API"): a missing function, a missing permission and throttling all
//!   reach callers as 500 `Internal server error`, logged as "Invalid
//!   permissions on Lambda function" for the permission (knowledge center
//!   "api-gateway-rest-api-lambda-integrations").
//! - Function states (Lambda guide, "Lambda function states"): "Functions
//!   can only be successfully invoked while active"; `Failed` must be
//!   recreated (`fail`); `Pending` and `Inactive` recover on their own, the
//!   first invocations failing meanwhile (`warn`).
//! - "To throttle a function, set the reserved concurrency to zero. This
//!   stops any events from being processed" (Lambda guide, "Configuring
//!   reserved concurrency"): 0 is `fail`.
//! - The permission is a statement for `apigateway.amazonaws.com` whose
//!   `SourceArn` covers `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH`
//!   (Developer Guide, "execute-api ARN format reference"; the Lambda guide's
//!   examples use the route's path as defined, e.g. `API/*/GET/`). An
//!   integration with `credentials` is invoked as that role, whose IAM
//!   policy is not read here: `warn`.
//! - A function allowed to run longer than the integration's timeout is
//!   answered 504 when it does (knowledge center "api-gateway-504-errors");
//!   whether it runs that long is not configuration: `warn`.

use std::collections::BTreeMap;

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::lambda_policy::{Caller, scan};
use crate::model::{LambdaFunction, Route};
use crate::policy::parse_policy;
use crate::resources as res;
use crate::toolkit::{self, CheckDef, Findings, Judgement, StageCtx, blocked_finding, skip};
use crate::view::{StageView, substitute_stage_variables};

use super::authorizer_config::function_arn;
use super::integration_timeout::effective_timeout_ms;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::LambdaIntegration,
        title: "Lambda integrations can be invoked",
        severity: Severity::Critical,
        remediation: "Point the integration at an existing, Active function; remove a reserved concurrency of 0 (aws lambda delete-function-concurrency); let API Gateway invoke it for the route (aws lambda add-permission --function-name FN --statement-id apigateway-ROUTE --action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH); and keep the function's timeout within the integration's.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// The methods an `ANY` route may be invoked with, each needing the permission.
const ANY_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The Lambda function a route's integration invokes: `None` for a route
/// that integrates with something else, `Err` when its URI cannot be
/// resolved on this stage.
pub fn integrated_function(route: &Route, view: &StageView) -> Option<Result<String, String>> {
    let i = route.integration.as_ref()?;
    let kind = i.integration_type.to_ascii_uppercase();
    if kind != "AWS" && kind != "AWS_PROXY" {
        return None;
    }
    let uri = i.uri.as_deref()?;
    if !uri.contains(":lambda:") {
        return None;
    }
    Some(substitute_stage_variables(uri, view.stage).and_then(|u| {
        if u.starts_with("arn:") && u.contains(":lambda:") && !u.contains(":apigateway:") {
            return Ok(u);
        }
        function_arn(&u)
            .map(str::to_string)
            .ok_or_else(|| format!("its URI `{u}` names no Lambda function"))
    }))
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = toolkit::all_routes(view, out) else {
        return;
    };
    let mut by_function: BTreeMap<String, Vec<&Route>> = BTreeMap::new();
    let mut unresolved = false;
    for r in routes {
        match integrated_function(r, view) {
            None => {}
            Some(Ok(arn)) => by_function.entry(arn).or_default().push(r),
            Some(Err(why)) => {
                unresolved = true;
                out.add(
                Finding::new(meta, Status::Fail, &view.stage_arn, format!(
                    "Route {}'s Lambda function cannot be resolved on stage {}: {why}, so every call gets 500; it needs an existing function's ARN.",
                    r.label(), view.stage.name
                ))
                .routes([r.label()]),
            )
            }
        }
    }
    if by_function.is_empty() && !unresolved {
        return out.add(skip(meta, &view.stage_arn, format!(
            "no route of stage {} integrates with a Lambda function", view.stage.name)));
    }
    for (arn, routes) in by_function {
        out.add(judge_function(view, &arn, &routes));
    }
}

fn judge_function(view: &StageView, arn: &str, routes: &[&Route]) -> Finding {
    let meta = &CHECK.meta;
    let labels: Vec<String> = routes.iter().map(|r| r.label()).collect();
    let func = match view.get::<res::LambdaFunction>(arn, arn, &format!("Lambda function {arn}")) {
        Err(b) => return blocked_finding(meta, &b).routes(labels),
        Ok(None) => {
            return Finding::new(meta, Status::Fail, arn, format!(
                "Lambda function {arn}, which routes {} invoke, does not exist, so they answer 500 Internal server error; the integration needs an existing function.",
                labels.join(", ")
            ))
            .routes(labels);
        }
        Ok(Some(f)) => f,
    };
    let mut j = Judgement::new();
    judge_state(func, &mut j);
    for r in routes {
        judge_timeout(view, func, r, &mut j);
        judge_permission(view, func, r, &mut j);
    }
    let pass = format!(
        "Lambda function {arn} is Active, not throttled to zero, lets API Gateway invoke it for {} and ends within the integration timeout.",
        labels.join(", ")
    );
    let ev = json!({ "function": arn, "state": func.state, "timeout_seconds": func.timeout_seconds,
                     "reserved_concurrency": func.reserved_concurrency });
    j.finding(meta, arn, pass, ev).routes(labels)
}

/// The function's state and reserved concurrency.
fn judge_state(f: &LambdaFunction, j: &mut Judgement) {
    let arn = &f.arn;
    let why = f.state_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
    let ev = || json!({ "state": f.state, "state_reason": f.state_reason });
    match f.state.as_deref() {
        Some("Active") => j.push(Status::Pass, String::new(), ev),
        Some("Failed") => j.push(Status::Fail, format!(
            "Lambda function {arn} is in state Failed{why}, so no invocation succeeds and callers get 500; it must be deleted and recreated"), ev),
        Some(s @ ("Pending" | "Inactive")) => j.push(Status::Warn, format!(
            "Lambda function {arn} is in state {s}{why}; invocations fail until it is Active again"), ev),
        Some(other) => j.push(Status::Warn, format!(
            "Lambda function {arn} reports state {other}, which this check does not know; it needs Active"), ev),
        None => j.push(Status::Warn, format!(
            "Lambda function {arn} reports no state, so whether it can be invoked is not known; it needs Active"), ev),
    }
    if f.reserved_concurrency == Some(0) {
        j.push(Status::Fail, format!(
            "Lambda function {arn} has a reserved concurrency of 0, which throttles every invocation, so callers get 500; it needs the reservation removed or raised"),
            || json!({ "reserved_concurrency": 0 }));
    }
}

fn judge_timeout(view: &StageView, f: &LambdaFunction, r: &Route, j: &mut Judgement) {
    let (Some(secs), Some((ms, _))) = (f.timeout_seconds, effective_timeout_ms(view.api.kind, r))
    else {
        return;
    };
    let ev = || json!({ "route": r.label(), "function_timeout_seconds": secs, "integration_timeout_ms": ms });
    if i64::from(secs) * 1000 > ms {
        j.push(Status::Warn, format!(
            "Lambda function {} may run for {secs} s but route {} waits only {ms} ms, so slower invocations end in 504 Endpoint request timed out; the function's timeout needs to be at most {} s",
            f.arn, r.label(), ms / 1000
        ), ev);
    } else {
        j.push(Status::Pass, String::new(), ev);
    }
}

/// The source ARNs' tails API Gateway invokes the function with for `r`:
/// one per method an `ANY` route may be called with.
fn tails(stage: &str, r: &Route) -> Vec<(String, String)> {
    if r.path == "$default" {
        return vec![("$default".to_string(), format!("{stage}/$default"))];
    }
    let path = r.path.trim_start_matches('/');
    let methods: Vec<&str> = if r.method.eq_ignore_ascii_case("ANY") {
        ANY_METHODS.to_vec()
    } else {
        vec![r.method.as_str()]
    };
    methods
        .into_iter()
        .map(|m| (m.to_string(), format!("{stage}/{}/{path}", m.to_ascii_uppercase())))
        .collect()
}

/// Whether the function's policy lets API Gateway invoke it for `r`.
fn judge_permission(view: &StageView, f: &LambdaFunction, r: &Route, j: &mut Judgement) {
    let label = r.label();
    if let Some(role) = r.integration.as_ref().and_then(|i| i.credentials.as_deref()) {
        return j.push(Status::Warn, format!(
            "Route {label} invokes {} as role {role}, whose lambda:InvokeFunction permission is not read here; make sure the role allows it and trusts apigateway.amazonaws.com",
            f.arn
        ), || json!({ "route": label, "credentials": role }));
    }
    let caller = |tail: String| Caller {
        partition: view.partition(),
        region: &view.region.region,
        account: view.snapshot.account.as_deref(),
        api: &view.api.id,
        tail,
    };
    let all = tails(&view.stage.name, r);
    let first = caller(all[0].1.clone()).source_arn(view.snapshot.account.as_deref().unwrap_or("ACCOUNT"));
    let ev = || json!({ "route": label, "source_arn_needed": first, "policy": f.policy });
    let Some(policy) = f.policy.as_deref() else {
        return j.push(Status::Fail, format!(
            "Lambda function {} has no resource-based policy, so API Gateway may not invoke it for route {label} and callers get 500 (Invalid permissions on Lambda function); it needs a statement allowing apigateway.amazonaws.com lambda:InvokeFunction from {first}",
            f.arn
        ), ev);
    };
    let stmts = match parse_policy(policy) {
        Ok(s) => s,
        Err(why) => return j.push(Status::Error, format!(
            "The policy of {} could not be read ({why}), so whether API Gateway may invoke it for route {label} is unknown", f.arn), ev),
    };
    let (mut uncovered, mut unsure, mut denied) = (Vec::new(), None, None);
    for (method, tail) in all {
        let s = scan(&stmts, &caller(tail));
        if let Some(sid) = s.deny {
            denied = Some(sid);
        } else if s.allow.is_some() {
            continue;
        } else if let (Some(sid), Some(fail)) = (&s.needs_account, &view.snapshot.account_failure) {
            let what = format!("the account, on which statement {sid} of {}'s policy depends", f.arn);
            return j.push_failure(&what, fail);
        } else if let Some(u) = s.unsure {
            unsure = Some(u);
        } else {
            uncovered.push(method);
        }
    }
    let many = r.method.eq_ignore_ascii_case("ANY") && uncovered.len() < ANY_METHODS.len();
    let (status, sentence) = match (denied, unsure, uncovered.is_empty()) {
        (Some(sid), _, _) => (Status::Fail, format!(
            "Statement {sid} of {}'s policy denies apigateway.amazonaws.com for route {label}, so callers get 500 (Invalid permissions on Lambda function); it must not cover {first}", f.arn)),
        (None, _, false) if many => (Status::Warn, format!(
            "Lambda function {}'s policy lets API Gateway invoke it for route {label} only with some methods: {} calls get 500; it needs a statement covering {first} for every method callers use",
            f.arn, uncovered.join(", "))),
        (None, None, false) => (Status::Fail, format!(
            "Lambda function {}'s policy has no statement letting apigateway.amazonaws.com invoke it from {first} (route {label}), so callers get 500 (Invalid permissions on Lambda function); it needs that permission", f.arn)),
        (None, Some((sid, why)), _) => (Status::Warn, format!(
            "Lambda function {}'s statement {sid} allows apigateway.amazonaws.com for route {label} only under a condition this check cannot evaluate ({why}); confirm it covers {first}", f.arn)),
        (None, None, true) => (Status::Pass, String::new()),
    };
    j.push(status, sentence, ev);
}
