//! What API Gateway's TLS client meets on a route: the scheme it speaks,
//! the name it verifies, the listener where TLS ends and the certificate
//! presented there. Certificate logic itself (names, chains, trust) is in
//! [`crate::tls`]; this module finds which certificate a route meets.

use crate::model::{Listener, LoadBalancer, Protocol, TargetType};
use crate::resources as res;
use crate::view::{Hop, RouteTarget, StageView};

/// What API Gateway's TLS client meets on one route: the scheme it speaks,
/// the host it verifies, and the listener where TLS ends.
pub struct RouteTls<'a> {
    /// `http` or `https`: the integration URI's scheme (REST), or whether
    /// the integration has a TLS configuration (HTTP APIs).
    pub scheme: String,
    /// The assumption `scheme` rests on, where the documents leave it open.
    pub scheme_assumption: Option<&'static str>,
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

pub fn is_tls(protocol: Option<&Protocol>) -> bool {
    matches!(protocol, Some(Protocol::Tls | Protocol::Https))
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
    let mut tls_end = if is_tls(listener.protocol.as_ref()) {
        Some((lb, listener))
    } else {
        None
    };
    if tls_end.is_none() && listener.protocol == Some(Protocol::Tcp) {
        // An NLB passing TCP to an ALB: TLS ends at the ALB's listener.
        for arn in view.forward_target_groups(lb, listener)? {
            let tg = view.target_group(arn)?;
            if tg.target_type != Some(TargetType::Alb) {
                continue;
            }
            if let Some(target) = view.target_health(tg)?.first()
                && let Some(port) = target.port.or(tg.port)
            {
                let alb = view.load_balancer(&target.target_id)?;
                let l = view.select_listener(alb, &crate::view::ListenerSel::Port(port))?;
                if is_tls(l.protocol.as_ref()) {
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
        // An HTTP API's private integration names a listener, not a URL:
        // "If you specify a TLS configuration, private integration traffic
        // uses the HTTPS protocol" (API Gateway V2 API reference, TlsConfig),
        // and without one it is plain HTTP whatever the listener speaks.
        None => (
            if tls.is_some() { "https" } else { "http" }.to_string(),
            server_name.map(|n| (n, "serverNameToVerify")),
        ),
    };
    // A TLS configuration that names no server: the reference says TLS is
    // used, and is silent on what a configuration with no name verifies.
    let scheme_assumption = (rp.endpoint().is_none() && tls.is_some() && host.is_none())
        .then_some("a tlsConfig with no serverNameToVerify is taken to mean TLS, as the API reference says of any TLS configuration");
    Ok(Some(RouteTls {
        scheme,
        host,
        lb,
        listener,
        tls_end,
        skip_verification,
        scheme_assumption,
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
            // An ACM certificate or an IAM server certificate: the
            // collector reads each from the service its ARN names.
            let service = if arn.contains(":iam::") { "IAM" } else { "ACM" };
            let cert = view
                .get::<res::Certificate>(&arn, &arn, &format!("certificate {arn}"))
                .and_then(|c| match c {
                    Some(c) => Ok(c),
                    None => crate::view::skip(
                        &arn,
                        format!("certificate {arn} does not exist in {service}"),
                    ),
                });
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
