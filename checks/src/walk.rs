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
//! The walk runs once per stage ([`crate::toolkit::StageCtx::walk`]) and
//! is pure data: where routes stop is recorded in [`Walk::stopped`], and
//! each check reports those stops as its own findings. Grouping routes by
//! hop here is what keeps evaluation linear in the snapshot: a security
//! group or NACL path behind a target group is judged once per stage,
//! however many routes reach it.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{CloudMapService, Listener, LoadBalancer, TargetGroup, TargetType, VpcLinkV2};
use crate::view::{Blocked, Front, Hop, ListenerSel, RoutePath, RouteTarget, StageView};

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
    /// What sends to the load balancer on the way here, once each: with
    /// client IP preservation, the source the targets see depends on it.
    pub fronts: Vec<Front<'a>>,
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

/// Routes that stopped on the way, and where: on the deepest resource
/// reached, skipped or errored.
pub struct Stopped {
    pub blocked: Blocked,
    pub routes: Vec<String>,
}

/// Everything a stage's routes reach.
#[derive(Default)]
pub struct Walk<'a> {
    pub listeners: Vec<ListenerHop<'a>>,
    pub target_groups: Vec<TargetGroupHop<'a>>,
    pub cloud_map: Vec<CloudMapHop<'a>>,
    /// Reported as failures by `target-health`, as skips by the others.
    pub dead_ends: Vec<DeadEnd<'a>>,
    /// In the order the walk met them, which is the order checks report
    /// them in (a check's findings merge by resource in that order).
    pub stopped: Vec<Stopped>,
}

impl Walk<'_> {
    fn stop<S: AsRef<str>>(&mut self, blocked: Blocked, routes: &[S]) {
        let routes = routes.iter().map(|r| r.as_ref().to_string()).collect();
        self.stopped.push(Stopped { blocked, routes });
    }
}

fn front_key(f: &Front) -> String {
    match f {
        Front::PrivateLink => "privatelink".to_string(),
        Front::Link(l) => format!("link:{}", l.id),
        Front::Nlb { tg, .. } => format!("nlb:{}", tg.arn),
    }
}

/// Walks every VPC-link route of the stage. A stage whose routes cannot be
/// read, or that has no VPC-link route, walks to nothing: the checks say
/// why through [`crate::toolkit::private_routes`].
pub fn walk<'a>(view: &StageView<'a>) -> Walk<'a> {
    let mut w = Walk::default();
    let Ok(routes) = view.private_routes() else {
        return w;
    };
    let (mut queue, cloud_map) = first_hops(view, routes, &mut w);
    let mut tghops: BTreeMap<(String, String), TargetGroupHop<'a>> = BTreeMap::new();
    // The queue grows while it is read: an NLB forwarding to an ALB adds
    // the ALB's listener behind it.
    let mut i = 0;
    while i < queue.len() {
        let next = follow_listener(view, &queue[i], &mut tghops, &mut w);
        queue.extend(next);
        i += 1;
    }
    w.listeners = queue;
    w.target_groups = tghops.into_values().collect();
    w.cloud_map = cloud_map;
    w
}

/// The listeners and Cloud Map services the routes name, each with every
/// route that names it, in key order.
fn first_hops<'a>(
    view: &StageView<'a>,
    routes: &[RoutePath<'a>],
    w: &mut Walk<'a>,
) -> (Vec<ListenerHop<'a>>, Vec<CloudMapHop<'a>>) {
    let mut lhops: BTreeMap<(String, String, String), ListenerHop<'a>> = BTreeMap::new();
    let mut cmhops: BTreeMap<(String, String), CloudMapHop<'a>> = BTreeMap::new();
    for rp in routes {
        let target = match view.route_target(rp) {
            Ok(t) => t,
            Err(b) => {
                w.stop(b, &[&rp.label]);
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
                    Err(b) => w.stop(b, &[&rp.label]),
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
                    Err(b) => w.stop(b, &[&rp.label]),
                }
            }
        }
    }
    (
        lhops.into_values().collect(),
        cmhops.into_values().collect(),
    )
}

/// Follows one listener to its target groups, recording each and the dead
/// ends; returns the ALB listeners found behind an NLB, to walk next.
fn follow_listener<'a>(
    view: &StageView<'a>,
    hop: &ListenerHop<'a>,
    tghops: &mut BTreeMap<(String, String), TargetGroupHop<'a>>,
    w: &mut Walk<'a>,
) -> Vec<ListenerHop<'a>> {
    let (lb, listener, front) = (hop.lb, hop.listener, hop.front);
    let routes = &hop.routes;
    let route_list: Vec<String> = routes.iter().cloned().collect();
    let mut next = Vec::new();
    let arns = match view.forward_target_groups(lb, listener) {
        Ok(a) => a,
        Err(b) => {
            w.stop(b, &route_list);
            return next;
        }
    };
    if arns.is_empty() {
        for r in routes {
            w.dead_ends.push(DeadEnd::NoForward {
                listener,
                route: r.clone(),
            });
        }
    }
    for arn in arns {
        let tg = match view.target_group(arn) {
            Ok(tg) => tg,
            Err(b) if matches!(b.kind, crate::view::BlockedKind::Skip(_)) => {
                for r in routes {
                    w.dead_ends.push(DeadEnd::MissingGroup {
                        arn,
                        route: r.clone(),
                    });
                }
                continue;
            }
            Err(b) => {
                w.stop(b, &route_list);
                continue;
            }
        };
        let tghop = tghops
            .entry((lb.arn.clone(), tg.arn.clone()))
            .or_insert_with(|| TargetGroupHop {
                lb,
                listeners: Vec::new(),
                tg,
                routes: BTreeSet::new(),
                fronts: Vec::new(),
            });
        if !tghop.listeners.iter().any(|l| l.arn == listener.arn) {
            tghop.listeners.push(listener);
        }
        if !tghop
            .fronts
            .iter()
            .any(|f| front_key(f) == front_key(&front))
        {
            tghop.fronts.push(front);
        }
        tghop.routes.extend(routes.iter().cloned());
        // An NLB forwarding to an ALB: follow it one level (an ALB
        // cannot itself forward to a load balancer).
        if tg.target_type == Some(TargetType::Alb) && !matches!(front, Front::Nlb { .. }) {
            next.extend(albs_behind(view, lb, tg, routes, w));
        }
    }
    next
}

/// The listeners of the ALBs an NLB's target group holds, on the ports the
/// NLB sends to.
fn albs_behind<'a>(
    view: &StageView<'a>,
    nlb: &'a LoadBalancer,
    tg: &'a TargetGroup,
    routes: &BTreeSet<String>,
    w: &mut Walk<'a>,
) -> Vec<ListenerHop<'a>> {
    let route_list: Vec<String> = routes.iter().cloned().collect();
    let targets = match view.target_health(tg) {
        Ok(t) => t,
        Err(b) => {
            w.stop(b, &route_list);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for t in targets {
        let Some(port) = t.port.or(tg.port) else {
            continue;
        };
        let next = view.load_balancer(&t.target_id).and_then(|alb| {
            view.select_listener(alb, &ListenerSel::Port(port))
                .map(|l| (alb, l))
        });
        match next {
            Ok((alb, l)) => out.push(ListenerHop {
                front: Front::Nlb { nlb, tg },
                lb: alb,
                listener: l,
                routes: routes.clone(),
            }),
            Err(b) => w.stop(b, &route_list),
        }
    }
    out
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
