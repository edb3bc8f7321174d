//! `tls-certificate-hostname`: the host API Gateway verifies (the integration
//! URI's host, or `serverNameToVerify`) is covered by the certificate the
//! TLS listener presents for it.
//!
//! A load balancer presents the certificate (default or SNI) whose names
//! cover the requested name, else its default one; the check compares the
//! host with the names (domain name and SANs, from ACM) of every certificate
//! the listener holds and says which it compared.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Severity, Status};
use crate::model::{Listener, Protocol};
use crate::tls::matching_name;
use crate::tls_path::{listener_certs, presented_cert, route_tls};
use crate::toolkit::{CheckDef, Findings, Judgement, StageCtx, private_routes, skip};
use crate::view::{RoutePath, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::TlsCertificateHostname,
        title: "Listener certificate matches the integration host",
        severity: Severity::High,
        remediation: "Attach to the TLS listener a certificate (default or SNI) whose domain name or subject alternative names cover the host API Gateway verifies, or set the integration URI's host (or serverNameToVerify) to a name the certificate covers, then redeploy.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// Routes of one TLS listener, by (host, where the host comes from).
struct PerListener<'a> {
    listener: &'a Listener,
    hosts: BTreeMap<(String, &'static str), BTreeSet<String>>,
}

fn run(view: &StageCtx, out: &mut Findings) {
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    for (arn, group) in tls_listeners(view, routes, out) {
        judge_listener(view, &arn, group, out);
    }
}

/// The TLS listeners whose certificate the routes verify, each with the
/// host names verified there; routes verifying nothing are skipped here.
fn tls_listeners<'a>(
    view: &StageView<'a>,
    routes: &[RoutePath<'a>],
    out: &mut Findings,
) -> BTreeMap<String, PerListener<'a>> {
    let mut groups: BTreeMap<String, PerListener> = BTreeMap::new();
    for rp in routes {
        let rt = match route_tls(view, rp) {
            Ok(Some(rt)) => rt,
            Ok(None) => {
                out.add(skip(&CHECK.meta, &view.stage_arn, format!(
                        "{} integrates with Cloud Map instances directly, with no listener certificate",
                        rp.label
                    )).routes([rp.label.clone()]));
                continue;
            }
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        if rt.scheme != "https" {
            out.add(
                skip(
                    &CHECK.meta,
                    &rt.listener.arn,
                    format!(
                        "{} speaks plain HTTP, so no certificate is verified",
                        rp.label
                    ),
                )
                .routes([rp.label.clone()]),
            );
            continue;
        }
        let Some((_, tls_listener)) = rt.tls_end else {
            let reason = if rt.listener.protocol == Some(Protocol::Tcp) {
                format!(
                    "TLS passes through listener {} to the targets, whose certificate is not visible to AWS",
                    rt.listener.arn
                )
            } else {
                format!(
                    "listener {} does not speak TLS (see protocol-match)",
                    rt.listener.arn
                )
            };
            out.add(skip(&CHECK.meta, &rt.listener.arn, reason).routes([rp.label.clone()]));
            continue;
        };
        let Some(host) = rt.host else {
            out.add(skip(&CHECK.meta, &tls_listener.arn, format!(
                    "the integration of {} sets no serverNameToVerify, so no host name is verified",
                    rp.label
                )).routes([rp.label.clone()]));
            continue;
        };
        groups
            .entry(tls_listener.arn.clone())
            .or_insert_with(|| PerListener {
                listener: tls_listener,
                hosts: BTreeMap::new(),
            })
            .hosts
            .entry(host)
            .or_default()
            .insert(rp.label.clone());
    }
    groups
}

/// One TLS listener's finding: every host verified there must be covered
/// by the certificate the listener presents for it.
fn judge_listener(view: &StageView, arn: &str, group: PerListener, out: &mut Findings) {
    let meta = &CHECK.meta;
    let all_routes: Vec<String> = group.hosts.values().flatten().cloned().collect();
    let certs = match listener_certs(view, group.listener) {
        Ok(c) => c,
        Err(b) => {
            out.blocked(&b, &all_routes);
            return;
        }
    };
    let mut j = Judgement::new();
    let mut passes: Vec<String> = Vec::new();
    let mut failing: BTreeSet<String> = BTreeSet::new();
    for ((host, source), routes) in &group.hosts {
        let presented = match presented_cert(&certs, Some(host)) {
            Ok(p) => p,
            Err(b) => {
                j.push_blocked(&b, &format!("the certificate for {host}"));
                failing.extend(routes.iter().cloned());
                continue;
            }
        };
        let Some(c) = presented else {
            j.push(
                Status::Fail,
                format!("TLS listener {arn} holds no certificate at all, so it can present none for {host}"),
                || json!({ "host": host }),
            );
            failing.extend(routes.iter().cloned());
            continue;
        };
        let Ok(cert) = &c.cert else { continue };
        let names = cert.verified_names();
        let ev = || {
            json!({
                "host": host, "host_source": source, "certificate_arn": c.arn, "default": c.is_default,
                "names": names, "listener_certificates": certs.iter().map(|c| &c.arn).collect::<Vec<_>>(),
            })
        };
        match matching_name(&names, host) {
            Some(n) => {
                passes.push(format!(
                    "{host} ({source}) by name {n} of certificate {}",
                    c.arn
                ));
                j.push(Status::Pass, String::new(), ev);
            }
            None => {
                failing.extend(routes.iter().cloned());
                j.push(
                    Status::Fail,
                    format!(
                        "TLS listener {arn} presents certificate {} (names {}) for {host}, {source}, and none of those names covers it; it needs a certificate for {host} or a wildcard for its parent domain",
                        c.arn,
                        names.join(", ")
                    ),
                    ev,
                );
            }
        }
    }
    let worst = j.worst().unwrap_or(Status::Pass);
    let f = j.finding(
        meta,
        arn,
        format!(
            "TLS listener {arn} presents a certificate covering {}.",
            passes.join("; ")
        ),
        json!({ "listener_arn": arn }),
    );
    let routes: Vec<String> = if worst == Status::Pass {
        all_routes
    } else {
        failing.into_iter().collect()
    };
    out.add(f.routes(routes));
}
