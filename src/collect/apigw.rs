//! API Gateway (REST, v1) reads and their conversion to the snapshot model.

use std::collections::BTreeMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types as t;

use apigw_audit_checks::model;
use apigw_audit_checks::model::{
    AccessLog, ApiGatewayAccount, ApiInfo, Failure, Integration, MethodSetting, Route, Stage,
    TlsConfig, VpcLink,
};
use apigw_audit_checks::model::{ApiMapping, Authorizer, DomainName};

use super::error::{Op, classify};
use super::plumbing::all_pages;

pub async fn get_rest_api(c: &Client, region: &str, id: &str) -> Result<ApiInfo, Failure> {
    let op = Op::apigw("apigateway:GetRestApi", region, &format!("/restapis/{id}"));
    let out = c
        .get_rest_api()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(ApiInfo {
        name: out.name().map(str::to_string),
        endpoint_types: out
            .endpoint_configuration()
            .map(|e| e.types().iter().map(|t| t.as_str().to_string()).collect())
            .unwrap_or_default(),
        policy: out.policy().map(str::to_string),
        disable_execute_api_endpoint: Some(out.disable_execute_api_endpoint()),
        protocol_type: None,
        api_key_source: out.api_key_source().map(|s| s.as_str().to_string()),
    })
}

/// Every REST API in the region, as (id, info).
pub async fn get_rest_apis(c: &Client, region: &str) -> Result<Vec<(String, ApiInfo)>, Failure> {
    let op = Op::apigw("apigateway:GetRestApis", region, "/restapis");
    let items: Vec<t::RestApi> = c
        .get_rest_apis()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(items
        .iter()
        .filter_map(|a| {
            Some((
                a.id()?.to_string(),
                ApiInfo {
                    name: a.name().map(str::to_string),
                    endpoint_types: a
                        .endpoint_configuration()
                        .map(|e| e.types().iter().map(|t| t.as_str().to_string()).collect())
                        .unwrap_or_default(),
                    policy: a.policy().map(str::to_string),
                    disable_execute_api_endpoint: Some(a.disable_execute_api_endpoint()),
                    protocol_type: None,
                    api_key_source: a.api_key_source().map(|s| s.as_str().to_string()),
                },
            ))
        })
        .collect())
}

pub async fn get_stages(c: &Client, region: &str, id: &str) -> Result<Vec<Stage>, Failure> {
    let op = Op::apigw(
        "apigateway:GetStages",
        region,
        &format!("/restapis/{id}/stages"),
    );
    let out = c
        .get_stages()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut stages: Vec<Stage> = out
        .item()
        .iter()
        .filter_map(|s| {
            Some(Stage {
                name: s.stage_name()?.to_string(),
                deployment_id: s.deployment_id().map(str::to_string),
                variables: s
                    .variables()
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                method_settings: s
                    .method_settings()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    MethodSetting {
                                        logging_level: v.logging_level().map(str::to_string),
                                        data_trace_enabled: Some(v.data_trace_enabled()),
                                        metrics_enabled: Some(v.metrics_enabled()),
                                        // AWS reports both limits on every
                                        // method setting (CLI reference,
                                        // get-stage example).
                                        throttling_rate_limit: Some(v.throttling_rate_limit()),
                                        throttling_burst_limit: Some(i64::from(
                                            v.throttling_burst_limit(),
                                        )),
                                    },
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                access_log: s.access_log_settings().map(|a| AccessLog {
                    destination_arn: a.destination_arn().map(str::to_string),
                    format: a.format().map(str::to_string),
                }),
                auto_deploy: None,
            })
        })
        .collect();
    stages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stages)
}

/// Every resource and method, with its integration, in one paginated walk
/// (`embed=methods` returns each method's integration inline).
pub async fn get_resources(c: &Client, region: &str, id: &str) -> Result<Vec<Route>, Failure> {
    let op = Op::apigw(
        "apigateway:GetResources",
        region,
        &format!("/restapis/{id}/resources"),
    );
    let items: Vec<t::Resource> = c
        .get_resources()
        .rest_api_id(id)
        .embed("methods")
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut routes = Vec::new();
    for r in &items {
        let Some(path) = r.path() else { continue };
        let Some(methods) = r.resource_methods() else {
            continue;
        };
        for (verb, m) in methods {
            routes.push(Route {
                method: m.http_method().unwrap_or(verb).to_string(),
                path: path.to_string(),
                resource_id: r.id().map(str::to_string),
                route_id: None,
                authorization_type: m.authorization_type().map(model::AuthorizationType::from),
                authorizer_id: m.authorizer_id().map(str::to_string),
                authorizer_name: None,
                integration: m.method_integration().map(integration),
                api_key_required: m.api_key_required(),
            });
        }
    }
    routes.sort_by(|a, b| a.path.cmp(&b.path).then(a.method.cmp(&b.method)));
    Ok(routes)
}

fn integration(i: &t::Integration) -> Integration {
    Integration {
        id: None,
        integration_type: i
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        http_method: i.http_method().map(str::to_string),
        uri: i.uri().map(str::to_string),
        connection_type: i.connection_type().map(|c| c.as_str().to_string()),
        connection_id: i.connection_id().map(str::to_string),
        integration_target: i.integration_target().map(str::to_string),
        tls_config: i.tls_config().map(|t| TlsConfig {
            insecure_skip_verification: Some(t.insecure_skip_verification()),
            server_name_to_verify: None,
        }),
        // The SDK reports an absent timeout as 0.
        timeout_ms: Some(i64::from(i.timeout_in_millis())).filter(|t| *t > 0),
        credentials: i.credentials().map(str::to_string),
        request_parameters: i
            .request_parameters()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
    }
}

pub async fn get_account(c: &Client, region: &str) -> Result<ApiGatewayAccount, Failure> {
    let op = Op::apigw("apigateway:GetAccount", region, "/account");
    let out = c
        .get_account()
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(ApiGatewayAccount {
        cloudwatch_role_arn: out.cloudwatch_role_arn().map(str::to_string),
    })
}

/// Every VPC link (v1) in the region: one listing answers every lookup.
pub async fn get_vpc_links(c: &Client, region: &str) -> Result<Vec<VpcLink>, Failure> {
    let op = Op::apigw("apigateway:GetVpcLinks", region, "/vpclinks");
    let items: Vec<t::VpcLink> = c
        .get_vpc_links()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(items
        .iter()
        .filter_map(|l| {
            Some(VpcLink {
                id: l.id()?.to_string(),
                name: l.name().map(str::to_string),
                status: l.status().map(|s| model::VpcLinkStatus::from(s.as_str())),
                status_message: l.status_message().map(str::to_string),
                target_arns: l.target_arns().to_vec(),
            })
        })
        .collect())
}

/// What a stage's deployment serves: the stage's OpenAPI export with API
/// Gateway's extensions (`apigateway`: integrations and the authorizer
/// security schemes routes name).
pub async fn get_export(
    c: &Client,
    region: &str,
    id: &str,
    stage: &str,
) -> Result<Vec<Route>, Failure> {
    let op = Op::apigw(
        "apigateway:GetExport",
        region,
        &format!("/restapis/{id}/stages/{stage}/exports/oas30"),
    );
    let out = c
        .get_export()
        .rest_api_id(id)
        .stage_name(stage)
        .export_type("oas30")
        .parameters("extensions", "apigateway")
        .accepts("application/json")
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    super::parse_export(&op, out.body().map(|b| b.as_ref()))
}

/// Every authorizer of a REST API.
pub async fn get_authorizers(
    c: &Client,
    region: &str,
    id: &str,
) -> Result<Vec<Authorizer>, Failure> {
    let op = Op::apigw(
        "apigateway:GetAuthorizers",
        region,
        &format!("/restapis/{id}/authorizers"),
    );
    let op = &op;
    let mut out = all_pages(|position| async move {
        let page = c
            .get_authorizers()
            .rest_api_id(id)
            .limit(500)
            .set_position(position)
            .send()
            .await
            .map_err(|e| classify(op, &e))?;
        let items = page.items().iter().filter_map(|a| {
            Some(Authorizer {
                id: a.id()?.to_string(),
                name: a.name().map(str::to_string),
                authorizer_type: a.r#type().map(|t| model::AuthorizerType::from(t.as_str())),
                identity_sources: a
                    .identity_source()
                    .map(|s| {
                        s.split(',')
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                authorizer_uri: a.authorizer_uri().map(str::to_string),
                credentials: a.authorizer_credentials().map(str::to_string),
                provider: a.provider_arns().to_vec(),
                result_ttl_seconds: a.authorizer_result_ttl_in_seconds(),
            })
        });
        Ok((items.collect(), page.position().map(str::to_string)))
    })
    .await?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Every custom domain name API Gateway (REST) knows in the region, with
/// its base path mappings.
pub async fn get_domain_names(c: &Client, region: &str) -> Result<Vec<DomainName>, Failure> {
    let op = Op::apigw("apigateway:GetDomainNames", region, "/domainnames");
    let items: Vec<t::DomainName> = c
        .get_domain_names()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut out = Vec::new();
    for d in &items {
        let Some(name) = d.domain_name() else {
            continue;
        };
        let mop = Op::apigw(
            "apigateway:GetBasePathMappings",
            region,
            &format!("/domainnames/{name}/basepathmappings"),
        );
        let maps: Vec<t::BasePathMapping> = c
            .get_base_path_mappings()
            .domain_name(name)
            .limit(500)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(&mop, &e))?;
        out.push(DomainName {
            name: name.to_string(),
            regional_domain_name: d.regional_domain_name().map(str::to_string),
            distribution_domain_name: d.distribution_domain_name().map(str::to_string),
            mappings: maps
                .iter()
                .filter_map(|m| {
                    Some(ApiMapping {
                        base_path: m.base_path().unwrap_or("(none)").to_string(),
                        api_id: m.rest_api_id()?.to_string(),
                        stage: m.stage().map(str::to_string),
                    })
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The region's usage plans that serve one of `apis`, each with its keys
/// and whether each key is enabled. Usage plan keys do not say whether a
/// key is enabled (API reference, UsagePlanKey), so one `GetApiKeys`
/// listing answers that; neither read asks for key values
/// (`includeValues` stays unset) and the value a usage plan key carries is
/// dropped here: an API key is a credential.
pub async fn get_usage_plans(
    c: &Client,
    region: &str,
    apis: &[String],
    limit: usize,
) -> Result<Vec<model::UsagePlan>, Failure> {
    let op = Op::apigw("apigateway:GetUsagePlans", region, "/usageplans");
    let items: Vec<t::UsagePlan> = c
        .get_usage_plans()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let serving: Vec<&t::UsagePlan> = items
        .iter()
        .filter(|p| {
            p.api_stages()
                .iter()
                .any(|s| s.api_id().is_some_and(|a| apis.iter().any(|x| x == a)))
        })
        .collect();
    let ids: Vec<String> = serving
        .iter()
        .filter_map(|p| p.id().map(str::to_string))
        .collect();
    let keys = super::plumbing::each(ids, limit, |id| async move {
        get_usage_plan_keys(c, region, &id).await
    })
    .await;
    let enabled = if keys
        .iter()
        .any(|(_, k)| k.as_ref().is_ok_and(|k| !k.is_empty()))
    {
        Some(get_api_keys_enabled(c, region).await)
    } else {
        None
    };
    let mut out: Vec<model::UsagePlan> = serving
        .iter()
        .filter_map(|p| {
            let id = p.id()?;
            let found = keys
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, v)| v.clone())?;
            Some(usage_plan(p, with_enabled(found, enabled.as_ref())))
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn usage_plan(p: &t::UsagePlan, keys: model::Fetched<Vec<model::PlanKey>>) -> model::UsagePlan {
    model::UsagePlan {
        id: p.id().unwrap_or_default().to_string(),
        name: p.name().map(str::to_string),
        api_stages: p
            .api_stages()
            .iter()
            .filter_map(|s| {
                Some(model::PlanStage {
                    api_id: s.api_id()?.to_string(),
                    stage: s.stage()?.to_string(),
                    throttle: s
                        .throttle()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), throttle(v))).collect())
                        .unwrap_or_default(),
                })
            })
            .collect(),
        throttle: p.throttle().map(throttle),
        quota: p.quota().map(|q| model::Quota {
            limit: Some(i64::from(q.limit())),
            period: q.period().map(|p| p.as_str().to_string()),
        }),
        keys,
    }
}

fn throttle(t: &t::ThrottleSettings) -> model::Throttle {
    model::Throttle {
        rate_limit: Some(t.rate_limit()),
        burst_limit: Some(i64::from(t.burst_limit())),
    }
}

/// A plan's keys (id and name only), enabled still unknown.
async fn get_usage_plan_keys(
    c: &Client,
    region: &str,
    plan: &str,
) -> Result<Vec<model::PlanKey>, Failure> {
    let op = Op::apigw(
        "apigateway:GetUsagePlanKeys",
        region,
        &format!("/usageplans/{plan}/keys"),
    );
    let items: Vec<t::UsagePlanKey> = c
        .get_usage_plan_keys()
        .usage_plan_id(plan)
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(items
        .iter()
        .filter_map(|k| {
            Some(model::PlanKey {
                id: k.id()?.to_string(),
                name: k.name().map(str::to_string),
                enabled: None,
            })
        })
        .collect())
}

/// Whether each API key of the region is enabled, by key id.
async fn get_api_keys_enabled(c: &Client, region: &str) -> Result<BTreeMap<String, bool>, Failure> {
    let op = Op::apigw("apigateway:GetApiKeys", region, "/apikeys");
    let items: Vec<t::ApiKey> = c
        .get_api_keys()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(items
        .iter()
        .filter_map(|k| Some((k.id()?.to_string(), k.enabled())))
        .collect())
}

/// A plan's keys with their enabled flag; the listing's failure is the
/// keys' failure (without it no key is known to be usable).
fn with_enabled(
    keys: Result<Vec<model::PlanKey>, Failure>,
    enabled: Option<&Result<BTreeMap<String, bool>, Failure>>,
) -> model::Fetched<Vec<model::PlanKey>> {
    let mut keys = match keys {
        Ok(k) => k,
        Err(f) => return model::Fetched::Error(f),
    };
    match enabled {
        Some(Err(f)) if !keys.is_empty() => return model::Fetched::Error(f.clone()),
        Some(Ok(map)) => {
            for k in &mut keys {
                k.enabled = map.get(&k.id).copied();
            }
        }
        _ => {}
    }
    model::Fetched::Ok(keys)
}
