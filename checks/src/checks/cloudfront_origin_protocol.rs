//! `cloudfront-origin-protocol`: CloudFront distributions whose origin is
//! this API (its execute-api host, or one of its custom domain names) talk to
//! it over HTTPS. API Gateway accepts only HTTPS, so an `http-only` origin,
//! or `match-viewer` with a behavior that lets viewers use HTTP, answers 502
//! or 503 "The request could not be satisfied". Beyond the protocol: the
//! origin's HTTPS port and TLS protocols, and (for an execute-api origin)
//! no behavior forwarding the viewer's `Host` header, which API Gateway
//! answers with 403.

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{ApiKind, CacheBehavior, Distribution, DomainName, Origin, ViewerProtocolPolicy};
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, blocked_finding, skip};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::CloudfrontOriginProtocol,
        title: "CloudFront reaches the API over HTTPS",
        severity: Severity::High,
        remediation: "Set the origin's protocol policy to https-only (aws cloudfront update-distribution: Origins.Items[].CustomOriginConfig.OriginProtocolPolicy = https-only), or keep match-viewer only with behaviors whose viewer protocol policy is redirect-to-https or https-only; keep the origin's HTTPS port at 443 and TLSv1.2 among its SSL protocols; and forward no viewer Host header to an execute-api origin (origin request policy AllViewerExceptHostHeader, b689b0a8-53d0-40ab-baf2-68738e2966ac).",
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
    let (domains, dists) = match view.public_faces() {
        Ok(faces) => faces,
        Err(b) => {
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
            out.add(judge(view, d, o, stage_path.is_some()));
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

/// The managed origin request policies that forward every viewer header,
/// `Host` included (CloudFront guide, "Use managed origin request
/// policies": AllViewer and AllViewerAndCloudFrontHeaders-2022-06), and the
/// one "intended for use with Amazon API Gateway", AllViewerExceptHostHeader.
const ALL_VIEWER_POLICIES: &[(&str, &str)] = &[
    ("216adef6-5c7f-47e4-b989-5492eafa07d3", "AllViewer"),
    ("33f36d7e-f396-46d9-90e0-52428a34d9dc", "AllViewerAndCloudFrontHeaders-2022-06"),
];
const EXCEPT_HOST_POLICY: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// Managed cache policies whose cache key holds no viewer header
/// (CloudFront guide, "Use managed cache policies": CachingOptimized,
/// CachingDisabled); another cache policy's key headers are not read, and
/// CloudFront sends them to the origin.
const HEADERLESS_CACHE_POLICIES: &[&str] = &[
    "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
];

/// One origin serving this stage: its protocol policy must keep plain HTTP
/// away from API Gateway for every behavior using it, over TLS the API
/// accepts, and an execute-api origin must not get the viewer's `Host`.
fn judge(view: &StageView, d: &Distribution, o: &Origin, execute_api: bool) -> Finding {
    let meta = &CHECK.meta;
    let behaviors: Vec<_> = d
        .behaviors
        .iter()
        .filter(|b| b.target_origin_id == o.id)
        .collect();
    let evidence = || {
        json!({
            "distribution": d.id, "origin_id": o.id, "origin_domain": o.domain_name, "origin_path": o.origin_path,
            "origin_protocol_policy": o.protocol_policy, "https_port": o.https_port,
            "origin_ssl_protocols": o.ssl_protocols, "behaviors": behaviors,
        })
    };
    let mut j = Judgement::new();
    judge_protocol(d, o, &behaviors, &mut j);
    judge_port_and_tls(view, d, o, &mut j);
    if execute_api {
        for b in &behaviors {
            judge_host_header(d, o, b, &mut j);
        }
    }
    let pass = format!(
        "CloudFront distribution {} reaches this API through origin {} over HTTPS on port 443, with TLS it accepts{}.",
        d.id,
        o.id,
        if execute_api { " and without the viewer's Host header" } else { "" }
    );
    j.finding(meta, &d.arn, pass, evidence())
}

fn judge_protocol(d: &Distribution, o: &Origin, behaviors: &[&CacheBehavior], j: &mut Judgement) {
    let http_viewers: Vec<&str> = behaviors
        .iter()
        .filter(|b| b.viewer_protocol_policy == Some(ViewerProtocolPolicy::AllowAll))
        .map(|b| b.path_pattern.as_str())
        .collect();
    let policy = o.protocol_policy.as_deref().unwrap_or("none");
    let (status, sentence) = match policy {
        "https-only" => (Status::Pass, String::new()),
        "match-viewer" if http_viewers.is_empty() => (Status::Pass, String::new()),
        "match-viewer" => (Status::Fail, format!(
            "CloudFront distribution {} forwards plain HTTP to origin {} ({}) for behaviors {} (viewer protocol allow-all), which API Gateway refuses, so viewers get 502/503; it needs https-only",
            d.id, o.id, o.domain_name, http_viewers.join(", ")
        )),
        other => (Status::Fail, format!(
            "CloudFront distribution {} reaches origin {} ({}) with protocol policy {other}, but API Gateway accepts only HTTPS, so viewers get 502/503; it needs https-only",
            d.id, o.id, o.domain_name
        )),
    };
    j.push(status, sentence, || json!({ "origin_protocol_policy": policy }));
}

/// The HTTPS port and the TLS protocols CloudFront may use. API Gateway
/// serves HTTPS ("API Gateway doesn't support unencrypted (HTTP)
/// endpoints") on its default port; no page says another port fails, so a
/// port other than 443 is `warn`. TLS: HTTP APIs enforce TLS 1.2 ("API
/// Gateway enforces a security policy of TLS_1_2 for all HTTP API
/// endpoints"), REST endpoints' default policy TLS-1-0 accepts TLS 1.0 and
/// up, and none accepts SSLv3 (Developer Guide, "Choose a security policy").
fn judge_port_and_tls(view: &StageView, d: &Distribution, o: &Origin, j: &mut Judgement) {
    if let Some(port) = o.https_port.filter(|p| *p != 443) {
        j.push(Status::Warn, format!(
            "CloudFront distribution {} connects to origin {} on HTTPS port {port}, but API Gateway is assumed to listen on 443 only (no AWS page names another port), so viewers would get 502; it needs 443",
            d.id, o.id
        ), || json!({ "https_port": port }));
    }
    let p = &o.ssl_protocols;
    if p.is_empty() || p.iter().any(|x| x == "TLSv1.2") {
        return;
    }
    let listed = p.join(", ");
    let ev = || json!({ "origin_ssl_protocols": p });
    let tls10 = p.iter().any(|x| x == "TLSv1" || x == "TLSv1.1");
    if !tls10 {
        j.push(Status::Fail, format!(
            "CloudFront distribution {} may use only {listed} with origin {}, which API Gateway does not accept, so viewers get 502; the origin's SSL protocols need TLSv1.2", d.id, o.id), ev);
    } else if view.api.kind == ApiKind::Http {
        j.push(Status::Fail, format!(
            "CloudFront distribution {} may use only {listed} with origin {}, but HTTP APIs accept TLS 1.2 and up, so viewers get 502; the origin's SSL protocols need TLSv1.2", d.id, o.id), ev);
    } else {
        j.push(Status::Warn, format!(
            "CloudFront distribution {} may use only {listed} with origin {}, which only a TLS-1-0 security policy accepts (a custom domain's TLS_1_2 policy or a private API refuses it); the origin's SSL protocols need TLSv1.2", d.id, o.id), ev);
    }
}

/// An execute-api origin answers 403 when CloudFront forwards the viewer's
/// `Host` ("If you create a custom policy for API Gateway origins without
/// custom domain, then don't forward the HOST header. Otherwise, you get a
/// 403 Error", knowledge center "configure-cloudfront-to-forward-headers").
fn judge_host_header(d: &Distribution, o: &Origin, b: &CacheBehavior, j: &mut Judgement) {
    let ev = || json!({ "behavior": b.path_pattern, "forwarded_headers": b.forwarded_headers,
                         "origin_request_policy_id": b.origin_request_policy_id });
    let legacy = b.forwarded_headers.iter().find(|h| *h == "*" || h.eq_ignore_ascii_case("Host"));
    let managed = b.origin_request_policy_id.as_deref().and_then(|id| {
        ALL_VIEWER_POLICIES.iter().find(|(p, _)| *p == id).map(|(_, n)| *n)
    });
    let forwards = match (legacy, managed) {
        (Some(h), _) => Some(format!("forwards the viewer header {h}")),
        (None, Some(name)) => Some(format!("uses origin request policy {name}, which forwards every viewer header")),
        (None, None) => None,
    };
    if let Some(what) = forwards {
        return j.push(Status::Fail, format!(
            "CloudFront distribution {}'s behavior {} {what}, so origin {} ({}) receives the viewer's Host and API Gateway answers 403 Forbidden; it needs origin request policy AllViewerExceptHostHeader or no Host header",
            d.id, b.path_pattern, o.id, o.domain_name
        ), ev);
    }
    let unread = match (b.origin_request_policy_id.as_deref(), b.cache_policy_id.as_deref()) {
        (Some(id), _) if id != EXCEPT_HOST_POLICY => Some(format!("origin request policy {id}")),
        (_, Some(id)) if !HEADERLESS_CACHE_POLICIES.contains(&id) => Some(format!("cache policy {id}")),
        _ => None,
    };
    match unread {
        Some(policy) => j.push(Status::Warn, format!(
            "CloudFront distribution {}'s behavior {} uses {policy}, whose headers are not read here; if it forwards Host, origin {} answers 403 Forbidden; it needs AllViewerExceptHostHeader and a cache policy without Host",
            d.id, b.path_pattern, o.id
        ), ev),
        None => j.push(Status::Pass, String::new(), ev),
    }
}
