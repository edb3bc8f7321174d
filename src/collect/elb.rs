//! Elastic Load Balancing (v2) reads and their conversion to the snapshot
//! model.
//!
//! Describe calls that take several ARNs fail as a whole when one ARN does
//! not exist; the batch is then retried one ARN at a time, so one deleted
//! load balancer is `NotFound` and its neighbours are still read.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types as t;
use futures::future::join_all;

use apigw_audit_checks::model;
use apigw_audit_checks::model::{
    Action, Failure, FailureKind, Fetched, HealthCheck, LbZone, Listener, ListenerCertificate,
    ListenerRule, LoadBalancer, TargetGroup, TargetHealth, WeightedTargetGroup,
};

use apigw_audit_checks::resources::Kind;

use super::error::{Op, classify};
use super::plumbing::{all_pages, fetched, found_or_missing, in_batches};

/// The answer for each ARN of a batch: found, or `NotFound`.
fn found_or_not<T>(
    arns: &[String],
    found: BTreeMap<String, T>,
    op: &Op,
) -> BTreeMap<String, Fetched<T>> {
    found_or_missing(arns, found, |arn| {
        op.failure(
            FailureKind::NotFound,
            None,
            format!("{arn} was not returned"),
        )
    })
}

/// Describes resources by ARN in batches of the resource table's size.
/// ELBv2 fails a whole batch when one ARN is gone, so such a batch is
/// retried one ARN at a time: the missing one is `NotFound`, the others are
/// still read.
async fn by_arn<T, F, Fut>(
    kind: Kind,
    arns: &[String],
    op: &Op,
    describe: F,
) -> BTreeMap<String, Fetched<T>>
where
    T: Clone,
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<BTreeMap<String, T>, Failure>>,
{
    let describe = &describe;
    in_batches(kind, arns, move |chunk| async move {
        match describe(chunk.clone()).await {
            Ok(found) => Ok(found_or_not(&chunk, found, op)),
            Err(f) if f.kind == FailureKind::NotFound && chunk.len() > 1 => {
                let singles = join_all(chunk.iter().map(|arn| async move {
                    let one = std::slice::from_ref(arn);
                    match describe(one.to_vec()).await {
                        Ok(found) => found_or_not(one, found, op),
                        Err(f) => BTreeMap::from([(arn.clone(), fetched(Err(f)))]),
                    }
                }))
                .await;
                Ok(singles.into_iter().flatten().collect())
            }
            Err(f) => Err(f),
        }
    })
    .await
}

/// Describes load balancers by ARN.
pub async fn describe_load_balancers(
    c: &Client,
    arns: &[String],
) -> BTreeMap<String, Fetched<LoadBalancer>> {
    let op = Op::named("elasticloadbalancing:DescribeLoadBalancers");
    by_arn(Kind::LoadBalancer, arns, &op, |chunk| lbs(c, chunk, &op)).await
}

async fn lbs(
    c: &Client,
    arns: Vec<String>,
    op: &Op,
) -> Result<BTreeMap<String, LoadBalancer>, Failure> {
    let items: Vec<t::LoadBalancer> = c
        .describe_load_balancers()
        .set_load_balancer_arns(Some(arns))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(op, &e))?;
    Ok(items
        .iter()
        .filter_map(|lb| {
            let arn = lb.load_balancer_arn()?.to_string();
            Some((
                arn.clone(),
                LoadBalancer {
                    arn,
                    name: lb.load_balancer_name().map(str::to_string),
                    lb_type: lb.r#type().map(|t| model::LbType::from(t.as_str())),
                    scheme: lb.scheme().map(|s| s.as_str().to_string()),
                    state: lb
                        .state()
                        .and_then(|s| s.code())
                        .map(|c| model::LbState::from(c.as_str())),
                    state_reason: lb.state().and_then(|s| s.reason()).map(str::to_string),
                    vpc_id: lb.vpc_id().map(str::to_string),
                    dns_name: lb.dns_name().map(str::to_string),
                    zones: lb
                        .availability_zones()
                        .iter()
                        .map(|z| LbZone {
                            zone_name: z.zone_name().map(str::to_string),
                            subnet_id: z.subnet_id().map(str::to_string),
                            private_ipv4_addresses: z
                                .load_balancer_addresses()
                                .iter()
                                .filter_map(|a| a.private_ipv4_address().map(str::to_string))
                                .collect(),
                        })
                        .collect(),
                    security_groups: lb.security_groups().to_vec(),
                    enforce_privatelink_inbound_rules: lb
                        .enforce_security_group_inbound_rules_on_private_link_traffic()
                        .map(str::to_string),
                },
            ))
        })
        .collect())
}

fn action(a: &t::Action) -> Action {
    let mut tgs: Vec<WeightedTargetGroup> = Vec::new();
    if let Some(arn) = a.target_group_arn() {
        tgs.push(WeightedTargetGroup {
            arn: arn.to_string(),
            weight: None,
        });
    }
    if let Some(fc) = a.forward_config() {
        for tg in fc.target_groups() {
            if let Some(arn) = tg.target_group_arn()
                && !tgs.iter().any(|x| x.arn == arn)
            {
                tgs.push(WeightedTargetGroup {
                    arn: arn.to_string(),
                    weight: tg.weight(),
                });
            }
        }
    }
    Action {
        action_type: a
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        target_groups: tgs,
    }
}

/// Every listener of one load balancer.
pub async fn describe_listeners(c: &Client, lb_arn: &str) -> Result<Vec<Listener>, Failure> {
    let op = Op::named("elasticloadbalancing:DescribeListeners");
    let items: Vec<t::Listener> = c
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut out: Vec<Listener> = items
        .iter()
        .filter_map(|l| {
            Some(Listener {
                arn: l.listener_arn()?.to_string(),
                load_balancer_arn: l.load_balancer_arn().unwrap_or(lb_arn).to_string(),
                port: l.port().and_then(|p| u16::try_from(p).ok()),
                protocol: l.protocol().map(|p| model::Protocol::from(p.as_str())),
                default_actions: l.default_actions().iter().map(action).collect(),
                certificate_arns: l
                    .certificates()
                    .iter()
                    .filter_map(|c| c.certificate_arn().map(str::to_string))
                    .collect(),
                ssl_policy: l.ssl_policy().map(str::to_string),
            })
        })
        .collect();
    out.sort_by(|a, b| a.port.cmp(&b.port).then(a.arn.cmp(&b.arn)));
    Ok(out)
}

/// Every rule of one listener (ALB), with its forward actions.
pub async fn describe_rules(c: &Client, listener_arn: &str) -> Result<Vec<ListenerRule>, Failure> {
    let op = &Op::named("elasticloadbalancing:DescribeRules");
    all_pages(|marker| async move {
        let page = c
            .describe_rules()
            .listener_arn(listener_arn)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify(op, &e))?;
        let rules = page.rules().iter().filter_map(|r| {
            Some(ListenerRule {
                arn: r.rule_arn()?.to_string(),
                priority: r.priority().map(str::to_string),
                is_default: r.is_default().unwrap_or(false),
                actions: r.actions().iter().map(action).collect(),
            })
        });
        Ok((rules.collect(), page.next_marker().map(str::to_string)))
    })
    .await
}

/// Describes target groups by ARN.
pub async fn describe_target_groups(
    c: &Client,
    arns: &[String],
) -> BTreeMap<String, Fetched<TargetGroup>> {
    let op = Op::named("elasticloadbalancing:DescribeTargetGroups");
    by_arn(Kind::TargetGroup, arns, &op, |chunk| tgs(c, chunk, &op)).await
}

async fn tgs(
    c: &Client,
    arns: Vec<String>,
    op: &Op,
) -> Result<BTreeMap<String, TargetGroup>, Failure> {
    let items: Vec<t::TargetGroup> = c
        .describe_target_groups()
        .set_target_group_arns(Some(arns))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(op, &e))?;
    Ok(items.iter().filter_map(target_group).collect())
}

/// Every target group attached to one load balancer: read in the same
/// level as the load balancer itself, since its listeners will forward to
/// them, which saves a level of round trips on the critical path.
pub async fn describe_target_groups_of(
    c: &Client,
    lb_arn: &str,
) -> Result<BTreeMap<String, TargetGroup>, Failure> {
    let op = Op::named("elasticloadbalancing:DescribeTargetGroups");
    let items: Vec<t::TargetGroup> = c
        .describe_target_groups()
        .load_balancer_arn(lb_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(items.iter().filter_map(target_group).collect())
}

fn target_group(tg: &t::TargetGroup) -> Option<(String, TargetGroup)> {
    let arn = tg.target_group_arn()?.to_string();
    Some((
        arn.clone(),
        TargetGroup {
            arn,
            name: tg.target_group_name().map(str::to_string),
            protocol: tg.protocol().map(|p| model::Protocol::from(p.as_str())),
            port: tg.port().and_then(|p| u16::try_from(p).ok()),
            target_type: tg
                .target_type()
                .map(|t| model::TargetType::from(t.as_str())),
            vpc_id: tg.vpc_id().map(str::to_string),
            load_balancer_arns: tg.load_balancer_arns().to_vec(),
            health_check: HealthCheck {
                enabled: tg.health_check_enabled(),
                protocol: tg
                    .health_check_protocol()
                    .map(|p| model::Protocol::from(p.as_str())),
                port: tg.health_check_port().map(str::to_string),
                path: tg.health_check_path().map(str::to_string),
            },
            protocol_version: tg.protocol_version().map(str::to_string),
        },
    ))
}

/// The health of every target registered in one target group.
pub async fn describe_target_health(
    c: &Client,
    tg_arn: &str,
) -> Result<Vec<TargetHealth>, Failure> {
    let op = Op::named("elasticloadbalancing:DescribeTargetHealth");
    let out = c
        .describe_target_health()
        .target_group_arn(tg_arn)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut targets: Vec<TargetHealth> = out
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let target = d.target()?;
            Some(TargetHealth {
                target_id: target.id()?.to_string(),
                port: target.port().and_then(|p| u16::try_from(p).ok()),
                availability_zone: target.availability_zone().map(str::to_string),
                state: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map(|s| model::TargetHealthState::from(s.as_str())),
                reason: d
                    .target_health()
                    .and_then(|h| h.reason())
                    .map(|r| r.as_str().to_string()),
                description: d
                    .target_health()
                    .and_then(|h| h.description())
                    .map(str::to_string),
                health_check_port: d.health_check_port().map(str::to_string),
            })
        })
        .collect();
    targets.sort_by(|a, b| a.target_id.cmp(&b.target_id).then(a.port.cmp(&b.port)));
    Ok(targets)
}

/// Every certificate of a listener: the default and the SNI ones.
pub async fn describe_listener_certificates(
    c: &Client,
    listener_arn: &str,
) -> Result<Vec<ListenerCertificate>, Failure> {
    let op = &Op::named("elasticloadbalancing:DescribeListenerCertificates");
    all_pages(|marker| async move {
        let page = c
            .describe_listener_certificates()
            .listener_arn(listener_arn)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify(op, &e))?;
        let certs = page.certificates().iter().filter_map(|cert| {
            Some(ListenerCertificate {
                arn: cert.certificate_arn()?.to_string(),
                is_default: cert.is_default().unwrap_or(false),
            })
        });
        Ok((certs.collect(), page.next_marker().map(str::to_string)))
    })
    .await
}

/// One attribute list (listener, load balancer or target group) as a map.
/// The three SDK types differ only in name, so the macro saves three
/// copies of the same loop.
macro_rules! attribute_map {
    ($attrs:expr) => {
        $attrs
            .iter()
            .filter_map(|a| {
                Some((
                    a.key()?.to_string(),
                    a.value().unwrap_or_default().to_string(),
                ))
            })
            .collect()
    };
}

pub async fn describe_listener_attributes(
    c: &Client,
    listener_arn: &str,
) -> Result<BTreeMap<String, String>, Failure> {
    let op = Op::named("elasticloadbalancing:DescribeListenerAttributes");
    let out = c
        .describe_listener_attributes()
        .listener_arn(listener_arn)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(attribute_map!(out.attributes()))
}

pub async fn describe_load_balancer_attributes(
    c: &Client,
    lb_arn: &str,
) -> Result<BTreeMap<String, String>, Failure> {
    let op = Op::named("elasticloadbalancing:DescribeLoadBalancerAttributes");
    let out = c
        .describe_load_balancer_attributes()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(attribute_map!(out.attributes()))
}

pub async fn describe_target_group_attributes(
    c: &Client,
    tg_arn: &str,
) -> Result<BTreeMap<String, String>, Failure> {
    let op = Op::named("elasticloadbalancing:DescribeTargetGroupAttributes");
    let out = c
        .describe_target_group_attributes()
        .target_group_arn(tg_arn)
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(attribute_map!(out.attributes()))
}
