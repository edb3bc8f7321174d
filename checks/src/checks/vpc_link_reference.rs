//! `vpc-link-reference`: the integration's connection id, literal or
//! `${stageVariables.NAME}`, resolves on this stage to a VPC link that exists.
//!
//! A stage variable is resolved per stage, so the same route can pass on
//! `prod` and fail on `beta`: this is the check that catches a variable
//! naming another environment's link, or none at all.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding, private_routes};
use crate::view::{Hop, LinkVersion, RoutePath, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::VpcLinkReference,
        title: "Connection id resolves to an existing VPC link",
        severity: Severity::Critical,
        remediation: "Set the integration's connection id (or the stage variable it names) to the id of an existing VPC link in the API's region, then redeploy the stage.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for rp in routes {
        let link = &rp.link;
        let id = match &link.id {
            Ok(id) => id,
            Err(why) => {
                out.add(
                    Finding::new(
                        meta,
                        Status::Fail,
                        &view.stage_arn,
                        format!(
                            "The integration of {} cannot be routed because its {}; it needs a VPC link id.",
                            rp.label,
                            lowercase_first(why)
                        ),
                    )
                    .routes([rp.label.clone()])
                    .evidence(|| json!({
                        "connection_id": link.raw,
                        "stage_variable": link.variable,
                        // Names only: the values may be secrets no check needs.
                        "defined_stage_variables": view.stage.variables.keys().collect::<Vec<_>>(),
                    })),
                );
                continue;
            }
        };
        out.add(judge(view, rp, id));
    }
}

/// A route whose link id resolved: the link must exist in the region.
fn judge(view: &StageView, rp: &RoutePath, id: &str) -> Finding {
    let meta = &CHECK.meta;
    let link = &rp.link;
    let arn = view.vpc_link_arn(id);
    let generation = match link.version {
        LinkVersion::V1 => "VPC link (v1)",
        LinkVersion::V2 => "VPC link v2",
    };
    let what = format!("{generation} {id}");
    let found: Hop<Option<Option<String>>> = match link.version {
        LinkVersion::V1 => view
            .get::<res::VpcLink>(id, &arn, &what)
            .map(|l| l.map(|l| l.name.clone())),
        LinkVersion::V2 => view
            .get::<res::VpcLinkV2>(id, &arn, &what)
            .map(|l| l.map(|l| l.name.clone())),
    };
    let via = match &link.variable {
        Some(v) => format!("stage variable {v} = {id}"),
        None => format!("connection id {id}"),
    };
    let evidence = || {
        json!({
            "connection_id": link.raw,
            "stage_variable": link.variable,
            "resolved_id": id,
            "link_version": match link.version { LinkVersion::V1 => "v1", LinkVersion::V2 => "v2" },
        })
    };
    let f = match found {
        Ok(Some(name)) => Finding::new(
            meta,
            Status::Pass,
            &arn,
            format!(
                "On stage {}, {via} resolves to {generation} {id}{}.",
                view.stage.name,
                name.map(|n| format!(" ({n})")).unwrap_or_default()
            ),
        ),
        Ok(None) => Finding::new(
            meta,
            Status::Fail,
            &arn,
            format!(
                "On stage {}, {via} names {generation} {id}, which does not exist in {}; it needs the id of an existing {generation}.",
                view.stage.name, view.region.region
            ),
        ),
        Err(b) => blocked_finding(meta, &b),
    };
    if f.status == Status::Error {
        f.routes([rp.label.clone()])
    } else {
        f.routes([rp.label.clone()]).evidence(evidence)
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
