//! `protocol-match`: the integration's scheme, the listener's protocol and
//! the target group's protocol agree, so that no plain HTTP answers an
//! `https://` integration and no TLS listener waits for a handshake that a
//! plain `http://` integration never starts.
//!
//! The verdicts are one table, [`TABLE`], documented in `docs/checks.md` (a test
//! keeps the copy current). Where TLS passes through an NLB's TCP listener,
//! what the target speaks is read from its health check: an HTTPS health
//! check on the traffic port shows TLS, an HTTP one shows plain HTTP, a TCP
//! one shows nothing (a warning).

use std::collections::BTreeMap;

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{LbType, Listener, LoadBalancer, Protocol, TargetGroup};
use crate::tls_path::route_tls;
use crate::toolkit::{CheckDef, Findings, StageCtx, private_routes, skip};
use crate::view::{BlockedKind, Hop, RoutePath, StageView};

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::ProtocolMatch,
        title: "Integration scheme, listener and target protocols agree",
        severity: Severity::High,
        remediation: "Make the integration URI's scheme match what answers it: https:// for a TLS or HTTPS listener, or for TLS passing through a TCP listener to a target that speaks TLS; http:// for a TCP or HTTP listener in front of a target that speaks plain HTTP. For an HTTP API, set the integration's tlsConfig.serverNameToVerify toward a TLS or HTTPS listener (or a TCP one whose targets speak TLS), and no tlsConfig toward an HTTP listener (or a TCP one whose targets speak plain HTTP). Behind an ALB, use target groups with protocol version HTTP1. Then redeploy.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// What the target speaks, as its health check shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSpeaks {
    Tls,
    PlainHttp,
    /// Nothing shows it, but the targets listen on 443: taken to be TLS,
    /// an assumption the verdict names.
    Port443,
    Unknown,
}

/// One row of the protocol table. `None` matches anything.
#[derive(Debug)]
pub struct Row {
    pub scheme: &'static str,
    pub listener: Protocol,
    pub target_group: Option<Protocol>,
    pub target: Option<TargetSpeaks>,
    pub status: Status,
    pub why: &'static str,
}

/// The verdict for each combination; the first matching row decides.
///
/// A TLS listener "uses a server certificate to terminate the front-end
/// connection and then to decrypt requests from clients before sending them
/// to the targets" (NLB guide, "Create a certificate for your TLS
/// listener"); only a TLS target group opens a new TLS connection. So a TCP
/// target group behind it carries plain bytes, and targets whose HTTPS
/// health check shows they wait for a handshake cannot answer them. The
/// guide does not describe that failure, but both halves are documented;
/// a target merely on port 443 is an assumption, hence a warning.
pub const TABLE: &[Row] = &[
    Row {
        scheme: "https",
        listener: Protocol::Tls,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::Tls),
        status: Status::Fail,
        why: "the NLB ends TLS and passes the decrypted bytes over TCP to targets that wait for a TLS handshake (their health check is HTTPS on the traffic port); make the listener TCP so TLS passes through, or make the targets speak plain HTTP",
    },
    Row {
        scheme: "https",
        listener: Protocol::Tls,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::Port443),
        status: Status::Warn,
        why: "the NLB ends TLS and passes the decrypted bytes over TCP to port 443, which is taken to be a TLS port; if the targets wait for a TLS handshake there, make the listener TCP or the targets plain",
    },
    Row {
        scheme: "https",
        listener: Protocol::Tls,
        target_group: None,
        target: None,
        status: Status::Pass,
        why: "the NLB terminates TLS (and, for a TLS target group, opens a new TLS connection to the target)",
    },
    Row {
        scheme: "https",
        listener: Protocol::Https,
        target_group: None,
        target: None,
        status: Status::Pass,
        why: "the ALB terminates TLS",
    },
    Row {
        scheme: "https",
        listener: Protocol::Tcp,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::Tls),
        status: Status::Pass,
        why: "TLS passes through to a target that speaks TLS (its health check is HTTPS on the traffic port)",
    },
    Row {
        scheme: "https",
        listener: Protocol::Tcp,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::PlainHttp),
        status: Status::Fail,
        why: "TLS passes through to a target that speaks plain HTTP on that port (its health check is HTTP): API Gateway reports \"Not a valid protocol version\"",
    },
    Row {
        scheme: "https",
        listener: Protocol::Tcp,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::Port443),
        status: Status::Warn,
        why: "TLS passes through to targets on port 443, taken to speak TLS there, though no HTTPS health check shows it",
    },
    Row {
        scheme: "https",
        listener: Protocol::Tcp,
        target_group: None,
        target: None,
        status: Status::Warn,
        why: "TLS passes through to the target, and nothing in its configuration shows that it speaks TLS on that port; make sure the target terminates TLS there",
    },
    Row {
        scheme: "https",
        listener: Protocol::Http,
        target_group: None,
        target: None,
        status: Status::Fail,
        why: "the ALB listener speaks plain HTTP to an https:// integration: API Gateway reports \"Not a valid protocol version\"",
    },
    Row {
        scheme: "http",
        listener: Protocol::Tcp,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::Tls),
        status: Status::Fail,
        why: "plain HTTP passes through to a target that speaks TLS on that port (its health check is HTTPS)",
    },
    Row {
        scheme: "http",
        listener: Protocol::Tcp,
        target_group: Some(Protocol::Tcp),
        target: Some(TargetSpeaks::Port443),
        status: Status::Warn,
        why: "plain HTTP passes through to targets on port 443, which is taken to be a TLS port",
    },
    Row {
        scheme: "http",
        listener: Protocol::Tcp,
        target_group: None,
        target: None,
        status: Status::Pass,
        why: "plain HTTP passes through to the target",
    },
    Row {
        scheme: "http",
        listener: Protocol::Http,
        target_group: None,
        target: None,
        status: Status::Pass,
        why: "the ALB speaks plain HTTP, as the integration does",
    },
    Row {
        scheme: "http",
        listener: Protocol::Tls,
        target_group: None,
        target: None,
        status: Status::Fail,
        why: "the NLB listener waits for a TLS handshake and the http:// integration sends plain HTTP",
    },
    Row {
        scheme: "http",
        listener: Protocol::Https,
        target_group: None,
        target: None,
        status: Status::Fail,
        why: "the ALB listener waits for a TLS handshake and the http:// integration sends plain HTTP",
    },
];

/// The row deciding a combination, or `None` for a listener protocol API
/// Gateway cannot speak to (UDP).
pub fn decide(
    scheme: &str,
    listener: Option<&Protocol>,
    target_group: Option<&Protocol>,
    target: TargetSpeaks,
) -> Option<&'static Row> {
    // A TCP_UDP listener carries API Gateway's TCP like a TCP one.
    let listener = match listener {
        Some(Protocol::TcpUdp) => Some(&Protocol::Tcp),
        other => other,
    };
    TABLE.iter().find(|r| {
        r.scheme == scheme
            && Some(&r.listener) == listener
            && r.target_group
                .as_ref()
                .is_none_or(|t| Some(t) == target_group)
            && r.target.is_none_or(|t| t == target)
    })
}

/// What a target group's targets speak on the traffic port, from the
/// health check that probes them.
pub fn target_speaks(tg: &TargetGroup) -> TargetSpeaks {
    let on_traffic_port = matches!(tg.health_check.port.as_deref(), None | Some("traffic-port"))
        || tg
            .health_check
            .port
            .as_deref()
            .and_then(|p| p.parse::<u16>().ok())
            == tg.port;
    let probed = tg.health_check.enabled != Some(false) && on_traffic_port;
    match tg.health_check.protocol {
        Some(Protocol::Https) if probed => TargetSpeaks::Tls,
        Some(Protocol::Http) if probed => TargetSpeaks::PlainHttp,
        _ if tg.port == Some(443) => TargetSpeaks::Port443,
        _ => TargetSpeaks::Unknown,
    }
}

/// The copy in `docs/checks.md` of [`TABLE`].
pub fn table_markdown() -> String {
    let mut s = String::from(
        "| scheme | listener | target group | target speaks | verdict | why |\n|---|---|---|---|---|---|\n",
    );
    for r in TABLE {
        let target = match r.target {
            Some(TargetSpeaks::Tls) => "TLS (HTTPS health check)",
            Some(TargetSpeaks::PlainHttp) => "plain HTTP (HTTP health check)",
            Some(TargetSpeaks::Port443) => "port 443, no HTTP(S) health check",
            Some(TargetSpeaks::Unknown) | None => "any",
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.scheme,
            r.listener,
            r.target_group.as_ref().map_or("any", Protocol::as_str),
            target,
            r.status.as_str(),
            r.why.replace('|', "\\|")
        ));
    }
    s
}

fn run(view: &StageCtx, out: &mut Findings) {
    let meta = &CHECK.meta;
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    // Listener ARN -> (worst status, its finding).
    let mut per_listener: BTreeMap<String, Finding> = BTreeMap::new();
    for rp in routes {
        let rt = match route_tls(view, rp) {
            Ok(Some(rt)) => rt,
            Ok(None) => {
                out.add(
                    skip(
                        meta,
                        &view.stage_arn,
                        format!(
                            "{} integrates with Cloud Map instances directly, with no listener",
                            rp.label
                        ),
                    )
                    .routes([rp.label.clone()]),
                );
                continue;
            }
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        // The listener that decides: where TLS ends when an NLB passes TCP
        // to an ALB, else the first one.
        let (lb, listener) = match rt.tls_end {
            Some(end) if end.1.arn != rt.listener.arn => end,
            _ => (rt.lb, rt.listener),
        };
        let protocol = listener
            .protocol
            .as_ref()
            .map_or("unknown", Protocol::as_str);
        // Through a TCP listener, the single target group behind it decides
        // what answers; several must all agree, so judge the worst.
        let tg_rows = match tg_rows(view, lb, listener) {
            Ok(rows) => rows,
            Err(b) => {
                out.blocked(&b, &[&rp.label]);
                continue;
            }
        };
        for (tg, speaks) in tg_rows {
            let tg_proto = tg.and_then(|t| t.protocol.as_ref());
            let ev = || {
                json!({
                    "scheme": rt.scheme, "listener_arn": listener.arn, "listener_protocol": protocol,
                    "target_group": tg.map(|t| &t.arn), "target_group_protocol": tg_proto,
                    "target_port": tg.and_then(|t| t.port), "health_check": tg.map(|t| &t.health_check),
                    "uri": rp.integration.uri,
                })
            };
            let (mut status, mut message) = verdict(rp, &rt.scheme, lb, listener, tg, speaks);
            // Either way, a verdict resting on the assumption is a warning.
            if let (Status::Pass | Status::Fail, Some(assumed)) = (status, rt.scheme_assumption) {
                status = Status::Warn;
                message = format!(
                    "{} This rests on an assumption: {assumed}.",
                    message
                );
            }
            let f = Finding::new(meta, status, &listener.arn, message)
                .routes([rp.label.clone()])
                .evidence(ev);
            // A route judged twice, through two target groups, keeps its worst.
            crate::toolkit::merge_by_resource(&mut per_listener, f);
        }
    }
    for f in per_listener.into_values() {
        out.add(f);
    }
}

/// The target groups behind the listener, each judged (several must all
/// agree): through a TCP or TLS listener what their targets speak decides,
/// behind an ALB their protocol version does. A listener that forwards to
/// none is judged alone, as one row with no target group.
fn tg_rows<'a>(
    view: &StageView<'a>,
    lb: &'a LoadBalancer,
    listener: &'a Listener,
) -> Hop<Vec<(Option<&'a TargetGroup>, TargetSpeaks)>> {
    let unknown = vec![(None, TargetSpeaks::Unknown)];
    let mut tgs: Vec<&TargetGroup> = Vec::new();
    for arn in view.forward_target_groups(lb, listener)? {
        match view.target_group(arn) {
            Ok(tg) => tgs.push(tg),
            // A group that does not exist answers nothing (target-health
            // fails it); one that could not be read might decide: an error.
            Err(b) if matches!(b.kind, BlockedKind::Skip(_)) => {}
            Err(b) => return Err(b),
        }
    }
    if tgs.is_empty() {
        return Ok(unknown);
    }
    Ok(tgs
        .into_iter()
        .map(|tg| (Some(tg), target_speaks(tg)))
        .collect())
}

/// What API Gateway speaks on the route, as the sentence names it: the
/// URI's scheme (REST), or what the TLS configuration makes it (HTTP APIs).
fn speaks_as(rp: &RoutePath, scheme: &str) -> String {
    match (rp.endpoint(), scheme) {
        (Some(_), s) => s.to_string(),
        (None, "https") => "TLS, since the integration has a tlsConfig".to_string(),
        (None, _) => "plain HTTP, since the integration has no tlsConfig".to_string(),
    }
}

/// The sentence's end: what to change, for the API kind at hand.
fn conclude(rp: &RoutePath, status: Status, sentence: String) -> String {
    let http_api = rp.endpoint().is_none();
    match status {
        Status::Fail if http_api => format!(
            "{}; set the integration's tlsConfig.serverNameToVerify toward a TLS or HTTPS listener (or a TCP one whose targets speak TLS), and no tlsConfig toward an HTTP listener (or a TCP one whose targets speak plain HTTP).",
            sentence.replace("the http:// integration", "the integration").replace("an https:// integration", "the integration")
        ),
        Status::Fail => format!("{sentence}; the scheme and the listener need to agree."),
        _ => format!("{sentence}."),
    }
}

/// An ALB target group whose protocol version API Gateway's HTTP/1.1
/// requests cannot use. "API Gateway sends requests to backend integrations
/// using HTTP/1.1" (Developer Guide, `$context.protocol`), and the ALB
/// guide's protocol-version table answers an HTTP/1.1 request with an error
/// for HTTP2 and GRPC target groups ("Target groups for your Application
/// Load Balancers", Protocol version).
/// A group only a listener rule (not the default action) forwards to gets
/// the requests that rule matches, which may not be API Gateway's: a
/// warning, not a failure.
fn version_verdict(
    lb: &LoadBalancer,
    listener: &Listener,
    tg: Option<&TargetGroup>,
) -> Option<(Status, String)> {
    if lb.lb_type != Some(LbType::Application) {
        return None;
    }
    let tg = tg?;
    let version = tg.protocol_version.as_deref()?;
    let by_default = listener
        .default_actions
        .iter()
        .flat_map(|a| &a.target_groups)
        .any(|t| t.arn == tg.arn);
    let verdict = version_of(version)?;
    match verdict {
        (Status::Fail, why) if !by_default => Some((
            Status::Warn,
            format!("{why} (a listener rule, not the default action, forwards there: the requests that rule matches fail)"),
        )),
        v => Some(v),
    }
}

fn version_of(version: &str) -> Option<(Status, String)> {
    match version.to_ascii_uppercase().as_str() {
        "HTTP1" => None,
        "GRPC" => Some((
            Status::Fail,
            "its protocol version is GRPC, which takes only gRPC requests, and API Gateway sends HTTP/1.1; the target group needs protocol version HTTP1".to_string(),
        )),
        "HTTP2" => Some((
            Status::Fail,
            "its protocol version is HTTP2, which takes only HTTP/2 and gRPC requests, and API Gateway sends HTTP/1.1; the target group needs protocol version HTTP1".to_string(),
        )),
        other => Some((
            Status::Warn,
            format!("its protocol version is {other}, which this tool does not know; API Gateway sends HTTP/1.1"),
        )),
    }
}

/// The verdict on one route through one listener (and target group), and
/// the sentence saying what meets what.
fn verdict(
    rp: &RoutePath,
    scheme: &str,
    lb: &LoadBalancer,
    listener: &Listener,
    tg: Option<&TargetGroup>,
    speaks: TargetSpeaks,
) -> (Status, String) {
    let protocol = listener
        .protocol
        .as_ref()
        .map_or("unknown", Protocol::as_str);
    let tg_proto = tg.and_then(|t| t.protocol.as_ref());
    let row = decide(scheme, listener.protocol.as_ref(), tg_proto, speaks)
        .map(|row| (row.status, row.why.to_string()));
    let row = match (row, version_verdict(lb, listener, tg)) {
        (Some((Status::Pass, _)), Some(v)) => Some(v),
        (row, _) => row,
    };
    match row {
        Some((status, why)) => {
            let sentence = format!(
                "{} ({}) reaches {} listener {} ({} {}){}: {}",
                rp.label,
                speaks_as(rp, scheme),
                if lb.lb_type == Some(LbType::Application) {
                    "ALB"
                } else {
                    "NLB"
                },
                listener.arn,
                protocol,
                listener.port.map(|p| p.to_string()).unwrap_or_default(),
                tg.map(|t| format!(
                    " and target group {} ({} {})",
                    t.name.as_deref().unwrap_or(&t.arn),
                    tg_proto.map_or("?", Protocol::as_str),
                    t.port.map(|p| p.to_string()).unwrap_or_default()
                ))
                .unwrap_or_default(),
                why
            );
            (status, conclude(rp, status, sentence))
        }
        None => (
            Status::Fail,
            format!(
                "{} reaches listener {} on protocol {protocol}, which API Gateway cannot speak to; it needs a TCP, TLS, HTTP or HTTPS listener.",
                rp.label, listener.arn
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TargetSpeaks::*;

    /// Every combination `docs/checks.md` documents, with its verdict.
    #[test]
    fn protocol_table() {
        type Case = (
            &'static str,
            &'static str,
            Option<&'static str>,
            TargetSpeaks,
            Option<Status>,
        );
        let cases: &[Case] = &[
            ("https", "TLS", Some("TCP"), Unknown, Some(Status::Pass)),
            ("https", "TLS", Some("TLS"), Tls, Some(Status::Pass)),
            (
                "https",
                "HTTPS",
                Some("HTTP"),
                PlainHttp,
                Some(Status::Pass),
            ),
            ("https", "TCP", Some("TCP"), Tls, Some(Status::Pass)),
            ("https", "TCP", Some("TCP"), PlainHttp, Some(Status::Fail)),
            ("https", "TCP", Some("TCP"), Unknown, Some(Status::Warn)),
            (
                "https",
                "TCP_UDP",
                Some("TCP"),
                PlainHttp,
                Some(Status::Fail),
            ),
            ("https", "HTTP", Some("HTTP"), PlainHttp, Some(Status::Fail)),
            ("http", "TCP", Some("TCP"), Tls, Some(Status::Fail)),
            ("http", "TCP", Some("TCP"), PlainHttp, Some(Status::Pass)),
            ("http", "TCP", Some("TCP"), Unknown, Some(Status::Pass)),
            ("http", "HTTP", Some("HTTP"), Unknown, Some(Status::Pass)),
            ("http", "TLS", Some("TCP"), PlainHttp, Some(Status::Fail)),
            ("http", "HTTPS", Some("HTTP"), PlainHttp, Some(Status::Fail)),
            ("http", "UDP", Some("UDP"), Unknown, None),
        ];
        for (scheme, listener, tg, target, want) in cases {
            let listener = Protocol::from(*listener);
            let tg = tg.map(Protocol::from);
            let got = decide(scheme, Some(&listener), tg.as_ref(), *target).map(|r| r.status);
            assert_eq!(got, *want, "{scheme} {listener} {tg:?} {target:?}");
        }
    }

    #[test]
    fn health_checks_tell_what_the_target_speaks() {
        let mut tg = TargetGroup {
            arn: "tg".into(),
            name: None,
            protocol: Some(Protocol::Tcp),
            port: Some(8443),
            target_type: Some(crate::model::TargetType::Instance),
            vpc_id: None,
            load_balancer_arns: vec![],
            health_check: crate::model::HealthCheck {
                enabled: Some(true),
                protocol: Some(Protocol::Https),
                port: Some("traffic-port".into()),
                path: Some("/health".into()),
            },
            protocol_version: None,
        };
        assert_eq!(target_speaks(&tg), Tls);
        tg.health_check.protocol = Some(Protocol::Http);
        assert_eq!(target_speaks(&tg), PlainHttp);
        tg.health_check.port = Some("8081".into());
        assert_eq!(
            target_speaks(&tg),
            Unknown,
            "a check on another port shows nothing about the traffic port"
        );
        tg.health_check.port = Some("8443".into());
        assert_eq!(target_speaks(&tg), PlainHttp);
        tg.health_check.protocol = Some(Protocol::Tcp);
        assert_eq!(target_speaks(&tg), Unknown);
    }
}
