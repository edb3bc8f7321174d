//! `execute-api-endpoint`: callers of the stage can reach it. An API whose
//! default endpoint is disabled (`disableExecuteApiEndpoint`) answers
//! 403 Forbidden on `https://{api}.execute-api.{region}.amazonaws.com`, so
//! it is reachable only through a custom domain that maps the stage; a
//! CloudFront origin or an `explain --url` naming the execute-api host then
//! fails.
//!
//! The API references of CreateRestApi and CreateApi say of
//! `disableExecuteApiEndpoint`: "By default, clients can invoke your API
//! with the default https://{api_id}.execute-api.{region}.amazonaws.com
//! endpoint. To require that clients use a custom domain name to invoke
//! your API, disable the default endpoint." An HTTP API that does not
//! report the field has the default (enabled).

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{Distribution, DomainName, Fetched};
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::ExecuteApiEndpoint,
        title: "Callers use an endpoint the API serves",
        severity: Severity::High,
        remediation: "Call the stage through a custom domain that maps it (and point CloudFront origins at that domain), or enable the default endpoint (aws apigateway update-rest-api --patch-operations op=replace,path=/disableExecuteApiEndpoint,value=false; for HTTP APIs aws apigatewayv2 update-api --no-disable-execute-api-endpoint) and redeploy.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let info = match &view.api.info {
        Fetched::Ok(i) => i,
        Fetched::NotFound(f) | Fetched::Error(f) => {
            let what = format!("API {}", view.api.id);
            out.add(Finding::from_failure(meta, &view.stage_arn, &what, f));
            return;
        }
    };
    let host = view.execute_api_host();
    if !info.disable_execute_api_endpoint.unwrap_or(false) {
        out.add(
            Finding::new(
                meta,
                Status::Pass,
                &view.stage_arn,
                format!(
                    "API {} serves its default endpoint https://{host}/ (disableExecuteApiEndpoint {}).",
                    view.api.id,
                    match info.disable_execute_api_endpoint {
                        Some(v) => v.to_string(),
                        None => "not reported: the default, false".to_string(),
                    }
                ),
            )
            .evidence(|| json!({ "disable_execute_api_endpoint": info.disable_execute_api_endpoint })),
        );
        return;
    }
    let (domains, dists) = match view.public_faces() {
        Ok(faces) => faces,
        Err(b) => return out.add(blocked_finding(meta, &b)),
    };
    judge_disabled(view, &host, domains, dists, out);
}

/// The default endpoint is disabled: whoever uses it gets 403.
fn judge_disabled(
    view: &StageView,
    host: &str,
    domains: &[DomainName],
    dists: &[Distribution],
    out: &mut Findings,
) {
    let meta = &CHECK.meta;
    let serving: Vec<&str> = domains
        .iter()
        .filter(|d| view.maps_here(d))
        .map(|d| d.name.as_str())
        .collect();
    let evidence = || json!({ "disable_execute_api_endpoint": true, "custom_domains": serving });
    let instead = match serving.as_slice() {
        [] => "no custom domain of the region maps this stage, so no caller can reach it".to_string(),
        names => format!("it is reachable only through {}", names.join(", ")),
    };
    let mut failed = false;
    if view.probe.is_some_and(|p| p.via_execute_api) {
        failed = true;
        out.add(Finding::new(meta, Status::Fail, &view.stage_arn, format!(
            "The URL uses https://{host}/, the default endpoint API {} disables (disableExecuteApiEndpoint true), so it is answered 403 Forbidden; {instead}.",
            view.api.id
        )).evidence(evidence));
    }
    for (d, o) in dists.iter().flat_map(|d| d.origins.iter().map(move |o| (d, o))) {
        if o.domain_name.eq_ignore_ascii_case(host) {
            failed = true;
            out.add(Finding::new(meta, Status::Fail, &d.arn, format!(
                "CloudFront distribution {} sends origin {} to https://{host}/, the default endpoint API {} disables (disableExecuteApiEndpoint true), so viewers get 403 Forbidden; the origin needs {}.",
                d.id, o.id, view.api.id,
                serving.first().map_or("a custom domain mapping the stage".to_string(), |n| n.to_string())
            )).evidence(evidence));
        }
    }
    if failed {
        return;
    }
    let (status, message) = if serving.is_empty() {
        (Status::Fail, format!(
            "API {} disables its default endpoint (disableExecuteApiEndpoint true) and {instead}: every call to stage {} is answered 403 Forbidden; it needs a custom domain mapping the stage, or the default endpoint enabled.",
            view.api.id, view.stage.name
        ))
    } else {
        (Status::Pass, format!(
            "API {} disables its default endpoint and {instead}, which no CloudFront origin of the account bypasses.",
            view.api.id
        ))
    };
    out.add(Finding::new(meta, status, &view.stage_arn, message).evidence(evidence));
}
