//! Live collection: the only code that talks to AWS (read-only) and the only
//! code that imports the SDK.
//!
//! The first two levels read the roots: each API (its kind detected with
//! `GetRestApi` and `GetApi` side by side), the account settings and every
//! VPC link of both generations (one listing each answers every link lookup,
//! whatever a stage variable names); then each API's stages and routes.
//!
//! After that the checks themselves decide what to read: they run on the
//! snapshot read so far, and every lookup of something not yet read is
//! recorded as a [`Want`]. One level reads every want at once, every
//! describe batched, every independent call concurrent; then the checks run
//! again, until they want nothing new. So the wall time is about (levels x
//! round-trip), nothing is read twice however many routes, stages or APIs
//! share it, and the snapshot holds exactly what the checks walk.

pub mod acm;
pub mod apigw;
pub mod apigw2;
pub mod aws;
pub mod cloudfront;
pub mod cloudmap;
pub mod ec2;
pub mod elb;
pub mod error;
pub mod lambda;
pub mod logs;
pub mod pace;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use futures::StreamExt;
use futures::future::join;

use apigw_audit_checks::engine::wants;
use apigw_audit_checks::model::{
    ApiInfo, ApiKind, ApiRecord, EndpointService, Failure, FailureKind, Fetched, RegionData,
    SNAPSHOT_SCHEMA_VERSION, Snapshot, ToolInfo, VpcLink, VpcLinkV2,
};
use apigw_audit_checks::view::{Want, referenced_links};

use crate::Fatal;
use aws::{CallStats, RecordCalls, Recorder};
use error::{Op, classify};

/// Levels after the roots before the collector gives up: the deepest path
/// (link, load balancer, listeners, rules, target groups, health, an ALB
/// behind an NLB and its own chain, instances, network, prefix lists) is
/// well under this; a snapshot that keeps wanting more is a bug, not AWS.
const MAX_LEVELS: usize = 24;

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub api_ids: Vec<String>,
    pub all_apis: bool,
    pub stages: Vec<String>,
    pub max_concurrency: usize,
    /// Auditing several regions: an API id or stage absent from this one
    /// is not an error here (the caller checks each was found somewhere).
    pub multi_region: bool,
    /// Where to say how far the collection got, when someone is watching.
    pub progress: Option<indicatif::ProgressBar>,
    /// Client-side pacing; `None` sends every call at once.
    pub pacing: Option<Pacing>,
}

/// The pacing every region's clients share: the rates per service and one
/// process-wide limit on calls in flight.
#[derive(Debug, Clone)]
pub struct Pacing {
    pub rates: BTreeMap<String, Option<pace::Rate>>,
    pub permits: Arc<tokio::sync::Semaphore>,
}

/// A finished collection: the snapshot and what it cost.
pub struct Collected {
    pub snapshot: Snapshot,
    pub stats: CallStats,
    pub pace: pace::PaceStats,
    /// Levels of dependent calls, the roots included.
    pub levels: usize,
}

/// One client per service, each with the call recorder installed.
pub struct Clients {
    pub acm: aws_sdk_acm::Client,
    pub apigw: aws_sdk_apigateway::Client,
    pub apigw2: aws_sdk_apigatewayv2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub sts: aws_sdk_sts::Client,
    pub cloudmap: aws_sdk_servicediscovery::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
}

/// The configuration of one service's client: the recorder, and the pacer
/// wrapped around the HTTP client when pacing is on.
///
/// A paced request may wait for its service's bucket; that wait is not the
/// service being slow, so the SDK's attempt timeout (which would count it)
/// is lifted and the paced client times the attempt itself from the moment
/// the request is admitted.
fn paced(cfg: &SdkConfig, service: &'static str, pacer: Option<&Arc<pace::Pacer>>) -> SdkConfig {
    match (pacer, cfg.http_client()) {
        (Some(p), Some(http)) => {
            let timeouts = cfg.timeout_config();
            let attempt = timeouts.and_then(|t| t.operation_attempt_timeout());
            let mut lifted = aws_config::timeout::TimeoutConfig::builder();
            if let Some(c) = timeouts.and_then(|t| t.connect_timeout()) {
                lifted = lifted.connect_timeout(c);
            }
            if let Some(r) = timeouts.and_then(|t| t.read_timeout()) {
                lifted = lifted.read_timeout(r);
            }
            cfg.to_builder()
                .http_client(pace::PacedClient::shared(http, service, p.clone(), attempt))
                .timeout_config(lifted.build())
                .build()
        }
        _ => cfg.clone(),
    }
}

macro_rules! client {
    ($krate:ident, $service:expr, $cfg:expr, $rec:expr, $pacer:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from(&paced($cfg, $service, $pacer))
                .interceptor($rec.clone())
                .build(),
        )
    };
}

impl Clients {
    pub fn new(cfg: &SdkConfig, rec: &RecordCalls, pacer: Option<&Arc<pace::Pacer>>) -> Clients {
        Clients {
            acm: client!(aws_sdk_acm, "acm", cfg, rec, pacer),
            apigw: client!(aws_sdk_apigateway, "apigateway", cfg, rec, pacer),
            apigw2: client!(aws_sdk_apigatewayv2, "apigateway", cfg, rec, pacer),
            elb: client!(
                aws_sdk_elasticloadbalancingv2,
                "elasticloadbalancing",
                cfg,
                rec,
                pacer
            ),
            ec2: client!(aws_sdk_ec2, "ec2", cfg, rec, pacer),
            sts: client!(aws_sdk_sts, "sts", cfg, rec, pacer),
            cloudmap: client!(
                aws_sdk_servicediscovery,
                "servicediscovery",
                cfg,
                rec,
                pacer
            ),
            lambda: client!(aws_sdk_lambda, "lambda", cfg, rec, pacer),
            // CloudFront is global: its API lives in us-east-1.
            cloudfront: aws_sdk_cloudfront::Client::from_conf(
                aws_sdk_cloudfront::config::Builder::from(&paced(cfg, "cloudfront", pacer))
                    .region(aws_config::Region::new("us-east-1"))
                    .interceptor(rec.clone())
                    .build(),
            ),
        }
    }
}

/// Reads everything the checks need for the requested APIs, in the
/// configuration's region.
pub async fn collect_with(cfg: &SdkConfig, req: &Request) -> Result<Collected, Fatal> {
    let region = cfg.region().map(|r| r.to_string()).ok_or_else(|| {
        Fatal::Usage("no AWS region: pass --region or set AWS_REGION".to_string())
    })?;
    let pacer = req
        .pacing
        .as_ref()
        .map(|p| pace::Pacer::new(p.rates.clone(), p.permits.clone()));
    let recorder = Arc::new(Recorder::with_pacer(pacer.clone()));
    let clients = Clients::new(cfg, &RecordCalls(recorder.clone()), pacer.as_ref());
    let recorded_at = crate::report::now_seconds();
    let ((account, account_failure), region_data) = join(
        caller_account(&clients.sts),
        collect_region(&clients, &region, req),
    )
    .await;
    let (region_data, levels) = region_data?;
    Ok(Collected {
        snapshot: Snapshot {
            schema_version: SNAPSHOT_SCHEMA_VERSION,
            tool: ToolInfo {
                name: "apigw-audit".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            recorded_at,
            account,
            account_failure,
            regions: vec![region_data],
        },
        stats: recorder.snapshot(),
        pace: pacer.map(|p| p.stats()).unwrap_or_default(),
        levels,
    })
}

/// The account of the credentials, or why it could not be read (a check
/// that depends on it then reports that failure instead of guessing).
async fn caller_account(sts: &aws_sdk_sts::Client) -> (Option<String>, Option<Failure>) {
    match sts.get_caller_identity().send().await {
        Ok(out) => (out.account().map(str::to_string), None),
        Err(e) => {
            let f = classify(&Op::named("sts:GetCallerIdentity"), &e);
            tracing::warn!(
                "could not read the account id ({}): {}",
                f.operation,
                f.message
            );
            (None, Some(f))
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

/// An API to read: its id, and its kind and description when a listing
/// already told them.
struct Root {
    id: String,
    known: Option<(ApiKind, ApiInfo)>,
}

/// Level 1 for an id of unknown kind: which API it is, REST or HTTP;
/// `None` when neither exists and `missing_ok`.
async fn detect(
    c: &Clients,
    region: &str,
    id: String,
    missing_ok: bool,
) -> Result<Option<(String, ApiKind, Fetched<ApiInfo>)>, Fatal> {
    let (rest, http) = join(
        apigw::get_rest_api(&c.apigw, region, &id),
        apigw2::get_api(&c.apigw2, region, &id),
    )
    .await;
    let nf = |r: &Result<ApiInfo, Failure>| matches!(r, Err(f) if f.kind == FailureKind::NotFound);
    match (rest, http) {
        (Ok(info), _) => Ok(Some((id, ApiKind::Rest, Fetched::Ok(info)))),
        (_, Ok(info)) => Ok(Some((id, ApiKind::Http, Fetched::Ok(info)))),
        (r, h) if nf(&r) && nf(&h) && missing_ok => Ok(None),
        (r, h) if nf(&r) && nf(&h) => Err(Fatal::Usage(format!(
            "no REST or HTTP API with id {id} in {region}"
        ))),
        // One side unreadable, the other absent: it is the unreadable kind.
        (r, h) if nf(&r) => Ok(Some((id, ApiKind::Http, fetched(h)))),
        (r, _) => Ok(Some((id, ApiKind::Rest, fetched(r)))),
    }
}

/// Level 2: an API's stages and routes.
async fn api_body(
    c: &Clients,
    region: &str,
    id: String,
    kind: ApiKind,
    info: Fetched<ApiInfo>,
) -> ApiRecord {
    let (stages, routes) = match kind {
        ApiKind::Rest => {
            let (s, r) = join(
                apigw::get_stages(&c.apigw, region, &id),
                apigw::get_resources(&c.apigw, region, &id),
            )
            .await;
            (fetched(s), fetched(r))
        }
        ApiKind::Http => {
            let (s, r) = join(
                apigw2::get_stages(&c.apigw2, region, &id),
                apigw2::get_routes(&c.apigw2, region, &id),
            )
            .await;
            (fetched(s), fetched(r))
        }
    };
    ApiRecord {
        id,
        kind,
        info,
        stages,
        routes,
        deployed_routes: BTreeMap::new(),
        authorizers: None,
    }
}

async fn list_roots(c: &Clients, region: &str) -> Result<Vec<Root>, Fatal> {
    let (rest, http) = join(
        apigw::get_rest_apis(&c.apigw, region),
        apigw2::get_apis(&c.apigw2, region),
    )
    .await;
    let listing = |f: Failure| {
        Fatal::Incomplete(format!(
            "could not list the APIs in {region}: {} failed: {}",
            f.operation, f.message
        ))
    };
    let mut roots: Vec<Root> = rest
        .map_err(listing)?
        .into_iter()
        .map(|(id, info)| Root {
            id,
            known: Some((ApiKind::Rest, info)),
        })
        .collect();
    roots.extend(http.map_err(listing)?.into_iter().map(|(id, info)| Root {
        id,
        known: Some((ApiKind::Http, info)),
    }));
    Ok(roots)
}

/// Listings and answers kept across levels, so a later level never
/// repeats a call an earlier one made.
struct Memo {
    endpoint_services: Option<Result<Vec<EndpointService>, Failure>>,
    links_v1: Result<Vec<VpcLink>, Failure>,
    links_v2: Result<Vec<VpcLinkV2>, Failure>,
}

/// Parses an export body into the routes it describes.
pub fn parse_export(
    op: &Op,
    body: Option<&[u8]>,
) -> Result<Vec<apigw_audit_checks::model::Route>, Failure> {
    let malformed = |m: String| op.failure(FailureKind::Malformed, None, m);
    let body = body.ok_or_else(|| malformed("the export has no body".to_string()))?;
    let doc: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("the export is not JSON ({e})")))?;
    apigw_audit_checks::export::routes_from_export(&doc).map_err(malformed)
}

async fn collect_region(
    c: &Clients,
    region: &str,
    req: &Request,
) -> Result<(RegionData, usize), Fatal> {
    let limit = req.max_concurrency.max(1);
    let mut rd = RegionData {
        region: region.to_string(),
        ..Default::default()
    };

    // Level 1: which APIs (listed, or each id's kind detected), the account
    // settings and every VPC link, all at once.
    let roots_fut = async {
        let roots = if req.all_apis {
            list_roots(c, region).await?
        } else {
            req.api_ids
                .iter()
                .map(|id| Root {
                    id: id.clone(),
                    known: None,
                })
                .collect()
        };
        let mut kinds: Vec<(String, ApiKind, Fetched<ApiInfo>)> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for r in roots {
            match r.known {
                Some((kind, info)) => kinds.push((r.id, kind, Fetched::Ok(info))),
                None => unknown.push(r.id),
            }
        }
        for (_, got) in each(unknown, limit, |id| detect(c, region, id, req.multi_region)).await {
            kinds.extend(got?);
        }
        Ok::<_, Fatal>(kinds)
    };
    let (kinds, (account, (links_v1, links_v2))) = join(
        roots_fut,
        join(
            apigw::get_account(&c.apigw, region),
            join(
                apigw::get_vpc_links(&c.apigw, region),
                apigw2::get_vpc_links(&c.apigw2, region),
            ),
        ),
    )
    .await;
    let kinds = kinds?;
    rd.apigateway_account = Some(fetched(account));

    // Level 2: stages and routes.
    let mut apis: Vec<ApiRecord> = each(kinds, limit, |(id, kind, info)| {
        api_body(c, region, id, kind, info)
    })
    .await
    .into_iter()
    .map(|(_, a)| a)
    .collect();
    apis.sort_by(|a, b| a.id.cmp(&b.id));
    select_stages(&mut apis, &req.stages, region, req.multi_region)?;
    for api in &apis {
        let Fetched::Ok(stages) = &api.stages else {
            continue;
        };
        for stage in stages {
            let (v1, v2) = referenced_links(api, stage);
            for id in v1 {
                rd.vpc_links.insert(
                    id.clone(),
                    link_from(&links_v1, &id, region, |l: &VpcLink| &l.id),
                );
            }
            for id in v2 {
                rd.vpc_links_v2.insert(
                    id.clone(),
                    link_from(&links_v2, &id, region, |l: &VpcLinkV2| &l.id),
                );
            }
        }
    }
    rd.apis = apis;

    // Then as many levels as the checks ask for.
    let mut memo = Memo {
        endpoint_services: None,
        links_v1,
        links_v2,
    };
    let mut asked: BTreeSet<Want> = BTreeSet::new();
    let mut levels = 2;
    for _ in 0..MAX_LEVELS {
        let mut next: BTreeSet<Want> = plan(&mut rd).difference(&asked).cloned().collect();
        if next.is_empty() {
            break;
        }
        // Subnets, security groups, ACLs and prefix lists are leaves: no
        // other read depends on them, and the last structural level wants
        // most of them anyway. Deferring them until the structure is read
        // batches them into one call each without adding a level.
        if next.iter().any(|w| !is_leaf(w)) {
            next.retain(|w| !is_leaf(w));
        }
        tracing::debug!(level = levels + 1, wants = ?next, "reading");
        if let Some(p) = &req.progress {
            p.set_message(format!(
                "{region}: reading level {} ({} resource(s))",
                levels + 1,
                next.len()
            ));
        }
        read(c, &mut rd, &next, &mut memo, region, limit).await;
        asked.extend(next);
        levels += 1;
    }
    Ok((rd, levels))
}

fn is_leaf(w: &Want) -> bool {
    matches!(
        w,
        Want::Subnet(_) | Want::SecurityGroup(_) | Want::NetworkAcl(_) | Want::PrefixList(_)
    )
}

fn link_from<L: Clone>(
    listing: &Result<Vec<L>, Failure>,
    id: &str,
    region: &str,
    key: impl Fn(&L) -> &String,
) -> Fetched<L> {
    match listing {
        Ok(all) => match all.iter().find(|l| key(l) == id) {
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
    }
}

/// What the checks want next, run on what has been read so far.
fn plan(rd: &mut RegionData) -> BTreeSet<Want> {
    let snapshot = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: String::new(),
            version: String::new(),
        },
        recorded_at: time::OffsetDateTime::UNIX_EPOCH,
        account: None,
        account_failure: None,
        regions: vec![std::mem::take(rd)],
    };
    let mut w = wants(&snapshot);
    *rd = snapshot.regions.into_iter().next().unwrap_or_default();
    w.pop().unwrap_or_default()
}

/// A batched describe, skipped when there is nothing to describe.
async fn batch<'k, T, F, Fut>(keys: &'k [String], describe: F) -> BTreeMap<String, Fetched<T>>
where
    F: FnOnce(&'k [String]) -> Fut,
    Fut: Future<Output = BTreeMap<String, Fetched<T>>>,
{
    if keys.is_empty() {
        BTreeMap::new()
    } else {
        describe(keys).await
    }
}

/// One level: every want read at once, grouped per operation, batched.
async fn read(
    c: &Clients,
    rd: &mut RegionData,
    wants: &BTreeSet<Want>,
    memo: &mut Memo,
    region: &str,
    limit: usize,
) {
    let mut lbs = Vec::new();
    let mut listeners: BTreeSet<String> = BTreeSet::new();
    let mut tgs_of: Vec<String> = Vec::new();
    let mut rules = Vec::new();
    let mut tgs = Vec::new();
    let mut health = Vec::new();
    let mut instances = Vec::new();
    let mut ips: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    let mut subnets = Vec::new();
    let mut sgs = Vec::new();
    let mut acls = Vec::new();
    let mut pls = Vec::new();
    let mut services = Vec::new();
    let mut conns = Vec::new();
    let mut cloud = Vec::new();
    let mut exports = Vec::new();
    let mut lcerts = Vec::new();
    let mut certs = Vec::new();
    let mut lattrs = Vec::new();
    let mut lbattrs = Vec::new();
    let mut authorizers = Vec::new();
    let mut functions = Vec::new();
    let mut want_domains = false;
    let mut want_distributions = false;
    for w in wants {
        match w {
            Want::LoadBalancer(a) => {
                lbs.push(a.clone());
                // A load balancer is wanted for its listeners and the target
                // groups they forward to, and an NLB behind a VPC link (v1)
                // for its endpoint service: read them in this same level.
                if !rd.listeners.contains_key(a) {
                    listeners.insert(a.clone());
                }
                tgs_of.push(a.clone());
                if rd
                    .vpc_links
                    .values()
                    .any(|l| l.ok().is_some_and(|l| l.target_arns.contains(a)))
                    && !rd.endpoint_services.contains_key(a)
                {
                    services.push(a.clone());
                }
            }
            Want::Listeners(a) => {
                listeners.insert(a.clone());
            }
            Want::ListenerRules(a) => rules.push(a.clone()),
            Want::TargetGroup(a) => tgs.push(a.clone()),
            Want::TargetHealth(a) => health.push(a.clone()),
            Want::Instance(i) => instances.push(i.clone()),
            Want::NetworkInterface { ip, vpc } => {
                ips.entry(vpc.clone()).or_default().push(ip.clone())
            }
            Want::Subnet(s) => subnets.push(s.clone()),
            Want::SecurityGroup(s) => sgs.push(s.clone()),
            Want::NetworkAcl(s) => acls.push(s.clone()),
            Want::PrefixList(p) => pls.push(p.clone()),
            Want::EndpointService(n) => services.push(n.clone()),
            Want::EndpointConnections(s) => conns.push(s.clone()),
            Want::CloudMapService(a) => cloud.push(a.clone()),
            // Links come from the level-1 listings; a link wanted here was
            // not referenced by a stage, which the checks never do.
            // Links come from the level-1 listings: a deployed definition
            // can name a link the current one no longer does.
            Want::VpcLink(id) => {
                rd.vpc_links.insert(
                    id.clone(),
                    link_from(&memo.links_v1, id, region, |l: &VpcLink| &l.id),
                );
            }
            Want::VpcLinkV2(id) => {
                rd.vpc_links_v2.insert(
                    id.clone(),
                    link_from(&memo.links_v2, id, region, |l: &VpcLinkV2| &l.id),
                );
            }
            Want::Deployment { api, stage } => {
                let kind = rd.apis.iter().find(|a| &a.id == api).map(|a| a.kind);
                if let Some(kind) = kind {
                    exports.push((api.clone(), stage.clone(), kind));
                }
            }
            Want::ListenerCertificates(l) => lcerts.push(l.clone()),
            Want::Certificate(a) => certs.push(a.clone()),
            Want::ListenerAttributes(l) => lattrs.push(l.clone()),
            Want::LoadBalancerAttributes(l) => lbattrs.push(l.clone()),
            Want::Authorizers { api } => {
                if let Some(a) = rd.apis.iter().find(|a| &a.id == api) {
                    authorizers.push((api.clone(), a.kind));
                }
            }
            Want::LambdaFunction(arn) => functions.push(arn.clone()),
            Want::DomainNames => want_domains = true,
            Want::Distributions => want_distributions = true,
        }
    }
    services.sort();
    services.dedup();
    let need_services = !services.is_empty() && memo.endpoint_services.is_none();

    // Every read of the level runs at once: the groups below only exist
    // because one join of thirty futures would not read well.
    let (
        (auth_r, fn_r, dom_r, dist_r),
        (exp_r, lc_r, cert_r, la_r, lba_r),
        (
            lb_r,
            tgs_of_r,
            l_r,
            r_r,
            tg_r,
            h_r,
            i_r,
            eni_r,
            s_r,
            sg_r,
            acl_r,
            pl_r,
            svc_r,
            conn_r,
            cm_r,
        ),
    ) = tokio::join!(
        async {
            tokio::join!(
                each(authorizers, limit, |(api, kind)| async move {
                    match kind {
                        ApiKind::Rest => {
                            fetched(apigw::get_authorizers(&c.apigw, region, &api).await)
                        }
                        ApiKind::Http => {
                            fetched(apigw2::get_authorizers(&c.apigw2, region, &api).await)
                        }
                    }
                }),
                each(functions, limit, |arn| async move {
                    lambda::function(&c.lambda, &arn).await
                }),
                async {
                    if !want_domains {
                        return None;
                    }
                    let (rest, http) = join(
                        apigw::get_domain_names(&c.apigw, region),
                        apigw2::get_domain_names(&c.apigw2, region),
                    )
                    .await;
                    Some(fetched(merge_domains(rest, http)))
                },
                async {
                    if want_distributions {
                        Some(fetched(cloudfront::distributions(&c.cloudfront).await))
                    } else {
                        None
                    }
                },
            )
        },
        async {
            tokio::join!(
                each(exports, limit, |(api, stage, kind)| async move {
                    match kind {
                        ApiKind::Rest => {
                            fetched(apigw::get_export(&c.apigw, region, &api, &stage).await)
                        }
                        ApiKind::Http => {
                            fetched(apigw2::export_api(&c.apigw2, region, &api, &stage).await)
                        }
                    }
                }),
                each(lcerts, limit, |arn| async move {
                    fetched(elb::describe_listener_certificates(&c.elb, &arn).await)
                }),
                each(certs, limit, |arn| async move {
                    acm::certificate(&c.acm, &arn).await
                }),
                each(lattrs, limit, |arn| async move {
                    fetched(elb::describe_listener_attributes(&c.elb, &arn).await)
                }),
                each(lbattrs, limit, |arn| async move {
                    fetched(elb::describe_load_balancer_attributes(&c.elb, &arn).await)
                }),
            )
        },
        async {
            tokio::join!(
                batch(&lbs, |v| elb::describe_load_balancers(&c.elb, v)),
                each(tgs_of, limit, |arn| async move {
                    elb::describe_target_groups_of(&c.elb, &arn).await
                }),
                each(listeners, limit, |arn| async move {
                    fetched(elb::describe_listeners(&c.elb, &arn).await)
                }),
                each(rules, limit, |arn| async move {
                    fetched(elb::describe_rules(&c.elb, &arn).await)
                }),
                batch(&tgs, |v| elb::describe_target_groups(&c.elb, v)),
                each(health, limit, |arn| async move {
                    fetched(elb::describe_target_health(&c.elb, &arn).await)
                }),
                batch(&instances, |v| ec2::describe_instances(&c.ec2, v)),
                each(ips, limit, |(vpc, ips)| async move {
                    ec2::describe_network_interfaces_by_ip(&c.ec2, &ips, vpc.as_deref()).await
                }),
                batch(&subnets, |v| ec2::describe_subnets(&c.ec2, v)),
                batch(&sgs, |v| ec2::describe_security_groups(&c.ec2, v)),
                batch(&acls, |v| ec2::describe_network_acls(&c.ec2, v)),
                each(pls, limit, |id| async move {
                    ec2::get_prefix_list(&c.ec2, &id).await
                }),
                async {
                    if need_services {
                        Some(ec2::describe_endpoint_services(&c.ec2).await)
                    } else {
                        None
                    }
                },
                batch(&conns, |v| ec2::describe_endpoint_connections(&c.ec2, v)),
                each(cloud, limit, |arn| async move {
                    cloudmap::service(&c.cloudmap, &arn).await
                }),
            )
        },
    );
    for ((api, _), a) in auth_r {
        if let Some(rec) = rd.apis.iter_mut().find(|x| x.id == api) {
            rec.authorizers = Some(a);
        }
    }
    rd.lambda_functions.extend(fn_r);
    if dom_r.is_some() {
        rd.domain_names = dom_r;
    }
    if dist_r.is_some() {
        rd.distributions = dist_r;
    }

    for ((api, stage, _), routes) in exp_r {
        if let Some(a) = rd.apis.iter_mut().find(|a| a.id == api) {
            a.deployed_routes.insert(stage, routes);
        }
    }
    rd.listener_certificates.extend(lc_r);
    rd.certificates.extend(cert_r);
    rd.listener_attributes.extend(la_r);
    rd.load_balancer_attributes.extend(lba_r);

    rd.load_balancers.extend(lb_r);
    // A failed read by load balancer leaves its target groups to be read by
    // ARN in the next level, which records the failure where it matters.
    for (_, got) in tgs_of_r {
        if let Ok(groups) = got {
            for (arn, tg) in groups {
                rd.target_groups.entry(arn).or_insert(Fetched::Ok(tg));
            }
        }
    }
    rd.listeners.extend(l_r);
    rd.listener_rules.extend(r_r);
    rd.target_groups.extend(tg_r);
    rd.target_health.extend(h_r);
    rd.instances.extend(i_r);
    for (_, m) in eni_r {
        rd.network_interfaces.extend(m);
    }
    rd.subnets.extend(s_r);
    rd.security_groups.extend(sg_r);
    rd.network_acls.extend(acl_r);
    rd.prefix_lists.extend(pl_r);
    rd.endpoint_connections.extend(conn_r);
    rd.cloud_map_services.extend(cm_r);
    if let Some(s) = svc_r {
        memo.endpoint_services = Some(s);
    }
    if let Some(listing) = &memo.endpoint_services {
        for nlb in &services {
            let v = match listing {
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
}

/// The regions `--all-regions` audits: those enabled for the account.
pub async fn enabled_regions(cfg: &SdkConfig) -> Result<Vec<String>, Fatal> {
    let rec = RecordCalls(Arc::new(Recorder::default()));
    let clients = Clients::new(cfg, &rec, None);
    ec2::describe_regions(&clients.ec2).await.map_err(|f| {
        Fatal::Incomplete(format!(
            "could not list the account's regions: {} failed: {}",
            f.operation, f.message
        ))
    })
}

/// The same configuration (credentials, timeouts, endpoint) for another
/// region.
pub fn for_region(cfg: &SdkConfig, region: &str) -> SdkConfig {
    cfg.to_builder()
        .region(aws_config::Region::new(region.to_string()))
        .build()
}

/// The region's custom domain names with their mappings, for resolving a
/// custom domain URL to an API and stage.
pub async fn domain_names(
    cfg: &SdkConfig,
    rec: &RecordCalls,
) -> Result<Vec<apigw_audit_checks::model::DomainName>, Fatal> {
    let r = cfg.region().map(|r| r.to_string()).unwrap_or_default();
    let clients = Clients::new(cfg, rec, None);
    let (rest, http) = join(
        apigw::get_domain_names(&clients.apigw, &r),
        apigw2::get_domain_names(&clients.apigw2, &r),
    )
    .await;
    merge_domains(rest, http).map_err(|f| {
        Fatal::Incomplete(format!(
            "could not read the custom domain names: {} failed: {}",
            f.operation, f.message
        ))
    })
}

/// REST and HTTP see the same regional custom domains: one list, mappings
/// of both united. A failure of either listing fails the whole: a domain
/// missing from it could be the one that matters.
fn merge_domains(
    rest: Result<Vec<apigw_audit_checks::model::DomainName>, Failure>,
    http: Result<Vec<apigw_audit_checks::model::DomainName>, Failure>,
) -> Result<Vec<apigw_audit_checks::model::DomainName>, Failure> {
    let mut all = rest?;
    for d in http? {
        match all.iter_mut().find(|x| x.name == d.name) {
            Some(x) => {
                for m in d.mappings {
                    if !x.mappings.contains(&m) {
                        x.mappings.push(m);
                    }
                }
                if x.regional_domain_name.is_none() {
                    x.regional_domain_name = d.regional_domain_name;
                }
            }
            None => all.push(d),
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// Keeps only the requested stages, and refuses a stage no API has.
fn select_stages(
    apis: &mut [ApiRecord],
    wanted: &[String],
    region: &str,
    missing_ok: bool,
) -> Result<(), Fatal> {
    if wanted.is_empty() {
        return Ok(());
    }
    for name in wanted.iter().filter(|_| !missing_ok) {
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
