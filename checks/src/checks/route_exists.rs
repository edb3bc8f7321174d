//! `route-exists`: (explain with `--url`) the URL's stage, path and method
//! exist in what the stage has deployed, matched the way API Gateway routes
//! (path parameters, greedy `{proxy+}`, `ANY`, `$default`). When they do not,
//! the closest existing paths are named: a URL missing its `/api` prefix is
//! answered "Missing Authentication Token", not 404.

use serde_json::json;

use crate::check_id::CheckId;
use crate::explain::match_route;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::toolkit::{self, CheckDef, Findings, StageCtx, skip};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::RouteExists,
        title: "The requested route exists on the stage",
        severity: Severity::Medium,
        remediation: "Call the path and method the stage serves (the finding names the closest ones), or add the route and deploy the API to the stage.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: Some(missing_stage),
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(probe) = view.probe else {
        out.add(skip(
            meta,
            &view.stage_arn,
            "route-exists judges a URL given to apigw-audit explain --url",
        ));
        return;
    };
    let Some(routes) = toolkit::all_routes(view, out) else {
        return;
    };
    let m = match_route(routes, probe.method.as_deref(), &probe.path);
    let asked = format!(
        "{} {}",
        probe.method.as_deref().unwrap_or("(any method)"),
        probe.path
    );
    let evidence = || json!({ "method": probe.method, "path": probe.path, "match": m });
    let f = match &m.matched {
        Some(route) => Finding::new(
            meta,
            Status::Pass,
            &view.stage_arn,
            format!(
                "Stage {} serves {asked} with route {route}.",
                view.stage.name
            ),
        )
        .routes([route.clone()]),
        None if !m.methods_at_path.is_empty() => Finding::new(
            meta,
            Status::Fail,
            &view.stage_arn,
            format!(
                "Stage {} has {} but not for method {}: it serves {} there; callers get 403 Missing Authentication Token.",
                view.stage.name,
                probe.path,
                probe.method.as_deref().unwrap_or("?"),
                m.methods_at_path.join(", ")
            ),
        ),
        None => Finding::new(
            meta,
            Status::Fail,
            &view.stage_arn,
            format!(
                "Stage {} has no route for {asked}, so callers get 403 Missing Authentication Token; {}.",
                view.stage.name,
                if m.closest.is_empty() {
                    "no existing path is close".to_string()
                } else {
                    format!("the closest existing paths are {}", m.closest.join(", "))
                }
            ),
        ),
    };
    out.add(f.evidence(evidence));
}

/// The verdict on a URL whose stage the API does not have: API Gateway
/// answers 403 Missing Authentication Token for it like for a missing
/// path, and the closest URLs are the same path on the stages it has.
pub fn missing_stage(
    region: &str,
    api: &crate::model::ApiRecord,
    probe: &crate::view::Probe,
    stages: &[String],
) -> Finding {
    let closest: Vec<String> = stages
        .iter()
        .map(|s| format!("/{s}{}", probe.path))
        .collect();
    Finding::new(
        &CHECK.meta,
        Status::Fail,
        crate::view::stage_arn(region, api, &probe.stage),
        format!(
            "API {} has no stage {}, so callers of that URL get 403 Missing Authentication Token; it has {}, e.g. {}.",
            api.id,
            if probe.stage.is_empty() { "in the URL" } else { &probe.stage },
            if stages.is_empty() { "no stage at all".to_string() } else { format!("stages {}", stages.join(", ")) },
            closest.first().cloned().unwrap_or_else(|| "none".to_string())
        ),
    )
    .evidence(|| json!({ "stage": probe.stage, "stages": stages, "method": probe.method, "path": probe.path, "closest": closest }))
}
