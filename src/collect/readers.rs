//! One reader per resource kind of the checks' table
//! ([`apigw_audit_checks::resources::KINDS`]): the `async fn` that reads a
//! wave's wants of that kind and returns what it found as an [`Answer`].
//!
//! [`read`] is the registry. Its `match` is exhaustive, so a kind added to
//! the table without a reader here does not compile. The service modules
//! (`elb`, `ec2`, ...) convert SDK responses; the readers only decide which
//! of their functions answers which want and where the answer lands.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use apigw_audit_checks::model::{ApiKind, Fetched};
use apigw_audit_checks::resources::{Answer, Kind, Want};

use super::plumbing::{each, fetched};
use super::{Clients, acm, apigw, apigw2, cloudfront, cloudmap, ec2, elb, lambda, merge_domains};

/// What every reader of one region's wave needs.
pub struct Ctx<'a> {
    pub c: &'a Clients,
    pub region: &'a str,
    /// Calls in flight per reader, at most.
    pub limit: usize,
    /// The kind of each API, for the reads that differ between REST and
    /// HTTP APIs (exports, authorizers).
    pub api_kinds: BTreeMap<String, ApiKind>,
}

pub type Reading<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// Reads one key at a time (at most `limit` in flight) into the answer's
/// `$field`: `|$c, $key| $call` is the call for one key.
macro_rules! per_key {
    ($ctx:ident, $keys:ident, $field:ident, |$c:ident, $key:ident| $call:expr) => {
        Box::pin(async move {
            let $c = $ctx.c;
            let mut a = Answer::default();
            a.data.$field = each($keys, $ctx.limit, |$key| async move { $call })
                .await
                .into_iter()
                .collect();
            a
        })
    };
}

/// Reads every key with one batched describe into the answer's `$field`.
macro_rules! batched {
    ($ctx:ident, $keys:ident, $field:ident, $client:ident, $describe:path) => {
        Box::pin(async move {
            let mut a = Answer::default();
            a.data.$field = $describe(&$ctx.c.$client, &$keys).await;
            a
        })
    };
}

/// The reader of `kind`, reading `wants` (all of that kind). `None` for the
/// kinds the collector resolves from listings it already holds (VPC links,
/// endpoint services) instead of reading them by key.
pub fn read<'a>(ctx: &'a Ctx<'a>, kind: Kind, wants: Vec<Want>) -> Option<Reading<'a>> {
    let keys: Vec<String> = wants.iter().map(|w| w.key.clone()).collect();
    Some(match kind {
        Kind::VpcLink | Kind::VpcLinkV2 | Kind::EndpointService => return None,
        Kind::LoadBalancer => Box::pin(load_balancers(ctx, keys)),
        Kind::Listeners => per_key!(ctx, keys, listeners, |c, arn| fetched(
            elb::describe_listeners(&c.elb, &arn).await
        )),
        Kind::ListenerRules => per_key!(ctx, keys, listener_rules, |c, arn| fetched(
            elb::describe_rules(&c.elb, &arn).await
        )),
        Kind::TargetGroup => batched!(ctx, keys, target_groups, elb, elb::describe_target_groups),
        Kind::TargetHealth => per_key!(ctx, keys, target_health, |c, arn| fetched(
            elb::describe_target_health(&c.elb, &arn).await
        )),
        Kind::Instance => batched!(ctx, keys, instances, ec2, ec2::describe_instances),
        Kind::NetworkInterface => Box::pin(network_interfaces(ctx, wants)),
        Kind::LbInterfaces => batched!(ctx, keys, lb_interfaces, ec2, ec2::describe_lb_interfaces),
        Kind::RouteTable => Box::pin(route_tables(ctx, wants)),
        Kind::Subnet => batched!(ctx, keys, subnets, ec2, ec2::describe_subnets),
        Kind::SecurityGroup => batched!(
            ctx,
            keys,
            security_groups,
            ec2,
            ec2::describe_security_groups
        ),
        Kind::NetworkAcl => batched!(ctx, keys, network_acls, ec2, ec2::describe_network_acls),
        Kind::PrefixList => per_key!(ctx, keys, prefix_lists, |c, id| ec2::get_prefix_list(
            &c.ec2, &id
        )
        .await),
        Kind::EndpointConnections => batched!(
            ctx,
            keys,
            endpoint_connections,
            ec2,
            ec2::describe_endpoint_connections
        ),
        Kind::EndpointServicePermissions => {
            per_key!(ctx, keys, endpoint_service_permissions, |c, id| fetched(
                ec2::describe_service_permissions(&c.ec2, &id).await
            ))
        }
        Kind::CloudMapService => per_key!(ctx, keys, cloud_map_services, |c, arn| {
            cloudmap::service(&c.cloudmap, &arn).await
        }),
        Kind::Authorizers => Box::pin(authorizers(ctx, keys)),
        Kind::LambdaFunction => per_key!(ctx, keys, lambda_functions, |c, arn| {
            lambda::function(&c.lambda, &arn).await
        }),
        Kind::DomainNames => Box::pin(domain_names(ctx)),
        Kind::Distributions => Box::pin(distributions(ctx)),
        Kind::UsagePlans => Box::pin(usage_plans(ctx)),
        Kind::Deployment => Box::pin(deployments(ctx, wants)),
        Kind::ListenerCertificates => per_key!(ctx, keys, listener_certificates, |c, arn| fetched(
            elb::describe_listener_certificates(&c.elb, &arn).await
        )),
        Kind::Certificate => per_key!(ctx, keys, certificates, |c, arn| {
            // A listener may present an IAM server certificate as well as
            // an ACM one; the ARN says which service keeps it.
            if arn.contains(":iam::") {
                super::iam::server_certificate(&c.iam, &arn).await
            } else {
                acm::certificate(&c.acm, &arn).await
            }
        }),
        Kind::ListenerAttributes => per_key!(ctx, keys, listener_attributes, |c, arn| fetched(
            elb::describe_listener_attributes(&c.elb, &arn).await
        )),
        Kind::LoadBalancerAttributes => {
            per_key!(ctx, keys, load_balancer_attributes, |c, arn| fetched(
                elb::describe_load_balancer_attributes(&c.elb, &arn).await
            ))
        }
        Kind::TargetGroupAttributes => {
            per_key!(ctx, keys, target_group_attributes, |c, arn| fetched(
                elb::describe_target_group_attributes(&c.elb, &arn).await
            ))
        }
    })
}

/// Load balancers by ARN, and beside them the target groups of each: its
/// listeners will forward to them, so reading them now saves a level on
/// the critical path. Those groups are met on the way: they never replace a
/// group read (or failed) by ARN, and a failed read by load balancer leaves
/// its groups to be read by ARN in a later wave, where the failure matters.
async fn load_balancers(ctx: &Ctx<'_>, arns: Vec<String>) -> Answer {
    let c = &ctx.c.elb;
    let (lbs, groups) = futures::future::join(
        elb::describe_load_balancers(c, &arns),
        each(arns.clone(), ctx.limit, |arn| async move {
            elb::describe_target_groups_of(c, &arn).await
        }),
    )
    .await;
    let mut a = Answer::default();
    a.data.load_balancers = lbs;
    for (_, got) in groups {
        if let Ok(groups) = got {
            for (arn, tg) in groups {
                a.seen.target_groups.insert(arn, Fetched::Ok(tg));
            }
        }
    }
    a
}

/// Private addresses, one describe per VPC they are looked up in (the same
/// address can exist in several VPCs).
async fn network_interfaces(ctx: &Ctx<'_>, wants: Vec<Want>) -> Answer {
    let mut by_vpc: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for w in wants {
        by_vpc.entry(w.scope).or_default().push(w.key);
    }
    let c = &ctx.c.ec2;
    let mut a = Answer::default();
    for (_, found) in each(by_vpc, ctx.limit, |(vpc, ips)| async move {
        ec2::describe_network_interfaces_by_ip(c, &ips, vpc.as_deref()).await
    })
    .await
    {
        a.data.network_interfaces.extend(found);
    }
    a
}

/// The route table of each subnet, with the VPC a want knows it in.
async fn route_tables(ctx: &Ctx<'_>, wants: Vec<Want>) -> Answer {
    let subnets: Vec<(String, Option<String>)> =
        wants.into_iter().map(|w| (w.key, w.scope)).collect();
    let mut a = Answer::default();
    a.data.route_tables = ec2::describe_route_tables(&ctx.c.ec2, &subnets).await;
    a
}

/// The authorizers of each API (the key is the API id); an API the region
/// does not hold is not read.
async fn authorizers(ctx: &Ctx<'_>, apis: Vec<String>) -> Answer {
    let known = apis
        .into_iter()
        .filter_map(|id| ctx.api_kinds.get(&id).map(|k| (id, *k)));
    let (c, region) = (ctx.c, ctx.region);
    let authorizers = each(known, ctx.limit, |(api, kind)| async move {
        match kind {
            ApiKind::Rest => fetched(apigw::get_authorizers(&c.apigw, region, &api).await),
            ApiKind::Http => fetched(apigw2::get_authorizers(&c.apigw2, region, &api).await),
        }
    })
    .await
    .into_iter()
    .map(|((api, _), v)| (api, v))
    .collect();
    Answer {
        authorizers,
        ..Answer::default()
    }
}

/// REST and HTTP APIs see the same custom domains: both listings, merged.
async fn domain_names(ctx: &Ctx<'_>) -> Answer {
    let (rest, http) = futures::future::join(
        apigw::get_domain_names(&ctx.c.apigw, ctx.region),
        apigw2::get_domain_names(&ctx.c.apigw2, ctx.region),
    )
    .await;
    let mut a = Answer::default();
    a.data.domain_names = Some(fetched(merge_domains(rest, http)));
    a
}

async fn distributions(ctx: &Ctx<'_>) -> Answer {
    let mut a = Answer::default();
    a.data.distributions = Some(fetched(cloudfront::distributions(&ctx.c.cloudfront).await));
    a
}

/// The usage plans serving the region's REST APIs, with their keys.
async fn usage_plans(ctx: &Ctx<'_>) -> Answer {
    let rest: Vec<String> = ctx
        .api_kinds
        .iter()
        .filter(|(_, k)| **k == ApiKind::Rest)
        .map(|(id, _)| id.clone())
        .collect();
    let plans = apigw::get_usage_plans(&ctx.c.apigw, ctx.region, &rest, ctx.limit).await;
    let mut a = Answer::default();
    a.data.usage_plans = Some(fetched(plans));
    a
}

/// What each wanted stage's deployment serves, from its export (the key is
/// the API id, the scope the stage).
async fn deployments(ctx: &Ctx<'_>, wants: Vec<Want>) -> Answer {
    let known = wants.into_iter().filter_map(|w| {
        let kind = *ctx.api_kinds.get(&w.key)?;
        Some((w.key, w.scope?, kind))
    });
    let (c, region) = (ctx.c, ctx.region);
    let exports = each(known, ctx.limit, |(api, stage, kind)| async move {
        match kind {
            ApiKind::Rest => fetched(apigw::get_export(&c.apigw, region, &api, &stage).await),
            ApiKind::Http => fetched(apigw2::export_api(&c.apigw2, region, &api, &stage).await),
        }
    })
    .await
    .into_iter()
    .map(|((api, stage, _), v)| (api, stage, v))
    .collect();
    Answer {
        exports,
        ..Answer::default()
    }
}
