//! Amazon CloudFront reads: every distribution of the account, with its
//! origins (protocol policy, HTTPS port, TLS protocols) and each behavior's
//! viewer protocol and forwarded headers (legacy settings, or the origin
//! request policy's id).

use aws_sdk_cloudfront::Client;

use apigw_audit_checks::model;
use apigw_audit_checks::model::{CacheBehavior, Distribution, Failure, Origin};

use super::error::{Op, classify};

pub async fn distributions(c: &Client) -> Result<Vec<Distribution>, Failure> {
    let op = Op::named("cloudfront:ListDistributions");
    let pages: Vec<_> = c
        .list_distributions()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut out = Vec::new();
    for page in &pages {
        let Some(list) = page.distribution_list() else {
            continue;
        };
        for d in list.items() {
            let mut behaviors: Vec<CacheBehavior> = Vec::new();
            if let Some(def) = d.default_cache_behavior() {
                // Deprecated in the API for new distributions, yet what
                // distributions made before cache policies still use.
                #[allow(deprecated)]
                let legacy = def.forwarded_values();
                behaviors.push(CacheBehavior {
                    path_pattern: "*".to_string(),
                    target_origin_id: def.target_origin_id().to_string(),
                    viewer_protocol_policy: Some(model::ViewerProtocolPolicy::from(
                        def.viewer_protocol_policy().as_str(),
                    )),
                    forwarded_headers: headers(legacy),
                    origin_request_policy_id: id(def.origin_request_policy_id()),
                    cache_policy_id: id(def.cache_policy_id()),
                });
            }
            for b in d.cache_behaviors().map(|c| c.items()).unwrap_or_default() {
                #[allow(deprecated)]
                let legacy = b.forwarded_values();
                behaviors.push(CacheBehavior {
                    path_pattern: b.path_pattern().to_string(),
                    target_origin_id: b.target_origin_id().to_string(),
                    viewer_protocol_policy: Some(model::ViewerProtocolPolicy::from(
                        b.viewer_protocol_policy().as_str(),
                    )),
                    forwarded_headers: headers(legacy),
                    origin_request_policy_id: id(b.origin_request_policy_id()),
                    cache_policy_id: id(b.cache_policy_id()),
                });
            }
            out.push(Distribution {
                id: d.id().to_string(),
                arn: d.arn().to_string(),
                domain_name: Some(d.domain_name().to_string()),
                aliases: d.aliases().map(|a| a.items().to_vec()).unwrap_or_default(),
                origins: d
                    .origins()
                    .map(|o| o.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|o| Origin {
                        id: o.id().to_string(),
                        domain_name: o.domain_name().to_string(),
                        origin_path: o.origin_path().map(str::to_string),
                        protocol_policy: o
                            .custom_origin_config()
                            .map(|c| c.origin_protocol_policy().as_str().to_string()),
                        https_port: o.custom_origin_config().map(|c| c.https_port()),
                        ssl_protocols: o
                            .custom_origin_config()
                            .and_then(|c| c.origin_ssl_protocols())
                            .map(|p| p.items().iter().map(|x| x.as_str().to_string()).collect())
                            .unwrap_or_default(),
                    })
                    .collect(),
                behaviors,
            });
        }
    }
    Ok(out)
}

/// A policy id, `None` when absent or empty.
fn id(v: Option<&str>) -> Option<String> {
    v.filter(|s| !s.is_empty()).map(str::to_string)
}

/// The viewer headers a behavior's legacy cache settings forward.
fn headers(f: Option<&aws_sdk_cloudfront::types::ForwardedValues>) -> Vec<String> {
    f.and_then(|f| f.headers())
        .map(|h| h.items().to_vec())
        .unwrap_or_default()
}
