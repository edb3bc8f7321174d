//! `resource-policy`: no explicit Deny in the REST API's resource policy
//! blocks callers of this stage, and a private API allows at least one VPC
//! endpoint. The policy is evaluated as IAM does ([`crate::policy::evaluate`],
//! `NotPrincipal`/`NotAction`/`NotResource` included). A condition
//! (`aws:SourceVpce`, `aws:SourceVpc`, `aws:SourceIp`, ...) depends on who
//! calls, which configuration cannot show: a route it decides is a warning
//! naming the condition and the callers it turns away, never a pass.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{ApiKind, AuthorizationType, Fetched};
use crate::policy::{Decision, Statement, describe_condition, evaluate, glob_match, parse_policy};
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

/// Whether one resource pattern covers `METHOD path` on the stage
/// (`execute-api:/...` is shorthand for this API's ARN). Without the
/// account (`sts:GetCallerIdentity` failed) a pattern's own account is
/// taken as matching: the API's account is the only one its policy can
/// name for its own routes.
fn pattern_covers(view: &StageView, r: &str, method: &str, path: &str) -> bool {
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
        None => r.to_string(),
    };
    glob_match(&full, &invoke_arn(view, &account, method, path))
}

fn describe(s: &Statement) -> String {
    let not = |b: bool| if b { "everything but " } else { "" };
    format!(
        "{} ({}) for {}{} on {}{}{}",
        s.sid
            .as_deref()
            .map(|x| format!("statement {x}"))
            .unwrap_or_else(|| "a statement".to_string()),
        s.effect,
        not(s.not_principal),
        s.principals.join(", "),
        not(s.not_resource),
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

/// What the policy decides for the stage's routes, as IAM evaluates a call
/// from a caller the policy does not name (anonymous, or signed by an
/// identity it does not list).
struct Outcome {
    /// Routes an unconditional Deny blocks, with the first such statement.
    blocked: Vec<String>,
    blocker: Option<usize>,
    /// Routes not signed with IAM that no Allow covers.
    unallowed: Vec<String>,
    /// Routes a condition decides, with the first deciding statement.
    depends: Vec<String>,
    decider: Option<usize>,
}

/// The statements as they bear on a caller signed with IAM, whose identity
/// the policy cannot know: a statement naming principals (or all but some,
/// `NotPrincipal`) may or may not apply to it, so it counts as conditional;
/// and the caller's own identity policy may allow the call (same account),
/// which a trailing Allow stands for. Indices of the given statements keep.
fn for_signed_callers(stmts: &[Statement]) -> Vec<Statement> {
    let mut out: Vec<Statement> = stmts
        .iter()
        .map(|s| {
            let everyone = !s.not_principal && s.principals.iter().any(|p| p == "*" || p == "AWS:*");
            if everyone {
                return s.clone();
            }
            let mut s = s.clone();
            s.condition.get_or_insert(json!({ "caller": s.principals.clone() }));
            s.principals = vec!["*".to_string()];
            s.not_principal = false;
            s
        })
        .collect();
    out.push(Statement {
        effect: "Allow".to_string(),
        principals: vec!["*".to_string()],
        actions: vec!["execute-api:Invoke".to_string()],
        resources: vec!["*".to_string()],
        ..Statement::default()
    });
    out
}

fn outcome(view: &StageView, stmts: &[Statement], routes: &[(String, String, String, bool)]) -> Outcome {
    let mut o = Outcome { blocked: vec![], blocker: None, unallowed: vec![], depends: vec![], decider: None };
    let signed = for_signed_callers(stmts);
    for (label, m, p, iam) in routes {
        let covered = |r: &str| pattern_covers(view, r, m, p);
        let judged = if *iam { &signed } else { stmts };
        match evaluate(judged, "execute-api:Invoke", "*", &covered) {
            Decision::ExplicitDeny(i) => {
                o.blocked.push(label.clone());
                o.blocker.get_or_insert(i);
            }
            Decision::ImplicitDeny => o.unallowed.push(label.clone()),
            Decision::Depends(i) => {
                o.depends.push(label.clone());
                o.decider.get_or_insert(i);
            }
            Decision::Allow(_) => {}
        }
    }
    o
}

/// The policy's verdict on the stage's routes.
fn judge(view: &StageView, private: bool, text: &str, stmts: &[Statement]) -> Finding {
    let invoke = |s: &&Statement| s.applies_to_action("execute-api:Invoke");
    let denies: Vec<&Statement> = stmts.iter().filter(|s| s.effect == "Deny").filter(invoke).collect();
    let allows: Vec<&Statement> = stmts.iter().filter(|s| s.effect == "Allow").filter(invoke).collect();
    let routes = policy_routes(view);
    let evidence = || {
        json!({
            "private": private,
            "deny_statements": denies.iter().map(|s| describe(s)).collect::<Vec<_>>(),
            "allow_statements": allows.iter().map(|s| describe(s)).collect::<Vec<_>>(),
            "policy": text,
        })
    };
    let o = outcome(view, stmts, &routes);
    verdict(view, private, stmts, !allows.is_empty(), o, &denies).evidence(evidence)
}

/// The finding for the [`Outcome`], worst first: routes denied outright, a
/// private API allowing no one, routes no Allow covers, routes a condition
/// decides.
fn verdict(
    view: &StageView,
    private: bool,
    stmts: &[Statement],
    any_allow: bool,
    o: Outcome,
    denies: &[&Statement],
) -> Finding {
    let meta = &CHECK.meta;
    let (api, stage) = (&view.api.id, &view.stage.name);
    let arn = &view.stage_arn;
    if let Some(i) = o.blocker {
        return Finding::new(meta, Status::Fail, arn, format!(
            "The resource policy of API {api} denies everyone, without condition, on {} route(s) of stage {stage} ({}); callers get 403 explicit deny until that statement is narrowed.",
            o.blocked.len(),
            describe(&stmts[i])
        ))
        .routes(o.blocked);
    }
    if private && !any_allow {
        return Finding::new(meta, Status::Fail, arn, format!(
            "Private API {api}'s resource policy allows no execute-api:Invoke, so every call is denied; it needs an Allow for its VPC endpoints."
        ));
    }
    if !o.unallowed.is_empty() {
        return Finding::new(meta, Status::Fail, arn, format!(
            "The resource policy of API {api} allows execute-api:Invoke to no caller on {} route(s) of stage {stage} that do not use IAM authorization (first: {}), so those calls are denied with 403; it needs an Allow statement covering them.",
            o.unallowed.len(),
            o.unallowed[0]
        ))
        .routes(o.unallowed);
    }
    if let Some(i) = o.decider {
        return conditional(view, &stmts[i], o.depends);
    }
    let named = if denies.is_empty() {
        "and has no Deny statement".to_string()
    } else {
        format!(
            "and denies only named principals: {}",
            denies.iter().map(|s| describe(s)).collect::<Vec<_>>().join("; ")
        )
    };
    Finding::new(meta, Status::Pass, arn, format!(
        "The resource policy of API {api} allows every route of stage {stage} {named}."
    ))
}

/// Routes a condition decides: who it lets in is configuration the policy
/// cannot show (the caller's endpoint, VPC or address), so a warning naming
/// the condition and the callers it turns away.
fn conditional(view: &StageView, s: &Statement, routes: Vec<String>) -> Finding {
    // A statement without condition decides here by whom it names: IAM
    // callers it may or may not name.
    let cond = match &s.condition {
        Some(c) => describe_condition(c),
        None if s.not_principal => format!("other than {}", s.principals.join(", ")),
        None => format!("who are {}", s.principals.join(", ")),
    };
    let who = if s.effect == "Deny" {
        format!("denies callers {cond}")
    } else {
        format!("allows only callers {cond}, and denies the others by default")
    };
    Finding::new(&CHECK.meta, Status::Warn, &view.stage_arn, format!(
        "The resource policy of API {} {who} on {} route(s) of stage {} ({}); those callers get 403, so make sure every legitimate caller meets the condition.",
        view.api.id,
        routes.len(),
        view.stage.name,
        describe(s)
    ))
    .routes(routes)
}
