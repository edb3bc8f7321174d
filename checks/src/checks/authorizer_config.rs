//! `authorizer-config`: each authorizer a route uses exists, says what a
//! caller must send (its identity sources), and, for a Lambda authorizer,
//! its function exists and API Gateway may invoke it.
//!
//! A request without the identity source is answered 401 before the
//! authorizer runs; an authorizer API Gateway cannot invoke turns every
//! request into a 500 `AuthorizerConfigurationException`. Permission is read
//! from the function's resource-based policy: a statement allowing
//! `apigateway.amazonaws.com` to `lambda:InvokeFunction` whose `SourceArn`
//! (if any) covers `arn:aws:execute-api:REGION:ACCOUNT:API/authorizers/ID`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{ApiKind, AuthorizationType, Authorizer, AuthorizerType, Route};
use crate::lambda_policy::{Caller, Scan, scan};
use crate::policy::parse_policy;
use crate::resources as res;
use crate::toolkit::{self, CheckDef, Findings, StageCtx, blocked_finding, skip};
use crate::view::{StageView, Want, partition, substitute_stage_variables};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::AuthorizerConfig,
        title: "Authorizers are complete and invocable",
        severity: Severity::High,
        remediation: "Give the authorizer the identity sources callers send (and tell callers which), point it at an existing Lambda function, and let API Gateway invoke it: aws lambda add-permission --function-name FN --statement-id apigateway --action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn arn:aws:execute-api:REGION:ACCOUNT:API_ID/authorizers/AUTHORIZER_ID.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// The Lambda function ARN inside an authorizer URI
/// (`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FN/invocations`).
pub fn function_arn(uri: &str) -> Option<&str> {
    let start = uri.find("/functions/")? + "/functions/".len();
    let rest = &uri[start..];
    Some(rest.strip_suffix("/invocations").unwrap_or(rest)).filter(|f| f.starts_with("arn:"))
}

/// What a caller must send, in words: `header Authorization`, ...
pub fn describe_sources(sources: &[String]) -> Vec<String> {
    sources
        .iter()
        .map(|s| {
            let s = s.trim();
            for (prefix, kind) in [
                ("method.request.header.", "header"),
                ("method.request.querystring.", "query string parameter"),
                ("method.request.multivalueheader.", "header"),
                (
                    "method.request.multivaluequerystring.",
                    "query string parameter",
                ),
                ("$request.header.", "header"),
                ("$request.querystring.", "query string parameter"),
                ("stageVariables.", "stage variable"),
                ("$stageVariables.", "stage variable"),
                ("context.", "context value"),
                ("$context.", "context value"),
            ] {
                if let Some(name) = s.strip_prefix(prefix) {
                    return format!("{kind} {name}");
                }
            }
            if let Some(name) = s
                .strip_prefix("$request.cookie.")
                .or_else(|| s.strip_prefix("method.request.cookie."))
            {
                return format!("cookie {name}");
            }
            s.to_string()
        })
        .collect()
}

/// Each authorizer the routes use (by id, or by name where an export gave
/// only that), with the routes using it.
fn used_authorizers(routes: &[Route]) -> BTreeMap<(Option<&str>, Option<&str>), BTreeSet<String>> {
    let mut used: BTreeMap<(Option<&str>, Option<&str>), BTreeSet<String>> = BTreeMap::new();
    for r in routes {
        let custom = matches!(
            r.authorization_type,
            Some(
                AuthorizationType::Custom
                    | AuthorizationType::CognitoUserPools
                    | AuthorizationType::Jwt
            )
        );
        let key = (r.authorizer_id.as_deref(), r.authorizer_name.as_deref());
        if custom && (key.0.is_some() || key.1.is_some()) {
            used.entry(key).or_default().insert(r.label());
        }
    }
    used
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = toolkit::all_routes(view, out) else {
        return;
    };
    let used = used_authorizers(routes);
    if used.is_empty() {
        out.add(skip(
            meta,
            &view.stage_arn,
            format!("no route of stage {} uses an authorizer", view.stage.name),
        ));
        return;
    }
    let coll = if view.api.kind == ApiKind::Rest {
        "restapis"
    } else {
        "apis"
    };
    let region = &view.region.region;
    let all = match view.listing(
        &view.api.authorizers,
        Want::new(res::Kind::Authorizers, &view.api.id),
        &view.stage_arn,
        &format!("the authorizers of API {}", view.api.id),
    ) {
        Ok(a) => a,
        Err(b) => {
            out.add(blocked_finding(meta, &b).routes(used.values().flatten().cloned()));
            return;
        }
    };
    for ((id, name), routes) in used {
        let found = match id {
            Some(id) => all.iter().find(|a| a.id == id),
            None => all.iter().find(|a| a.name.as_deref() == name),
        };
        let label = id.or(name).unwrap_or_default();
        let arn = format!(
            "arn:{}:apigateway:{region}::/{coll}/{}/authorizers/{}",
            partition(region),
            view.api.id,
            found.map_or(label, |a| a.id.as_str())
        );
        let f = match found {
            None => Finding::new(
                meta,
                Status::Fail,
                &arn,
                format!(
                    "Routes use authorizer {label}, which API {} does not have; every request to them fails.",
                    view.api.id
                ),
            ),
            Some(a) => judge(view, a, &arn),
        };
        let f = match (f.status, found) {
            (Status::Pass, Some(a)) if view.api.kind == ApiKind::Rest => cached(f, a, &routes),
            _ => f,
        };
        out.add(f.routes(routes));
    }
}

/// A REST Lambda authorizer that caches its policy while guarding several
/// methods: "To enable caching, your authorizer must return a policy that
/// is applicable to all methods across an API" (Developer Guide, "Configure
/// a Lambda authorizer"), and a cached policy whose `Resource` names one
/// method denies the others with 403 "User is not authorized to access this
/// resource" (knowledge center "api-gateway-lambda-authorization-errors").
/// What the function returns is not configuration, so this is a warning.
fn cached(mut f: Finding, a: &Authorizer, routes: &BTreeSet<String>) -> Finding {
    let lambda = matches!(
        a.authorizer_type,
        Some(AuthorizerType::Token | AuthorizerType::Request)
    );
    if !lambda || routes.len() < 2 {
        return f;
    }
    let ttl = match a.result_ttl_seconds {
        Some(0) => return f,
        Some(t) => format!("caches its policy for {t} s"),
        // "If this field is not set, the default value is 300" (API Gateway
        // API reference, Authorizer.authorizerResultTtlInSeconds).
        None => "does not report its cache TTL (unset, it is 300 s: it caches)".to_string(),
    };
    let name = a.name.as_deref().unwrap_or(&a.id);
    let message = format!(
        "Authorizer {name} {ttl} and guards {} methods ({}), so a cached policy whose Resource names only the first method called denies the others with 403 \"User is not authorized to access this resource\"; its policy needs to cover every method (arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/*/*), or its TTL to be 0.",
        routes.len(),
        routes.iter().cloned().collect::<Vec<_>>().join(", "),
    );
    // The pass becomes a warning in place: its resource and evidence stand.
    f.status = Status::Warn;
    f.message = message;
    f.remediation("Return a policy whose Resource covers every method the authorizer guards (for example arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/*/*), or set the authorizer's result TTL to 0 (aws apigateway update-authorizer --patch-operations op=replace,path=/authorizerResultTtlInSeconds,value=0).")
}

/// What callers must send, as a message says it.
fn spoken(sends: &[String]) -> String {
    if sends.is_empty() {
        "nothing in particular".to_string()
    } else {
        sends.join(" and ")
    }
}

fn judge(view: &StageView, a: &Authorizer, arn: &str) -> Finding {
    let meta = &CHECK.meta;
    let name = a.name.as_deref().unwrap_or(&a.id);
    let kind = a
        .authorizer_type
        .as_ref()
        .map_or("unknown", AuthorizerType::as_str);
    let sends = describe_sources(&a.identity_sources);
    let sends_text = spoken(&sends);
    let base = || {
        json!({
        "authorizer_id": a.id, "name": a.name, "type": kind, "identity_sources": a.identity_sources,
        "callers_must_send": sends, "authorizer_uri": a.authorizer_uri, "credentials": a.credentials,
        "provider": a.provider, "result_ttl_seconds": a.result_ttl_seconds,
        })
    };
    if a.authorizer_type == Some(AuthorizerType::Token) && a.identity_sources.is_empty() {
        return Finding::new(
            meta,
            Status::Fail,
            arn,
            format!("TOKEN authorizer {name} names no identity source, so no request carries its token; it needs one such as method.request.header.Authorization."),
        )
        .evidence(base);
    }
    let lambda = matches!(
        a.authorizer_type,
        Some(AuthorizerType::Token | AuthorizerType::Request)
    );
    if !lambda {
        return Finding::new(
            meta,
            Status::Pass,
            arn,
            format!("{kind} authorizer {name} is configured; callers must send {sends_text}, or get 401 Unauthorized."),
        )
        .evidence(base);
    }
    let function = match lambda_function(view, a, arn, name, &base) {
        Ok(f) => f,
        Err(f) => return *f,
    };
    let evidence = || {
        let mut evidence = base();
        evidence["function"] = json!(function);
        evidence
    };
    if let Some(role) = &a.credentials {
        return Finding::new(
            meta,
            Status::Warn,
            arn,
            format!("Authorizer {name} invokes {function} as role {role}, whose lambda:InvokeFunction permission is not read here; callers must send {sends_text}."),
        )
        .remediation("Make sure the authorizer's role allows lambda:InvokeFunction on the function and trusts apigateway.amazonaws.com.")
        .evidence(evidence);
    }
    let fetched =
        view.get::<res::LambdaFunction>(&function, arn, &format!("Lambda function {function}"));
    let func = match fetched {
        Err(b) => return blocked_finding(meta, &b).evidence(evidence),
        Ok(None) => {
            return Finding::new(
                meta,
                Status::Fail,
                arn,
                format!("Authorizer {name} invokes Lambda function {function}, which does not exist, so requests get 500 instead of 401; it needs an existing function."),
            )
            .evidence(evidence);
        }
        Ok(Some(f)) => f,
    };
    let said = Said {
        arn,
        name,
        sends_text: &sends_text,
        function: &function,
    };
    judge_invoke_policy(view, a, &said, func.policy.as_deref(), &evidence)
}

/// How an authorizer's finding names it, the function it invokes and what
/// callers must send.
struct Said<'s> {
    arn: &'s str,
    name: &'s str,
    sends_text: &'s str,
    function: &'s str,
}

/// The Lambda function a TOKEN or REQUEST authorizer invokes, or the
/// `fail` saying why its URI names none.
fn lambda_function(
    view: &StageView,
    a: &Authorizer,
    arn: &str,
    name: &str,
    evidence: &dyn Fn() -> Value,
) -> Result<String, Box<Finding>> {
    let meta = &CHECK.meta;
    let uri = match a
        .authorizer_uri
        .as_deref()
        .map(|u| substitute_stage_variables(u, view.stage))
    {
        Some(Ok(u)) => u,
        Some(Err(why)) => {
            return Err(Box::new(Finding::new(meta, Status::Fail, arn, format!("Authorizer {name}'s function cannot be resolved: {why}; it needs an existing function.")).evidence(evidence)));
        }
        None => {
            return Err(Box::new(
                Finding::new(
                    meta,
                    Status::Fail,
                    arn,
                    format!("Lambda authorizer {name} names no function; it needs the ARN of one."),
                )
                .evidence(evidence),
            ));
        }
    };
    function_arn(&uri).map(str::to_string).ok_or_else(|| {
        Box::new(Finding::new(
            meta,
            Status::Fail,
            arn,
            format!("Authorizer {name}'s URI `{uri}` names no Lambda function; it needs arn:...:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations."),
        )
        .evidence(evidence))
    })
}

/// Whether the function's resource-based policy lets API Gateway invoke
/// it for this authorizer: a Deny covering it fails, an Allow passes, an
/// Allow under a condition not evaluable here warns.
fn judge_invoke_policy(
    view: &StageView,
    a: &Authorizer,
    said: &Said,
    policy: Option<&str>,
    with_function: &dyn Fn() -> Value,
) -> Finding {
    let meta = &CHECK.meta;
    let Said {
        arn,
        name,
        function,
        ..
    } = *said;
    let caller = Caller {
        partition: view.partition(),
        region: &view.region.region,
        account: view.snapshot.account.as_deref(),
        api: &view.api.id,
        tail: format!("authorizers/{}", a.id),
    };
    let source = caller.source_arn(caller.account.unwrap_or("ACCOUNT"));
    let evidence = || {
        let mut evidence = with_function();
        evidence["source_arn_needed"] = json!(source);
        evidence["policy"] = json!(policy);
        evidence
    };
    let Some(policy) = policy else {
        return Finding::new(
            meta,
            Status::Fail,
            arn,
            format!("Lambda authorizer {name} invokes {function}, which has no resource-based policy letting apigateway.amazonaws.com invoke it, so requests get 500 instead of 401; it needs a statement allowing lambda:InvokeFunction from {source}."),
        )
        .evidence(evidence);
    };
    let stmts = match parse_policy(policy) {
        Ok(s) => s,
        Err(why) => {
            return Finding::new(meta, Status::Error, arn, format!("The policy of {function} could not be read ({why}), so this check cannot decide.")).evidence(evidence);
        }
    };
    invoke_verdict(view, said, &source, scan(&stmts, &caller), &evidence)
}

/// The finding for what the function's policy says about this caller.
fn invoke_verdict(
    view: &StageView,
    said: &Said,
    source: &str,
    scan: Scan,
    evidence: &dyn Fn() -> Value,
) -> Finding {
    let meta = &CHECK.meta;
    let Said {
        arn,
        name,
        sends_text,
        function,
    } = *said;
    let Scan {
        allow,
        unsure,
        deny,
        needs_account,
        maybe_deny,
    } = scan;
    if let Some(sid) = deny {
        return Finding::new(
            meta,
            Status::Fail,
            arn,
            format!("Lambda authorizer {name} invokes {function}, whose policy statement {sid} denies apigateway.amazonaws.com from {source}, so requests get 500 instead of 401; that statement must not cover this API."),
        )
        .evidence(evidence);
    }
    // Unknown because STS failed: missing data, so error, naming the call.
    if allow.is_none()
        && let (Some(sid), Some(f)) = (&needs_account, &view.snapshot.account_failure)
    {
        return Finding::from_failure(
            meta,
            arn,
            &format!("the account, on which statement {sid} of {function}'s policy depends"),
            f,
        )
        .evidence(evidence);
    }
    if let (Some(_), Some((sid, why))) = (&allow, &maybe_deny) {
        return Finding::new(
            meta,
            Status::Warn,
            arn,
            format!("Lambda authorizer {name} invokes {function}, whose statement {sid} denies apigateway.amazonaws.com under a condition this check cannot evaluate ({why}); confirm it does not cover {source}."),
        )
        .evidence(evidence);
    }
    match (allow, unsure) {
        (Some(sid), _) => Finding::new(
            meta,
            Status::Pass,
            arn,
            format!("Lambda authorizer {name} invokes {function}, which statement {sid} lets API Gateway invoke; callers must send {sends_text}, or get 401 Unauthorized."),
        )
        .evidence(evidence),
        (None, Some((sid, why))) => Finding::new(
            meta,
            Status::Warn,
            arn,
            format!("Lambda authorizer {name} invokes {function}, whose statement {sid} allows apigateway.amazonaws.com only under a condition this check cannot evaluate ({why}); confirm it covers {source}."),
        )
        .evidence(evidence),
        (None, None) => Finding::new(
            meta,
            Status::Fail,
            arn,
            format!("Lambda authorizer {name} invokes {function}, whose policy has no statement letting apigateway.amazonaws.com invoke it from {source}, so requests get 500 instead of 401; it needs that permission."),
        )
        .evidence(evidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_and_sources() {
        assert_eq!(
            function_arn(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:auth/invocations"
            ),
            Some("arn:aws:lambda:us-east-1:1:function:auth")
        );
        assert_eq!(function_arn("https://example.com"), None);
        assert_eq!(
            describe_sources(&[
                "method.request.header.Authorization".into(),
                "$request.querystring.token".into()
            ]),
            vec!["header Authorization", "query string parameter token"]
        );
    }
}
