//! `tls-certificate-trust`: the certificate a TLS listener presents is
//! ISSUED, valid at the time of the snapshot (warning within 30 days of
//! expiry) and chains to a public root API Gateway trusts.
//!
//! The chain is read from ACM (`GetCertificate`) and verified with
//! `rustls-webpki` against the Mozilla root store. A REST integration with
//! `insecureSkipVerification` also accepts a private-CA or self-signed
//! certificate, provided it is valid and its chain ends in a root CA
//! certificate (basicConstraints CA:TRUE, keyUsage keyCertSign); routes
//! with and without that setting are judged apart, because the same
//! certificate can pass for one and fail for the other. Where TLS passes
//! through to the targets, their certificate is not visible to AWS: `skip`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::check_id::CheckId;
use crate::finding::{CheckMeta, Finding, Severity, Status};
use crate::model::{Certificate, CertificateStatus, CertificateType};
use crate::tls::{ChainVerdict, PrivateVerdict, verify_chain, verify_private};
use crate::tls_path::{listener_certs, presented_cert, route_tls};
use crate::toolkit::{CheckDef, Findings, StageCtx, blocked_finding, private_routes, skip};
use crate::view::StageView;

pub static CHECK: CheckDef = CheckDef {
    meta: CheckMeta {
        id: CheckId::TlsCertificateTrust,
        title: "Listener certificate is issued, valid and publicly trusted",
        severity: Severity::High,
        remediation: "Attach a certificate a public CA issued (an ACM public certificate, or an imported one with its full intermediate chain), renew it before it expires, and make sure its status is ISSUED; a REST integration that must use a private or self-signed certificate needs insecureSkipVerification and a chain that ends in a root CA certificate with basicConstraints CA:TRUE and keyUsage keyCertSign.",
        aliases: &[],
    },
    run,
    judges_definition_itself: false,
    on_missing_stage: None,
};

/// What a failing route without the setting could do instead.
const SKIP_HINT: &str = "a REST integration can accept it only with insecureSkipVerification and a chain ending in a root CA certificate";

fn run(view: &StageCtx, out: &mut Findings) {
    let Some(routes) = private_routes(view, out) else {
        return;
    };
    // (certificate ARN, whether the integration skips CA verification) -> routes.
    let mut presented: BTreeMap<(String, bool), (&Certificate, BTreeSet<String>)> = BTreeMap::new();
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
                    format!("{} speaks plain HTTP", rp.label),
                )
                .routes([rp.label.clone()]),
            );
            continue;
        }
        let Some((_, tls_listener)) = rt.tls_end else {
            out.add(skip(&CHECK.meta, &rt.listener.arn, format!(
                    "TLS passes through listener {} to the targets, whose certificate is not visible to AWS",
                    rt.listener.arn
                )).routes([rp.label.clone()]));
            continue;
        };
        let chosen = listener_certs(view, tls_listener).and_then(|certs| {
            presented_cert(&certs, rt.host.as_ref().map(|(h, _)| h.as_str()))
                .map(|c| c.map(|c| (c.arn.clone(), c.cert.clone())))
        });
        match chosen {
            Ok(Some((arn, Ok(cert)))) => {
                presented
                    .entry((arn, rt.skip_verification))
                    .or_insert((cert, BTreeSet::new()))
                    .1
                    .insert(rp.label.clone());
            }
            Ok(Some((_, Err(b)))) | Err(b) => out.blocked(&b, &[&rp.label]),
            Ok(None) => out.add(
                Finding::new(
                    &CHECK.meta,
                    Status::Fail,
                    &tls_listener.arn,
                    format!("TLS listener {} holds no certificate, so the TLS handshake cannot succeed; it needs one.", tls_listener.arn),
                )
                .routes([rp.label.clone()]),
            ),
        }
    }
    for ((arn, skip), (cert, routes)) in presented {
        out.add(judge(view, &arn, cert, skip).routes(routes));
    }
}

fn judge(view: &StageView, arn: &str, cert: &Certificate, skip_verification: bool) -> Finding {
    let meta = &CHECK.meta;
    let at = view.snapshot.recorded_at;
    let names = cert.names().join(", ");
    let until = cert
        .not_after
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "an unknown date".to_string());
    let evidence = || {
        json!({
            "certificate_arn": arn, "names": cert.names(), "status": cert.status, "type": cert.cert_type,
            "not_before": cert.not_before, "not_after": cert.not_after, "judged_at": at,
            "insecure_skip_verification": skip_verification,
        })
    };
    let skip_note = if skip_verification {
        "; insecureSkipVerification does not waive this"
    } else {
        ""
    };
    if cert.status != Some(CertificateStatus::Issued) {
        return Finding::new(
            meta,
            Status::Fail,
            arn,
            format!(
                "Certificate {arn} ({names}) is {}, so the TLS handshake fails; it needs to be ISSUED{skip_note}.",
                cert.status
                    .as_ref()
                    .map_or("in an unknown state", CertificateStatus::as_str)
            ),
        )
        .evidence(evidence);
    }
    let private = cert.cert_type == Some(CertificateType::Private);
    if private && !skip_verification {
        return Finding::new(
            meta,
            Status::Fail,
            arn,
            format!("Certificate {arn} ({names}) was issued by a private CA, which API Gateway does not trust; {SKIP_HINT}."),
        )
        .evidence(evidence);
    }
    let Some(pem) = &cert.pem else {
        return blocked_finding(meta, &no_pem(arn, cert));
    };
    let verdict = if private {
        ChainVerdict::Untrusted("it was issued by a private CA".to_string())
    } else {
        verify_chain(pem, cert.chain_pem.as_deref(), at)
    };
    let said = Said {
        arn,
        names: &names,
        until: &until,
        skip_note,
    };
    let chain = cert.chain_pem.as_deref();
    let (status, message) = chain_verdict(&said, verdict, skip_verification, pem, chain, at);
    Finding::new(meta, status, arn, message).evidence(evidence)
}

/// Why a certificate's chain cannot be verified: its PEM was not read.
fn no_pem(arn: &str, cert: &Certificate) -> crate::view::Blocked {
    crate::view::Blocked {
        resource: arn.to_string(),
        kind: crate::view::BlockedKind::Error {
            what: format!("the PEM of certificate {arn}"),
            failure: Box::new(
                cert.pem_failure
                    .clone()
                    .unwrap_or_else(|| crate::view::not_collected("acm:GetCertificate")),
            ),
        },
    }
}

/// How a certificate's findings name it.
struct Said<'s> {
    arn: &'s str,
    names: &'s str,
    until: &'s str,
    /// Appended where insecureSkipVerification might seem to help.
    skip_note: &'s str,
}

/// What the chain check found, as a verdict and its sentence.
fn chain_verdict(
    said: &Said,
    verdict: ChainVerdict,
    skip_verification: bool,
    pem: &str,
    chain: Option<&str>,
    at: time::OffsetDateTime,
) -> (Status, String) {
    let Said {
        arn,
        names,
        until,
        skip_note,
    } = *said;
    match verdict {
        ChainVerdict::Trusted => (
            Status::Pass,
            format!(
                "Certificate {arn} ({names}) is ISSUED, chains to a public root and is valid until {until}."
            ),
        ),
        ChainVerdict::ExpiresSoon => (
            Status::Warn,
            format!(
                "Certificate {arn} ({names}) expires on {until}, within 30 days; renew it before then."
            ),
        ),
        ChainVerdict::Expired => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) expired on {until}; it needs a valid certificate{skip_note}."
            ),
        ),
        ChainVerdict::NotYetValid => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) is not valid yet; it needs a certificate valid now{skip_note}."
            ),
        ),
        ChainVerdict::Untrusted(why) if skip_verification => {
            judge_private(arn, names, until, pem, chain, at, &why)
        }
        ChainVerdict::Untrusted(why) => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) does not chain to a public root API Gateway trusts ({why}); {SKIP_HINT}."
            ),
        ),
        ChainVerdict::Malformed(why) => (
            Status::Error,
            format!(
                "Certificate {arn} could not be verified because {why}, so this check cannot decide."
            ),
        ),
    }
}

/// A certificate no public root vouches for, on a route that skips CA
/// verification: API Gateway accepts it when it is valid and its chain
/// ends in a proper root CA certificate.
fn judge_private(
    arn: &str,
    names: &str,
    until: &str,
    pem: &str,
    chain: Option<&str>,
    at: time::OffsetDateTime,
    why: &str,
) -> (Status, String) {
    match verify_private(pem, chain, at) {
        PrivateVerdict::Accepted { root } => (
            Status::Pass,
            format!(
                "Certificate {arn} ({names}) is not publicly trusted ({why}) but the integration sets insecureSkipVerification and its chain ends in root CA {root}, so API Gateway accepts it until {until}."
            ),
        ),
        PrivateVerdict::ExpiresSoon { root } => (
            Status::Warn,
            format!(
                "Certificate {arn} ({names}), accepted under insecureSkipVerification through root CA {root}, expires on {until}, within 30 days; renew it before then."
            ),
        ),
        PrivateVerdict::Expired => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) expired on {until}; insecureSkipVerification does not waive expiry, so it needs a valid certificate."
            ),
        ),
        PrivateVerdict::NotYetValid => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) is not valid yet; insecureSkipVerification does not waive that, so it needs a certificate valid now."
            ),
        ),
        PrivateVerdict::NoRoot { top } => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) is served with a chain ending in {top}, which is not a root CA certificate; under insecureSkipVerification API Gateway still needs the chain to end in its root CA."
            ),
        ),
        PrivateVerdict::NotCa { root, missing } => (
            Status::Fail,
            format!(
                "Certificate {arn} ({names}) chains to {root}, which lacks {missing}; under insecureSkipVerification API Gateway still needs the root to be a CA certificate with basicConstraints CA:TRUE and keyUsage keyCertSign."
            ),
        ),
        PrivateVerdict::Malformed(why) => (
            Status::Error,
            format!(
                "Certificate {arn} could not be read because {why}, so this check cannot decide."
            ),
        ),
    }
}
