//! Reads what a stage's deployment serves from an OpenAPI export with API
//! Gateway's extensions (`x-amazon-apigateway-integration`): REST
//! `GetExport ... extensions=integrations`, HTTP `ExportApi
//! --include-extensions`. A stage serves its deployment, not the API's
//! current definition, so this is what the checks walk.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Integration, Route, TlsConfig};

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
            routes.push(Route {
                method,
                path: path.clone(),
                resource_id: None,
                route_id: None,
                authorization_type: None,
                authorizer_id: None,
                integration: op.get("x-amazon-apigateway-integration").map(integration),
            });
        }
    }
    routes.sort_by(|a, b| a.path.cmp(&b.path).then(a.method.cmp(&b.method)));
    Ok(routes)
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
