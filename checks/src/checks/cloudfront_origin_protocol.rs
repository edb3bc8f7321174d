//! `cloudfront-origin-protocol`: CloudFront distributions whose origin is
//! this API (its execute-api host, or one of its custom domain names) talk to
//! it over HTTPS. API Gateway accepts only HTTPS, so an `http-only` origin,
//! or `match-viewer` with a behavior that lets viewers use HTTP, answers 502
//! or 503 "The request could not be satisfied".

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{Distribution, DomainName, Origin, ViewerProtocolPolicy};
use crate::resources as res;
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding, skip};
use crate::view::{StageView, Want};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::CloudfrontOriginProtocol,
        title: "CloudFront reaches the API over HTTPS",
        severity: Severity::High,
        remediation: "Set the origin's protocol policy to https-only (aws cloudfront update-distribution: Origins.Items[].CustomOriginConfig.OriginProtocolPolicy = https-only), or keep match-viewer only with behaviors whose viewer protocol policy is redirect-to-https or https-only.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// The host names under which this API (on this stage) can be an origin,
/// with the origin path each implies ("" when the path carries no stage).
fn api_hosts(view: &StageView, domains: &[DomainName]) -> Vec<(String, Option<String>)> {
    let mut out = vec![(
        view.execute_api_host(),
        Some(format!("/{}", view.stage.name)),
    )];
    for d in domains {
        if view.maps_here(d) {
            for host in [Some(&d.name), d.regional_domain_name.as_ref()]
                .into_iter()
                .flatten()
            {
                out.push((host.to_ascii_lowercase(), None));
            }
        }
    }
    out
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let dists = view.listing(
        &view.region.distributions,
        Want::new(res::Kind::Distributions, ""),
        &view.stage_arn,
        "the CloudFront distributions of the account",
    );
    let domains = view.listing(
        &view.region.domain_names,
        Want::new(res::Kind::DomainNames, ""),
        &view.stage_arn,
        "the custom domain names of the region",
    );
    let (dists, domains) = match (dists, domains) {
        (Ok(d), Ok(n)) => (d, n),
        (Err(b), _) | (_, Err(b)) => {
            out.add(blocked_finding(meta, &b));
            return;
        }
    };
    let hosts = api_hosts(view, domains);
    let mut found = false;
    for d in dists {
        for o in &d.origins {
            let host = o.domain_name.to_ascii_lowercase();
            let Some((_, stage_path)) = hosts.iter().find(|(h, _)| *h == host) else {
                continue;
            };
            // An execute-api origin serves this stage only when its path
            // starts with the stage (or leaves the stage to the request).
            if let (Some(sp), Some(op)) = (
                stage_path,
                o.origin_path.as_deref().filter(|p| !p.is_empty()),
            ) && op != sp.as_str()
                && !op.starts_with(&format!("{sp}/"))
            {
                continue;
            }
            found = true;
            out.add(judge(d, o));
        }
    }
    if !found {
        out.add(skip(
            meta,
            &view.stage_arn,
            format!(
                "no CloudFront distribution of the account has stage {} of API {} as an origin",
                view.stage.name, view.api.id
            ),
        ));
    }
}

/// One origin serving this stage: its protocol policy must keep plain HTTP
/// away from API Gateway for every behavior using it.
fn judge(d: &Distribution, o: &Origin) -> Finding {
    let meta = &CHECK.meta;
    let behaviors: Vec<_> = d
        .behaviors
        .iter()
        .filter(|b| b.target_origin_id == o.id)
        .collect();
    let http_viewers: Vec<&str> = behaviors
        .iter()
        .filter(|b| b.viewer_protocol_policy == Some(ViewerProtocolPolicy::AllowAll))
        .map(|b| b.path_pattern.as_str())
        .collect();
    let evidence = || {
        json!({
            "distribution": d.id, "origin_id": o.id, "origin_domain": o.domain_name, "origin_path": o.origin_path,
            "origin_protocol_policy": o.protocol_policy, "behaviors": behaviors,
        })
    };
    let policy = o.protocol_policy.as_deref().unwrap_or("none");
    let (status, message) = match policy {
        "https-only" => (
            Status::Pass,
            format!(
                "CloudFront distribution {} reaches this API through origin {} over HTTPS only.",
                d.id, o.id
            ),
        ),
        "match-viewer" if http_viewers.is_empty() => (
            Status::Pass,
            format!(
                "CloudFront distribution {} forwards the viewer's protocol to origin {}, and every behavior using it redirects or requires HTTPS.",
                d.id, o.id
            ),
        ),
        "match-viewer" => (
            Status::Fail,
            format!(
                "CloudFront distribution {} forwards plain HTTP to origin {} ({}) for behaviors {} (viewer protocol allow-all), which API Gateway refuses, so viewers get 502/503; it needs https-only.",
                d.id,
                o.id,
                o.domain_name,
                http_viewers.join(", ")
            ),
        ),
        other => (
            Status::Fail,
            format!(
                "CloudFront distribution {} reaches origin {} ({}) with protocol policy {other}, but API Gateway accepts only HTTPS, so viewers get 502/503; it needs https-only.",
                d.id, o.id, o.domain_name
            ),
        ),
    };
    Finding::new(meta, status, &d.arn, message).evidence(evidence)
}
