//! One stage of one API, as the checks see it: its routes resolved against
//! the stage (stage variables substituted, the integration target parsed)
//! and the lookups that walk a private integration hop by hop.
//!
//! Every hop answers `Ok`, or [`Blocked`]: `Skip` when an earlier hop is
//! missing or broken (another check reports that, so this one does not
//! apply), `Error` when the data to go on could not be read. A check turns
//! `Blocked` into a finding on the deepest resource it reached, so nothing
//! downstream of an unreadable hop can come out `pass`.
//!
//! Every lookup of a key the snapshot does not hold is also recorded as a
//! [`Want`]. The live collector runs the checks on what it has read so far
//! and reads what they wanted next, until they want nothing new: the
//! snapshot then holds exactly what the checks walk, read level by level.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;

use crate::model::{
    ApiKind, ApiRecord, CloudMapService, Failure, FailureKind, Fetched, Integration, LbType,
    Listener, LoadBalancer, NetworkAcl, RegionData, Route, RouteTable, SecurityGroup, Snapshot,
    Stage, Subnet, TargetGroup, TargetHealth, TargetType, VpcLink, VpcLinkV2,
};
use crate::net::{AddrSet, parse_v4};

/// Where a hop walk stopped, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// The deepest resource reached: the finding goes on it.
    pub resource: String,
    pub kind: BlockedKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockedKind {
    /// The check does not apply past this point; the reason says which
    /// other check reports the cause.
    Skip(String),
    /// `what` could not be read.
    Error { what: String, failure: Box<Failure> },
}

pub type Hop<T> = Result<T, Blocked>;

pub fn skip<T>(resource: impl Into<String>, reason: impl Into<String>) -> Hop<T> {
    Err(Blocked {
        resource: resource.into(),
        kind: BlockedKind::Skip(reason.into()),
    })
}

fn error<T>(resource: impl Into<String>, what: impl Into<String>, failure: &Failure) -> Hop<T> {
    Err(Blocked {
        resource: resource.into(),
        kind: BlockedKind::Error {
            what: what.into(),
            failure: Box::new(failure.clone()),
        },
    })
}

/// A lookup whose key the snapshot lacks: the collector never read it (a
/// truncated or hand-edited snapshot), which is an error, never "empty".
pub fn not_collected(operation: &str) -> Failure {
    Failure {
        operation: operation.to_string(),
        iam_action: None,
        kind: FailureKind::Malformed,
        code: None,
        message: "the snapshot holds no result for it".to_string(),
    }
}

pub use crate::resources::Want;
use crate::resources::{self as res, Keyed, Kind};

/// Records the wants of a planning run.
pub type WantLog = RefCell<BTreeSet<Want>>;

/// Which generation of VPC link an integration goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkVersion {
    V1,
    V2,
}

/// An integration's connection id as written and as resolved on the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRef {
    pub version: LinkVersion,
    /// As written: an id or `${stageVariables.NAME}`.
    pub raw: String,
    /// The stage variable it names, if any.
    pub variable: Option<String>,
    /// The VPC link id, or why it could not be resolved.
    pub id: Result<String, String>,
}

/// Where the gateway connects: a URL (REST) after stage variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub uri: String,
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

/// What a private integration points at.
#[derive(Debug, Clone, PartialEq)]
pub enum Upstream {
    /// REST: an `http(s)://host[:port]/path` URI, sent to the link's load
    /// balancer (v1: its NLB; v2: the integration target).
    Url(Endpoint),
    /// HTTP API: a load balancer listener ARN.
    Listener(String),
    /// HTTP API: a Cloud Map service ARN.
    CloudMap(String),
}

/// A route whose integration goes through a VPC link.
#[derive(Debug, Clone)]
pub struct RoutePath<'a> {
    pub route: &'a Route,
    pub label: String,
    pub integration: &'a Integration,
    pub link: LinkRef,
    pub upstream: Result<Upstream, String>,
}

impl RoutePath<'_> {
    /// The URL endpoint, for REST routes.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match &self.upstream {
            Ok(Upstream::Url(e)) => Some(e),
            _ => None,
        }
    }
}

/// The link a route goes through, either generation.
#[derive(Debug, Clone, Copy)]
pub enum AnyLink<'a> {
    V1(&'a VpcLink),
    V2(&'a VpcLinkV2),
}

impl AnyLink<'_> {
    pub fn id(&self) -> &str {
        match self {
            AnyLink::V1(l) => &l.id,
            AnyLink::V2(l) => &l.id,
        }
    }
}

/// How traffic reaches a load balancer's listener.
#[derive(Debug, Clone, Copy)]
pub enum Front<'a> {
    /// VPC link v1: API Gateway's PrivateLink endpoint, address unknowable.
    PrivateLink,
    /// VPC link v2: the link's network interfaces.
    Link(&'a VpcLinkV2),
    /// An NLB whose target group holds this ALB (target type `alb`).
    Nlb {
        nlb: &'a LoadBalancer,
        tg: &'a TargetGroup,
    },
}

/// Which listener of a load balancer a route uses.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenerSel {
    Port(u16),
    Arn(String),
}

/// The load balancer a route targets, before it is looked up.
#[derive(Debug, Clone)]
pub struct LbTarget<'a> {
    pub front: Front<'a>,
    pub lb_arn: String,
    pub listener: ListenerSel,
    /// Why the route goes there, for messages: "VPC link abc targets", ...
    pub via: String,
}

/// Where a route's traffic goes after the link.
#[derive(Debug, Clone)]
pub enum RouteTarget<'a> {
    Lb(LbTarget<'a>),
    CloudMap {
        link: &'a VpcLinkV2,
        service_arn: String,
    },
}

/// Which definition of the API the checks walk on a stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    /// What the stage's deployment serves.
    Deployed,
    /// The API's current definition, because the deployed one could not be
    /// read: the read that failed (or never happened, in a snapshot).
    Current(Box<Failure>),
}

/// The routes stage `stage` of `api` has deployed, or the failure that
/// keeps them unknown; a snapshot without the export is a read never
/// made. The checks' view and `explain`'s route line both ask this.
pub fn deployed_routes<'a>(api: &'a ApiRecord, stage: &str) -> Result<&'a [Route], Failure> {
    match api.deployed_routes.get(stage) {
        Some(Fetched::Ok(r)) => Ok(r.as_slice()),
        Some(Fetched::NotFound(f)) | Some(Fetched::Error(f)) => Err(f.clone()),
        None => {
            let mut f = not_collected(Kind::Deployment.def().operation);
            f.message = "the snapshot holds no export of the stage's deployment".to_string();
            Err(f)
        }
    }
}

/// One stage of one API, with everything a check reads.
pub struct StageView<'a> {
    pub snapshot: &'a Snapshot,
    pub region: &'a RegionData,
    pub api: &'a ApiRecord,
    pub stage: &'a Stage,
    pub stage_arn: String,
    pub definition: Definition,
    all_routes: Result<&'a [Route], &'a Failure>,
    routes: Result<Vec<RoutePath<'a>>, &'a Failure>,
    wants: Option<&'a WantLog>,
    /// A request to judge with `route-exists` (explain --url).
    pub probe: Option<&'a Probe>,
    /// The lookups that found no data (failed, or never read) since the
    /// engine last took them: the engine holds a check that passes on
    /// them to `error` (see [`crate::engine`]).
    misses: RefCell<Vec<Miss>>,
}

/// A lookup that found no data: what was looked up and why it is missing.
#[derive(Debug, Clone)]
pub struct Miss {
    pub resource: String,
    pub what: String,
    pub failure: Failure,
}

/// A request `explain --url` asks about: does this stage serve it?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub api_id: String,
    pub stage: String,
    /// `None` when any method will do.
    pub method: Option<String>,
    pub path: String,
    /// Whether the URL used the API's default `execute-api` host (not a
    /// custom domain): `execute-api-endpoint` fails it when that endpoint
    /// is disabled.
    pub via_execute_api: bool,
}

impl<'a> StageView<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        region: &'a RegionData,
        api: &'a ApiRecord,
        stage: &'a Stage,
        wants: Option<&'a WantLog>,
    ) -> Self {
        let current = match &api.routes {
            Fetched::Ok(r) => Ok(r.as_slice()),
            Fetched::NotFound(f) | Fetched::Error(f) => Err(f),
        };
        let (definition, all_routes) = match deployed_routes(api, &stage.name) {
            Ok(r) => (Definition::Deployed, Ok(r)),
            Err(f) => {
                if !api.deployed_routes.contains_key(&stage.name)
                    && let Some(log) = wants
                {
                    log.borrow_mut().insert(Want::scoped(
                        Kind::Deployment,
                        &api.id,
                        Some(stage.name.clone()),
                    ));
                }
                (Definition::Current(Box::new(f)), current)
            }
        };
        let routes = all_routes.map(|r| {
            r.iter()
                .filter_map(|route| route_path(api, stage, route))
                .collect()
        });
        StageView {
            snapshot,
            region,
            api,
            stage,
            stage_arn: stage_arn(&region.region, api, &stage.name),
            definition,
            all_routes,
            routes,
            wants,
            probe: None,
            misses: RefCell::new(Vec::new()),
        }
    }

    /// The misses recorded since the last call, which clears them.
    pub fn take_misses(&self) -> Vec<Miss> {
        std::mem::take(&mut *self.misses.borrow_mut())
    }

    /// How many misses are recorded now, to tell which a step added.
    pub fn misses_len(&self) -> usize {
        self.misses.borrow().len()
    }

    /// Forgets the misses recorded from position `from` on (those of the
    /// walk, which reports them as data).
    pub fn forget_misses_from(&self, from: usize) {
        self.misses.borrow_mut().truncate(from);
    }

    /// An error hop for `what`, recorded as a miss.
    fn missed<T>(&self, resource: &str, what: &str, failure: &Failure) -> Hop<T> {
        self.misses.borrow_mut().push(Miss {
            resource: resource.to_string(),
            what: what.to_string(),
            failure: failure.clone(),
        });
        error(resource, what, failure)
    }

    /// Looks up a whole-account listing (`None` in the snapshot: not read).
    pub fn listing<'m, T>(
        &self,
        field: &'m Option<Fetched<T>>,
        want: Want,
        resource: &str,
        what: &str,
    ) -> Hop<&'m T> {
        match field {
            Some(Fetched::Ok(v)) => Ok(v),
            Some(Fetched::NotFound(f)) | Some(Fetched::Error(f)) => self.missed(resource, what, f),
            None => {
                let op = want.operation();
                self.want(want);
                self.missed(resource, what, &not_collected(op))
            }
        }
    }

    /// Every route of the definition the stage is judged on (deployed, or
    /// current when the deployed one is unreadable).
    pub fn all_routes(&self) -> Result<&'a [Route], &'a Failure> {
        self.all_routes
    }

    /// The routes whose integrations go through a VPC link, or the failure
    /// that kept the API's routes from being read.
    pub fn private_routes(&self) -> Result<&[RoutePath<'a>], &'a Failure> {
        match &self.routes {
            Ok(r) => Ok(r.as_slice()),
            Err(f) => Err(f),
        }
    }

    pub fn partition(&self) -> &'static str {
        partition(&self.region.region)
    }

    /// The API's default endpoint host, `{api}.execute-api.{region}.amazonaws.com`.
    pub fn execute_api_host(&self) -> String {
        format!(
            "{}.execute-api.{}.amazonaws.com",
            self.api.id, self.region.region
        )
    }

    /// The region's custom domain names and the account's CloudFront
    /// distributions: the ways callers reach the stage other than its
    /// execute-api host. A listing that cannot be read blocks (the
    /// distributions' failure named first).
    pub fn public_faces(
        &self,
    ) -> Hop<(
        &'a [crate::model::DomainName],
        &'a [crate::model::Distribution],
    )> {
        let region: &'a RegionData = self.region;
        let dists = self.listing(
            &region.distributions,
            Want::new(res::Kind::Distributions, ""),
            &self.stage_arn,
            "the CloudFront distributions of the account",
        );
        let domains = self.listing(
            &region.domain_names,
            Want::new(res::Kind::DomainNames, ""),
            &self.stage_arn,
            "the custom domain names of the region",
        );
        let dists = dists?;
        Ok((domains?.as_slice(), dists.as_slice()))
    }

    /// Whether a custom domain sends some base path to this stage (a REST
    /// mapping without a stage serves every stage).
    pub fn maps_here(&self, d: &crate::model::DomainName) -> bool {
        d.mappings.iter().any(|m| {
            m.api_id == self.api.id && m.stage.as_deref().is_none_or(|s| s == self.stage.name)
        })
    }

    pub fn vpc_link_arn(&self, id: &str) -> String {
        format!(
            "arn:{}:apigateway:{}::/vpclinks/{id}",
            self.partition(),
            self.region.region
        )
    }

    pub fn ec2_arn(&self, kind: &str, id: &str, owner: Option<&str>) -> String {
        let account = owner.or(self.snapshot.account.as_deref()).unwrap_or("");
        format!(
            "arn:{}:ec2:{}:{account}:{kind}/{id}",
            self.partition(),
            self.region.region
        )
    }

    pub fn sg_arn(&self, sg: &SecurityGroup) -> String {
        self.ec2_arn("security-group", &sg.id, sg.owner_id.as_deref())
    }

    pub fn nacl_arn(&self, acl: &NetworkAcl) -> String {
        self.ec2_arn("network-acl", &acl.id, acl.owner_id.as_deref())
    }

    fn want(&self, w: Want) {
        if let Some(log) = self.wants {
            log.borrow_mut().insert(w);
        }
    }

    // ---- hop lookups -------------------------------------------------

    /// Looks `key` of kind `K` up: `Ok(Some)` when read, `Ok(None)` when
    /// AWS said it does not exist, an error when the read failed or never
    /// happened (recorded as wanted).
    pub fn get<K: Keyed>(
        &self,
        key: &str,
        resource: &str,
        what: &str,
    ) -> Hop<Option<&'a K::Value>> {
        self.get_scoped::<K>(key, None, resource, what)
    }

    /// A lookup a check can judge without (a refinement, such as a load
    /// balancer node's exact address): wanted like any other, but a failed
    /// or missing read is not a miss, since the check then judges on what
    /// it has and its verdict says so. `None` when not (yet) read.
    pub fn peek<K: Keyed>(&self, key: &str) -> Option<Result<&'a K::Value, &'a Failure>> {
        match K::map(self.region).get(key) {
            Some(Fetched::Ok(v)) => Some(Ok(v)),
            Some(Fetched::NotFound(f)) | Some(Fetched::Error(f)) => Some(Err(f)),
            None => {
                self.want(Want::scoped(K::KIND, key, None));
                None
            }
        }
    }

    /// [`Self::get`] for a read narrowed by `scope` (the VPC of a private
    /// address).
    pub fn get_scoped<K: Keyed>(
        &self,
        key: &str,
        scope: Option<&str>,
        resource: &str,
        what: &str,
    ) -> Hop<Option<&'a K::Value>> {
        match K::map(self.region).get(key) {
            Some(Fetched::Ok(v)) => Ok(Some(v)),
            Some(Fetched::NotFound(_)) => Ok(None),
            Some(Fetched::Error(f)) => self.missed(resource, what, f),
            None => {
                self.want(Want::scoped(K::KIND, key, scope.map(str::to_string)));
                self.missed(resource, what, &not_collected(K::KIND.def().operation))
            }
        }
    }

    /// The VPC link (either generation) a route goes through.
    pub fn link(&self, rp: &RoutePath) -> Hop<AnyLink<'a>> {
        let id = match &rp.link.id {
            Ok(id) => id,
            Err(why) => return skip(&self.stage_arn, format!("{why} (see vpc-link-reference)")),
        };
        let arn = self.vpc_link_arn(id);
        let what = format!("VPC link {id}");
        let missing = || {
            skip(
                &arn,
                format!("VPC link {id} does not exist (see vpc-link-reference)"),
            )
        };
        match rp.link.version {
            LinkVersion::V1 => match self.get::<res::VpcLink>(id, &arn, &what)? {
                Some(l) => Ok(AnyLink::V1(l)),
                None => missing(),
            },
            LinkVersion::V2 => match self.get::<res::VpcLinkV2>(id, &arn, &what)? {
                Some(l) => Ok(AnyLink::V2(l)),
                None => missing(),
            },
        }
    }

    /// Where a route's traffic goes after its link, before any lookup of
    /// that destination.
    pub fn route_target(&self, rp: &RoutePath) -> Hop<RouteTarget<'a>> {
        let link = self.link(rp)?;
        let upstream = match &rp.upstream {
            Ok(u) => u,
            Err(why) => {
                return skip(
                    self.vpc_link_arn(link.id()),
                    format!("{why} (see listener-port)"),
                );
            }
        };
        match (link, upstream) {
            (AnyLink::V1(l), Upstream::Url(e)) => match l.target_arns.first() {
                Some(arn) => Ok(RouteTarget::Lb(LbTarget {
                    front: Front::PrivateLink,
                    lb_arn: arn.clone(),
                    listener: ListenerSel::Port(e.port),
                    via: format!("VPC link {}", l.id),
                })),
                None => skip(
                    self.vpc_link_arn(&l.id),
                    format!(
                        "VPC link {} targets no load balancer (see load-balancer-exists)",
                        l.id
                    ),
                ),
            },
            (AnyLink::V2(l), Upstream::Url(e)) => match &rp.integration.integration_target {
                Some(arn) => Ok(RouteTarget::Lb(LbTarget {
                    front: Front::Link(l),
                    lb_arn: arn.clone(),
                    listener: ListenerSel::Port(e.port),
                    via: format!("the integration target of {}", rp.label),
                })),
                None => skip(
                    self.vpc_link_arn(&l.id),
                    format!(
                        "the integration of {} uses VPC link v2 {} but names no integration target (see load-balancer-exists)",
                        rp.label, l.id
                    ),
                ),
            },
            (AnyLink::V2(l), Upstream::Listener(arn)) => match lb_arn_of_listener(arn) {
                Some(lb) => Ok(RouteTarget::Lb(LbTarget {
                    front: Front::Link(l),
                    lb_arn: lb,
                    listener: ListenerSel::Arn(arn.clone()),
                    via: format!("listener {arn}"),
                })),
                None => skip(
                    &self.stage_arn,
                    format!("`{arn}` is not a listener ARN (see listener-port)"),
                ),
            },
            (AnyLink::V2(l), Upstream::CloudMap(arn)) => Ok(RouteTarget::CloudMap {
                link: l,
                service_arn: arn.clone(),
            }),
            (AnyLink::V1(l), _) => skip(
                self.vpc_link_arn(&l.id),
                format!(
                    "VPC link {} is a v1 link, which reaches only an NLB through a URL (see vpc-link-reference)",
                    l.id
                ),
            ),
        }
    }

    pub fn load_balancer(&self, arn: &str) -> Hop<&'a LoadBalancer> {
        match self.get::<res::LoadBalancer>(arn, arn, &format!("load balancer {arn}"))? {
            Some(lb) => Ok(lb),
            None => skip(
                arn,
                format!("load balancer {arn} does not exist (see load-balancer-exists)"),
            ),
        }
    }

    pub fn listeners(&self, lb: &LoadBalancer) -> Hop<&'a [Listener]> {
        match self.get::<res::Listeners>(
            &lb.arn,
            &lb.arn,
            &format!("the listeners of {}", lb.arn),
        )? {
            Some(l) => Ok(l.as_slice()),
            None => Ok(&[]),
        }
    }

    /// The listener a selector names, or a skip pointing at listener-port.
    pub fn select_listener(&self, lb: &LoadBalancer, sel: &ListenerSel) -> Hop<&'a Listener> {
        let listeners = self.listeners(lb)?;
        let found = match sel {
            ListenerSel::Port(p) => listeners.iter().find(|l| l.port == Some(*p)),
            ListenerSel::Arn(a) => listeners.iter().find(|l| &l.arn == a),
        };
        match (found, sel) {
            (Some(l), _) => Ok(l),
            (None, ListenerSel::Port(p)) => skip(
                &lb.arn,
                format!("{} has no listener on port {p} (see listener-port)", lb.arn),
            ),
            (None, ListenerSel::Arn(a)) => skip(
                &lb.arn,
                format!("listener {a} does not exist (see listener-port)"),
            ),
        }
    }

    /// The target groups a listener forwards to: its default action and,
    /// on an ALB, every rule's forward action. A target group every forward
    /// gives weight 0 receives no traffic and is left out.
    pub fn forward_target_groups(
        &self,
        lb: &LoadBalancer,
        listener: &'a Listener,
    ) -> Hop<Vec<&'a str>> {
        let mut actions: Vec<&'a crate::model::Action> = listener.default_actions.iter().collect();
        if lb.lb_type == Some(LbType::Application) {
            let rules = self.get::<res::ListenerRules>(
                &listener.arn,
                &listener.arn,
                &format!("the rules of listener {}", listener.arn),
            )?;
            actions.extend(rules.into_iter().flatten().flat_map(|r| r.actions.iter()));
        }
        let mut weights: BTreeMap<&'a str, i32> = BTreeMap::new();
        let mut order: Vec<&'a str> = Vec::new();
        for a in actions.into_iter().filter(|a| a.action_type == "forward") {
            for tg in &a.target_groups {
                let w = tg.weight.unwrap_or(1);
                match weights.get_mut(tg.arn.as_str()) {
                    Some(old) => *old = (*old).max(w),
                    None => {
                        weights.insert(tg.arn.as_str(), w);
                        order.push(tg.arn.as_str());
                    }
                }
            }
        }
        Ok(order
            .into_iter()
            .filter(|a| weights.get(a).is_some_and(|w| *w > 0))
            .collect())
    }

    pub fn target_group(&self, arn: &str) -> Hop<&'a TargetGroup> {
        match self.get::<res::TargetGroup>(arn, arn, &format!("target group {arn}"))? {
            Some(tg) => Ok(tg),
            None => skip(arn, format!("target group {arn} does not exist")),
        }
    }

    pub fn target_health(&self, tg: &TargetGroup) -> Hop<&'a [TargetHealth]> {
        match self.get::<res::TargetHealth>(
            &tg.arn,
            &tg.arn,
            &format!("the target health of {}", tg.arn),
        )? {
            Some(t) => Ok(t.as_slice()),
            None => skip(&tg.arn, format!("target group {} does not exist", tg.arn)),
        }
    }

    pub fn cloud_map_service(&self, arn: &str) -> Hop<&'a CloudMapService> {
        match self.get::<res::CloudMapService>(arn, arn, &format!("Cloud Map service {arn}"))? {
            Some(s) => Ok(s),
            None => skip(
                arn,
                format!("Cloud Map service {arn} does not exist (see target-health)"),
            ),
        }
    }

    pub fn subnet(&self, id: &str, resource: &str) -> Hop<&'a Subnet> {
        match self.get::<res::Subnet>(id, resource, &format!("subnet {id}"))? {
            Some(s) => Ok(s),
            None => skip(resource, format!("subnet {id} does not exist")),
        }
    }

    /// A subnet's IPv4 CIDR; a subnet without one cannot carry the path.
    pub fn subnet_cidr(&self, id: &str, resource: &str) -> Hop<Ipv4Net> {
        let s = self.subnet(id, resource)?;
        match s.cidr_block.as_deref().and_then(parse_v4) {
            Some(n) => Ok(n),
            None => skip(resource, format!("subnet {id} has no IPv4 CIDR block")),
        }
    }

    pub fn security_group(&self, id: &str, resource: &str) -> Hop<&'a SecurityGroup> {
        match self.get::<res::SecurityGroup>(id, resource, &format!("security group {id}"))? {
            Some(s) => Ok(s),
            None => skip(resource, format!("security group {id} does not exist")),
        }
    }

    pub fn security_groups(&self, ids: &[String], resource: &str) -> Hop<Vec<&'a SecurityGroup>> {
        // Look every group up before failing on one, so a planning run
        // wants them all at once.
        let all: Vec<Hop<&'a SecurityGroup>> = ids
            .iter()
            .map(|id| self.security_group(id, resource))
            .collect();
        all.into_iter().collect()
    }

    pub fn network_acl(&self, subnet_id: &str, resource: &str) -> Hop<&'a NetworkAcl> {
        match self.get::<res::NetworkAcl>(
            subnet_id,
            resource,
            &format!("the network ACL of subnet {subnet_id}"),
        )? {
            Some(a) => Ok(a),
            None => skip(resource, format!("subnet {subnet_id} has no network ACL")),
        }
    }

    /// The route table a subnet uses; `vpc`, when known, saves the
    /// collector reading the subnet to find its VPC's main table.
    pub fn route_table(
        &self,
        subnet_id: &str,
        vpc: Option<&str>,
        resource: &str,
    ) -> Hop<&'a RouteTable> {
        let what = format!("the route table of subnet {subnet_id}");
        match self.get_scoped::<res::RouteTable>(subnet_id, vpc, resource, &what)? {
            Some(t) => Ok(t),
            None => skip(resource, format!("subnet {subnet_id} has no route table")),
        }
    }

    /// A prefix list's IPv4 CIDRs, or `None` when it could not be read.
    pub fn prefix_list_cidrs(&self, id: &str) -> Option<Vec<Ipv4Net>> {
        match self.region.prefix_lists.get(id) {
            Some(Fetched::Ok(pl)) => Some(pl.cidrs.iter().filter_map(|c| parse_v4(c)).collect()),
            Some(_) => None,
            None => {
                self.want(Want::new(Kind::PrefixList, id));
                None
            }
        }
    }

    /// Where the registered targets of a group sit on the network: one
    /// location for an instance or IP target, one per zone for an ALB.
    pub fn target_locations(
        &self,
        tg: &TargetGroup,
        target: &TargetHealth,
    ) -> Hop<Vec<TargetLocation>> {
        // A target group without a type holds instances, AWS's default.
        let kind = tg.target_type.as_ref().unwrap_or(&TargetType::Instance);
        let resource = tg.arn.as_str();
        match kind {
            TargetType::Instance => {
                let id = &target.target_id;
                let inst =
                    match self.get::<res::Instance>(id, resource, &format!("instance {id}"))? {
                        Some(i) => i,
                        None => return skip(resource, format!("instance {id} does not exist")),
                    };
                let (Some(subnet), Some(ip)) = (
                    &inst.subnet_id,
                    inst.private_ip.as_deref().and_then(parse_ip),
                ) else {
                    return skip(
                        resource,
                        format!("instance {id} has no subnet or private IPv4 address"),
                    );
                };
                Ok(vec![TargetLocation::host(
                    id,
                    ip,
                    (
                        subnet,
                        inst.vpc_id.as_ref(),
                        inst.availability_zone.as_ref(),
                    ),
                    &inst.security_groups,
                )])
            }
            TargetType::Ip => self
                .ip_location(&target.target_id, tg.vpc_id.as_deref(), resource)
                .map(|l| vec![l]),
            TargetType::Alb => {
                let alb = self.load_balancer(&target.target_id)?;
                let mut out = Vec::new();
                for z in &alb.zones {
                    let Some(sid) = &z.subnet_id else { continue };
                    let cidr = self.subnet_cidr(sid, resource)?;
                    out.push(TargetLocation {
                        target: format!("ALB {}", alb.name.as_deref().unwrap_or(&alb.arn)),
                        addrs: AddrSet::from_net(&cidr),
                        exact: false,
                        subnet_id: sid.clone(),
                        vpc_id: alb.vpc_id.clone(),
                        az: z.zone_name.clone(),
                        security_groups: alb.security_groups.clone(),
                    });
                }
                Ok(out)
            }
            other => skip(
                resource,
                format!(
                    "targets of type {other} are not reached through security groups and subnets"
                ),
            ),
        }
    }

    /// The network interface holding a private address, as a location.
    pub fn ip_location(
        &self,
        ip_text: &str,
        vpc: Option<&str>,
        resource: &str,
    ) -> Hop<TargetLocation> {
        let Some(ip) = parse_ip(ip_text) else {
            return skip(resource, format!("target {ip_text} is not an IPv4 address"));
        };
        let enis = match self.get_scoped::<res::NetworkInterface>(
            ip_text,
            vpc,
            resource,
            &format!("the network interface holding {ip_text}"),
        )? {
            Some(e) => e,
            None => return skip(resource, format!("no network interface holds {ip_text}")),
        };
        match enis.iter().find(|e| e.subnet_id.is_some()) {
            Some(eni) => Ok(TargetLocation::host(
                ip_text,
                ip,
                (
                    eni.subnet_id.as_deref().unwrap_or_default(),
                    eni.vpc_id.as_ref(),
                    None,
                ),
                &eni.security_groups,
            )),
            None => skip(
                resource,
                format!(
                    "{ip_text} is not on a network interface in this account (outside the VPC or on premises), so its security groups and subnet are not visible"
                ),
            ),
        }
    }
}

/// A place traffic arrives at or leaves from: its addresses, subnet and
/// security groups.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetLocation {
    /// How messages name it: an instance id, an address, "ALB name".
    pub target: String,
    pub addrs: AddrSet,
    /// Whether `addrs` is the exact address (else the whole subnet).
    pub exact: bool,
    pub subnet_id: String,
    /// The VPC of the subnet, when the record that placed it says.
    pub vpc_id: Option<String>,
    /// Its Availability Zone, when the record that placed it says.
    pub az: Option<String>,
    pub security_groups: Vec<String>,
}

impl TargetLocation {
    fn host(
        target: &str,
        ip: std::net::Ipv4Addr,
        (subnet, vpc, az): (&str, Option<&String>, Option<&String>),
        groups: &[String],
    ) -> Self {
        TargetLocation {
            target: if target == ip.to_string() {
                format!("target {target}")
            } else {
                format!("target {target} ({ip})")
            },
            addrs: AddrSet::from_nets([&Ipv4Net::from(ip)]),
            exact: true,
            subnet_id: subnet.to_string(),
            vpc_id: vpc.cloned(),
            az: az.cloned(),
            security_groups: groups.to_vec(),
        }
    }
}

fn parse_ip(s: &str) -> Option<std::net::Ipv4Addr> {
    s.trim().parse().ok()
}

/// The load balancer ARN a listener ARN belongs to:
/// `...:listener/app/name/lbid/lid` -> `...:loadbalancer/app/name/lbid`.
pub fn lb_arn_of_listener(listener_arn: &str) -> Option<String> {
    let (head, tail) = listener_arn.split_once(":listener/")?;
    let parts: Vec<&str> = tail.split('/').collect();
    if parts.len() != 4 {
        return None;
    }
    Some(format!(
        "{head}:loadbalancer/{}/{}/{}",
        parts[0], parts[1], parts[2]
    ))
}

/// The AWS partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

pub fn api_arn(region: &str, api: &ApiRecord) -> String {
    let coll = match api.kind {
        ApiKind::Rest => "restapis",
        ApiKind::Http => "apis",
    };
    format!(
        "arn:{}:apigateway:{region}::/{coll}/{}",
        partition(region),
        api.id
    )
}

pub fn stage_arn(region: &str, api: &ApiRecord, stage: &str) -> String {
    format!("{}/stages/{stage}", api_arn(region, api))
}

thread_local! {
    /// The `(stage, variable)` pairs resolved while recording (see
    /// [`recording_resolved`]); `None` when nobody records.
    static RESOLVED: RefCell<Option<BTreeSet<(String, String)>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns, beside its result, every stage variable
/// [`substitute_stage_variables`] resolved meanwhile, as `(stage, name)`:
/// the variables a verdict was built on, which `--redact` keeps.
pub fn recording_resolved<R>(f: impl FnOnce() -> R) -> (R, BTreeSet<(String, String)>) {
    let outer = RESOLVED.with(|r| r.replace(Some(BTreeSet::new())));
    let got = f();
    let resolved = RESOLVED.with(|r| r.replace(outer)).unwrap_or_default();
    (got, resolved)
}

fn note_resolved(stage: &Stage, name: &str) {
    RESOLVED.with(|r| {
        if let Some(set) = r.borrow_mut().as_mut() {
            set.insert((stage.name.clone(), name.to_string()));
        }
    });
}

/// The stage variables `text` references, with their values: what a
/// finding's evidence may show of them (never the stage's whole set, which
/// can hold secrets no check needs).
pub fn variables_in(text: &str, stage: &Stage) -> BTreeMap<String, String> {
    const OPEN: &str = "${stageVariables.";
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if let Some(v) = stage.variables.get(name) {
            out.insert(name.to_string(), v.clone());
        }
        rest = &after[end + 1..];
    }
    out
}

/// Resolves `${stageVariables.NAME}` references in `text`.
pub fn substitute_stage_variables(text: &str, stage: &Stage) -> Result<String, String> {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "`{text}` has an unterminated stage variable reference"
            ));
        };
        let name = &after[..end];
        match stage.variables.get(name) {
            Some(v) => {
                note_resolved(stage, name);
                out.push_str(v);
            }
            None => {
                return Err(format!(
                    "stage variable `{name}` used by `{text}` is not defined on stage {}",
                    stage.name
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The stage variable an expression consists of, if it is exactly one.
fn sole_variable(raw: &str) -> Option<String> {
    raw.trim()
        .strip_prefix("${stageVariables.")
        .and_then(|s| s.strip_suffix('}'))
        .map(str::to_string)
}

/// The VPC-link routes of `api` as `stage` resolves them.
pub fn route_paths<'a>(api: &'a ApiRecord, stage: &Stage) -> Vec<RoutePath<'a>> {
    match &api.routes {
        Fetched::Ok(routes) => routes
            .iter()
            .filter_map(|r| route_path(api, stage, r))
            .collect(),
        _ => Vec::new(),
    }
}

fn route_path<'a>(api: &ApiRecord, stage: &Stage, route: &'a Route) -> Option<RoutePath<'a>> {
    let integration = route.integration.as_ref()?;
    if !integration
        .connection_type
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("VPC_LINK"))
    {
        return None;
    }
    let version = match api.kind {
        ApiKind::Http => LinkVersion::V2,
        ApiKind::Rest if integration.integration_target.is_some() => LinkVersion::V2,
        ApiKind::Rest => LinkVersion::V1,
    };
    let raw = integration.connection_id.clone().unwrap_or_default();
    let link = LinkRef {
        version,
        variable: sole_variable(&raw),
        id: if raw.trim().is_empty() {
            Err(format!(
                "the integration of {} has no connection id",
                route.label()
            ))
        } else {
            substitute_stage_variables(&raw, stage).and_then(|id| {
                if id.trim().is_empty() {
                    Err(format!(
                        "connection id `{raw}` resolves to an empty string on stage {}",
                        stage.name
                    ))
                } else {
                    Ok(id.trim().to_string())
                }
            })
        },
        raw,
    };
    let upstream = match integration.uri.as_deref() {
        None | Some("") => Err(format!("the integration of {} has no URI", route.label())),
        Some(uri) => {
            substitute_stage_variables(uri, stage).and_then(|u| parse_upstream(api.kind, &u))
        }
    };
    Some(RoutePath {
        route,
        label: route.label(),
        integration,
        link,
        upstream,
    })
}

fn parse_upstream(kind: ApiKind, uri: &str) -> Result<Upstream, String> {
    if uri.starts_with("arn:") {
        if uri.contains(":elasticloadbalancing:") && uri.contains(":listener/") {
            return Ok(Upstream::Listener(uri.to_string()));
        }
        if uri.contains(":servicediscovery:") && uri.contains(":service/") {
            return Ok(Upstream::CloudMap(uri.to_string()));
        }
        return Err(format!(
            "integration URI `{uri}` is neither a load balancer listener ARN nor a Cloud Map service ARN"
        ));
    }
    if kind == ApiKind::Http {
        return Err(format!(
            "integration URI `{uri}` of an HTTP API private integration must be a listener or Cloud Map service ARN"
        ));
    }
    parse_endpoint(uri).map(Upstream::Url)
}

/// Parses an integration URI into scheme, host and the port the gateway
/// connects to (the explicit port, else 80 for http and 443 for https).
pub fn parse_endpoint(uri: &str) -> Result<Endpoint, String> {
    let parsed = url::Url::parse(uri)
        .map_err(|e| format!("integration URI `{uri}` is not a valid URL ({e})"))?;
    let scheme = parsed.scheme().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "integration URI `{uri}` uses scheme {scheme}, not http or https"
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("integration URI `{uri}` has no host"))?
        .to_ascii_lowercase();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| format!("integration URI `{uri}` has no port"))?;
    Ok(Endpoint {
        uri: uri.to_string(),
        scheme,
        host,
        port,
    })
}

/// The IDs the collector must read for a route to be walked: used by the
/// collector's first level, before any check can run.
pub fn referenced_links(api: &ApiRecord, stage: &Stage) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut v1 = BTreeSet::new();
    let mut v2 = BTreeSet::new();
    for rp in route_paths(api, stage) {
        if let Ok(id) = rp.link.id {
            match rp.link.version {
                LinkVersion::V1 => v1.insert(id),
                LinkVersion::V2 => v2.insert(id),
            };
        }
    }
    (v1, v2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(vars: &[(&str, &str)]) -> Stage {
        Stage {
            name: "prod".into(),
            deployment_id: None,
            variables: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            method_settings: Default::default(),
            access_log: None,
            auto_deploy: None,
        }
    }

    #[test]
    fn endpoint_ports_follow_the_scheme_unless_explicit() {
        assert_eq!(
            parse_endpoint("http://nlb.example:8080/x/{id}")
                .unwrap()
                .port,
            8080
        );
        assert_eq!(parse_endpoint("http://nlb.example/x").unwrap().port, 80);
        let e = parse_endpoint("HTTPS://API.Internal.Example/x").unwrap();
        assert_eq!(
            (e.scheme.as_str(), e.host.as_str(), e.port),
            ("https", "api.internal.example", 443)
        );
        assert!(parse_endpoint("ftp://x/").is_err());
        assert!(parse_endpoint("not a url").is_err());
    }

    #[test]
    fn upstreams_by_api_kind() {
        let l = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";
        assert_eq!(
            parse_upstream(ApiKind::Http, l),
            Ok(Upstream::Listener(l.into()))
        );
        let s = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-e4anhexample0004";
        assert_eq!(
            parse_upstream(ApiKind::Http, s),
            Ok(Upstream::CloudMap(s.into()))
        );
        assert!(parse_upstream(ApiKind::Http, "http://x/").is_err());
        assert!(matches!(
            parse_upstream(ApiKind::Rest, "http://x/"),
            Ok(Upstream::Url(_))
        ));
    }

    #[test]
    fn listener_arns_name_their_load_balancer() {
        assert_eq!(
            lb_arn_of_listener(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
            )
            .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")
        );
        assert_eq!(
            lb_arn_of_listener("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y"),
            None
        );
    }

    #[test]
    fn stage_variables_substitute_or_name_the_missing_one() {
        let s = stage(&[("host", "nlb.example"), ("link", "abc123")]);
        assert_eq!(
            substitute_stage_variables("http://${stageVariables.host}:81/", &s).unwrap(),
            "http://nlb.example:81/"
        );
        let err = substitute_stage_variables("${stageVariables.vpcLinkId}", &s).unwrap_err();
        assert!(
            err.contains("`vpcLinkId`") && err.contains("stage prod"),
            "{err}"
        );
        assert!(substitute_stage_variables("${stageVariables.x", &s).is_err());
        assert_eq!(
            sole_variable("${stageVariables.link}").as_deref(),
            Some("link")
        );
        assert_eq!(sole_variable("abc"), None);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
    }
}
