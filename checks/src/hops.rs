//! The walk every path check shares: from a stage's VPC-link routes to the
//! listeners, target groups and Cloud Map services they reach, for every
//! topology API Gateway offers:
//!
//! | API  | link | integration points at |
//! |------|------|-----------------------|
//! | REST | v1   | the link's NLB, on the URI's port |
//! | REST | v2   | the integration target (ALB or NLB), on the URI's port |
//! | HTTP | v2   | a listener ARN, or a Cloud Map service ARN |
//! | any  | any  | an NLB whose target group holds an ALB (followed one level) |
//!
//! Grouping routes by hop here is what keeps evaluation linear in the
//! snapshot: a security group or NACL path behind a target group is judged
//! once per stage, however many routes reach it.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;

use crate::model::{
    CloudMapService, Listener, LoadBalancer, SecurityGroup, TargetGroup, TargetHealth, VpcLinkV2,
};
use crate::net::AddrSet;
use crate::resources as res;
use crate::toolkit::{Findings, private_routes, skip};
use crate::view::{Blocked, BlockedKind, Front, Hop, RouteTarget, StageView, TargetLocation};

/// A listener a route's traffic reaches, and how it gets there.
pub struct ListenerHop<'a> {
    pub front: Front<'a>,
    pub lb: &'a LoadBalancer,
    pub listener: &'a Listener,
    pub routes: BTreeSet<String>,
}

/// A target group reached through a load balancer's listeners.
pub struct TargetGroupHop<'a> {
    pub lb: &'a LoadBalancer,
    pub listeners: Vec<&'a Listener>,
    pub tg: &'a TargetGroup,
    pub routes: BTreeSet<String>,
}

/// A Cloud Map service an HTTP API integration reaches through a link.
pub struct CloudMapHop<'a> {
    pub link: &'a VpcLinkV2,
    pub service: &'a CloudMapService,
    pub routes: BTreeSet<String>,
}

/// Where a walk from a listener ends without reaching a target group.
pub enum DeadEnd<'a> {
    /// The listener forwards to no target group.
    NoForward {
        listener: &'a Listener,
        route: String,
    },
    /// The listener forwards to a target group that does not exist.
    MissingGroup { arn: &'a str, route: String },
}

/// Everything a stage's routes reach.
pub struct Walk<'a> {
    pub listeners: Vec<ListenerHop<'a>>,
    pub target_groups: Vec<TargetGroupHop<'a>>,
    pub cloud_map: Vec<CloudMapHop<'a>>,
    /// Reported as failures by `target-health`, as skips by the others.
    pub dead_ends: Vec<DeadEnd<'a>>,
}

impl Walk<'_> {
    /// Reports the dead ends as not applicable, pointing at `target-health`.
    pub fn skip_dead_ends(&self, out: &mut Findings) {
        for d in &self.dead_ends {
            let (resource, route, reason) = match d {
                DeadEnd::NoForward { listener, route } => (
                    listener.arn.as_str(),
                    route,
                    format!(
                        "listener {} forwards to no target group (see target-health)",
                        listener.arn
                    ),
                ),
                DeadEnd::MissingGroup { arn, route } => (
                    *arn,
                    route,
                    format!("target group {arn} does not exist (see target-health)"),
                ),
            };
            out.add(skip(out.meta(), resource, reason).routes([route.clone()]));
        }
    }
}

fn front_key(f: &Front) -> String {
    match f {
        Front::PrivateLink => "privatelink".to_string(),
        Front::Link(l) => format!("link:{}", l.id),
        Front::Nlb { tg, .. } => format!("nlb:{}", tg.arn),
    }
}

/// Walks every VPC-link route of the stage. Routes that stop on the way are
/// reported on `out` (skipped or errored, on the deepest resource reached).
pub fn walk<'a>(view: &StageView<'a>, out: &mut Findings) -> Walk<'a> {
    let mut w = Walk {
        listeners: Vec::new(),
        target_groups: Vec::new(),
        cloud_map: Vec::new(),
        dead_ends: Vec::new(),
    };
    let Some(routes) = private_routes(view, out) else {
        return w;
    };
    let mut lhops: BTreeMap<(String, String, String), ListenerHop<'a>> = BTreeMap::new();
    let mut cmhops: BTreeMap<(String, String), CloudMapHop<'a>> = BTreeMap::new();
    for rp in routes {
        let target = match view.route_target(rp) {
            Ok(t) => t,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        match target {
            RouteTarget::CloudMap { link, service_arn } => {
                match view.cloud_map_service(&service_arn) {
                    Ok(service) => {
                        cmhops
                            .entry((link.id.clone(), service.arn.clone()))
                            .or_insert_with(|| CloudMapHop {
                                link,
                                service,
                                routes: BTreeSet::new(),
                            })
                            .routes
                            .insert(rp.label.clone());
                    }
                    Err(b) => out.blocked(&b, &[&rp.label]),
                }
            }
            RouteTarget::Lb(t) => {
                let found = view
                    .load_balancer(&t.lb_arn)
                    .and_then(|lb| view.select_listener(lb, &t.listener).map(|l| (lb, l)));
                match found {
                    Ok((lb, listener)) => {
                        lhops
                            .entry((lb.arn.clone(), listener.arn.clone(), front_key(&t.front)))
                            .or_insert_with(|| ListenerHop {
                                front: t.front,
                                lb,
                                listener,
                                routes: BTreeSet::new(),
                            })
                            .routes
                            .insert(rp.label.clone());
                    }
                    Err(b) => out.blocked(&b, &[&rp.label]),
                }
            }
        }
    }

    let mut queue: Vec<ListenerHop<'a>> = lhops.into_values().collect();
    let mut tghops: BTreeMap<(String, String), TargetGroupHop<'a>> = BTreeMap::new();
    let mut i = 0;
    while i < queue.len() {
        let (lb, listener, front) = (queue[i].lb, queue[i].listener, queue[i].front);
        let routes = queue[i].routes.clone();
        i += 1;
        let route_list: Vec<String> = routes.iter().cloned().collect();
        let arns = match view.forward_target_groups(lb, listener) {
            Ok(a) => a,
            Err(b) => {
                out.blocked(&b, &route_list);
                continue;
            }
        };
        if arns.is_empty() {
            for r in &routes {
                w.dead_ends.push(DeadEnd::NoForward {
                    listener,
                    route: r.clone(),
                });
            }
        }
        for arn in arns {
            let tg = match view.target_group(arn) {
                Ok(tg) => tg,
                Err(b) if matches!(b.kind, BlockedKind::Skip(_)) => {
                    for r in &routes {
                        w.dead_ends.push(DeadEnd::MissingGroup {
                            arn,
                            route: r.clone(),
                        });
                    }
                    continue;
                }
                Err(b) => {
                    out.blocked(&b, &route_list);
                    continue;
                }
            };
            let hop = tghops
                .entry((lb.arn.clone(), tg.arn.clone()))
                .or_insert_with(|| TargetGroupHop {
                    lb,
                    listeners: Vec::new(),
                    tg,
                    routes: BTreeSet::new(),
                });
            if !hop.listeners.iter().any(|l| l.arn == listener.arn) {
                hop.listeners.push(listener);
            }
            hop.routes.extend(routes.iter().cloned());
            // An NLB forwarding to an ALB: follow it one level (an ALB
            // cannot itself forward to a load balancer).
            if tg.target_type.as_deref() == Some("alb") && !matches!(front, Front::Nlb { .. }) {
                let targets = match view.target_health(tg) {
                    Ok(t) => t,
                    Err(b) => {
                        out.blocked(&b, &route_list);
                        continue;
                    }
                };
                for t in targets {
                    let Some(port) = t.port.or(tg.port) else {
                        continue;
                    };
                    let next = view.load_balancer(&t.target_id).and_then(|alb| {
                        view.select_listener(alb, &crate::view::ListenerSel::Port(port))
                            .map(|l| (alb, l))
                    });
                    match next {
                        Ok((alb, l)) => queue.push(ListenerHop {
                            front: Front::Nlb { nlb: lb, tg },
                            lb: alb,
                            listener: l,
                            routes: routes.clone(),
                        }),
                        Err(b) => out.blocked(&b, &route_list),
                    }
                }
            }
        }
    }
    w.listeners = queue;
    w.target_groups = tghops.into_values().collect();
    w.cloud_map = cmhops.into_values().collect();
    w
}

/// What API Gateway's TLS client meets on one route: the scheme it speaks,
/// the host it verifies, and the listener where TLS ends.
pub struct RouteTls<'a> {
    /// `http` or `https`. HTTP APIs speak what the listener speaks.
    pub scheme: String,
    /// The name verified, and where it comes from ("the URI host",
    /// "serverNameToVerify"); `None` when no name is verified.
    pub host: Option<(String, &'static str)>,
    pub lb: &'a LoadBalancer,
    pub listener: &'a Listener,
    /// The listener that terminates TLS: the first one when it speaks TLS
    /// or HTTPS, or the ALB listener behind an NLB's TCP listener.
    pub tls_end: Option<(&'a LoadBalancer, &'a Listener)>,
    pub skip_verification: bool,
}

pub fn is_tls(protocol: Option<&str>) -> bool {
    matches!(protocol, Some("TLS") | Some("HTTPS"))
}

/// The TLS view of a route that reaches a load balancer.
pub fn route_tls<'a>(
    view: &StageView<'a>,
    rp: &crate::view::RoutePath,
) -> Hop<Option<RouteTls<'a>>> {
    let RouteTarget::Lb(t) = view.route_target(rp)? else {
        return Ok(None);
    };
    let lb = view.load_balancer(&t.lb_arn)?;
    let listener = view.select_listener(lb, &t.listener)?;
    let tls = rp.integration.tls_config.as_ref();
    let server_name = tls
        .and_then(|t| t.server_name_to_verify.clone())
        .filter(|s| !s.is_empty());
    let skip_verification = tls
        .and_then(|t| t.insecure_skip_verification)
        .unwrap_or(false);
    let mut tls_end = if is_tls(listener.protocol.as_deref()) {
        Some((lb, listener))
    } else {
        None
    };
    if tls_end.is_none() && listener.protocol.as_deref() == Some("TCP") {
        // An NLB passing TCP to an ALB: TLS ends at the ALB's listener.
        for arn in view.forward_target_groups(lb, listener)? {
            let tg = view.target_group(arn)?;
            if tg.target_type.as_deref() != Some("alb") {
                continue;
            }
            if let Some(target) = view.target_health(tg)?.first()
                && let Some(port) = target.port.or(tg.port)
            {
                let alb = view.load_balancer(&target.target_id)?;
                let l = view.select_listener(alb, &crate::view::ListenerSel::Port(port))?;
                if is_tls(l.protocol.as_deref()) {
                    tls_end = Some((alb, l));
                }
            }
            break;
        }
    }
    let (scheme, host) = match rp.endpoint() {
        Some(e) => (
            e.scheme.clone(),
            Some(match server_name {
                Some(n) => (n, "serverNameToVerify"),
                None => (e.host.clone(), "the integration URI's host"),
            }),
        ),
        None => (
            if tls_end.is_some() {
                "https".to_string()
            } else {
                "http".to_string()
            },
            server_name.map(|n| (n, "serverNameToVerify")),
        ),
    };
    Ok(Some(RouteTls {
        scheme,
        host,
        lb,
        listener,
        tls_end,
        skip_verification,
    }))
}

/// A certificate a listener can present.
pub struct ListenerCert<'a> {
    pub arn: String,
    pub is_default: bool,
    pub cert: Hop<&'a crate::model::Certificate>,
}

/// Every certificate a TLS listener can present (the default first, then
/// SNI certificates), each looked up in ACM.
pub fn listener_certs<'a>(
    view: &StageView<'a>,
    listener: &'a Listener,
) -> Hop<Vec<ListenerCert<'a>>> {
    let listed = view.get::<res::ListenerCertificates>(
        &listener.arn,
        &listener.arn,
        &format!("the certificates of listener {}", listener.arn),
    )?;
    let mut arns: Vec<(String, bool)> = match listed {
        Some(list) => list.iter().map(|c| (c.arn.clone(), c.is_default)).collect(),
        None => listener
            .certificate_arns
            .iter()
            .map(|a| (a.clone(), true))
            .collect(),
    };
    if !arns.iter().any(|(_, d)| *d)
        && let Some(first) = listener.certificate_arns.first()
    {
        arns.push((first.clone(), true));
    }
    arns.sort_by_key(|(_, d)| !d);
    arns.dedup_by(|a, b| a.0 == b.0);
    Ok(arns
        .into_iter()
        .map(|(arn, is_default)| {
            let cert = if arn.contains(":iam::") {
                Err(Blocked {
                    resource: arn.clone(),
                    kind: BlockedKind::Error {
                        what: format!("IAM server certificate {arn}"),
                        failure: Box::new(crate::view::not_collected("iam:GetServerCertificate")),
                    },
                })
            } else {
                view.get::<res::Certificate>(&arn, &arn, &format!("certificate {arn}"))
                    .and_then(|c| match c {
                        Some(c) => Ok(c),
                        None => crate::view::skip(
                            &arn,
                            format!("certificate {arn} does not exist in ACM"),
                        ),
                    })
            };
            ListenerCert {
                arn,
                is_default,
                cert,
            }
        })
        .collect())
}

/// The certificate a listener presents for `host`: one whose names cover
/// it (SNI), else the default. Every certificate must be readable to
/// decide: one that is not might be the one that covers the host.
pub fn presented_cert<'a, 'c>(
    certs: &'c [ListenerCert<'a>],
    host: Option<&str>,
) -> Hop<Option<&'c ListenerCert<'a>>> {
    for c in certs {
        if let Err(b) = &c.cert {
            return Err(b.clone());
        }
    }
    if let Some(h) = host
        && let Some(m) = certs.iter().find(|c| {
            c.cert
                .as_ref()
                .is_ok_and(|cert| crate::tls::matching_name(&cert.names(), h).is_some())
        })
    {
        return Ok(Some(m));
    }
    Ok(certs.iter().find(|c| c.is_default).or(certs.first()))
}

/// For the checks that apply only to VPC link v1 (PrivateLink): the NLB a
/// route reaches, or why the check does not apply to it.
pub fn privatelink_nlb<'a>(
    view: &StageView<'a>,
    rp: &crate::view::RoutePath,
) -> Hop<&'a LoadBalancer> {
    const V2: &str = "the route uses a VPC link v2, which reaches its target through its own network interfaces, not through a PrivateLink endpoint service";
    match view.route_target(rp)? {
        RouteTarget::Lb(t) if matches!(t.front, Front::PrivateLink) => {
            view.load_balancer(&t.lb_arn)
        }
        RouteTarget::Lb(t) => crate::view::skip(t.lb_arn, V2),
        RouteTarget::CloudMap { service_arn, .. } => crate::view::skip(service_arn, V2),
    }
}

/// The port a target receives traffic on, and the port its health checks
/// probe (`traffic-port` means the same one).
pub fn target_ports(tg: &TargetGroup, target: &TargetHealth) -> Option<(u16, u16)> {
    let traffic = target.port.or(tg.port)?;
    let health = match tg.health_check.port.as_deref() {
        None | Some("traffic-port") => traffic,
        Some(p) => p.trim().parse().ok()?,
    };
    Some((traffic, health))
}

/// One subnet of a side of a hop, and the addresses it may use there.
#[derive(Debug, Clone)]
pub struct Zone {
    pub subnet_id: String,
    pub cidr: Option<Ipv4Net>,
    pub addrs: AddrSet,
    /// Whether `addrs` is exact (a node's or host's own address).
    pub exact: bool,
}

/// One end of a hop: where it sits and which security groups it carries.
pub struct Side<'a> {
    /// How messages name it: "NLB orders-nlb", "VPC link abc", "target i-1 (10.0.1.5)".
    pub label: String,
    pub zones: Vec<Zone>,
    pub group_ids: Vec<String>,
    pub groups: Vec<&'a SecurityGroup>,
}

impl Side<'_> {
    pub fn addrs(&self) -> AddrSet {
        self.zones
            .iter()
            .fold(AddrSet::empty(), |acc, z| acc.union(&z.addrs))
    }

    pub fn exact(&self) -> bool {
        !self.zones.is_empty() && self.zones.iter().all(|z| z.exact)
    }

    /// The label with the addresses, unless the label already names them.
    pub fn described(&self) -> String {
        let addrs = self.addrs().to_string();
        let bare = addrs.trim_end_matches("/32");
        if self.exact() && !addrs.contains(',') && self.label.contains(bare) {
            self.label.clone()
        } else {
            format!("{} ({addrs})", self.label)
        }
    }
}

fn lb_label(lb: &LoadBalancer) -> String {
    let kind = match lb.lb_type.as_deref() {
        Some("network") => "NLB",
        Some("application") => "ALB",
        _ => "load balancer",
    };
    format!("{kind} {}", lb.name.as_deref().unwrap_or(&lb.arn))
}

/// A load balancer as one end of a hop: one zone per subnet, at the node's
/// own address when AWS reports it, else the whole subnet.
pub fn lb_side<'a>(view: &StageView<'a>, lb: &LoadBalancer, resource: &str) -> Hop<Side<'a>> {
    // Every part is looked up before any failure returns, so a planning
    // run asks for all of them in one level.
    let cidrs: Vec<Hop<Ipv4Net>> = lb
        .zones
        .iter()
        .filter_map(|z| z.subnet_id.as_deref())
        .map(|sid| view.subnet_cidr(sid, resource))
        .collect();
    let groups = view.security_groups(&lb.security_groups, resource);
    let mut zones = Vec::new();
    for (z, cidr) in lb.zones.iter().filter(|z| z.subnet_id.is_some()).zip(cidrs) {
        let sid = z.subnet_id.as_deref().unwrap_or_default();
        let cidr = cidr?;
        let nodes: Vec<Ipv4Net> = z
            .private_ipv4_addresses
            .iter()
            .filter_map(|a| a.parse::<std::net::Ipv4Addr>().ok())
            .map(Ipv4Net::from)
            .collect();
        let exact = !nodes.is_empty();
        zones.push(Zone {
            subnet_id: sid.to_string(),
            cidr: Some(cidr),
            addrs: if exact {
                AddrSet::from_nets(nodes.iter())
            } else {
                AddrSet::from_net(&cidr)
            },
            exact,
        });
    }
    Ok(Side {
        label: lb_label(lb),
        zones,
        group_ids: lb.security_groups.clone(),
        groups: groups?,
    })
}

/// A VPC link v2 as one end of a hop: its interfaces sit in its subnets
/// (at addresses configuration does not show) with its security groups.
pub fn link_side<'a>(view: &StageView<'a>, link: &VpcLinkV2, resource: &str) -> Hop<Side<'a>> {
    let cidrs: Vec<Hop<Ipv4Net>> = link
        .subnet_ids
        .iter()
        .map(|sid| view.subnet_cidr(sid, resource))
        .collect();
    let groups = view.security_groups(&link.security_group_ids, resource);
    let mut zones = Vec::new();
    for (sid, cidr) in link.subnet_ids.iter().zip(cidrs) {
        let cidr = cidr?;
        zones.push(Zone {
            subnet_id: sid.clone(),
            cidr: Some(cidr),
            addrs: AddrSet::from_net(&cidr),
            exact: false,
        });
    }
    Ok(Side {
        label: format!("VPC link {}", link.id),
        zones,
        group_ids: link.security_group_ids.clone(),
        groups: groups?,
    })
}

/// A target (or ALB zone, or Cloud Map instance) as one end of a hop.
pub fn location_side<'a>(
    view: &StageView<'a>,
    loc: &TargetLocation,
    resource: &str,
) -> Hop<Side<'a>> {
    Ok(Side {
        label: loc.target.clone(),
        zones: vec![Zone {
            subnet_id: loc.subnet_id.clone(),
            cidr: None,
            addrs: loc.addrs.clone(),
            exact: loc.exact,
        }],
        group_ids: loc.security_groups.clone(),
        groups: view.security_groups(&loc.security_groups, resource)?,
    })
}
