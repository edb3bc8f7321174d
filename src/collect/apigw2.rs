//! API Gateway v2 (HTTP APIs and VPC links v2) reads and their conversion to
//! the snapshot model. The v2 SDK generates no paginators for these
//! listings, so each pages on `next_token` through [`all_pages`].

use std::collections::BTreeMap;

use aws_sdk_apigatewayv2::Client;

use apigw_audit_checks::model;
use apigw_audit_checks::model::{
    AccessLog, ApiInfo, Failure, Integration, MethodSetting, Route, Stage, TlsConfig, VpcLinkV2,
};
use apigw_audit_checks::model::{ApiMapping, Authorizer, DomainName};

use super::error::{Op, classify};
use super::plumbing::all_pages;

/// Every item of a `next_token` listing ([`all_pages`]).
macro_rules! all_pages {
    ($op:expr, |$token:ident| $call:expr, $items:ident) => {{
        let op = &$op;
        all_pages(|$token: Option<String>| async move {
            let page = $call.await.map_err(|e| classify(op, &e))?;
            Ok((
                page.$items().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await?
    }};
}

pub async fn get_api(c: &Client, region: &str, id: &str) -> Result<ApiInfo, Failure> {
    let op = Op::apigw("apigateway:GetApi", region, &format!("/apis/{id}"));
    let out = c
        .get_api()
        .api_id(id)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(ApiInfo {
        name: out.name().map(str::to_string),
        endpoint_types: Vec::new(),
        policy: None,
        disable_execute_api_endpoint: out.disable_execute_api_endpoint(),
        protocol_type: out.protocol_type().map(|p| p.as_str().to_string()),
        api_key_source: None,
    })
}

/// Every HTTP and WebSocket API in the region, as (id, info).
pub async fn get_apis(c: &Client, region: &str) -> Result<Vec<(String, ApiInfo)>, Failure> {
    let op = Op::apigw("apigateway:GetApis", region, "/apis");
    let items = all_pages!(
        op,
        |token| c.get_apis().set_next_token(token).max_results("500").send(),
        items
    );
    Ok(items
        .iter()
        .filter_map(|a| {
            Some((
                a.api_id()?.to_string(),
                ApiInfo {
                    name: a.name().map(str::to_string),
                    endpoint_types: Vec::new(),
                    policy: None,
                    disable_execute_api_endpoint: a.disable_execute_api_endpoint(),
                    protocol_type: a.protocol_type().map(|p| p.as_str().to_string()),
                    api_key_source: None,
                },
            ))
        })
        .collect())
}

pub async fn get_stages(c: &Client, region: &str, id: &str) -> Result<Vec<Stage>, Failure> {
    let op = Op::apigw(
        "apigateway:GetStages",
        region,
        &format!("/apis/{id}/stages"),
    );
    let items = all_pages!(
        op,
        |token| c.get_stages().api_id(id).set_next_token(token).send(),
        items
    );
    let mut stages: Vec<Stage> = items
        .iter()
        .filter_map(|s| {
            Some(Stage {
                name: s.stage_name()?.to_string(),
                deployment_id: s.deployment_id().map(str::to_string),
                variables: s
                    .stage_variables()
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                method_settings: route_settings(s),
                access_log: s.access_log_settings().map(|a| AccessLog {
                    destination_arn: a.destination_arn().map(str::to_string),
                    format: a.format().map(str::to_string),
                }),
                auto_deploy: s.auto_deploy(),
            })
        })
        .collect();
    stages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stages)
}

/// An HTTP stage's throttles as method settings: the default route
/// settings under `*/*`, each route's under its route key. A limit the
/// stage does not set stays `None`.
fn route_settings(s: &aws_sdk_apigatewayv2::types::Stage) -> BTreeMap<String, MethodSetting> {
    let one = |r: &aws_sdk_apigatewayv2::types::RouteSettings| MethodSetting {
        throttling_rate_limit: r.throttling_rate_limit(),
        throttling_burst_limit: r.throttling_burst_limit().map(i64::from),
        ..MethodSetting::default()
    };
    let mut out: BTreeMap<String, MethodSetting> = s
        .route_settings()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), one(v))).collect())
        .unwrap_or_default();
    if let Some(d) = s.default_route_settings() {
        out.insert("*/*".to_string(), one(d));
    }
    out
}

/// Every route with its integration: `GetRoutes` and `GetIntegrations`,
/// joined on the route's `integrations/ID` target.
pub async fn get_routes(c: &Client, region: &str, id: &str) -> Result<Vec<Route>, Failure> {
    let rop = Op::apigw(
        "apigateway:GetRoutes",
        region,
        &format!("/apis/{id}/routes"),
    );
    let iop = Op::apigw(
        "apigateway:GetIntegrations",
        region,
        &format!("/apis/{id}/integrations"),
    );
    let (routes, integrations) = futures::future::join(
        async {
            Ok::<_, Failure>(all_pages!(
                rop,
                |token| c.get_routes().api_id(id).set_next_token(token).send(),
                items
            ))
        },
        async {
            Ok::<_, Failure>(all_pages!(
                iop,
                |token| c.get_integrations().api_id(id).set_next_token(token).send(),
                items
            ))
        },
    )
    .await;
    let (routes, integrations) = (routes?, integrations?);
    let by_id: BTreeMap<String, Integration> =
        integrations.iter().filter_map(integration).collect();
    let mut out: Vec<Route> = routes.iter().filter_map(|r| route(r, &by_id)).collect();
    out.sort_by(|a, b| a.path.cmp(&b.path).then(a.method.cmp(&b.method)));
    Ok(out)
}

/// An integration in the model, keyed by its id for the routes to find;
/// one without an id no route can target.
fn integration(i: &aws_sdk_apigatewayv2::types::Integration) -> Option<(String, Integration)> {
    let iid = i.integration_id()?.to_string();
    Some((
        iid.clone(),
        Integration {
            id: Some(iid),
            integration_type: i
                .integration_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            http_method: i.integration_method().map(str::to_string),
            uri: i.integration_uri().map(str::to_string),
            connection_type: i.connection_type().map(|t| t.as_str().to_string()),
            connection_id: i.connection_id().map(str::to_string),
            integration_target: None,
            tls_config: i.tls_config().map(|t| TlsConfig {
                insecure_skip_verification: None,
                server_name_to_verify: t.server_name_to_verify().map(str::to_string),
            }),
            timeout_ms: i.timeout_in_millis().map(i64::from),
            credentials: i.credentials_arn().map(str::to_string),
            request_parameters: i
                .request_parameters()
                .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        },
    ))
}

/// A route in the model, its key split into method and path (`$default`
/// and other keys without a method serve ANY) and its integration joined
/// in; one without a key cannot be matched and is dropped.
fn route(
    r: &aws_sdk_apigatewayv2::types::Route,
    by_id: &BTreeMap<String, Integration>,
) -> Option<Route> {
    let key = r.route_key()?;
    let (method, path) = match key.split_once(' ') {
        Some((m, p)) => (m.to_string(), p.to_string()),
        None => ("ANY".to_string(), key.to_string()),
    };
    let integration = r
        .target()
        .and_then(|t| t.strip_prefix("integrations/"))
        .and_then(|iid| by_id.get(iid).cloned());
    Some(Route {
        method,
        path,
        resource_id: None,
        route_id: r.route_id().map(str::to_string),
        authorization_type: r
            .authorization_type()
            .map(|a| model::AuthorizationType::from(a.as_str())),
        authorizer_id: r.authorizer_id().map(str::to_string),
        authorizer_name: None,
        integration,
        // HTTP APIs have no API keys (the field is WebSocket's).
        api_key_required: None,
    })
}

/// Every VPC link v2 in the region.
pub async fn get_vpc_links(c: &Client, region: &str) -> Result<Vec<VpcLinkV2>, Failure> {
    let op = Op::apigw("apigateway:GetVpcLinks", region, "/vpclinks");
    let items = all_pages!(
        op,
        |token| c.get_vpc_links().set_next_token(token).send(),
        items
    );
    Ok(items
        .iter()
        .filter_map(|l| {
            Some(VpcLinkV2 {
                id: l.vpc_link_id()?.to_string(),
                name: l.name().map(str::to_string),
                status: l
                    .vpc_link_status()
                    .map(|s| model::VpcLinkStatus::from(s.as_str())),
                status_message: l.vpc_link_status_message().map(str::to_string),
                subnet_ids: l.subnet_ids().to_vec(),
                security_group_ids: l.security_group_ids().to_vec(),
            })
        })
        .collect())
}

/// What a stage's deployment serves: the stage's OpenAPI export with API
/// Gateway's extensions.
pub async fn export_api(
    c: &Client,
    region: &str,
    id: &str,
    stage: &str,
) -> Result<Vec<Route>, Failure> {
    let op = Op::apigw(
        "apigateway:ExportApi",
        region,
        &format!("/apis/{id}/exports/OAS30"),
    );
    let out = c
        .export_api()
        .api_id(id)
        .specification("OAS30")
        .output_type("JSON")
        .stage_name(stage)
        .include_extensions(true)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    super::parse_export(&op, out.body().map(|b| b.as_ref()))
}

/// Every authorizer of an HTTP API (`GetAuthorizers`, paginated): routes
/// exported from a deployment name their authorizer, not its id, so the
/// whole list is read rather than one authorizer per id.
pub async fn get_authorizers(
    c: &Client,
    region: &str,
    api: &str,
) -> Result<Vec<Authorizer>, Failure> {
    let op = Op::apigw(
        "apigateway:GetAuthorizers",
        region,
        &format!("/apis/{api}/authorizers"),
    );
    let items = all_pages!(
        op,
        |token| c
            .get_authorizers()
            .api_id(api)
            .max_results("500")
            .set_next_token(token)
            .send(),
        items
    );
    Ok(items
        .iter()
        .filter_map(|a| {
            Some(Authorizer {
                id: a.authorizer_id()?.to_string(),
                name: a.name().filter(|n| !n.is_empty()).map(str::to_string),
                authorizer_type: a
                    .authorizer_type()
                    .map(|t| model::AuthorizerType::from(t.as_str())),
                identity_sources: a.identity_source().to_vec(),
                authorizer_uri: a.authorizer_uri().map(str::to_string),
                credentials: a.authorizer_credentials_arn().map(str::to_string),
                provider: a
                    .jwt_configuration()
                    .map(|j| {
                        j.issuer()
                            .into_iter()
                            .map(str::to_string)
                            .chain(j.audience().iter().cloned())
                            .collect()
                    })
                    .unwrap_or_default(),
                result_ttl_seconds: a.authorizer_result_ttl_in_seconds(),
            })
        })
        .collect())
}

/// Every regional custom domain name of the region, with its API mappings.
pub async fn get_domain_names(c: &Client, region: &str) -> Result<Vec<DomainName>, Failure> {
    let op = Op::apigw("apigateway:GetDomainNames", region, "/domainnames");
    let items = all_pages!(
        op,
        |token| c.get_domain_names().set_next_token(token).send(),
        items
    );
    let mut out = Vec::new();
    for d in &items {
        let Some(name) = d.domain_name() else {
            continue;
        };
        let mop = Op::apigw(
            "apigateway:GetApiMappings",
            region,
            &format!("/domainnames/{name}/apimappings"),
        );
        let maps = all_pages!(
            mop,
            |token| c
                .get_api_mappings()
                .domain_name(name)
                .set_next_token(token)
                .send(),
            items
        );
        out.push(DomainName {
            name: name.to_string(),
            regional_domain_name: d
                .domain_name_configurations()
                .iter()
                .find_map(|c| c.api_gateway_domain_name().map(str::to_string)),
            distribution_domain_name: None,
            mappings: maps
                .iter()
                .filter_map(|m| {
                    Some(ApiMapping {
                        base_path: m
                            .api_mapping_key()
                            .filter(|k| !k.is_empty())
                            .unwrap_or("(none)")
                            .to_string(),
                        api_id: m.api_id()?.to_string(),
                        stage: m.stage().map(str::to_string),
                    })
                })
                .collect(),
        });
    }
    Ok(out)
}
