//! The collection schedule of one region: reads start as soon as what they
//! depend on has landed, instead of level by level.
//!
//! The roots come first (the API listing, or each named API with its
//! stages and routes; the account settings and both VPC link listings);
//! a listed API's stages and routes are read as soon as the listing lands. Whenever something lands,
//! the checks run on the snapshot read so far and every lookup they miss
//! becomes a [`Want`]; the new wants are read together as one *wave*,
//! every describe batched and every independent call concurrent, while
//! earlier waves may still be in flight. One API's wants therefore never
//! wait for another API's reads, which is what keeps each service's bucket
//! busy in an account-wide audit; for a single API the waves follow one
//! another exactly like levels.
//!
//! Nothing is read twice: every want is asked once, and the reads a wave
//! makes on a want's behalf (a load balancer's listeners) count as asked.
//! Leaves (subnets, security groups, ACLs, prefix lists) and instances wait
//! until nothing else is in flight, so they are batched into as few
//! describes as the account allows instead of one per landing.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};

use apigw_audit_checks::engine::wants_by_api;
use apigw_audit_checks::model::{
    ApiInfo, ApiKind, ApiRecord, Authorizer, EndpointService, Failure, FailureKind, Fetched,
    RegionData, Route, SNAPSHOT_SCHEMA_VERSION, Snapshot, ToolInfo, VpcLink, VpcLinkV2,
};
use apigw_audit_checks::view::{Want, referenced_links};

use super::error::Op;
use super::{
    Clients, Request, acm, apigw, apigw2, cloudfront, cloudmap, each, ec2, elb, fetched, lambda,
    list_roots, listed_api, merge_domains, named_api,
};
use crate::error::Fatal;

/// Dependent reads after the roots before the collector gives up: the
/// deepest path (link, load balancer, listeners, rules, target groups,
/// health, an ALB behind an NLB and its own chain, instances, network,
/// prefix lists) is well under this; a snapshot that keeps wanting more
/// is a bug, not AWS.
const MAX_DEPTH: usize = 26;

type Pending<'a> = Pin<Box<dyn Future<Output = (usize, Landed)> + Send + 'a>>;

/// Something that landed, with its depth: the number of dependent round
/// trips it took from the start.
enum Landed {
    /// The account settings and every VPC link of both generations.
    Roots {
        account: Result<apigw_audit_checks::model::ApiGatewayAccount, Failure>,
        links_v1: Result<Vec<VpcLink>, Failure>,
        links_v2: Result<Vec<VpcLinkV2>, Failure>,
    },
    /// The region's APIs (`--all-apis`).
    Listing(Result<Vec<(String, ApiKind, ApiInfo)>, Fatal>),
    /// One API with its stages and routes; `None` for an id that names no
    /// API in this region while auditing several.
    Api(Result<Option<ApiRecord>, Fatal>),
    /// The answers of one wave.
    Wave(Box<Answers>),
}

/// The root listings of both generations of VPC links.
type Links = (
    Result<Vec<VpcLink>, Failure>,
    Result<Vec<VpcLinkV2>, Failure>,
);

/// What the previous waves answered that later ones reuse.
struct Memo {
    links: Option<Links>,
    /// The account's endpoint service listing, once read.
    endpoint_services: Option<Result<Vec<EndpointService>, Failure>>,
    /// Whether a wave in flight is reading that listing.
    endpoint_services_asked: bool,
    /// NLBs whose endpoint service is wanted, waiting for the listing.
    services_waiting: BTreeSet<String>,
    /// The stage names each landed API had before `--stage` kept some.
    stage_names: Vec<(String, Option<Vec<String>>)>,
}

/// Collects one region: the snapshot's region data and the critical-path
/// depth (levels of dependent calls, the roots included).
pub(super) async fn collect_region(
    c: &Clients,
    region: &str,
    req: &Request,
) -> Result<(RegionData, usize), Fatal> {
    let limit = req.max_concurrency.max(1);
    let mut rd = RegionData {
        region: region.to_string(),
        ..Default::default()
    };
    let mut memo = Memo {
        links: None,
        endpoint_services: None,
        endpoint_services_asked: false,
        services_waiting: BTreeSet::new(),
        stage_names: Vec::new(),
    };
    let mut pending: FuturesUnordered<Pending<'_>> = FuturesUnordered::new();
    pending.push(Box::pin(async move {
        let (account, (links_v1, links_v2)) = futures::future::join(
            apigw::get_account(&c.apigw, region),
            futures::future::join(
                apigw::get_vpc_links(&c.apigw, region),
                apigw2::get_vpc_links(&c.apigw2, region),
            ),
        )
        .await;
        (
            1,
            Landed::Roots {
                account,
                links_v1,
                links_v2,
            },
        )
    }));
    // APIs whose record has not landed yet; `None` until the listing has.
    let mut apis_due: Option<usize> = None;
    if req.all_apis {
        pending.push(Box::pin(async move {
            (1, Landed::Listing(list_roots(c, region).await))
        }));
    } else {
        apis_due = Some(req.api_ids.len());
        for id in &req.api_ids {
            let id = id.clone();
            pending.push(Box::pin(async move {
                (
                    1,
                    Landed::Api(named_api(c, region, id, req.multi_region).await),
                )
            }));
        }
    }

    let mut asked: BTreeSet<Want> = BTreeSet::new();
    let mut planner = Planner::default();
    let mut depth = 0;
    let mut stages_checked = false;
    while let Some(first) = pending.next().await {
        // Whatever else has landed meanwhile is applied before planning,
        // so one plan covers all of it and its describes share a batch.
        let mut landed = vec![first];
        while let Some(Some(more)) = pending.next().now_or_never() {
            landed.push(more);
        }
        for (d, l) in landed {
            depth = depth.max(d);
            match l {
                Landed::Roots {
                    account,
                    links_v1,
                    links_v2,
                } => {
                    rd.apigateway_account = Some(fetched(account));
                    memo.links = Some((links_v1, links_v2));
                    for i in 0..rd.apis.len() {
                        insert_links(&mut rd, &memo, i, region);
                    }
                    planner.all = true;
                    planner.changed();
                }
                Landed::Listing(roots) => {
                    let roots = roots?;
                    apis_due = Some(roots.len());
                    for (id, kind, info) in roots {
                        pending.push(Box::pin(async move {
                            (
                                d + 1,
                                Landed::Api(Ok(Some(listed_api(c, region, id, kind, info).await))),
                            )
                        }));
                    }
                }
                Landed::Api(api) => {
                    apis_due = apis_due.map(|n| n.saturating_sub(1));
                    if let Some(mut api) = api? {
                        memo.stage_names.push((api.id.clone(), stage_names(&api)));
                        keep_stages(&mut api, &req.stages);
                        planner.changed();
                        planner.dirty.insert(api.id.clone());
                        rd.apis.push(api);
                        let i = rd.apis.len() - 1;
                        insert_links(&mut rd, &memo, i, region);
                    }
                }
                Landed::Wave(answers) => {
                    let answered = apply(&mut rd, &mut memo, *answers);
                    planner.landed(&answered);
                }
            }
        }
        if apis_due == Some(0) && !stages_checked {
            stages_checked = true;
            check_stage_names(&memo.stage_names, &req.stages, region, req.multi_region)?;
        }
        // Until the links are known a plan would want every link again.
        if memo.links.is_none() || depth >= MAX_DEPTH {
            continue;
        }
        let mut next: BTreeSet<Want> = planner.plan(&mut rd).difference(&asked).cloned().collect();
        if next.is_empty() && pending.is_empty() {
            // Nothing in flight and nothing new: before stopping, every API
            // is planned once more on everything read, so a want the
            // per-API bookkeeping missed still gets read.
            planner.all_stale();
            next = planner.plan(&mut rd).difference(&asked).cloned().collect();
        }
        // Leaves wait while anything else is in flight or wanted: no other
        // read depends on them, and the last structural wave wants most of
        // them anyway, so waiting batches them without adding a level.
        // Instances (one describe for all) also wait while other waves are
        // in flight, which only happens when several APIs are audited.
        if !pending.is_empty() {
            next.retain(|w| !is_leaf(w) && !matches!(w, Want::Instance(_)));
        } else if next.iter().any(|w| !is_leaf(w)) {
            next.retain(|w| !is_leaf(w));
        }
        if next.is_empty() {
            continue;
        }
        tracing::debug!(depth = depth + 1, wants = ?next, "reading");
        if let Some(p) = &req.progress {
            p.set_message(format!(
                "{region}: {} API(s) read, reading {} more resource(s)",
                rd.apis.len(),
                next.len()
            ));
        }
        let mut wave = prepare(&mut rd, &mut memo, &next, &asked, region);
        asked.extend(wave.implied.iter().cloned());
        wave.answers.extend(wave.implied.iter().cloned());
        asked.extend(next.iter().cloned());
        wave.answers.extend(next);
        // Links resolved from the listings cost no round trip.
        let d = if wave.reads_nothing() {
            depth
        } else {
            depth + 1
        };
        pending.push(Box::pin(async move {
            (
                d,
                Landed::Wave(Box::new(fetch(c, wave, region, limit).await)),
            )
        }));
    }
    rd.apis.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((rd, depth))
}

/// The stage names of an API as read, `None` when its stages are unreadable.
fn stage_names(api: &ApiRecord) -> Option<Vec<String>> {
    match &api.stages {
        Fetched::Ok(s) => Some(s.iter().map(|s| s.name.clone()).collect()),
        _ => None,
    }
}

/// Keeps only the requested stages (all when none is named).
fn keep_stages(api: &mut ApiRecord, wanted: &[String]) {
    if wanted.is_empty() {
        return;
    }
    if let Fetched::Ok(stages) = &mut api.stages {
        stages.retain(|s| wanted.contains(&s.name));
    }
}

/// Refuses a `--stage` that no audited API has, naming the stages there are.
fn check_stage_names(
    apis: &[(String, Option<Vec<String>>)],
    wanted: &[String],
    region: &str,
    missing_ok: bool,
) -> Result<(), Fatal> {
    if missing_ok || apis.iter().any(|(_, s)| s.is_none()) {
        return Ok(());
    }
    let mut apis: Vec<_> = apis.iter().collect();
    apis.sort();
    for name in wanted {
        let found = apis
            .iter()
            .any(|(_, s)| s.as_ref().is_some_and(|s| s.contains(name)));
        if !found {
            let known: Vec<String> = apis
                .iter()
                .filter_map(|(id, s)| s.as_ref().map(|s| format!("{id}: {}", s.join(", "))))
                .collect();
            return Err(Fatal::Usage(format!(
                "no stage {name} in the API(s) audited in {region} (stages: {})",
                known.join("; ")
            )));
        }
    }
    Ok(())
}

/// Records the VPC links the stages of `rd.apis[i]` name, from the
/// listings, so planning never spends a wave on them.
fn insert_links(rd: &mut RegionData, memo: &Memo, i: usize, region: &str) {
    let Some((v1s, v2s)) = &memo.links else {
        return;
    };
    let Some(api) = rd.apis.get(i) else {
        return;
    };
    let Fetched::Ok(stages) = &api.stages else {
        return;
    };
    let mut found = Vec::new();
    for stage in stages {
        let (v1, v2) = referenced_links(api, stage);
        found.push((v1, v2));
    }
    for (v1, v2) in found {
        for id in v1 {
            let link = link_from(v1s, &id, region, |l: &VpcLink| &l.id);
            rd.vpc_links.insert(id, link);
        }
        for id in v2 {
            let link = link_from(v2s, &id, region, |l: &VpcLinkV2| &l.id);
            rd.vpc_links_v2.insert(id, link);
        }
    }
}

/// Subnets, security groups, ACLs and prefix lists: nothing else is read
/// because of them.
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

/// What the checks want, kept per API so that a landing re-plans only the
/// APIs it can concern: those that wanted something it answered, and
/// those whose own record changed. Planning every API on every landing
/// would cost the square of the account's size.
#[derive(Default)]
struct Planner {
    by_api: BTreeMap<String, BTreeSet<Want>>,
    dirty: BTreeSet<String>,
    all: bool,
    /// APIs planned since anything last landed: planning them again
    /// could not change their wants.
    fresh: BTreeSet<String>,
}

impl Planner {
    /// `answered` landed: the APIs that wanted any of it plan again.
    fn landed(&mut self, answered: &BTreeSet<Want>) {
        self.fresh.clear();
        for (id, wanted) in &self.by_api {
            if !wanted.is_disjoint(answered) {
                self.dirty.insert(id.clone());
            }
        }
    }

    /// Something landed that no want names (an API, the root listings).
    fn changed(&mut self) {
        self.fresh.clear();
    }

    /// Marks every API not planned since the last landing for planning.
    fn all_stale(&mut self) {
        let stale: Vec<String> = self
            .by_api
            .keys()
            .filter(|id| !self.fresh.contains(*id))
            .cloned()
            .collect();
        self.dirty.extend(stale);
    }

    /// Every want of every API, the dirty ones (all with `all`) planned
    /// again on what has been read so far.
    fn plan(&mut self, rd: &mut RegionData) -> BTreeSet<Want> {
        if self.all || !self.dirty.is_empty() {
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
            if let Some(region) = snapshot.regions.first() {
                let started = std::time::Instant::now();
                let (all, dirty) = (self.all, &self.dirty);
                let planned = wants_by_api(&snapshot, region, |a| all || dirty.contains(&a.id));
                tracing::debug!(apis = planned.len(), elapsed = ?started.elapsed(), "planned");
                self.fresh.extend(planned.keys().cloned());
                self.by_api.extend(planned);
            }
            *rd = snapshot.regions.into_iter().next().unwrap_or_default();
            self.dirty.clear();
            self.all = false;
        }
        self.by_api.values().flatten().cloned().collect()
    }
}

/// The reads of one wave, grouped per operation.
#[derive(Default)]
struct Wave {
    lbs: Vec<String>,
    listeners: Vec<String>,
    tgs_of: Vec<String>,
    rules: Vec<String>,
    tgs: Vec<String>,
    health: Vec<String>,
    instances: Vec<String>,
    ips: BTreeMap<Option<String>, Vec<String>>,
    subnets: Vec<String>,
    sgs: Vec<String>,
    acls: Vec<String>,
    pls: Vec<String>,
    conns: Vec<String>,
    cloud: Vec<String>,
    exports: Vec<(String, String, ApiKind)>,
    lcerts: Vec<String>,
    certs: Vec<String>,
    lattrs: Vec<String>,
    lbattrs: Vec<String>,
    authorizers: Vec<(String, ApiKind)>,
    functions: Vec<String>,
    domains: bool,
    distributions: bool,
    endpoint_services: bool,
    /// Wants this wave answers besides those it was asked for.
    implied: Vec<Want>,
    /// Every want this wave answers, for re-planning when it lands.
    answers: BTreeSet<Want>,
}

impl Wave {
    fn reads_nothing(&self) -> bool {
        // Destructured without `..`: a read added to `Wave` does not
        // compile until it is counted here, so a wave that reads only it
        // still costs a level of depth.
        let Wave {
            lbs,
            listeners,
            tgs_of,
            rules,
            tgs,
            health,
            instances,
            ips,
            subnets,
            sgs,
            acls,
            pls,
            conns,
            cloud,
            exports,
            lcerts,
            certs,
            lattrs,
            lbattrs,
            authorizers,
            functions,
            domains,
            distributions,
            endpoint_services,
            implied: _,
            answers: _,
        } = self;
        let lists = [
            lbs, listeners, tgs_of, rules, tgs, health, instances, subnets, sgs, acls, pls, conns,
            cloud, lcerts, certs, lattrs, lbattrs, functions,
        ];
        lists.iter().all(|l| l.is_empty())
            && ips.is_empty()
            && exports.is_empty()
            && authorizers.is_empty()
            && !(*domains || *distributions || *endpoint_services)
    }
}

/// Turns wants into a wave's reads; VPC links come from the listings at
/// once, without a call.
fn prepare(
    rd: &mut RegionData,
    memo: &mut Memo,
    wants: &BTreeSet<Want>,
    asked: &BTreeSet<Want>,
    region: &str,
) -> Wave {
    let mut w = Wave::default();
    let mut listeners: BTreeSet<String> = BTreeSet::new();
    for want in wants {
        match want {
            Want::LoadBalancer(a) => {
                w.lbs.push(a.clone());
                // A load balancer is wanted for its listeners and the target
                // groups they forward to, and an NLB behind a VPC link (v1)
                // for its endpoint service: read them in this same wave.
                let l = Want::Listeners(a.clone());
                if !rd.listeners.contains_key(a) && !asked.contains(&l) && !wants.contains(&l) {
                    listeners.insert(a.clone());
                    w.implied.push(l);
                }
                w.tgs_of.push(a.clone());
                if rd
                    .vpc_links
                    .values()
                    .any(|l| l.ok().is_some_and(|l| l.target_arns.contains(a)))
                    && !rd.endpoint_services.contains_key(a)
                {
                    memo.services_waiting.insert(a.clone());
                }
            }
            Want::Listeners(a) => {
                listeners.insert(a.clone());
            }
            Want::ListenerRules(a) => w.rules.push(a.clone()),
            Want::TargetGroup(a) => w.tgs.push(a.clone()),
            Want::TargetHealth(a) => w.health.push(a.clone()),
            Want::Instance(i) => w.instances.push(i.clone()),
            Want::NetworkInterface { ip, vpc } => {
                w.ips.entry(vpc.clone()).or_default().push(ip.clone())
            }
            Want::Subnet(s) => w.subnets.push(s.clone()),
            Want::SecurityGroup(s) => w.sgs.push(s.clone()),
            Want::NetworkAcl(s) => w.acls.push(s.clone()),
            Want::PrefixList(p) => w.pls.push(p.clone()),
            Want::EndpointService(n) => {
                memo.services_waiting.insert(n.clone());
            }
            Want::EndpointConnections(s) => w.conns.push(s.clone()),
            Want::CloudMapService(a) => w.cloud.push(a.clone()),
            // Links come from the root listings: a deployed definition can
            // name a link the current one no longer does.
            Want::VpcLink(id) => {
                if let Some((v1s, _)) = &memo.links {
                    rd.vpc_links
                        .insert(id.clone(), link_from(v1s, id, region, |l: &VpcLink| &l.id));
                }
            }
            Want::VpcLinkV2(id) => {
                if let Some((_, v2s)) = &memo.links {
                    rd.vpc_links_v2.insert(
                        id.clone(),
                        link_from(v2s, id, region, |l: &VpcLinkV2| &l.id),
                    );
                }
            }
            Want::Deployment { api, stage } => {
                if let Some(a) = rd.apis.iter().find(|a| &a.id == api) {
                    w.exports.push((api.clone(), stage.clone(), a.kind));
                }
            }
            Want::ListenerCertificates(l) => w.lcerts.push(l.clone()),
            Want::Certificate(a) => w.certs.push(a.clone()),
            Want::ListenerAttributes(l) => w.lattrs.push(l.clone()),
            Want::LoadBalancerAttributes(l) => w.lbattrs.push(l.clone()),
            Want::Authorizers { api } => {
                if let Some(a) = rd.apis.iter().find(|a| &a.id == api) {
                    w.authorizers.push((api.clone(), a.kind));
                }
            }
            Want::LambdaFunction(arn) => w.functions.push(arn.clone()),
            Want::DomainNames => w.domains = true,
            Want::Distributions => w.distributions = true,
        }
    }
    w.listeners = listeners.into_iter().collect();
    if !memo.services_waiting.is_empty()
        && memo.endpoint_services.is_none()
        && !memo.endpoint_services_asked
    {
        w.endpoint_services = true;
        memo.endpoint_services_asked = true;
    }
    // Already known: resolved now rather than when some wave lands.
    w.answers.extend(resolve_services(rd, memo));
    w
}

/// Gives each waiting NLB its endpoint service once the listing is known;
/// returns the wants that answers.
fn resolve_services(rd: &mut RegionData, memo: &mut Memo) -> Vec<Want> {
    let Some(listing) = &memo.endpoint_services else {
        return Vec::new();
    };
    let mut answered = Vec::new();
    for nlb in std::mem::take(&mut memo.services_waiting) {
        answered.push(Want::EndpointService(nlb.clone()));
        let v = match listing {
            Ok(list) => match list
                .iter()
                .find(|s| s.network_load_balancer_arns.contains(&nlb))
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
        rd.endpoint_services.insert(nlb, v);
    }
    answered
}

/// The answers of one wave, merged into the region data when it lands.
#[derive(Default)]
struct Answers {
    data: RegionData,
    /// Target groups read by load balancer: they never replace a group
    /// read (or failed) by ARN.
    groups_of: Vec<(String, apigw_audit_checks::model::TargetGroup)>,
    exports: Vec<(String, String, Fetched<Vec<Route>>)>,
    authorizers: Vec<(String, Fetched<Vec<Authorizer>>)>,
    endpoint_services: Option<Result<Vec<EndpointService>, Failure>>,
    answered: BTreeSet<Want>,
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

/// Reads one wave, every read at once.
async fn fetch(c: &Clients, w: Wave, region: &str, limit: usize) -> Answers {
    let mut a = Answers {
        answered: w.answers,
        ..Answers::default()
    };
    let d = &mut a.data;
    // The groups below only exist because one join of thirty futures
    // would not read well. Their order matters: the calls of a wave are
    // built and signed one after another, which takes milliseconds for a
    // dozen, so the reads later waves depend on (load balancers, listeners,
    // target groups, health, instances, authorizers) leave first and the
    // ones nothing waits for (domain names, distributions, exports,
    // attributes) last.
    let (
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
        (auth_r, fn_r, dom_r, dist_r),
        (exp_r, lc_r, cert_r, la_r, lba_r),
    ) = tokio::join!(
        async {
            tokio::join!(
                batch(&w.lbs, |v| elb::describe_load_balancers(&c.elb, v)),
                each(w.tgs_of, limit, |arn| async move {
                    elb::describe_target_groups_of(&c.elb, &arn).await
                }),
                each(w.listeners, limit, |arn| async move {
                    fetched(elb::describe_listeners(&c.elb, &arn).await)
                }),
                each(w.rules, limit, |arn| async move {
                    fetched(elb::describe_rules(&c.elb, &arn).await)
                }),
                batch(&w.tgs, |v| elb::describe_target_groups(&c.elb, v)),
                each(w.health, limit, |arn| async move {
                    fetched(elb::describe_target_health(&c.elb, &arn).await)
                }),
                batch(&w.instances, |v| ec2::describe_instances(&c.ec2, v)),
                each(w.ips, limit, |(vpc, ips)| async move {
                    ec2::describe_network_interfaces_by_ip(&c.ec2, &ips, vpc.as_deref()).await
                }),
                batch(&w.subnets, |v| ec2::describe_subnets(&c.ec2, v)),
                batch(&w.sgs, |v| ec2::describe_security_groups(&c.ec2, v)),
                batch(&w.acls, |v| ec2::describe_network_acls(&c.ec2, v)),
                each(w.pls, limit, |id| async move {
                    ec2::get_prefix_list(&c.ec2, &id).await
                }),
                async {
                    if w.endpoint_services {
                        Some(ec2::describe_endpoint_services(&c.ec2).await)
                    } else {
                        None
                    }
                },
                batch(&w.conns, |v| ec2::describe_endpoint_connections(&c.ec2, v)),
                each(w.cloud, limit, |arn| async move {
                    cloudmap::service(&c.cloudmap, &arn).await
                }),
            )
        },
        async {
            tokio::join!(
                each(w.authorizers, limit, |(api, kind)| async move {
                    match kind {
                        ApiKind::Rest => {
                            fetched(apigw::get_authorizers(&c.apigw, region, &api).await)
                        }
                        ApiKind::Http => {
                            fetched(apigw2::get_authorizers(&c.apigw2, region, &api).await)
                        }
                    }
                }),
                each(w.functions, limit, |arn| async move {
                    lambda::function(&c.lambda, &arn).await
                }),
                async {
                    if !w.domains {
                        return None;
                    }
                    let (rest, http) = futures::future::join(
                        apigw::get_domain_names(&c.apigw, region),
                        apigw2::get_domain_names(&c.apigw2, region),
                    )
                    .await;
                    Some(fetched(merge_domains(rest, http)))
                },
                async {
                    if w.distributions {
                        Some(fetched(cloudfront::distributions(&c.cloudfront).await))
                    } else {
                        None
                    }
                },
            )
        },
        async {
            tokio::join!(
                each(w.exports, limit, |(api, stage, kind)| async move {
                    match kind {
                        ApiKind::Rest => {
                            fetched(apigw::get_export(&c.apigw, region, &api, &stage).await)
                        }
                        ApiKind::Http => {
                            fetched(apigw2::export_api(&c.apigw2, region, &api, &stage).await)
                        }
                    }
                }),
                each(w.lcerts, limit, |arn| async move {
                    fetched(elb::describe_listener_certificates(&c.elb, &arn).await)
                }),
                each(w.certs, limit, |arn| async move {
                    acm::certificate(&c.acm, &arn).await
                }),
                each(w.lattrs, limit, |arn| async move {
                    fetched(elb::describe_listener_attributes(&c.elb, &arn).await)
                }),
                each(w.lbattrs, limit, |arn| async move {
                    fetched(elb::describe_load_balancer_attributes(&c.elb, &arn).await)
                }),
            )
        },
    );
    a.authorizers = auth_r.into_iter().map(|((api, _), v)| (api, v)).collect();
    d.lambda_functions.extend(fn_r);
    d.domain_names = dom_r;
    d.distributions = dist_r;
    a.exports = exp_r
        .into_iter()
        .map(|((api, stage, _), v)| (api, stage, v))
        .collect();
    d.listener_certificates.extend(lc_r);
    d.certificates.extend(cert_r);
    d.listener_attributes.extend(la_r);
    d.load_balancer_attributes.extend(lba_r);
    d.load_balancers.extend(lb_r);
    // A failed read by load balancer leaves its target groups to be read
    // by ARN in a later wave, which records the failure where it matters.
    for (_, got) in tgs_of_r {
        if let Ok(groups) = got {
            a.groups_of.extend(groups);
        }
    }
    d.listeners.extend(l_r);
    d.listener_rules.extend(r_r);
    d.target_groups.extend(tg_r);
    d.target_health.extend(h_r);
    d.instances.extend(i_r);
    for (_, m) in eni_r {
        d.network_interfaces.extend(m);
    }
    d.subnets.extend(s_r);
    d.security_groups.extend(sg_r);
    d.network_acls.extend(acl_r);
    d.prefix_lists.extend(pl_r);
    d.endpoint_connections.extend(conn_r);
    d.cloud_map_services.extend(cm_r);
    a.endpoint_services = svc_r;
    a
}

/// Merges a landed wave into the region data; returns every want it
/// answered, endpoint services it let resolve included.
fn apply(rd: &mut RegionData, memo: &mut Memo, a: Answers) -> BTreeSet<Want> {
    let Answers {
        data: d,
        groups_of,
        exports,
        authorizers,
        endpoint_services,
        mut answered,
    } = a;
    for (api, v) in authorizers {
        if let Some(rec) = rd.apis.iter_mut().find(|x| x.id == api) {
            rec.authorizers = Some(v);
        }
    }
    for (api, stage, routes) in exports {
        if let Some(rec) = rd.apis.iter_mut().find(|x| x.id == api) {
            rec.deployed_routes.insert(stage, routes);
        }
    }
    if d.domain_names.is_some() {
        rd.domain_names = d.domain_names;
    }
    if d.distributions.is_some() {
        rd.distributions = d.distributions;
    }
    rd.lambda_functions.extend(d.lambda_functions);
    rd.listener_certificates.extend(d.listener_certificates);
    rd.certificates.extend(d.certificates);
    rd.listener_attributes.extend(d.listener_attributes);
    rd.load_balancer_attributes
        .extend(d.load_balancer_attributes);
    rd.load_balancers.extend(d.load_balancers);
    rd.listeners.extend(d.listeners);
    rd.listener_rules.extend(d.listener_rules);
    rd.target_groups.extend(d.target_groups);
    for (arn, tg) in groups_of {
        rd.target_groups.entry(arn).or_insert(Fetched::Ok(tg));
    }
    rd.target_health.extend(d.target_health);
    rd.instances.extend(d.instances);
    rd.network_interfaces.extend(d.network_interfaces);
    rd.subnets.extend(d.subnets);
    rd.security_groups.extend(d.security_groups);
    rd.network_acls.extend(d.network_acls);
    rd.prefix_lists.extend(d.prefix_lists);
    rd.endpoint_connections.extend(d.endpoint_connections);
    rd.cloud_map_services.extend(d.cloud_map_services);
    if endpoint_services.is_some() {
        memo.endpoint_services = endpoint_services;
    }
    answered.extend(resolve_services(rd, memo));
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planner_with(wants: &[(&str, &[Want])]) -> Planner {
        let mut p = Planner::default();
        for (id, w) in wants {
            p.by_api
                .insert(id.to_string(), w.iter().cloned().collect::<BTreeSet<_>>());
            p.fresh.insert(id.to_string());
        }
        p
    }

    #[test]
    fn a_landing_replans_only_the_apis_that_wanted_it() {
        let lb = Want::LoadBalancer("arn:lb/one".into());
        let sg = Want::SecurityGroup("sg-1".into());
        let mut p = planner_with(&[("a", std::slice::from_ref(&lb)), ("b", &[sg]), ("c", &[])]);
        p.landed(&[lb].into_iter().collect());
        assert_eq!(p.dirty, ["a".to_string()].into_iter().collect());
        // Whatever landed may concern an API in a way its wants do not
        // show, so nothing stays fresh for the final full plan.
        assert!(p.fresh.is_empty());
        p.all_stale();
        assert_eq!(p.dirty.len(), 3);
    }

    #[test]
    fn the_final_plan_skips_apis_planned_since_the_last_landing() {
        let mut p = planner_with(&[("a", &[]), ("b", &[])]);
        p.fresh.remove("b");
        p.all_stale();
        assert_eq!(p.dirty, ["b".to_string()].into_iter().collect());
    }

    #[test]
    fn a_stage_no_api_has_is_refused_with_the_stages_there_are() {
        let apis = vec![
            ("b".to_string(), Some(vec!["prod".to_string()])),
            (
                "a".to_string(),
                Some(vec!["dev".to_string(), "prod".to_string()]),
            ),
        ];
        assert!(check_stage_names(&apis, &["prod".into()], "eu-west-1", false).is_ok());
        let Err(Fatal::Usage(m)) = check_stage_names(&apis, &["qa".into()], "eu-west-1", false)
        else {
            panic!("a missing stage must be a usage error");
        };
        assert_eq!(
            m,
            "no stage qa in the API(s) audited in eu-west-1 (stages: a: dev, prod; b: prod)"
        );
        // Several regions: the caller checks each stage was found somewhere.
        assert!(check_stage_names(&apis, &["qa".into()], "eu-west-1", true).is_ok());
        // An API whose stages could not be read may have it.
        let unreadable = vec![("c".to_string(), None)];
        assert!(check_stage_names(&unreadable, &["qa".into()], "eu-west-1", false).is_ok());
    }

    #[test]
    fn a_wave_counts_for_depth_when_it_reads_anything() {
        // Links resolved from the listings: answers, but no call.
        let bookkeeping = Wave {
            implied: vec![Want::Subnet("subnet-0a1b2c3d".into())],
            answers: [Want::Subnet("subnet-0a1b2c3d".into())].into(),
            ..Wave::default()
        };
        assert!(bookkeeping.reads_nothing());
        let reads = [
            Wave {
                functions: vec!["arn:aws:lambda:eu-west-1:123456789012:function:auth".into()],
                ..Wave::default()
            },
            Wave {
                distributions: true,
                ..Wave::default()
            },
            Wave {
                ips: [(
                    Some("vpc-0a1b2c3d".to_string()),
                    vec!["10.0.1.17".to_string()],
                )]
                .into(),
                ..Wave::default()
            },
        ];
        for wave in reads {
            assert!(!wave.reads_nothing());
        }
    }
}
