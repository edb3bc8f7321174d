//! `resource-policy`: no explicit Deny in the REST API's resource policy
//! blocks callers of this stage, and a private API allows at least one VPC
//! endpoint. Deny statements are reported with their principals and
//! conditions: a conditional Deny is how private APIs keep other endpoints
//! out, so it passes, but its text is what `explain` shows for a 403
//! "explicit deny".

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{ApiKind, AuthorizationType, Fetched};
use crate::policy::{Statement, covers_action, glob_match, parse_policy};
use crate::toolkit::{CheckDef, Findings, StageCtx, skip};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::ResourcePolicy,
        title: "The resource policy lets callers in",
        severity: Severity::Medium,
        remediation: "Narrow or remove the Deny statement that matches the callers (its principal, resource and condition are in the finding), or, for a private API, add an Allow for execute-api:Invoke from the VPC endpoints that call it; then redeploy the API, since a policy change takes effect on deployment.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// The execute-api ARN of `METHOD path` on the stage, with `account` in
/// its account field.
fn invoke_arn(view: &StageView, account: &str, method: &str, path: &str) -> String {
    format!(
        "arn:{}:execute-api:{}:{account}:{}/{}/{}{}",
        view.partition(),
        view.region.region,
        view.api.id,
        view.stage.name,
        if method == "ANY" { "*" } else { method },
        path
    )
}

/// Whether a statement's resource patterns cover `METHOD path` on the
/// stage (`execute-api:/...` is shorthand for this API's ARN). Without the
/// account (`sts:GetCallerIdentity` failed) a pattern's own account is
/// taken as matching: the API's account is the only one its policy can
/// name for its own routes.
fn covers(view: &StageView, s: &Statement, method: &str, path: &str) -> bool {
    s.resources.iter().any(|r| {
        let account = view
            .snapshot
            .account
            .clone()
            .or_else(|| {
                r.strip_prefix("arn:")
                    .and_then(|x| x.split(':').nth(3))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let full = match r.strip_prefix("execute-api:") {
            Some(rest) => format!(
                "arn:{}:execute-api:{}:{account}:{}{rest}",
                view.partition(),
                view.region.region,
                view.api.id
            ),
            None => r.clone(),
        };
        glob_match(&full, &invoke_arn(view, &account, method, path))
    })
}

/// Whether a statement applies to anonymous callers (everyone).
fn everyone(s: &Statement) -> bool {
    s.principals.iter().any(|p| p == "*" || p == "AWS:*")
}

fn describe(s: &Statement) -> String {
    format!(
        "{} for {} on {}{}",
        s.sid
            .as_deref()
            .map(|x| format!("statement {x}"))
            .unwrap_or_else(|| "a statement".to_string()),
        s.principals.join(", "),
        s.resources.join(", "),
        s.condition
            .as_ref()
            .map(|c| format!(" when {}", serde_json::to_string(c).unwrap_or_default()))
            .unwrap_or_default()
    )
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    if view.api.kind == ApiKind::Http {
        out.add(skip(
            meta,
            &view.stage_arn,
            "HTTP APIs have no resource policy",
        ));
        return;
    }
    let info = match &view.api.info {
        Fetched::Ok(i) => i,
        Fetched::NotFound(f) | Fetched::Error(f) => {
            out.add(Finding::from_failure(
                meta,
                &view.stage_arn,
                &format!("API {}", view.api.id),
                f,
            ));
            return;
        }
    };
    let private = info
        .endpoint_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case("PRIVATE"));
    let Some(text) = info.policy.as_deref().filter(|p| !p.trim().is_empty()) else {
        out.add(no_policy(view, private));
        return;
    };
    let stmts = match parse_policy(text) {
        Ok(s) => s,
        Err(why) => {
            out.add(Finding::new(
                meta,
                Status::Error,
                &view.stage_arn,
                format!("The resource policy of API {} could not be read ({why}), so this check cannot decide.", view.api.id),
            ));
            return;
        }
    };
    out.add(judge(view, private, text, &stmts));
}

/// Without a resource policy a private API denies every call; a regional
/// or edge one denies none.
fn no_policy(view: &StageView, private: bool) -> Finding {
    let meta = &CHECK.meta;
    let f = if private {
        Finding::new(
            meta,
            Status::Fail,
            &view.stage_arn,
            format!(
                "Private API {} has no resource policy, so API Gateway denies every call; it needs a policy allowing execute-api:Invoke from its VPC endpoints.",
                view.api.id
            ),
        )
    } else {
        Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!(
                "API {} has no resource policy, so none denies callers.",
                view.api.id
            ),
        )
    };
    f.evidence(|| json!({ "policy": null, "private": private }))
}

/// Every route of the stage as (label, method, path, signed with IAM);
/// unreadable routes are judged as one route covering them all.
fn policy_routes(view: &StageView) -> Vec<(String, String, String, bool)> {
    match view.all_routes() {
        Ok(r) => r
            .iter()
            .map(|r| {
                let iam = r.authorization_type == Some(AuthorizationType::AwsIam);
                (r.label(), r.method.clone(), r.path.clone(), iam)
            })
            .collect(),
        Err(_) => vec![(
            "(every route)".to_string(),
            "*".to_string(),
            "/*".to_string(),
            false,
        )],
    }
}

/// The policy's verdict on the stage's routes: the Invoke statements that
/// deny everyone outright, or allow no one, decide.
fn judge(view: &StageView, private: bool, text: &str, stmts: &[Statement]) -> Finding {
    let invoke = |s: &&Statement| covers_action(&s.actions, "execute-api:Invoke");
    let denies: Vec<&Statement> = stmts
        .iter()
        .filter(|s| s.effect == "Deny")
        .filter(invoke)
        .collect();
    let allows: Vec<&Statement> = stmts
        .iter()
        .filter(|s| s.effect == "Allow")
        .filter(invoke)
        .collect();
    let routes = policy_routes(view);
    let evidence = || {
        json!({
            "private": private,
            "deny_statements": denies.iter().map(|s| describe(s)).collect::<Vec<_>>(),
            "allow_statements": allows.iter().map(|s| describe(s)).collect::<Vec<_>>(),
            "policy": text,
        })
    };
    // An unconditional Deny for everyone blocks the routes it covers.
    let blanket: Vec<&&Statement> = denies
        .iter()
        .filter(|s| s.condition.is_none() && everyone(s))
        .collect();
    let blocked: Vec<String> = routes
        .iter()
        .filter(|(_, m, p, _)| blanket.iter().any(|s| covers(view, s, m, p)))
        .map(|(l, ..)| l.clone())
        .collect();
    // With a resource policy, a caller not signed with IAM needs an Allow:
    // without one the request is implicitly denied.
    let unallowed: Vec<String> = routes
        .iter()
        .filter(|(l, m, p, iam)| {
            !iam && !blocked.contains(l)
                && !allows.iter().any(|s| everyone(s) && covers(view, s, m, p))
        })
        .map(|(l, ..)| l.clone())
        .collect();
    let f = verdict(
        view,
        private,
        (&blanket, &denies, &allows),
        &routes,
        blocked,
        unallowed,
    );
    f.evidence(evidence)
}

/// The finding for what [`judge`] found, worst first: routes denied
/// outright, a private API allowing no one, routes no Allow covers.
fn verdict(
    view: &StageView,
    private: bool,
    (blanket, denies, allows): (&[&&Statement], &[&Statement], &[&Statement]),
    routes: &[(String, String, String, bool)],
    blocked: Vec<String>,
    unallowed: Vec<String>,
) -> Finding {
    let meta = &CHECK.meta;
    if !blocked.is_empty() {
        let s = blanket
            .iter()
            .find(|s| routes.iter().any(|(_, m, p, _)| covers(view, s, m, p)))
            .copied();
        Finding::new(
            meta,
            Status::Fail,
            &view.stage_arn,
            format!(
                "The resource policy of API {} denies everyone, without condition, on {} route(s) of stage {} ({}); callers get 403 explicit deny until that statement is narrowed.",
                view.api.id,
                blocked.len(),
                view.stage.name,
                s.map(|s| describe(s)).unwrap_or_default()
            ),
        )
        .routes(blocked)
    } else if private && allows.is_empty() {
        Finding::new(
            meta,
            Status::Fail,
            &view.stage_arn,
            format!(
                "Private API {}'s resource policy allows no execute-api:Invoke, so every call is denied; it needs an Allow for its VPC endpoints.",
                view.api.id
            ),
        )
    } else if !unallowed.is_empty() {
        Finding::new(
            meta,
            Status::Fail,
            &view.stage_arn,
            format!(
                "The resource policy of API {} allows execute-api:Invoke to no caller on {} route(s) of stage {} that do not use IAM authorization (first: {}), so those calls are denied with 403; it needs an Allow statement covering them.",
                view.api.id,
                unallowed.len(),
                view.stage.name,
                unallowed[0]
            ),
        )
        .routes(unallowed)
    } else if !denies.is_empty() {
        Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!(
                "The resource policy of API {} allows every route and denies only conditionally or for named principals: {}.",
                view.api.id,
                denies
                    .iter()
                    .map(|s| describe(s))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
    } else {
        Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!(
                "The resource policy of API {} allows every route of stage {} and has no Deny statement.",
                view.api.id, view.stage.name
            ),
        )
    }
}
