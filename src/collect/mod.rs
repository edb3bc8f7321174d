//! Live collection: the only code that talks to AWS (read-only) and the only
//! code that imports the SDK.
//!
//! It walks the dependency graph level by level: API, stages and routes;
//! VPC links; load balancers; listeners and endpoint services; target
//! groups and endpoint connections; target health; instances and network
//! interfaces; subnets, security groups and network ACLs; prefix lists.
//! Each level starts when the one before has answered, and within a level
//! every call runs concurrently and every describe is batched, so the wall
//! time is about (levels x round-trip) and no resource is read twice even
//! when many routes, stages or APIs share it. What to read next is decided
//! with the same resolution the checks use (`route_paths`, forward actions),
//! so the snapshot holds exactly what the checks will walk.

pub mod apigw;
pub mod aws;
pub mod ec2;
pub mod elb;
pub mod error;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use futures::StreamExt;
use futures::future::join;

use apigw_audit_checks::model::{
    ApiKind, ApiRecord, Failure, FailureKind, Fetched, RegionData, SNAPSHOT_SCHEMA_VERSION,
    Snapshot, ToolInfo,
};
use apigw_audit_checks::view::{LinkVersion, StageView, route_paths};

use crate::Fatal;
use crate::cli::AwsArgs;
use aws::{CallStats, RecordCalls, Recorder};
use error::{Op, classify};

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub api_ids: Vec<String>,
    pub all_apis: bool,
    pub stages: Vec<String>,
    pub max_concurrency: usize,
}

/// A finished collection: the snapshot and what it cost.
pub struct Collected {
    pub snapshot: Snapshot,
    pub stats: CallStats,
}

/// One client per service, each with the call recorder installed.
pub struct Clients {
    pub apigw: aws_sdk_apigateway::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub fn new(cfg: &SdkConfig, rec: &RecordCalls) -> Clients {
        Clients {
            apigw: aws_sdk_apigateway::Client::from_conf(
                aws_sdk_apigateway::config::Builder::from(cfg)
                    .interceptor(rec.clone())
                    .build(),
            ),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(cfg)
                    .interceptor(rec.clone())
                    .build(),
            ),
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(cfg)
                    .interceptor(rec.clone())
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(cfg)
                    .interceptor(rec.clone())
                    .build(),
            ),
        }
    }
}

/// Reads everything the checks need for the requested APIs.
pub async fn collect(args: &AwsArgs, req: &Request) -> Result<Collected, Fatal> {
    let cfg = aws::load_config(args, None).await?;
    let region = cfg.region().map(|r| r.to_string()).ok_or_else(|| {
        Fatal::Usage("no AWS region: pass --region or set AWS_REGION".to_string())
    })?;
    let recorder = Arc::new(Recorder::default());
    let clients = Clients::new(&cfg, &RecordCalls(recorder.clone()));
    let recorded_at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let (account, region_data) = join(
        caller_account(&clients.sts),
        collect_region(&clients, &region, req),
    )
    .await;
    let region_data = region_data?;
    Ok(Collected {
        snapshot: Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            tool: ToolInfo {
                name: "apigw-audit".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            recorded_at,
            account,
            regions: vec![region_data],
        },
        stats: recorder.snapshot(),
    })
}

async fn caller_account(sts: &aws_sdk_sts::Client) -> Option<String> {
    match sts.get_caller_identity().send().await {
        Ok(out) => out.account().map(str::to_string),
        Err(e) => {
            let f = classify(&Op::named("sts:GetCallerIdentity"), &e);
            tracing::warn!(
                "could not read the account id ({}): {}",
                f.operation,
                f.message
            );
            None
        }
    }
}

/// Runs `f` over `items` with at most `limit` calls in flight.
async fn each<I, K, T, F, Fut>(items: I, limit: usize, f: F) -> Vec<(K, T)>
where
    I: IntoIterator<Item = K>,
    K: Clone,
    F: Fn(K) -> Fut,
    Fut: Future<Output = T>,
{
    futures::stream::iter(items.into_iter().map(|k| {
        let fut = f(k.clone());
        async move { (k, fut.await) }
    }))
    .buffer_unordered(limit.max(1))
    .collect()
    .await
}

fn fetched<T>(r: Result<T, Failure>) -> Fetched<T> {
    match r {
        Ok(v) => Fetched::Ok(v),
        Err(f) if f.kind == FailureKind::NotFound => Fetched::NotFound(f),
        Err(f) => Fetched::Error(f),
    }
}

async fn rest_api(c: &Clients, region: &str, id: String) -> Result<ApiRecord, Fatal> {
    let (info, (stages, routes)) = join(
        apigw::get_rest_api(&c.apigw, region, &id),
        join(
            apigw::get_stages(&c.apigw, region, &id),
            apigw::get_resources(&c.apigw, region, &id),
        ),
    )
    .await;
    if let Err(f) = &info
        && f.kind == FailureKind::NotFound
    {
        return Err(Fatal::Usage(format!(
            "no REST API with id {id} in {region}"
        )));
    }
    Ok(ApiRecord {
        id,
        kind: ApiKind::Rest,
        info: fetched(info),
        stages: fetched(stages),
        routes: fetched(routes),
    })
}

async fn collect_region(c: &Clients, region: &str, req: &Request) -> Result<RegionData, Fatal> {
    let limit = req.max_concurrency.max(1);
    let mut rd = RegionData {
        region: region.to_string(),
        ..Default::default()
    };

    // Level 1: the APIs, the account settings and every VPC link (one
    // listing answers every link lookup, whatever stage variables name).
    let apis_fut = async {
        if req.all_apis {
            let list = apigw::get_rest_apis(&c.apigw, region).await.map_err(|f| {
                Fatal::Incomplete(format!(
                    "could not list the REST APIs in {region}: {} failed: {}",
                    f.operation, f.message
                ))
            })?;
            let got = each(list, limit, |(id, _)| rest_api(c, region, id)).await;
            got.into_iter()
                .map(|(_, r)| r)
                .collect::<Result<Vec<_>, _>>()
        } else {
            let got = each(req.api_ids.iter().cloned(), limit, |id| {
                rest_api(c, region, id)
            })
            .await;
            got.into_iter()
                .map(|(_, r)| r)
                .collect::<Result<Vec<_>, _>>()
        }
    };
    let (apis, (account, links)) = join(
        apis_fut,
        join(
            apigw::get_account(&c.apigw, region),
            apigw::get_vpc_links(&c.apigw, region),
        ),
    )
    .await;
    let mut apis = apis?;
    apis.sort_by(|a, b| a.id.cmp(&b.id));
    select_stages(&mut apis, &req.stages, region)?;
    rd.apigateway_account = Some(fetched(account));

    // Which links and which (load balancer, port) pairs the selected stages use.
    let mut link_ids: BTreeSet<String> = BTreeSet::new();
    for api in &apis {
        let Fetched::Ok(stages) = &api.stages else {
            continue;
        };
        for stage in stages {
            for rp in route_paths(api, stage) {
                if rp.link.version == LinkVersion::V1
                    && let Ok(id) = &rp.link.id
                {
                    link_ids.insert(id.clone());
                }
            }
        }
    }
    for id in &link_ids {
        let v = match &links {
            Ok(all) => match all.iter().find(|l| &l.id == id) {
                Some(l) => Fetched::Ok(l.clone()),
                None => Fetched::NotFound(
                    Op::apigw("apigateway:GetVpcLinks", region, "/vpclinks").failure(
                        FailureKind::NotFound,
                        None,
                        format!("VPC link {id} is not among the region's VPC links"),
                    ),
                ),
            },
            Err(f) => Fetched::Error(f.clone()),
        };
        rd.vpc_links.insert(id.clone(), v);
    }
    rd.apis = apis;

    // Level 2: the load balancers the links target.
    let lb_arns: BTreeSet<String> = rd
        .vpc_links
        .values()
        .filter_map(|l| l.ok())
        .flat_map(|l| l.target_arns.first().cloned())
        .collect();
    let lb_arns: Vec<String> = lb_arns.into_iter().collect();
    rd.load_balancers = elb::describe_load_balancers(&c.elb, &lb_arns).await;

    // Level 3: listeners of each load balancer, and the endpoint services
    // API Gateway created for the v1 links' NLBs.
    let live_lbs: Vec<String> = rd
        .load_balancers
        .iter()
        .filter(|(_, v)| v.ok().is_some())
        .map(|(k, _)| k.clone())
        .collect();
    let nlbs: Vec<String> = rd
        .load_balancers
        .iter()
        .filter(|(_, v)| {
            v.ok()
                .is_some_and(|lb| lb.lb_type.as_deref() == Some("network"))
        })
        .map(|(k, _)| k.clone())
        .collect();
    let listeners_fut = each(live_lbs.clone(), limit, |arn| async move {
        fetched(elb::describe_listeners(&c.elb, &arn).await)
    });
    let services_fut = async {
        if nlbs.is_empty() {
            None
        } else {
            Some(ec2::describe_endpoint_services(&c.ec2).await)
        }
    };
    let (listeners, services) = join(listeners_fut, services_fut).await;
    rd.listeners = listeners.into_iter().collect();
    if let Some(services) = services {
        for nlb in &nlbs {
            let v = match &services {
                Ok(list) => match list
                    .iter()
                    .find(|s| s.network_load_balancer_arns.contains(nlb))
                {
                    Some(s) => Fetched::Ok(s.clone()),
                    None => Fetched::NotFound(
                        Op::named("ec2:DescribeVpcEndpointServiceConfigurations").failure(
                            FailureKind::NotFound,
                            None,
                            format!("no endpoint service of this account fronts {nlb}"),
                        ),
                    ),
                },
                Err(f) => Fetched::Error(f.clone()),
            };
            rd.endpoint_services.insert(nlb.clone(), v);
        }
    }

    // Level 4: the target groups behind the listeners the routes reach,
    // and the endpoint connections of the services found.
    let tg_arns = reached_target_groups(&rd);
    let service_ids: Vec<String> = rd
        .endpoint_services
        .values()
        .filter_map(|s| s.ok().map(|s| s.service_id.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let conns_fut = async {
        if service_ids.is_empty() {
            BTreeMap::new()
        } else {
            ec2::describe_endpoint_connections(&c.ec2, &service_ids).await
        }
    };
    let (tgs, conns) = join(elb::describe_target_groups(&c.elb, &tg_arns), conns_fut).await;
    rd.target_groups = tgs;
    rd.endpoint_connections = conns;

    // Level 5: target health.
    let live_tgs: Vec<String> = rd
        .target_groups
        .iter()
        .filter(|(_, v)| v.ok().is_some())
        .map(|(k, _)| k.clone())
        .collect();
    rd.target_health = each(live_tgs, limit, |arn| async move {
        fetched(elb::describe_target_health(&c.elb, &arn).await)
    })
    .await
    .into_iter()
    .collect();

    // Level 6: where the targets are.
    let mut instance_ids: BTreeSet<String> = BTreeSet::new();
    let mut ips_by_vpc: BTreeMap<Option<String>, BTreeSet<String>> = BTreeMap::new();
    for (arn, health) in &rd.target_health {
        let (Some(tg), Some(targets)) =
            (rd.target_groups.get(arn).and_then(|t| t.ok()), health.ok())
        else {
            continue;
        };
        match tg.target_type.as_deref().unwrap_or("instance") {
            "instance" => instance_ids.extend(targets.iter().map(|t| t.target_id.clone())),
            "ip" => ips_by_vpc
                .entry(tg.vpc_id.clone())
                .or_default()
                .extend(targets.iter().map(|t| t.target_id.clone())),
            _ => {}
        }
    }
    let instance_ids: Vec<String> = instance_ids.into_iter().collect();
    let instances_fut = async {
        if instance_ids.is_empty() {
            BTreeMap::new()
        } else {
            ec2::describe_instances(&c.ec2, &instance_ids).await
        }
    };
    let enis_fut = each(ips_by_vpc, limit, |(vpc, ips)| async move {
        let ips: Vec<String> = ips.into_iter().collect();
        ec2::describe_network_interfaces_by_ip(&c.ec2, &ips, vpc.as_deref()).await
    });
    let (instances, enis) = join(instances_fut, enis_fut).await;
    rd.instances = instances;
    for (_, m) in enis {
        rd.network_interfaces.extend(m);
    }

    // Level 7: subnets, security groups and network ACLs on the path.
    let mut subnet_ids: BTreeSet<String> = BTreeSet::new();
    let mut sg_ids: BTreeSet<String> = BTreeSet::new();
    for lb in rd.load_balancers.values().filter_map(|l| l.ok()) {
        subnet_ids.extend(lb.zones.iter().filter_map(|z| z.subnet_id.clone()));
        sg_ids.extend(lb.security_groups.iter().cloned());
    }
    for i in rd.instances.values().filter_map(|i| i.ok()) {
        subnet_ids.extend(i.subnet_id.clone());
        sg_ids.extend(i.security_groups.iter().cloned());
    }
    for e in rd
        .network_interfaces
        .values()
        .filter_map(|e| e.ok())
        .flatten()
    {
        subnet_ids.extend(e.subnet_id.clone());
        sg_ids.extend(e.security_groups.iter().cloned());
    }
    let subnet_ids: Vec<String> = subnet_ids.into_iter().collect();
    let sg_ids: Vec<String> = sg_ids.into_iter().collect();
    let (subnets, (sgs, acls)) = join(
        async {
            if subnet_ids.is_empty() {
                BTreeMap::new()
            } else {
                ec2::describe_subnets(&c.ec2, &subnet_ids).await
            }
        },
        join(
            async {
                if sg_ids.is_empty() {
                    BTreeMap::new()
                } else {
                    ec2::describe_security_groups(&c.ec2, &sg_ids).await
                }
            },
            async {
                if subnet_ids.is_empty() {
                    BTreeMap::new()
                } else {
                    ec2::describe_network_acls(&c.ec2, &subnet_ids).await
                }
            },
        ),
    )
    .await;
    rd.subnets = subnets;
    rd.security_groups = sgs;
    rd.network_acls = acls;

    // Level 8: prefix lists the security group rules name.
    let pl_ids: BTreeSet<String> = rd
        .security_groups
        .values()
        .filter_map(|g| g.ok())
        .flat_map(|g| g.ingress.iter().chain(g.egress.iter()))
        .flat_map(|r| r.prefix_list_ids.iter().cloned())
        .collect();
    rd.prefix_lists = each(pl_ids, limit, |id| async move {
        ec2::get_prefix_list(&c.ec2, &id).await
    })
    .await
    .into_iter()
    .collect();
    Ok(rd)
}

/// Keeps only the requested stages, and refuses a stage no API has.
fn select_stages(apis: &mut [ApiRecord], wanted: &[String], region: &str) -> Result<(), Fatal> {
    if wanted.is_empty() {
        return Ok(());
    }
    for name in wanted {
        let unreadable = apis.iter().any(|a| !matches!(a.stages, Fetched::Ok(_)));
        let found = apis
            .iter()
            .any(|a| matches!(&a.stages, Fetched::Ok(s) if s.iter().any(|s| &s.name == name)));
        if !found && !unreadable {
            let known: Vec<String> = apis
                .iter()
                .filter_map(|a| match &a.stages {
                    Fetched::Ok(s) => Some(format!(
                        "{}: {}",
                        a.id,
                        s.iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    _ => None,
                })
                .collect();
            return Err(Fatal::Usage(format!(
                "no stage {name} in the API(s) audited in {region} (stages: {})",
                known.join("; ")
            )));
        }
    }
    for api in apis.iter_mut() {
        if let Fetched::Ok(stages) = &mut api.stages {
            stages.retain(|s| wanted.contains(&s.name));
        }
    }
    Ok(())
}

/// The target groups the selected stages' routes reach: for each load
/// balancer, the listeners on the integration ports, and their forwards.
fn reached_target_groups(rd: &RegionData) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for api in &rd.apis {
        let Fetched::Ok(stages) = &api.stages else {
            continue;
        };
        for stage in stages {
            for rp in route_paths(api, stage) {
                let (Ok(id), Ok(ep)) = (&rp.link.id, &rp.endpoint) else {
                    continue;
                };
                let Some(link) = rd.vpc_links.get(id).and_then(|l| l.ok()) else {
                    continue;
                };
                let Some(lb_arn) = link.target_arns.first() else {
                    continue;
                };
                let Some(listeners) = rd.listeners.get(lb_arn).and_then(|l| l.ok()) else {
                    continue;
                };
                for l in listeners.iter().filter(|l| l.port == Some(ep.port)) {
                    out.extend(
                        StageView::forward_target_groups(l)
                            .into_iter()
                            .map(str::to_string),
                    );
                }
            }
        }
    }
    out.into_iter().collect()
}
