//! `execution-logging`: the stage writes execution logs (REST: level INFO or
//! ERROR, with the account's CloudWatch Logs role set).
//!
//! Without them a 500 shows only as "Internal server error" and every other
//! check here is guesswork; with them the log line names the cause, which
//! `apigw-audit explain` reads.
//!
//! Its findings are `warn`, never `fail`: a stage without logs serves calls
//! as well as one with them (the Developer Guide presents execution logging
//! as a troubleshooting aid, "Set up CloudWatch logging for REST APIs in API
//! Gateway"), so it says nothing about whether calls fail. A gate that wants
//! logs stops on it with `--fail-on warn`.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{ApiKind, Fetched, Stage};
use crate::toolkit::{CheckDef, Findings, StageCtx};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::ExecutionLogging,
        title: "Execution logging is on",
        severity: Severity::Low,
        remediation: "Set the account's CloudWatch Logs role (aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=ROLE_ARN), then turn on execution logging for the stage (aws apigateway update-stage --patch-operations op=replace,path=/*/*/logging/loglevel,value=ERROR).",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// The effective logging level of `method path` on `stage`: the method's
/// override when it sets one, else the stage default (`*/*`), else OFF.
pub fn effective_level<'a>(stage: &'a Stage, method: &str, path: &str) -> &'a str {
    let wanted_path = path.trim_start_matches('/');
    let over = stage.method_settings.iter().find(|(key, setting)| {
        if setting.logging_level.is_none() || key.as_str() == "*/*" {
            return false;
        }
        // Keys are `resource/path/METHOD`, with `/` in the path written `~1`.
        let Some((kpath, kmethod)) = key.rsplit_once('/') else {
            return false;
        };
        let kpath = kpath.replace("~1", "/");
        kpath.trim_start_matches('/') == wanted_path && (kmethod == method || kmethod == "*")
    });
    over.and_then(|(_, s)| s.logging_level.as_deref())
        .or_else(|| {
            stage
                .method_settings
                .get("*/*")
                .and_then(|s| s.logging_level.as_deref())
        })
        .unwrap_or("OFF")
}

fn run(view: &StageCtx, out: &mut Findings) {
    let stage = view.stage;
    if view.api.kind == ApiKind::Http {
        http_access_logging(view, out);
        return;
    }
    let default_level = stage
        .method_settings
        .get("*/*")
        .and_then(|s| s.logging_level.as_deref())
        .unwrap_or("OFF");
    let (off_routes, all_routes): (Vec<String>, Vec<String>) = match view.all_routes() {
        Ok(routes) => {
            let off = routes
                .iter()
                .filter(|r| effective_level(stage, &r.method, &r.path).eq_ignore_ascii_case("OFF"))
                .map(|r| r.label())
                .collect();
            (off, routes.iter().map(|r| r.label()).collect())
        }
        // Without the routes only the stage default can be judged.
        _ => (Vec::new(), Vec::new()),
    };
    let role = match logs_role(view) {
        Ok(r) => r,
        Err(f) => {
            out.add(*f);
            return;
        }
    };
    let evidence = || {
        json!({
            "default_logging_level": default_level,
            "method_settings": stage.method_settings,
            "cloudwatch_role_arn": role,
            "routes_without_logging": off_routes,
        })
    };
    let f = verdict(
        view,
        role.is_some(),
        default_level,
        &off_routes,
        all_routes.len(),
    );
    out.add(f.evidence(evidence));
}

/// API Gateway's CloudWatch Logs role (`None` when unset), or the finding
/// saying the account settings could not be read.
fn logs_role(view: &StageView) -> Result<Option<String>, Box<Finding>> {
    let meta = &CHECK.meta;
    match &view.region.apigateway_account {
        Some(Fetched::Ok(acct)) => Ok(acct.cloudwatch_role_arn.clone().filter(|r| !r.is_empty())),
        Some(Fetched::Error(f)) | Some(Fetched::NotFound(f)) => {
            Err(Box::new(Finding::from_failure(
                meta,
                &view.stage_arn,
                "API Gateway's account settings (the CloudWatch Logs role)",
                f,
            )))
        }
        None => Err(Box::new(Finding::from_failure(
            meta,
            &view.stage_arn,
            "API Gateway's account settings (the CloudWatch Logs role)",
            &crate::view::not_collected("apigateway:GetAccount"),
        ))),
    }
}

/// Logs need the account's role and a level other than OFF, on the stage
/// and on every route.
fn verdict(
    view: &StageView,
    has_role: bool,
    default_level: &str,
    off_routes: &[String],
    all_routes: usize,
) -> Finding {
    let meta = &CHECK.meta;
    let stage = view.stage;
    let stage_off = default_level.eq_ignore_ascii_case("OFF");
    if !has_role {
        Finding::new(
            meta,
            Status::Warn,
            &view.stage_arn,
            format!(
                "API Gateway in {} has no CloudWatch Logs role set in its account settings, so stage {} writes no execution logs; it needs cloudwatchRoleArn set and logging at ERROR or INFO.",
                view.region.region, stage.name
            ),
        )
    } else if stage_off && (off_routes.len() == all_routes || all_routes == 0) {
        Finding::new(
            meta,
            Status::Warn,
            &view.stage_arn,
            format!(
                "Stage {} has execution logging OFF, so a 500 leaves no log line naming its cause; it needs logging at ERROR or INFO.",
                stage.name
            ),
        )
    } else if !off_routes.is_empty() {
        Finding::new(
            meta,
            Status::Warn,
            &view.stage_arn,
            format!(
                "Stage {} has execution logging OFF for {} of its {} route(s); they need logging at ERROR or INFO.",
                stage.name,
                off_routes.len(),
                all_routes
            ),
        )
        .routes(off_routes.iter().cloned())
    } else {
        Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!(
                "Stage {} writes execution logs (default level {default_level}) and the account's CloudWatch Logs role is set.",
                stage.name
            ),
        )
    }
}

fn http_access_logging(view: &StageView, out: &mut Findings) {
    let meta = &CHECK.meta;
    let stage = view.stage;
    let dest = stage
        .access_log
        .as_ref()
        .and_then(|a| a.destination_arn.clone())
        .filter(|d| !d.is_empty());
    let evidence = || json!({ "access_log": stage.access_log });
    let f = match dest {
        Some(d) => Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!("Stage {} writes access logs to {d}.", stage.name),
        ),
        None => Finding::new(
            meta,
            Status::Warn,
            &view.stage_arn,
            format!(
                "Stage {} of HTTP API {} has no access logging, so a 500 leaves no record of its integration error; it needs access logging with $context.integrationErrorMessage in the format.",
                stage.name, view.api.id
            ),
        )
        .remediation("Turn on access logging for the stage (aws apigatewayv2 update-stage --access-log-settings DestinationArn=LOG_GROUP_ARN,Format=...) and include $context.integrationErrorMessage and $context.integration.error in the format."),
    };
    out.add(f.evidence(evidence));
}
