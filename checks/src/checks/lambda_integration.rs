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
/// resolved on this stage (`fail`: a stage variable it needs is unset) or
/// names no function this check can find (`warn`).
pub fn integrated_function(
    route: &Route,
    view: &StageView,
) -> Option<Result<String, (Status, String)>> {
    let i = route.integration.as_ref()?;
    let kind = i.integration_type.to_ascii_uppercase();
    if kind != "AWS" && kind != "AWS_PROXY" {
        return None;
    }
    let uri = i.uri.as_deref()?;
    if !uri.contains(":lambda:") {
        return None;
    }
    let u = match substitute_stage_variables(uri, view.stage) {
        Ok(u) => u,
        Err(why) => return Some(Err((Status::Fail, format!("{why}, so every call gets 500")))),
    };
    if u.starts_with("arn:") && u.contains(":lambda:") && !u.contains(":apigateway:") {
        return Some(Ok(u));
    }
    Some(
        function_arn(&u)
            .map(str::to_string)
            .or_else(|| by_name(view, &u))
            .ok_or_else(|| {
                (Status::Warn, format!("its URI `{u}` names no function this check can look up (another Lambda action, or a name in an unknown account), so it is not judged"))
            }),
    )
}

/// A function the URI names by name (`.../functions/NAME/invocations`),
/// which Lambda resolves in the URI's region and the API's account.
fn by_name(view: &StageView, uri: &str) -> Option<String> {
    let region = uri.split(':').nth(3).filter(|r| !r.is_empty())?;
    let start = uri.find("/functions/")? + "/functions/".len();
    let name = uri[start..].strip_suffix("/invocations")?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':');
    let account = view.snapshot.account.as_deref()?;
    valid.then(|| {
        format!(
            "arn:{}:lambda:{region}:{account}:function:{name}",
            view.partition()
        )
    })
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
            Some(Err((status, why))) => {
                unresolved = true;
                out.add(
                Finding::new(meta, status, &view.stage_arn, format!(
                    "Route {}'s Lambda function cannot be resolved on stage {}: {why}; it needs an existing function's ARN.",
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
    let Some((ms, _)) = effective_timeout_ms(view.api.kind, r) else {
        return;
    };
    let Some(secs) = f.timeout_seconds else {
        return j.push(Status::Warn, format!(
            "Lambda function {} reports no timeout, so whether it ends within route {}'s {ms} ms is not known; it needs a timeout of at most {} s",
            f.arn, r.label(), ms / 1000
        ), || json!({ "route": r.label(), "integration_timeout_ms": ms }));
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

/// The source ARNs' tails API Gateway may invoke the function with for
/// `r`, by method: each method an `ANY` route serves (those another route
/// of the path serves itself are not its calls), and for a path with
/// parameters both the template and a request's path, since the guides
/// do not say which the source ARN carries.
fn tails(stage: &str, r: &Route, siblings: &[Route]) -> Vec<(String, Vec<String>)> {
    if r.path == "$default" {
        return vec![("$default".to_string(), vec![format!("{stage}/$default")])];
    }
    let path = r.path.trim_start_matches('/');
    let methods: Vec<&str> = if r.method.eq_ignore_ascii_case("ANY") {
        let own = |m: &str| {
            siblings
                .iter()
                .any(|o| o.path == r.path && o.method.eq_ignore_ascii_case(m))
        };
        ANY_METHODS.iter().copied().filter(|m| !own(m)).collect()
    } else {
        vec![r.method.as_str()]
    };
    let request_path: String = path
        .split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/");
    methods
        .into_iter()
        .map(|m| {
            let m = m.to_ascii_uppercase();
            let mut t = vec![format!("{stage}/{m}/{path}")];
            if request_path != path {
                t.push(format!("{stage}/{m}/{request_path}"));
            }
            (m, t)
        })
        .collect()
}

/// What the policy says about one method of a route.
enum MethodCover {
    Covered,
    Denied(String),
    Unsure(String, String),
    Uncovered,
    NeedsAccount(String),
}

fn cover_method(stmts: &[crate::policy::Statement], callers: &[Caller]) -> MethodCover {
    let scans: Vec<_> = callers.iter().map(|c| scan(stmts, c)).collect();
    if let Some(sid) = scans.iter().find_map(|s| s.deny.clone()) {
        return MethodCover::Denied(sid);
    }
    if let Some((sid, why)) = scans.iter().find_map(|s| s.maybe_deny.clone()) {
        return MethodCover::Unsure(sid, format!("a Deny under a condition: {why}"));
    }
    let allowed = scans.iter().filter(|s| s.allow.is_some()).count();
    if allowed == scans.len() {
        return MethodCover::Covered;
    }
    if let Some(sid) = scans.iter().find_map(|s| s.needs_account.clone()) {
        return MethodCover::NeedsAccount(sid);
    }
    if let Some((sid, why)) = scans.iter().find_map(|s| s.unsure.clone()) {
        return MethodCover::Unsure(sid, why);
    }
    if allowed > 0 {
        let sid = scans.iter().find_map(|s| s.allow.clone()).unwrap_or_default();
        return MethodCover::Unsure(sid, "it covers the route's path template or a request's path, not both, and the guides do not say which the source ARN carries".to_string());
    }
    MethodCover::Uncovered
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
    let account = view.snapshot.account.as_deref().unwrap_or("ACCOUNT");
    let siblings = view.all_routes().unwrap_or_default();
    let all = tails(&view.stage.name, r, siblings);
    let arn_of = |tail: &str| caller(tail.to_string()).source_arn(account);
    let needed: Vec<String> = all.iter().map(|(_, t)| arn_of(&t[0])).collect();
    let ev = || json!({ "route": label, "source_arns_needed": needed, "policy": f.policy });
    let Some(first) = needed.first() else {
        return j.push(Status::Pass, String::new(), ev);
    };
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
    let mut worst: Option<(Status, String)> = None;
    let mut uncovered: Vec<(String, String)> = Vec::new();
    for (method, ts) in &all {
        let callers: Vec<Caller> = ts.iter().map(|t| caller(t.clone())).collect();
        let arn = arn_of(&ts[0]);
        let verdict = match cover_method(&stmts, &callers) {
            MethodCover::Covered => continue,
            MethodCover::Uncovered => {
                uncovered.push((method.clone(), arn));
                continue;
            }
            MethodCover::NeedsAccount(sid) => match &view.snapshot.account_failure {
                Some(fail) => {
                    let what = format!("the account, on which statement {sid} of {}'s policy depends", f.arn);
                    j.push_failure(&what, fail);
                    continue;
                }
                None => (Status::Warn, format!(
                    "Lambda function {}'s statement {sid} allows apigateway.amazonaws.com for route {label} only for an account this check does not know; confirm it covers {arn}", f.arn)),
            },
            MethodCover::Denied(sid) => (Status::Fail, format!(
                "Statement {sid} of {}'s policy denies apigateway.amazonaws.com for route {label}, so callers get 500 (Invalid permissions on Lambda function); it must not cover {arn}", f.arn)),
            MethodCover::Unsure(sid, why) => (Status::Warn, format!(
                "Lambda function {}'s statement {sid} lets apigateway.amazonaws.com invoke it for route {label} only in part ({why}); confirm it covers {arn}", f.arn)),
        };
        keep_worst(&mut worst, verdict);
    }
    if let Some(verdict) = uncovered_verdict(f, &label, &uncovered, all.len()) {
        keep_worst(&mut worst, verdict);
    }
    let (status, sentence) = worst.unwrap_or((Status::Pass, String::new()));
    j.push(status, sentence, ev);
}

/// Keeps the first of the worst verdicts.
fn keep_worst(worst: &mut Option<(Status, String)>, verdict: (Status, String)) {
    if worst.as_ref().is_none_or(|(s, _)| verdict.0 > *s) {
        *worst = Some(verdict);
    }
}

/// The verdict on the methods (with their source ARNs) no statement
/// covers: some of the route's `total` methods warn, all of them fail.
fn uncovered_verdict(
    f: &LambdaFunction,
    label: &str,
    uncovered: &[(String, String)],
    total: usize,
) -> Option<(Status, String)> {
    let (_, arn) = uncovered.first()?;
    let methods: Vec<&str> = uncovered.iter().map(|(m, _)| m.as_str()).collect();
    Some(if uncovered.len() < total {
        (Status::Warn, format!(
            "Lambda function {}'s policy lets API Gateway invoke it for route {label} only with some methods: {} calls get 500; it needs a statement covering {arn} (or STAGE/*/PATH)",
            f.arn, methods.join(", ")))
    } else {
        (Status::Fail, format!(
            "Lambda function {}'s policy has no statement letting apigateway.amazonaws.com invoke it from {arn} (route {label}), so callers get 500 (Invalid permissions on Lambda function); it needs that permission",
            f.arn))
    })
}
