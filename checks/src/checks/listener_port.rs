//! `listener-port`: the load balancer listens where each integration
//! connects: on the URI's port (or 80/443 by scheme) for REST APIs, at the
//! integration's listener ARN for HTTP APIs, and, for an NLB that forwards
//! to an ALB, on the target group's port of that ALB.
//!
//! Routes are grouped by load balancer first so each load balancer gets one
//! finding naming every missing listener, not one finding per route.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{LbType, Listener, LoadBalancer, Protocol, TargetType};
use crate::toolkit::{CheckDef, Findings, StageCtx, private_routes, skip};
use crate::view::{BlockedKind, ListenerSel, RoutePath, RouteTarget, StageView, variables_in};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::ListenerPort,
        title: "Load balancer listens where the integration connects",
        severity: Severity::Critical,
        remediation: "Add a listener on the integration's port to the load balancer, or change the port in the integration URI (an absent port means 80 for http:// and 443 for https://) to one it listens on; for an HTTP API, point the integration at an existing listener ARN. Then redeploy.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// What one load balancer must serve: selector -> (routes, what asked).
struct Need<'a> {
    lb: &'a LoadBalancer,
    wanted: BTreeMap<String, (ListenerSel, BTreeSet<String>, String)>,
}

fn sel_key(sel: &ListenerSel) -> String {
    match sel {
        ListenerSel::Port(p) => format!("port {p:05}"),
        ListenerSel::Arn(a) => format!("arn {a}"),
    }
}

fn run(view: &StageCtx, out: &mut Findings) {
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    let mut needs = route_needs(view, routes, out);
    alb_needs(view, &mut needs, out);
    for need in needs.values() {
        judge(view, need, out);
    }
}

/// What each load balancer must listen on for the routes that name it
/// (grouped by load balancer so each gets one finding).
fn route_needs<'a>(
    view: &StageCtx<'_, 'a>,
    routes: &[RoutePath<'a>],
    out: &mut Findings,
) -> BTreeMap<String, Need<'a>> {
    let meta = &CHECK.meta;
    let mut needs: BTreeMap<String, Need> = BTreeMap::new();
    for rp in routes {
        let target = match view.route_target(rp) {
            Ok(RouteTarget::Lb(t)) => t,
            Ok(RouteTarget::CloudMap { service_arn, .. }) => {
                out.add(
                    skip(meta, &service_arn, format!("{} integrates with Cloud Map service {service_arn}, which has no listener", rp.label))
                    .routes([rp.label.clone()]),
                );
                continue;
            }
            Err(b) => {
                // An integration URI that cannot be resolved is this
                // check's failure: the gateway has nowhere to connect.
                if let Err(why) = &rp.upstream
                    && view.link(rp).is_ok()
                {
                    out.add(
                        Finding::new(
                            meta,
                            Status::Fail,
                            &view.stage_arn,
                            format!(
                                "On stage {}, the integration of {} has no usable target: {}; it needs a valid URI for this API type.",
                                view.stage.name,
                                rp.label,
                                why.trim_end_matches('.')
                            ),
                        )
                        .routes([rp.label.clone()])
                        .evidence(|| json!({
                            "uri": rp.integration.uri,
                            // Only what the URI names: other values may be secrets.
                            "stage_variables": rp.integration.uri.as_deref().map(|u| variables_in(u, view.stage)),
                            "defined_stage_variables": view.stage.variables.keys().collect::<Vec<_>>(),
                        })),
                    );
                } else {
                    out.blocked(&b, &[&rp.label]);
                }
                continue;
            }
        };
        let lb = match view.load_balancer(&target.lb_arn) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let asked = match (&target.listener, rp.endpoint()) {
            (ListenerSel::Port(_), Some(e)) => e.uri.clone(),
            (ListenerSel::Arn(a), _) => a.clone(),
            (ListenerSel::Port(p), None) => format!("port {p}"),
        };
        needs
            .entry(lb.arn.clone())
            .or_insert_with(|| Need {
                lb,
                wanted: BTreeMap::new(),
            })
            .wanted
            .entry(sel_key(&target.listener))
            .or_insert_with(|| (target.listener.clone(), BTreeSet::new(), asked))
            .1
            .insert(rp.label.clone());
    }
    needs
}

/// An NLB forwarding to an ALB needs the ALB to listen on the port the
/// NLB's target group sends to.
fn alb_needs<'a>(
    view: &StageCtx<'_, 'a>,
    needs: &mut BTreeMap<String, Need<'a>>,
    out: &mut Findings,
) {
    // Where the walk stops is reported by `route_needs`, route by route,
    // through this check's own lookups, up to the first load balancer. A
    // walk that could not read what lies behind it (an NLB's target group)
    // may hide an ALB whose listener is then unknown: an error, not a pass.
    // Only an NLB can have an ALB behind it: an `alb` target group is a
    // Network Load Balancer feature
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/application-load-balancer-target.html).
    let w = view.walk();
    let behind_nlb: BTreeSet<&String> = needs
        .values()
        .filter(|n| n.lb.lb_type == Some(LbType::Network))
        .flat_map(|n| n.wanted.values().flat_map(|(_, routes, _)| routes))
        .collect();
    for s in &w.stopped {
        // A target group ARN names `:targetgroup/`: an unreadable group
        // is what may hide an ALB; a stop past one (its rules) does not.
        let hides_alb = s.blocked.resource.contains(":targetgroup/")
            && s.routes.iter().any(|r| behind_nlb.contains(r));
        if hides_alb && matches!(s.blocked.kind, BlockedKind::Error { .. }) {
            out.blocked(&s.blocked, &s.routes);
        }
    }
    for hop in &w.target_groups {
        if hop.tg.target_type != Some(TargetType::Alb) {
            continue;
        }
        let routes: Vec<String> = hop.routes.iter().cloned().collect();
        let targets = match view.target_health(hop.tg) {
            Ok(t) => t,
            Err(b) => {
                out.blocked(&b, &routes);
                continue;
            }
        };
        for t in targets {
            let Some(port) = t.port.or(hop.tg.port) else {
                continue;
            };
            let alb = match view.load_balancer(&t.target_id) {
                Ok(a) => a,
                Err(b) => {
                    out.blocked(&b, &routes);
                    continue;
                }
            };
            needs
                .entry(alb.arn.clone())
                .or_insert_with(|| Need {
                    lb: alb,
                    wanted: BTreeMap::new(),
                })
                .wanted
                .entry(sel_key(&ListenerSel::Port(port)))
                .or_insert_with(|| {
                    (
                        ListenerSel::Port(port),
                        BTreeSet::new(),
                        format!(
                            "target group {} of {}",
                            hop.tg.name.as_deref().unwrap_or(&hop.tg.arn),
                            hop.lb.arn
                        ),
                    )
                })
                .1
                .extend(hop.routes.iter().cloned());
        }
    }
}

/// One load balancer's finding: `pass` when it listens on everything its
/// routes need, else `fail` naming the first listener missing.
fn judge(view: &StageView, need: &Need, out: &mut Findings) {
    let meta = &CHECK.meta;
    let lb = need.lb;
    let all_routes: Vec<String> = need
        .wanted
        .values()
        .flat_map(|(_, r, _)| r.iter().cloned())
        .collect();
    let listeners = match view.listeners(lb) {
        Ok(l) => l,
        Err(b) => {
            out.blocked(&b, &all_routes);
            return;
        }
    };
    let listening: Vec<String> = listeners
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l.protocol.as_ref().map_or("?", Protocol::as_str),
                l.port.map_or_else(|| "?".to_string(), |p| p.to_string())
            )
        })
        .collect();
    let missing: Vec<&(ListenerSel, BTreeSet<String>, String)> = need
        .wanted
        .values()
        .filter(|(sel, _, _)| match sel {
            ListenerSel::Port(p) => !listeners.iter().any(|l| l.port == Some(*p)),
            ListenerSel::Arn(a) => !listeners.iter().any(|l| &l.arn == a),
        })
        .collect();
    let evidence = || listener_evidence(lb, listeners, need);
    let found = if listening.is_empty() {
        "no listener at all".to_string()
    } else {
        format!("listeners on {}", listening.join(", "))
    };
    if missing.is_empty() {
        let what: Vec<String> = need
            .wanted
            .values()
            .map(|(sel, _, _)| match sel {
                ListenerSel::Port(p) => format!("port {p}"),
                ListenerSel::Arn(a) => format!("listener {a}"),
            })
            .collect();
        out.add(
            Finding::new(
                meta,
                Status::Pass,
                &lb.arn,
                format!(
                    "Load balancer {} has {} as the integrations need.",
                    lb.arn,
                    what.join(", ")
                ),
            )
            .routes(all_routes)
            .evidence(evidence),
        );
        return;
    }
    let failing: Vec<String> = missing
        .iter()
        .flat_map(|(_, r, _)| r.iter().cloned())
        .collect();
    let message = missing_message(lb, &found, &missing);
    out.add(
        Finding::new(meta, Status::Fail, &lb.arn, message)
            .routes(failing)
            .evidence(evidence),
    );
}

/// What the load balancer listens on, and what each route needs of it.
fn listener_evidence(lb: &LoadBalancer, listeners: &[Listener], need: &Need) -> serde_json::Value {
    json!({
        "load_balancer_arn": lb.arn,
        "listeners": listeners.iter().map(|l| json!({"arn": l.arn, "port": l.port, "protocol": l.protocol})).collect::<Vec<_>>(),
        "needed": need.wanted.values().map(|(sel, r, asked)| match sel {
            ListenerSel::Port(p) => json!({"port": p, "routes": r, "asked_by": asked}),
            ListenerSel::Arn(a) => json!({"listener_arn": a, "routes": r}),
        }).collect::<Vec<_>>(),
    })
}

/// Names the first missing listener, and counts the others.
fn missing_message(
    lb: &LoadBalancer,
    found: &str,
    missing: &[&(ListenerSel, BTreeSet<String>, String)],
) -> String {
    let (sel, _, asked) = missing[0];
    let message = match sel {
        ListenerSel::Port(p) => format!(
            "Load balancer {} has {found}, but {asked} connects to port {p}; it needs a listener on port {p}.",
            lb.arn
        ),
        ListenerSel::Arn(a) => format!(
            "The integration names listener {a}, which load balancer {} does not have ({found}); it needs an existing listener ARN.",
            lb.arn
        ),
    };
    if missing.len() > 1 {
        format!(
            "{} ({} more missing, see the evidence).",
            message.trim_end_matches('.'),
            missing.len() - 1
        )
    } else {
        message
    }
}
