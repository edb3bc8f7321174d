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
    ApiInfo, ApiKind, ApiRecord, EndpointService, Failure, FailureKind, Fetched, RegionData,
    SNAPSHOT_SCHEMA_VERSION, SkippedApi, Snapshot, ToolInfo, VpcLink, VpcLinkV2,
};
use apigw_audit_checks::resources::{Answer, Kind, Wait, Want};
use apigw_audit_checks::view::referenced_links;

use super::error::Op;
use super::plumbing::fetched;
use super::readers::{self, Ctx, Reading};
use super::{Clients, Request, apigw, apigw2, ec2, list_roots, listed_api, named_api};
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
        links: Box<Links>,
    },
    /// The region's APIs (`--all-apis`).
    Listing(Result<Vec<(String, ApiKind, ApiInfo)>, Failure>),
    /// One listed API with its stages and routes (boxed: a record is
    /// large beside the other variants).
    Api(Box<ApiRecord>),
    /// A named API, as looked up in this region.
    Named(Result<super::Named, Fatal>),
    /// The answers of one wave.
    Wave(Box<WaveAnswers>),
}

/// The root listings of both generations of VPC links.
type Links = (
    Result<Vec<VpcLink>, Failure>,
    Result<Vec<VpcLinkV2>, Failure>,
);

/// What the previous waves answered that later ones reuse.
#[derive(Default)]
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

/// One region's collection in progress: what has been read, what has been
/// asked, and how deep the dependent reads have gone.
struct Schedule<'a> {
    c: &'a Clients,
    region: &'a str,
    req: &'a Request,
    rd: RegionData,
    memo: Memo,
    asked: BTreeSet<Want>,
    planner: Planner,
    depth: usize,
    /// APIs whose record has not landed yet; `None` until the listing has.
    apis_due: Option<usize>,
    stages_checked: bool,
}

/// Collects one region: the snapshot's region data and the critical-path
/// depth (levels of dependent calls, the roots included).
pub(super) async fn collect_region(
    c: &Clients,
    region: &str,
    req: &Request,
) -> Result<(RegionData, usize), Fatal> {
    let mut s = Schedule {
        c,
        region,
        req,
        rd: RegionData {
            region: region.to_string(),
            ..Default::default()
        },
        memo: Memo::default(),
        asked: BTreeSet::new(),
        planner: Planner::default(),
        depth: 0,
        apis_due: None,
        stages_checked: false,
    };
    let mut pending: FuturesUnordered<Pending<'_>> = FuturesUnordered::new();
    s.start(&mut pending);
    while let Some(first) = pending.next().await {
        // Whatever else has landed meanwhile is applied before planning,
        // so one plan covers all of it and its describes share a batch.
        let mut landed = vec![first];
        while let Some(Some(more)) = pending.next().now_or_never() {
            landed.push(more);
        }
        for (d, l) in landed {
            s.land(d, l, &mut pending)?;
        }
        s.check_stages()?;
        if let Some(wave) = s.next_wave(!pending.is_empty()) {
            pending.push(s.send(wave));
        }
    }
    s.rd.apis.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((s.rd, s.depth))
}

impl<'a> Schedule<'a> {
    /// The roots: the account settings and both VPC link listings, and the
    /// API listing or each named API.
    fn start(&mut self, pending: &mut FuturesUnordered<Pending<'a>>) {
        let (c, region, req) = (self.c, self.region, self.req);
        pending.push(Box::pin(async move {
            let (account, links) = futures::future::join(
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
                    links: Box::new(links),
                },
            )
        }));
        if req.all_apis {
            pending.push(Box::pin(async move {
                (1, Landed::Listing(list_roots(c, region).await))
            }));
            return;
        }
        self.apis_due = Some(req.api_ids.len());
        for id in &req.api_ids {
            let id = id.clone();
            pending.push(Box::pin(async move {
                (
                    1,
                    Landed::Named(named_api(c, region, id, req.multi_region).await),
                )
            }));
        }
    }

    /// Takes in one landed answer.
    fn land(
        &mut self,
        d: usize,
        landed: Landed,
        pending: &mut FuturesUnordered<Pending<'a>>,
    ) -> Result<(), Fatal> {
        self.depth = self.depth.max(d);
        match landed {
            Landed::Roots { account, links } => {
                self.rd.apigateway_account = Some(fetched(account));
                self.memo.links = Some(*links);
                for i in 0..self.rd.apis.len() {
                    insert_links(&mut self.rd, &self.memo, i, self.region);
                }
                self.planner.all = true;
                self.planner.changed();
            }
            Landed::Listing(Err(f)) => {
                self.rd.unlisted = Some(f);
                self.apis_due = Some(0);
            }
            Landed::Listing(Ok(mut roots)) => {
                // WebSocket APIs are listed beside HTTP APIs; none of their
                // reads is made, and the report names them as skipped.
                roots.retain(|(id, _, info)| {
                    let ws = info.is_websocket();
                    if ws {
                        self.rd.skipped_apis.push(SkippedApi::websocket(id, info));
                    }
                    !ws
                });
                self.apis_due = Some(roots.len());
                let (c, region) = (self.c, self.region);
                for (id, kind, info) in roots {
                    pending.push(Box::pin(async move {
                        let api = listed_api(c, region, id, kind, info).await;
                        (d + 1, Landed::Api(Box::new(api)))
                    }));
                }
            }
            Landed::Api(api) => {
                self.apis_due = self.apis_due.map(|n| n.saturating_sub(1));
                self.add_api(*api);
            }
            Landed::Named(named) => {
                self.apis_due = self.apis_due.map(|n| n.saturating_sub(1));
                match named? {
                    super::Named::Found(api) => self.add_api(*api),
                    super::Named::Absent => {}
                    super::Named::Skipped(api) => self.rd.skipped_apis.push(api),
                    // The first failure stands for the region's.
                    super::Named::Unknown(f) => {
                        self.rd.unlisted.get_or_insert(f);
                    }
                }
            }
            Landed::Wave(answers) => {
                let answered = apply(&mut self.rd, &mut self.memo, *answers);
                self.planner.landed(&answered);
            }
        }
        Ok(())
    }

    fn add_api(&mut self, mut api: ApiRecord) {
        self.memo
            .stage_names
            .push((api.id.clone(), stage_names(&api)));
        keep_stages(&mut api, &self.req.stages);
        self.planner.changed();
        self.planner.dirty.insert(api.id.clone());
        self.rd.apis.push(api);
        let i = self.rd.apis.len() - 1;
        insert_links(&mut self.rd, &self.memo, i, self.region);
    }

    /// Once every API has landed, refuses a `--stage` none of them has.
    fn check_stages(&mut self) -> Result<(), Fatal> {
        // A region whose APIs are unknown has no stages to refuse.
        if self.apis_due == Some(0) && !self.stages_checked && self.rd.unlisted.is_none() {
            self.stages_checked = true;
            let req = self.req;
            check_stage_names(
                &self.memo.stage_names,
                &req.stages,
                self.region,
                req.multi_region,
            )?;
        }
        Ok(())
    }

    /// The next wave to read, if the checks want anything not yet asked;
    /// `in_flight` says whether other reads are still under way.
    fn next_wave(&mut self, in_flight: bool) -> Option<Wave> {
        // Until the links are known a plan would want every link again.
        if self.memo.links.is_none() || self.depth >= MAX_DEPTH {
            return None;
        }
        let mut next = self.unasked();
        if next.is_empty() && !in_flight {
            // Nothing in flight and nothing new: before stopping, every API
            // is planned once more on everything read, so a want the
            // per-API bookkeeping missed still gets read.
            self.planner.all_stale();
            next = self.unasked();
        }
        hold_back(&mut next, in_flight);
        if next.is_empty() {
            return None;
        }
        tracing::debug!(depth = self.depth + 1, wants = ?next, "reading");
        if let Some(p) = &self.req.progress {
            p.set_message(format!(
                "{}: {} API(s) read, reading {} more resource(s)",
                self.region,
                self.rd.apis.len(),
                next.len()
            ));
        }
        let mut wave = prepare(
            &mut self.rd,
            &mut self.memo,
            &next,
            &self.asked,
            self.region,
        );
        self.asked.extend(wave.implied.iter().cloned());
        wave.answers.extend(wave.implied.iter().cloned());
        self.asked.extend(next.iter().cloned());
        wave.answers.extend(next);
        Some(wave)
    }

    fn unasked(&mut self) -> BTreeSet<Want> {
        self.planner
            .plan(&mut self.rd)
            .difference(&self.asked)
            .cloned()
            .collect()
    }

    /// Sends a wave; it lands one level deeper, unless it reads nothing
    /// (links resolved from the listings cost no round trip).
    fn send(&self, wave: Wave) -> Pending<'a> {
        let d = if wave.reads_nothing() {
            self.depth
        } else {
            self.depth + 1
        };
        let ctx = Ctx {
            c: self.c,
            region: self.region,
            limit: self.req.max_concurrency.max(1),
            api_kinds: self
                .rd
                .apis
                .iter()
                .map(|a| (a.id.clone(), a.kind))
                .collect(),
        };
        Box::pin(async move { (d, Landed::Wave(Box::new(fetch(&ctx, wave).await))) })
    }
}

/// Holds back the reads that may wait ([`Wait`]): leaves while anything
/// else is in flight or wanted, since no other read depends on them and
/// the last structural wave wants most of them anyway, so waiting batches
/// them without adding a level; and the kinds one describe serves best
/// (instances) while other waves are in flight, which only happens when
/// several APIs are audited.
fn hold_back(next: &mut BTreeSet<Want>, in_flight: bool) {
    let wait = |w: &Want| w.def().wait;
    if in_flight {
        next.retain(|w| wait(w) == Wait::No);
    } else if next.iter().any(|w| wait(w) != Wait::Leaf) {
        next.retain(|w| wait(w) != Wait::Leaf);
    }
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
    let Some(api) = rd.apis.get(i) else {
        return;
    };
    let Fetched::Ok(stages) = &api.stages else {
        return;
    };
    let referenced: Vec<_> = stages.iter().map(|s| referenced_links(api, s)).collect();
    for (v1, v2) in referenced {
        for id in v1.into_iter().map(|id| Want::new(Kind::VpcLink, id)) {
            resolve_link(rd, memo, &id, region);
        }
        for id in v2.into_iter().map(|id| Want::new(Kind::VpcLinkV2, id)) {
            resolve_link(rd, memo, &id, region);
        }
    }
}

/// Answers a VPC link want from the root listings, without a call: a
/// deployed definition can name a link the current one no longer does.
fn resolve_link(rd: &mut RegionData, memo: &Memo, want: &Want, region: &str) {
    let Some((v1s, v2s)) = &memo.links else {
        return;
    };
    let id = &want.key;
    if want.kind == Kind::VpcLink {
        let link = link_from(v1s, id, region, |l: &VpcLink| &l.id);
        rd.vpc_links.insert(id.clone(), link);
    } else {
        let link = link_from(v2s, id, region, |l: &VpcLinkV2| &l.id);
        rd.vpc_links_v2.insert(id.clone(), link);
    }
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

/// The reads of one wave.
#[derive(Default)]
struct Wave {
    /// The wants to read, by kind, in the table's order.
    reads: BTreeMap<Kind, BTreeSet<Want>>,
    /// Whether to read the account's endpoint service listing.
    endpoint_services: bool,
    /// Wants this wave answers besides those it was asked for.
    implied: Vec<Want>,
    /// Every want this wave answers, for re-planning when it lands.
    answers: BTreeSet<Want>,
}

impl Wave {
    fn reads_nothing(&self) -> bool {
        self.reads.values().all(BTreeSet::is_empty) && !self.endpoint_services
    }

    fn read(&mut self, want: Want) {
        self.reads.entry(want.kind).or_default().insert(want);
    }
}

/// Turns wants into a wave's reads. VPC links come from the listings at
/// once, without a call; endpoint services wait for the account's listing.
fn prepare(
    rd: &mut RegionData,
    memo: &mut Memo,
    wants: &BTreeSet<Want>,
    asked: &BTreeSet<Want>,
    region: &str,
) -> Wave {
    let mut w = Wave::default();
    for want in wants {
        match want.kind {
            Kind::VpcLink | Kind::VpcLinkV2 => resolve_link(rd, memo, want, region),
            Kind::EndpointService => {
                memo.services_waiting.insert(want.key.clone());
            }
            Kind::LoadBalancer => {
                load_balancer_reads(rd, memo, &mut w, want, wants, asked);
                w.read(want.clone());
            }
            // A read for an API the region does not hold asks nothing.
            Kind::Deployment | Kind::Authorizers => {
                if rd.apis.iter().any(|a| a.id == want.key) {
                    w.read(want.clone());
                }
            }
            _ => w.read(want.clone()),
        }
    }
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

/// A load balancer is wanted for its listeners and the target groups they
/// forward to, and an NLB behind a VPC link (v1) for its endpoint service:
/// they are read in the same wave (its reader reads the target groups).
fn load_balancer_reads(
    rd: &RegionData,
    memo: &mut Memo,
    w: &mut Wave,
    want: &Want,
    wants: &BTreeSet<Want>,
    asked: &BTreeSet<Want>,
) {
    let arn = &want.key;
    let listeners = Want::new(Kind::Listeners, arn);
    if !rd.listeners.contains_key(arn) && !asked.contains(&listeners) && !wants.contains(&listeners)
    {
        w.implied.push(listeners.clone());
        w.read(listeners);
    }
    let behind_v1 = rd
        .vpc_links
        .values()
        .any(|l| l.ok().is_some_and(|l| l.target_arns.contains(arn)));
    if behind_v1 && !rd.endpoint_services.contains_key(arn) {
        memo.services_waiting.insert(arn.clone());
    }
}

/// Gives each waiting NLB its endpoint service once the listing is known;
/// returns the wants that answers.
fn resolve_services(rd: &mut RegionData, memo: &mut Memo) -> Vec<Want> {
    let Some(listing) = &memo.endpoint_services else {
        return Vec::new();
    };
    let mut answered = Vec::new();
    for nlb in std::mem::take(&mut memo.services_waiting) {
        answered.push(Want::new(Kind::EndpointService, &nlb));
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
struct WaveAnswers {
    answers: Vec<Answer>,
    endpoint_services: Option<Result<Vec<EndpointService>, Failure>>,
    answered: BTreeSet<Want>,
}

/// Reads one wave: every kind's reader at once, in the table's order (the
/// reads later waves depend on leave first), and the endpoint service
/// listing when it is due.
async fn fetch(ctx: &Ctx<'_>, w: Wave) -> WaveAnswers {
    let readings: FuturesUnordered<Reading<'_>> = w
        .reads
        .into_iter()
        .filter_map(|(kind, wants)| readers::read(ctx, kind, wants.into_iter().collect()))
        .collect();
    let listing = async {
        if w.endpoint_services {
            Some(ec2::describe_endpoint_services(&ctx.c.ec2).await)
        } else {
            None
        }
    };
    let (answers, endpoint_services) = futures::future::join(readings.collect(), listing).await;
    WaveAnswers {
        answers,
        endpoint_services,
        answered: w.answers,
    }
}

/// Merges a landed wave into the region data; returns every want it
/// answered, endpoint services it let resolve included.
fn apply(rd: &mut RegionData, memo: &mut Memo, w: WaveAnswers) -> BTreeSet<Want> {
    for answer in w.answers {
        apigw_audit_checks::resources::land(rd, answer);
    }
    if w.endpoint_services.is_some() {
        memo.endpoint_services = w.endpoint_services;
    }
    let mut answered = w.answered;
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
        let lb = Want::new(Kind::LoadBalancer, "arn:lb/one");
        let sg = Want::new(Kind::SecurityGroup, "sg-1");
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
        let subnet = Want::new(Kind::Subnet, "subnet-0a1b2c3d");
        let bookkeeping = Wave {
            implied: vec![subnet.clone()],
            answers: [subnet].into(),
            ..Wave::default()
        };
        assert!(bookkeeping.reads_nothing());
        let reads = [
            Want::new(
                Kind::LambdaFunction,
                "arn:aws:lambda:eu-west-1:123456789012:function:auth",
            ),
            Want::new(Kind::Distributions, ""),
            Want::scoped(
                Kind::NetworkInterface,
                "10.0.1.17",
                Some("vpc-0a1b2c3d".to_string()),
            ),
        ];
        for want in reads {
            let mut wave = Wave::default();
            wave.read(want);
            assert!(!wave.reads_nothing());
        }
        let listing = Wave {
            endpoint_services: true,
            ..Wave::default()
        };
        assert!(!listing.reads_nothing());
    }

    #[test]
    fn leaves_wait_for_everything_and_instances_for_other_waves() {
        let sg = Want::new(Kind::SecurityGroup, "sg-1");
        let inst = Want::new(Kind::Instance, "i-1");
        let lb = Want::new(Kind::LoadBalancer, "arn:lb/one");
        let all: BTreeSet<Want> = [sg.clone(), inst.clone(), lb.clone()].into();
        let mut next = all.clone();
        hold_back(&mut next, true);
        assert_eq!(next, [lb.clone()].into());
        let mut next = all.clone();
        hold_back(&mut next, false);
        assert_eq!(next, [inst, lb].into());
        let mut next: BTreeSet<Want> = [sg.clone()].into();
        hold_back(&mut next, false);
        assert_eq!(next, [sg].into());
    }
}
