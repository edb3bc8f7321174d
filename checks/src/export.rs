//! Reads what a stage's deployment serves from an OpenAPI export with API
//! Gateway's extensions (`x-amazon-apigateway-integration`): REST
//! `GetExport ... extensions=integrations`, HTTP `ExportApi
//! --include-extensions`. A stage serves its deployment, not the API's
//! current definition, so this is what the checks walk.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{AuthorizationType, Integration, Route, TlsConfig};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The routes (with integrations) an export document describes, sorted as
/// the collector sorts the current definition.
pub fn routes_from_export(doc: &Value) -> Result<Vec<Route>, String> {
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| "the export has no `paths` object".to_string())?;
    // OpenAPI 3 keeps security schemes under components, Swagger 2 at the top.
    let schemes = doc
        .pointer("/components/securitySchemes")
        .or_else(|| doc.get("securityDefinitions"));
    let default_security = doc.get("security");
    let mut routes = Vec::new();
    for (path, item) in paths {
        let Some(ops) = item.as_object() else {
            continue;
        };
        for (key, op) in ops {
            let method = if key == "x-amazon-apigateway-any-method" {
                "ANY".to_string()
            } else if METHODS.contains(&key.to_ascii_lowercase().as_str()) {
                key.to_ascii_uppercase()
            } else {
                continue;
            };
            let security = op.get("security").or(default_security);
            let (authorization_type, authorizer_name) = authorization(security, schemes);
            routes.push(Route {
                method,
                path: path.clone(),
                resource_id: None,
                route_id: None,
                authorization_type,
                authorizer_id: None,
                authorizer_name,
                integration: op.get("x-amazon-apigateway-integration").map(integration),
                api_key_required: Some(requires_api_key(security, schemes)),
            });
        }
    }
    routes.sort_by(|a, b| a.path.cmp(&b.path).then(a.method.cmp(&b.method)));
    Ok(routes)
}

/// Whether an operation requires an API key: API Gateway exports
/// `apiKeyRequired` as a requirement on an `apiKey` scheme named
/// `x-api-key` that is not an authorizer (no `x-amazon-apigateway-authtype`).
fn requires_api_key(security: Option<&Value>, schemes: Option<&Value>) -> bool {
    security
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|req| req.keys())
        .filter_map(|name| schemes.and_then(|s| s.get(name)))
        .any(|s| {
            s.get("type").and_then(Value::as_str) == Some("apiKey")
                && s.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"))
                && s.get("x-amazon-apigateway-authtype").is_none()
                && s.get("x-amazon-apigateway-authorizer").is_none()
        })
}

/// How an operation's `security` requirement authorizes callers, as the
/// API Gateway API names it (`CUSTOM`, `COGNITO_USER_POOLS`, `JWT`,
/// `AWS_IAM`), with the authorizer's name where one is used. An API key
/// requirement alone is not authorization; no requirement is `NONE`.
fn authorization(
    security: Option<&Value>,
    schemes: Option<&Value>,
) -> (Option<AuthorizationType>, Option<String>) {
    let names: Vec<&str> = security
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|req| req.keys().map(String::as_str))
        .collect();
    for name in names {
        let scheme = schemes.and_then(|s| s.get(name));
        let authtype = scheme
            .and_then(|s| s.get("x-amazon-apigateway-authtype"))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let authorizer_type = scheme
            .and_then(|s| s.pointer("/x-amazon-apigateway-authorizer/type"))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let kind = match (authtype.as_deref(), authorizer_type.as_deref()) {
            (Some("awssigv4") | Some("awsiam"), _) => Some((AuthorizationType::AwsIam, false)),
            (Some("cognito_user_pools"), _) | (_, Some("cognito_user_pools")) => {
                Some((AuthorizationType::CognitoUserPools, true))
            }
            (_, Some("jwt")) => Some((AuthorizationType::Jwt, true)),
            (Some("custom"), _) | (_, Some("token") | Some("request")) => {
                Some((AuthorizationType::Custom, true))
            }
            _ => None,
        };
        if let Some((kind, named)) = kind {
            return (Some(kind), named.then(|| name.to_string()));
        }
    }
    (Some(AuthorizationType::None), None)
}

fn integration(v: &Value) -> Integration {
    let tls = v.get("tlsConfig").map(|t| TlsConfig {
        insecure_skip_verification: t.get("insecureSkipVerification").and_then(Value::as_bool),
        server_name_to_verify: text(t, "serverNameToVerify"),
    });
    Integration {
        id: None,
        integration_type: text(v, "type").unwrap_or_default().to_ascii_uppercase(),
        http_method: text(v, "httpMethod").map(|m| m.to_ascii_uppercase()),
        uri: text(v, "uri"),
        connection_type: text(v, "connectionType").map(|c| c.to_ascii_uppercase()),
        connection_id: text(v, "connectionId"),
        integration_target: text(v, "integrationTarget"),
        tls_config: tls,
        timeout_ms: v.get("timeoutInMillis").and_then(Value::as_i64),
        credentials: text(v, "credentials"),
        request_parameters: v
            .get("requestParameters")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
    }
}

/// The fields of two integrations that differ, by name.
pub fn differing_fields(
    current: Option<&Integration>,
    deployed: Option<&Integration>,
) -> Vec<&'static str> {
    let (Some(c), Some(d)) = (current, deployed) else {
        return if current.is_some() == deployed.is_some() {
            Vec::new()
        } else {
            vec!["integration"]
        };
    };
    let mut out = Vec::new();
    let norm = |s: &Option<String>| s.as_deref().map(|x| x.trim().to_ascii_uppercase());
    if !c.integration_type.eq_ignore_ascii_case(&d.integration_type) {
        out.push("type");
    }
    if norm(&c.http_method) != norm(&d.http_method) {
        out.push("httpMethod");
    }
    if c.uri != d.uri {
        out.push("uri");
    }
    if norm(&c.connection_type).unwrap_or_else(|| "INTERNET".into())
        != norm(&d.connection_type).unwrap_or_else(|| "INTERNET".into())
    {
        out.push("connectionType");
    }
    if c.connection_id != d.connection_id {
        out.push("connectionId");
    }
    if c.integration_target != d.integration_target {
        out.push("integrationTarget");
    }
    let tls = |i: &Integration| {
        let t = i.tls_config.clone().unwrap_or_default();
        (
            t.insecure_skip_verification.unwrap_or(false),
            t.server_name_to_verify,
        )
    };
    if tls(c) != tls(d) {
        out.push("tlsConfig");
    }
    // An export may leave the default timeout out: compare only when both say.
    if let (Some(a), Some(b)) = (c.timeout_ms, d.timeout_ms)
        && a != b
    {
        out.push("timeoutInMillis");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_rest_and_http_exports() {
        let doc = json!({"openapi": "3.0.1", "paths": {
            "/orders": {
                "get": {"x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "GET",
                    "uri": "http://nlb.example/orders", "connectionType": "VPC_LINK",
                    "connectionId": "${stageVariables.vpcLinkId}", "timeoutInMillis": 29000}},
                "parameters": [{"name": "x"}]
            },
            "$default": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {
                "type": "http_proxy", "uri": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/b/c",
                "connectionType": "VPC_LINK", "connectionId": "abc", "tlsConfig": {"serverNameToVerify": "api.example"}}}}
        }});
        let routes = routes_from_export(&doc).unwrap();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].label(), "ANY $default");
        assert_eq!(
            routes[0]
                .integration
                .as_ref()
                .unwrap()
                .tls_config
                .as_ref()
                .unwrap()
                .server_name_to_verify
                .as_deref(),
            Some("api.example")
        );
        let i = routes[1].integration.as_ref().unwrap();
        assert_eq!(
            (i.integration_type.as_str(), i.connection_type.as_deref()),
            ("HTTP_PROXY", Some("VPC_LINK"))
        );
        assert!(routes_from_export(&json!({"info": {}})).is_err());
    }

    #[test]
    fn reads_each_routes_authorization_from_its_security_requirement() {
        // A REST export (OpenAPI 3) and an HTTP API export's schemes.
        let doc = json!({"openapi": "3.0.1",
            "paths": {"/orders": {
                "get": {"security": [{"api_key": []}]},
                "post": {"security": [{"orders-token": []}]},
                "put": {"security": [{"sigv4": []}]},
                "delete": {"security": [{"pool": []}]},
                "patch": {"security": [{"jwt-auth": []}]},
                "head": {"security": [{"req-auth": []}]},
                "options": {}
            }},
            "components": {"securitySchemes": {
                "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                "orders-token": {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": "arn:x"}},
                "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4"},
                "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                    "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": []}},
                "jwt-auth": {"type": "oauth2", "x-amazon-apigateway-authorizer": {"type": "jwt"}},
                "req-auth": {"type": "apiKey", "name": "Unused", "in": "header",
                    "x-amazon-apigateway-authorizer": {"type": "request"}}
            }}
        });
        let routes = routes_from_export(&doc).unwrap();
        let keyed: Vec<&str> = routes
            .iter()
            .filter(|r| r.api_key_required == Some(true))
            .map(|r| r.method.as_str())
            .collect();
        assert_eq!(keyed, ["GET"], "only the x-api-key requirement needs a key");
        let got: Vec<(String, Option<AuthorizationType>, Option<String>)> = routes
            .iter()
            .map(|r| {
                (
                    r.method.clone(),
                    r.authorization_type.clone(),
                    r.authorizer_name.clone(),
                )
            })
            .collect();
        let want = |m: &str, t: &str, n: Option<&str>| {
            (
                m.to_string(),
                Some(AuthorizationType::from(t)),
                n.map(str::to_string),
            )
        };
        assert_eq!(
            got,
            vec![
                want("DELETE", "COGNITO_USER_POOLS", Some("pool")),
                want("GET", "NONE", None),
                want("HEAD", "CUSTOM", Some("req-auth")),
                want("OPTIONS", "NONE", None),
                want("PATCH", "JWT", Some("jwt-auth")),
                want("POST", "CUSTOM", Some("orders-token")),
                want("PUT", "AWS_IAM", None),
            ]
        );
        // Swagger 2 keeps the schemes at the top, and a top-level
        // requirement applies to operations without their own.
        let doc = json!({"swagger": "2.0", "security": [{"t": []}],
            "paths": {"/a": {"get": {}}},
            "securityDefinitions": {"t": {"x-amazon-apigateway-authtype": "custom"}}});
        let r = &routes_from_export(&doc).unwrap()[0];
        assert_eq!(r.authorizer_name.as_deref(), Some("t"));
    }

    #[test]
    fn differing_fields_are_named() {
        let a = Integration {
            integration_type: "HTTP_PROXY".into(),
            uri: Some("http://a:80/x".into()),
            connection_type: Some("VPC_LINK".into()),
            connection_id: Some("l1".into()),
            timeout_ms: Some(29000),
            ..Default::default()
        };
        let mut b = a.clone();
        assert!(differing_fields(Some(&a), Some(&b)).is_empty());
        b.uri = Some("http://a:8080/x".into());
        b.connection_id = Some("l2".into());
        b.timeout_ms = None;
        assert_eq!(
            differing_fields(Some(&a), Some(&b)),
            vec!["uri", "connectionId"]
        );
        assert_eq!(differing_fields(Some(&a), None), vec!["integration"]);
    }
}
