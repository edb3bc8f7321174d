//! AWS Cloud Map reads: a service, its instances and their health, which is
//! what an HTTP API's Cloud Map integration discovers.

use aws_sdk_servicediscovery::Client;
use futures::future::join;

use apigw_audit_checks::model::{
    CloudMapHealth, CloudMapInstance, CloudMapService, Failure, FailureKind, Fetched,
};

use super::error::{Op, classify};
use super::plumbing::fetched;

/// The service id in a service ARN (`...:service/srv-xxxx`).
pub fn service_id(arn: &str) -> Option<&str> {
    arn.rsplit_once(":service/")
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty())
}

pub async fn service(c: &Client, arn: &str) -> Fetched<CloudMapService> {
    let op = Op::named("servicediscovery:GetService");
    let Some(id) = service_id(arn) else {
        return Fetched::NotFound(op.failure(
            FailureKind::NotFound,
            None,
            format!("{arn} is not a Cloud Map service ARN"),
        ));
    };
    let (svc, instances) = join(c.get_service().id(id).send(), list_instances(c, id)).await;
    let svc = match svc {
        Ok(s) => s,
        Err(e) => {
            let f = classify(&op, &e);
            return fetched(Err(f));
        }
    };
    let mut instances = match instances {
        Ok(i) => i,
        Err(f) => return Fetched::Error(f),
    };
    let Some(s) = svc.service() else {
        return Fetched::Error(op.failure(
            FailureKind::Malformed,
            None,
            "GetService returned no service".to_string(),
        ));
    };
    let health_check = if s.health_check_config().is_some() {
        Some("route53".to_string())
    } else if s.health_check_custom_config().is_some() {
        Some("custom".to_string())
    } else {
        None
    };
    if health_check.is_some() && !instances.is_empty() {
        match health(c, id).await {
            Ok(statuses) => {
                for i in &mut instances {
                    i.health = statuses
                        .iter()
                        .find(|(k, _)| k == &i.id)
                        .map(|(_, v)| v.clone());
                }
            }
            Err(f) => return Fetched::Error(f),
        }
    }
    Fetched::Ok(CloudMapService {
        arn: s.arn().unwrap_or(arn).to_string(),
        id: id.to_string(),
        name: s.name().map(str::to_string),
        health_check,
        instances,
    })
}

async fn list_instances(c: &Client, id: &str) -> Result<Vec<CloudMapInstance>, Failure> {
    let op = Op::named("servicediscovery:ListInstances");
    let pages: Vec<_> = c
        .list_instances()
        .service_id(id)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut out: Vec<CloudMapInstance> = pages
        .iter()
        .flat_map(|p| p.instances())
        .filter_map(|i| {
            let attrs = i.attributes();
            Some(CloudMapInstance {
                id: i.id()?.to_string(),
                ipv4: attrs.and_then(|a| a.get("AWS_INSTANCE_IPV4")).cloned(),
                port: attrs
                    .and_then(|a| a.get("AWS_INSTANCE_PORT"))
                    .and_then(|p| p.parse().ok()),
                health: None,
            })
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

async fn health(c: &Client, id: &str) -> Result<Vec<(String, CloudMapHealth)>, Failure> {
    let op = Op::named("servicediscovery:GetInstancesHealthStatus");
    let pages: Vec<_> = c
        .get_instances_health_status()
        .service_id(id)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.status().into_iter().flatten())
        .map(|(k, v)| (k.clone(), CloudMapHealth::from(v.as_str())))
        .collect())
}
