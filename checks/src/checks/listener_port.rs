//! `listener-port`: the load balancer listens on the port each integration
//! connects to (the URI's port, or 80/443 by scheme).
//!
//! Routes are grouped by load balancer first so each load balancer gets one
//! finding naming every missing port, not one finding per route.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::catalogue::CheckDef;
use crate::engine::{Findings, private_routes};
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::LoadBalancer;
use crate::view::{LinkVersion, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: "listener-port",
        title: "Load balancer listens on the integration's port",
        severity: Severity::Critical,
        explains: &[
            "Execution failed due to configuration error: There was an internal error while executing your request",
            "HTTP 500 {\"message\": \"Internal server error\"}",
        ],
        remediation: "Add a listener on the integration's port to the load balancer, or change the port in the integration URI (an absent port means 80 for http:// and 443 for https://) to one the load balancer listens on, then redeploy.",
        aliases: &[],
    },
    run,
};

struct Need<'a> {
    lb: &'a LoadBalancer,
    /// port -> (routes, example URI)
    ports: BTreeMap<u16, (BTreeSet<String>, String)>,
}

fn run(view: &StageView, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    let mut needs: BTreeMap<&str, Need> = BTreeMap::new();
    for rp in routes {
        if rp.link.version != LinkVersion::V1 {
            continue;
        }
        let lb = match view.link_v1_load_balancer(rp) {
            Ok(lb) => lb,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        let endpoint = match &rp.endpoint {
            Ok(e) => e,
            Err(why) => {
                out.add(
                    Finding::new(
                        meta,
                        Status::Fail,
                        &view.stage_arn,
                        format!(
                            "On stage {}, the integration of {} has no usable endpoint: {}; it needs a valid http:// or https:// URI.",
                            view.stage.name,
                            rp.label,
                            why.trim_end_matches('.')
                        ),
                    )
                    .routes([rp.label.clone()])
                    .evidence(json!({ "uri": rp.integration.uri, "stage_variables": view.stage.variables })),
                );
                continue;
            }
        };
        let need = needs.entry(lb.arn.as_str()).or_insert_with(|| Need {
            lb,
            ports: BTreeMap::new(),
        });
        need.ports
            .entry(endpoint.port)
            .or_insert_with(|| (BTreeSet::new(), endpoint.uri.clone()))
            .0
            .insert(rp.label.clone());
    }

    for need in needs.values() {
        let lb = need.lb;
        let all_routes: Vec<String> = need
            .ports
            .values()
            .flat_map(|(r, _)| r.iter().cloned())
            .collect();
        let listeners = match view.listeners(lb) {
            Ok(l) => l,
            Err(b) => {
                out.blocked(&b, &all_routes);
                continue;
            }
        };
        let listening: Vec<String> = listeners
            .iter()
            .map(|l| {
                format!(
                    "{} {}",
                    l.protocol.as_deref().unwrap_or("?"),
                    l.port.map_or_else(|| "?".to_string(), |p| p.to_string())
                )
            })
            .collect();
        let missing: Vec<(&u16, &(BTreeSet<String>, String))> = need
            .ports
            .iter()
            .filter(|(port, _)| !listeners.iter().any(|l| l.port == Some(**port)))
            .collect();
        let evidence = json!({
            "load_balancer_arn": lb.arn,
            "listeners": listeners.iter().map(|l| json!({"arn": l.arn, "port": l.port, "protocol": l.protocol})).collect::<Vec<_>>(),
            "ports_needed": need.ports.iter().map(|(p, (r, uri))| json!({"port": p, "routes": r, "uri": uri})).collect::<Vec<_>>(),
        });
        let found = if listening.is_empty() {
            "no listener at all".to_string()
        } else {
            format!("listeners on {}", listening.join(", "))
        };
        if missing.is_empty() {
            let ports: Vec<String> = need.ports.keys().map(|p| p.to_string()).collect();
            out.add(
                Finding::new(
                    meta,
                    Status::Pass,
                    &lb.arn,
                    format!(
                        "Load balancer {} listens on port {} as the integrations need.",
                        lb.arn,
                        ports.join(", ")
                    ),
                )
                .routes(all_routes)
                .evidence(evidence),
            );
        } else {
            let ports: Vec<String> = missing.iter().map(|(p, _)| p.to_string()).collect();
            let failing: Vec<String> = missing
                .iter()
                .flat_map(|(_, (r, _))| r.iter().cloned())
                .collect();
            let (_, (_, example_uri)) = missing[0];
            out.add(
                Finding::new(
                    meta,
                    Status::Fail,
                    &lb.arn,
                    format!(
                        "Load balancer {} has {found}, but integrations connect to port {} (e.g. {example_uri}); it needs a listener on that port.",
                        lb.arn,
                        ports.join(", ")
                    ),
                )
                .routes(failing)
                .evidence(evidence),
            );
        }
    }
}
