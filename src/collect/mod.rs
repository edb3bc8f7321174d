//! Live collection: the only code that talks to AWS (read-only) and the only
//! code that imports the SDK.
//!
//! The roots come first: each API (its kind detected with `GetRestApi`
//! and `GetApi` side by side), the account settings and every VPC link of
//! both generations (one listing each answers every link lookup, whatever a
//! stage variable names); then each API's stages and routes.
//!
//! After that the checks themselves decide what to read: they run on the
//! snapshot read so far, and every lookup of something not yet read is
//! recorded as a `Want`, read in the next wave ([`waves`]), every describe
//! batched, every independent call concurrent, until they want nothing
//! new. So the wall time is about (dependent levels x round-trip) for one
//! API and the busiest service's rate limit for many, nothing is read twice
//! however many routes, stages or APIs share it, and the snapshot holds
//! exactly what the checks walk.

pub mod acm;
pub mod apigw;
pub mod apigw2;
pub mod aws;
pub mod cloudfront;
pub mod cloudmap;
pub mod ec2;
pub mod elb;
pub mod error;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod pace;
pub mod plumbing;
mod readers;
mod waves;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use futures::future::join;

use apigw_audit_checks::model::{
    ApiInfo, ApiKind, ApiRecord, Failure, FailureKind, Fetched, RegionData,
    SNAPSHOT_SCHEMA_VERSION, SkippedApi, Snapshot, ToolInfo,
};

use crate::error::Fatal;
use aws::{CallStats, RecordCalls, Recorder};
use error::{Op, classify};
use plumbing::fetched;

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
    pub iam: aws_sdk_iam::Client,
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
            // IAM is global: its API lives in us-east-1 (aws-cn: the SDK's
            // endpoint resolver picks the partition's own from the region).
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&paced(cfg, "iam", pacer))
                    .interceptor(rec.clone())
                    .build(),
            ),
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
    let recorded_at = crate::clock::now_seconds();
    // The account id is only needed for the report, so its call is built
    // and sent after the region's first reads, which the next wave waits for.
    let (region_data, (account, account_failure)) = join(
        waves::collect_region(&clients, &region, req),
        caller_account(&clients.sts),
    )
    .await;
    let (region_data, levels) = region_data?;
    let account = account.or_else(|| account_from_links(&region_data));
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

/// The API's account when STS could not say it, from what was read: a VPC
/// link (v1) targets NLBs that "must be owned by the same AWS account of the
/// API owner" (API Gateway API reference, `VpcLink.targetArns`). Without it
/// every ARN the report builds would lack its account, and SARIF
/// fingerprints and baseline keys would change with an STS outage. `None`
/// unless every such ARN names one and the same account.
fn account_from_links(rd: &RegionData) -> Option<String> {
    let accounts: std::collections::BTreeSet<&str> = rd
        .vpc_links
        .values()
        .filter_map(|l| l.ok())
        .flat_map(|l| l.target_arns.iter())
        .filter_map(|arn| arn.split(':').nth(4))
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    match accounts.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
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

/// An API named by id, its kind unknown: which API it is, REST or HTTP,
/// with its stages and routes; `None` when neither kind exists and
/// `missing_ok`.
///
/// Both kinds' stages and routes are read alongside `GetRestApi` and
/// `GetApi`, and the wrong kind's answers (404s) are dropped: three reads
/// that cost nothing against a round trip saved on every audit of a named
/// API, which is the one someone is waiting for during an incident.
async fn named_api(
    c: &Clients,
    region: &str,
    id: String,
    missing_ok: bool,
) -> Result<Named, Fatal> {
    let kind = async {
        let (rest, http) = join(
            apigw::get_rest_api(&c.apigw, region, &id),
            apigw2::get_api(&c.apigw2, region, &id),
        )
        .await;
        let nf =
            |r: &Result<ApiInfo, Failure>| matches!(r, Err(f) if f.kind == FailureKind::NotFound);
        match (rest, http) {
            (Ok(info), _) => Ok(Lookup::Kind(ApiKind::Rest, Fetched::Ok(info))),
            (_, Ok(info)) => Ok(Lookup::Kind(ApiKind::Http, Fetched::Ok(info))),
            (r, h) if nf(&r) && nf(&h) && missing_ok => Ok(Lookup::Absent),
            (r, h) if nf(&r) && nf(&h) => Err(Fatal::Usage(format!(
                "no REST or HTTP API with id {id} in {region}"
            ))),
            // Auditing several regions, an id the lookups could not answer
            // for is not an errored API of this region (it may live
            // elsewhere): it is this region's failure, reported as such.
            (Err(r), Err(h)) if missing_ok => {
                Ok(Lookup::Unknown(if r.kind == FailureKind::NotFound {
                    h
                } else {
                    r
                }))
            }
            // One side unreadable, the other absent: it is the unreadable kind.
            (r, h) if nf(&r) => Ok(Lookup::Kind(ApiKind::Http, fetched(h))),
            (r, _) => Ok(Lookup::Kind(ApiKind::Rest, fetched(r))),
        }
    };
    let mut kind = std::pin::pin!(kind);
    let mut rest_body = std::pin::pin!(body(c, region, &id, ApiKind::Rest));
    let mut http_body = std::pin::pin!(body(c, region, &id, ApiKind::Http));
    let (mut rest_done, mut http_done) = (None, None);
    // Once the kind is known the other kind's reads are dropped, not
    // awaited: a slow 404 must not hold the audit up.
    let known = loop {
        tokio::select! {
            k = &mut kind => break k?,
            r = &mut rest_body, if rest_done.is_none() => rest_done = Some(r),
            h = &mut http_body, if http_done.is_none() => http_done = Some(h),
        }
    };
    let (kind, info) = match known {
        Lookup::Kind(kind, info) => (kind, info),
        Lookup::Absent => return Ok(Named::Absent),
        Lookup::Unknown(f) => return Ok(Named::Unknown(f)),
    };
    if let Fetched::Ok(i) = &info
        && i.is_websocket()
    {
        // Reported as skipped; `audit` refuses a run that named only such.
        return Ok(Named::Skipped(SkippedApi::websocket(&id, i)));
    }
    let (stages, routes) = match (kind, rest_done, http_done) {
        (ApiKind::Rest, Some(done), _) | (ApiKind::Http, _, Some(done)) => done,
        (ApiKind::Rest, None, _) => rest_body.await,
        (ApiKind::Http, _, None) => http_body.await,
    };
    Ok(Named::Found(Box::new(record(
        id.clone(),
        kind,
        info,
        stages,
        routes,
    ))))
}

/// What looking a named API up in one region found.
pub enum Named {
    Found(Box<ApiRecord>),
    /// Not in this region (auditing several).
    Absent,
    /// Unknown: both lookups failed (auditing several), so the region's
    /// entry reports the failure instead of inventing an errored API.
    Unknown(Failure),
    /// Found, and of a kind no check judges (a WebSocket API).
    Skipped(SkippedApi),
}

/// Which kind an id names, before its stages and routes are read.
enum Lookup {
    Kind(ApiKind, Fetched<ApiInfo>),
    Absent,
    Unknown(Failure),
}

/// An API the region's listing named, with its stages and routes.
async fn listed_api(
    c: &Clients,
    region: &str,
    id: String,
    kind: ApiKind,
    info: ApiInfo,
) -> ApiRecord {
    let (stages, routes) = body(c, region, &id, kind).await;
    record(id, kind, Fetched::Ok(info), stages, routes)
}

/// An API's stages and routes, read side by side.
async fn body(
    c: &Clients,
    region: &str,
    id: &str,
    kind: ApiKind,
) -> (
    Fetched<Vec<apigw_audit_checks::model::Stage>>,
    Fetched<Vec<apigw_audit_checks::model::Route>>,
) {
    match kind {
        ApiKind::Rest => {
            let (s, r) = join(
                apigw::get_stages(&c.apigw, region, id),
                apigw::get_resources(&c.apigw, region, id),
            )
            .await;
            (fetched(s), fetched(r))
        }
        ApiKind::Http => {
            let (s, r) = join(
                apigw2::get_stages(&c.apigw2, region, id),
                apigw2::get_routes(&c.apigw2, region, id),
            )
            .await;
            (fetched(s), fetched(r))
        }
    }
}

fn record(
    id: String,
    kind: ApiKind,
    info: Fetched<ApiInfo>,
    stages: Fetched<Vec<apigw_audit_checks::model::Stage>>,
    routes: Fetched<Vec<apigw_audit_checks::model::Route>>,
) -> ApiRecord {
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

/// Every API of the region, with its kind and description.
/// A failed listing is the region's failure: its APIs are unknown, which
/// the audit reports as `error` for the region while judging the others.
async fn list_roots(c: &Clients, region: &str) -> Result<Vec<(String, ApiKind, ApiInfo)>, Failure> {
    let (rest, http) = join(
        apigw::get_rest_apis(&c.apigw, region),
        apigw2::get_apis(&c.apigw2, region),
    )
    .await;
    let mut roots: Vec<_> = rest?
        .into_iter()
        .map(|(id, info)| (id, ApiKind::Rest, info))
        .collect();
    roots.extend(
        http?
            .into_iter()
            .map(|(id, info)| (id, ApiKind::Http, info)),
    );
    Ok(roots)
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

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_audit_checks::model::VpcLink;

    fn link(id: &str, targets: &[&str]) -> (String, Fetched<VpcLink>) {
        let l = VpcLink {
            id: id.into(),
            name: None,
            status: None,
            status_message: None,
            target_arns: targets.iter().map(|t| t.to_string()).collect(),
        };
        (id.to_string(), Fetched::Ok(l))
    }

    #[test]
    fn the_account_comes_from_link_targets_only_when_they_agree() {
        let nlb = |acct: &str| {
            format!(
                "arn:aws:elasticloadbalancing:eu-west-1:{acct}:loadbalancer/net/orders/50dc6c495c0c9188"
            )
        };
        let mut rd = RegionData::default();
        assert_eq!(account_from_links(&rd), None);
        rd.vpc_links.extend([link("a", &[&nlb("123456789012")])]);
        assert_eq!(account_from_links(&rd).as_deref(), Some("123456789012"));
        rd.vpc_links.extend([link("b", &[&nlb("210987654321")])]);
        assert_eq!(account_from_links(&rd), None, "two accounts: unknown");
        let mut odd = RegionData::default();
        odd.vpc_links.extend([link("c", &["not-an-arn"])]);
        assert_eq!(account_from_links(&odd), None);
    }
}
