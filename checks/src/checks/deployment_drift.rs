//! `deployment-drift`: the definition a stage serves (its deployment) is
//! the API's current definition. A stage serves its deployment, so a fix
//! made to an integration and never deployed fixes nothing, and a break
//! made and not yet deployed is waiting for the next deployment. Each
//! differing route is named with the fields that differ.

use std::collections::BTreeMap;

use serde_json::json;

use crate::check_id::CheckId;
use crate::export::differing_fields;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{Fetched, Integration, Route};
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding};
use crate::view::{Blocked, BlockedKind, StageView, not_collected};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::DeploymentDrift,
        title: "The stage serves the API's current definition",
        severity: Severity::Medium,
        remediation: "Deploy the API to the stage (aws apigateway create-deployment --rest-api-id ID --stage-name STAGE, or for an HTTP API aws apigatewayv2 create-deployment, or turn on auto-deploy) once the current definition is the one you want served.",
        aliases: &[],
    },
    run,
    judges_definition_itself: true,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let stage = &view.stage.name;
    let deployed = match deployed_routes(view) {
        Ok(r) => r,
        Err(f) => {
            out.add(*f);
            return;
        }
    };
    let current = match &view.api.routes {
        Fetched::Ok(r) => r,
        Fetched::NotFound(f) | Fetched::Error(f) => {
            out.add(Finding::from_failure(
                meta,
                &view.stage_arn,
                &format!("the current definition of API {}", view.api.id),
                f,
            ));
            return;
        }
    };
    let (cur, dep) = (index(current), index(deployed));
    let diffs = differences(&cur, &dep);
    let deployment = view.stage.deployment_id.as_deref().unwrap_or("(unknown)");
    let evidence = || {
        json!({
            "deployment_id": deployment,
            "differences": diffs.iter().map(|(r, f)| json!({
                "route": r, "fields": f,
                "current": cur.get(r), "deployed": dep.get(r),
            })).collect::<Vec<_>>(),
        })
    };
    let f = if diffs.is_empty() {
        Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!(
                "Stage {stage} serves deployment {deployment}, which matches the API's current definition ({} routes).",
                cur.len()
            ),
        )
    } else {
        let list: Vec<String> = diffs
            .iter()
            .take(3)
            .map(|(r, f)| format!("{r}: {}", f.join(", ")))
            .collect();
        let more = if diffs.len() > 3 {
            format!(" and {} more", diffs.len() - 3)
        } else {
            String::new()
        };
        Finding::new(
            meta,
            Status::Warn,
            &view.stage_arn,
            format!(
                "Stage {stage} serves deployment {deployment}, which differs from the API's current definition on {} route(s) ({}{more}); the checks judge what is deployed, and the current definition takes effect only when deployed.",
                diffs.len(),
                list.join("; ")
            ),
        )
        .routes(diffs.iter().map(|(r, _)| r.clone()))
    };
    out.add(f.evidence(evidence));
}

/// The routes the stage's deployment serves, or the finding saying why
/// they are unknown.
fn deployed_routes<'a>(view: &StageView<'a>) -> Result<&'a [Route], Box<Finding>> {
    let meta = &CHECK.meta;
    let stage = &view.stage.name;
    match view.api.deployed_routes.get(stage) {
        Some(Fetched::Ok(r)) => Ok(r),
        Some(Fetched::NotFound(f)) | Some(Fetched::Error(f)) => {
            Err(Box::new(Finding::from_failure(
                meta,
                &view.stage_arn,
                &format!("the deployment stage {stage} serves"),
                f,
            )))
        }
        None => {
            let b = Blocked {
                resource: view.stage_arn.clone(),
                kind: BlockedKind::Error {
                    what: format!("the deployment stage {stage} serves"),
                    failure: Box::new(not_collected("apigateway:GetExport")),
                },
            };
            Err(Box::new(blocked_finding(meta, &b)))
        }
    }
}

/// Each route's integration, by label.
fn index(routes: &[Route]) -> BTreeMap<String, Option<Integration>> {
    routes
        .iter()
        .map(|r| (r.label(), r.integration.clone()))
        .collect()
}

/// The routes whose integrations differ between the current definition and
/// the deployed one, with the fields that differ.
fn differences(
    cur: &BTreeMap<String, Option<Integration>>,
    dep: &BTreeMap<String, Option<Integration>>,
) -> Vec<(String, Vec<&'static str>)> {
    let mut diffs: Vec<(String, Vec<&'static str>)> = Vec::new();
    for label in cur
        .keys()
        .chain(dep.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let fields = match (cur.get(label), dep.get(label)) {
            (Some(_), None) => vec!["added after the deployment"],
            (None, Some(_)) => vec!["removed after the deployment"],
            (Some(c), Some(d)) => differing_fields(c.as_ref(), d.as_ref()),
            (None, None) => Vec::new(),
        };
        if !fields.is_empty() {
            diffs.push((label.clone(), fields));
        }
    }
    diffs
}
