//! TLS as API Gateway's HTTP client sees it: whether a host name matches a
//! certificate's names, and whether a certificate chain verifies to a public
//! root at a given instant.
//!
//! Host names match as browsers match them (RFC 6125): case-insensitive,
//! after IDNA mapping, a wildcard only as the whole left-most label and
//! matching exactly one label, never the apex and never a bare public
//! suffix. Chains are verified with `rustls-webpki` against the Mozilla root
//! store (`webpki-roots`): the closest public equivalent of the trust store
//! API Gateway's integration client uses.
//!
//! A REST integration with `insecureSkipVerification` accepts private-CA
//! and self-signed certificates, but API Gateway still checks expiry, the
//! host name and that the chain ends in a root CA certificate whose
//! extensions say it is one (basicConstraints CA:TRUE, keyUsage
//! keyCertSign): [`verify_private`] judges exactly that.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;

/// A host name in the form certificates carry: lower case, IDNA mapped
/// (punycode), without a trailing dot. `None` when it is not a DNS name.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    if host.is_empty() {
        return None;
    }
    match url::Host::parse(host).ok()? {
        url::Host::Domain(d) => Some(d.to_ascii_lowercase()),
        _ => None,
    }
}

/// Whether certificate name `pattern` (a DNS SAN or the CN) covers `host`.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let Some(host) = normalize_host(host) else {
        return false;
    };
    let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            // `*.com` would cover a whole public suffix: no browser accepts it.
            if !rest.contains('.') || rest.contains('*') {
                return false;
            }
            let Some(rest) = normalize_host(rest) else {
                return false;
            };
            match host.split_once('.') {
                Some((first, tail)) => !first.is_empty() && tail == rest,
                None => false,
            }
        }
        None if pattern.contains('*') => false,
        None => normalize_host(&pattern).is_some_and(|p| p == host),
    }
}

/// The first of `names` that covers `host`.
pub fn matching_name<'a>(names: &'a [String], host: &str) -> Option<&'a str> {
    names
        .iter()
        .map(String::as_str)
        .find(|n| name_matches(n, host))
}

/// The outcome of verifying a chain at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Chains to a public root and is valid at that instant.
    Trusted,
    /// Valid now, but not 30 days from now.
    ExpiresSoon,
    Expired,
    NotYetValid,
    /// No path to a public root: self-signed, private CA, missing
    /// intermediate; the text says what webpki found.
    Untrusted(String),
    /// The PEM could not be read.
    Malformed(String),
}

/// Days before expiry at which a certificate starts to warn.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

fn unix(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        t.unix_timestamp().max(0) as u64
    ))
}

fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{e:?}"))
}

/// What an uploaded certificate says of itself, for certificates AWS keeps
/// as text only (IAM server certificates): its subject's common name, its
/// DNS subject alternative names and its validity period.
#[derive(Debug, Clone, PartialEq)]
pub struct PemFacts {
    pub common_name: Option<String>,
    pub dns_names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// The [`PemFacts`] of the first certificate in `pem`.
pub fn pem_facts(pem: &str) -> Result<PemFacts, String> {
    use x509_parser::extensions::GeneralName;
    let der = parse_pem(pem)?
        .into_iter()
        .next()
        .ok_or_else(|| "no certificate in the PEM text".to_string())?;
    let (_, c) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("the certificate does not parse ({e})"))?;
    let common_name = c
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let dns_names = c
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PemFacts {
        common_name,
        dns_names,
        not_before: c.validity().not_before.to_datetime(),
        not_after: c.validity().not_after.to_datetime(),
    })
}

/// Verifies `leaf_pem` with the intermediates of `chain_pem` against the
/// public roots at `at`, and again 30 days later to warn of expiry.
pub fn verify_chain(leaf_pem: &str, chain_pem: Option<&str>, at: OffsetDateTime) -> ChainVerdict {
    verify_chain_with(leaf_pem, chain_pem, at, webpki_roots::TLS_SERVER_ROOTS)
}

/// [`verify_chain`] against the given roots (tests use their own CA).
pub fn verify_chain_with(
    leaf_pem: &str,
    chain_pem: Option<&str>,
    at: OffsetDateTime,
    roots: &[rustls_pki_types::TrustAnchor<'_>],
) -> ChainVerdict {
    let leaf = match parse_pem(leaf_pem).map(|v| v.into_iter().next()) {
        Ok(Some(leaf)) => leaf,
        Ok(None) => {
            return ChainVerdict::Malformed("the certificate holds no PEM block".to_string());
        }
        Err(e) => return ChainVerdict::Malformed(format!("the certificate PEM is invalid ({e})")),
    };
    let intermediates = match chain_pem.map(parse_pem).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => return ChainVerdict::Malformed(format!("the chain PEM is invalid ({e})")),
    };
    let ee = match webpki::EndEntityCert::try_from(&leaf) {
        Ok(ee) => ee,
        Err(e) => {
            return ChainVerdict::Malformed(format!("the certificate cannot be parsed ({e})"));
        }
    };
    let verify = |t: OffsetDateTime| {
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            roots,
            &intermediates,
            unix(t),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map(|_| ())
    };
    match verify(at) {
        Ok(()) => match verify(at + time::Duration::days(EXPIRY_WARNING_DAYS)) {
            Err(webpki::Error::CertExpired { .. }) => ChainVerdict::ExpiresSoon,
            _ => ChainVerdict::Trusted,
        },
        Err(webpki::Error::CertExpired { .. }) => ChainVerdict::Expired,
        Err(webpki::Error::CertNotValidYet { .. }) => ChainVerdict::NotYetValid,
        Err(webpki::Error::UnknownIssuer) => ChainVerdict::Untrusted(
            "it is self-signed, issued by a private CA, or missing an intermediate from its chain"
                .to_string(),
        ),
        Err(e) => ChainVerdict::Untrusted(format!("{e}")),
    }
}

/// The outcome of judging a chain the way API Gateway does when an
/// integration skips verification of the issuing CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateVerdict {
    /// The leaf is valid now and the chain ends in a proper root CA (its
    /// subject is named).
    Accepted {
        root: String,
    },
    /// As `Accepted`, but the leaf expires within 30 days.
    ExpiresSoon {
        root: String,
    },
    Expired,
    NotYetValid,
    /// The last certificate served is not self-issued: the root is absent.
    NoRoot {
        top: String,
    },
    /// The root lacks what API Gateway requires of it; the text names it.
    NotCa {
        root: String,
        missing: String,
    },
    Malformed(String),
}

fn subject_text(c: &x509_parser::certificate::X509Certificate<'_>) -> String {
    let s = c.subject().to_string();
    if s.is_empty() {
        "(empty subject)".to_string()
    } else {
        s
    }
}

/// Judges `leaf_pem` and `chain_pem` at `at` as API Gateway does for an
/// integration with `insecureSkipVerification`: the leaf must be inside its
/// validity period and the last certificate of the chain (the leaf itself
/// when there is no chain) must be a self-issued CA certificate with
/// basicConstraints CA:TRUE and keyUsage keyCertSign.
pub fn verify_private(
    leaf_pem: &str,
    chain_pem: Option<&str>,
    at: OffsetDateTime,
) -> PrivateVerdict {
    let mut ders = match parse_pem(leaf_pem) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            return PrivateVerdict::Malformed("the certificate holds no PEM block".to_string());
        }
        Err(e) => {
            return PrivateVerdict::Malformed(format!("the certificate PEM is invalid ({e})"));
        }
    };
    ders.truncate(1);
    match chain_pem.map(parse_pem).transpose() {
        Ok(v) => ders.extend(v.unwrap_or_default()),
        Err(e) => return PrivateVerdict::Malformed(format!("the chain PEM is invalid ({e})")),
    }
    let mut certs = Vec::with_capacity(ders.len());
    for der in &ders {
        match x509_parser::parse_x509_certificate(der.as_ref()) {
            Ok((_, c)) => certs.push(c),
            Err(e) => {
                return PrivateVerdict::Malformed(format!("a certificate cannot be parsed ({e})"));
            }
        }
    }
    let (Some(leaf), Some(top)) = (certs.first(), certs.last()) else {
        return PrivateVerdict::Malformed("the certificate holds no PEM block".to_string());
    };
    let validity = leaf.validity();
    let now = at.unix_timestamp();
    if now < validity.not_before.timestamp() {
        return PrivateVerdict::NotYetValid;
    }
    if now > validity.not_after.timestamp() {
        return PrivateVerdict::Expired;
    }
    let root = subject_text(top);
    if top.subject().as_raw() != top.issuer().as_raw() {
        return PrivateVerdict::NoRoot { top: root };
    }
    let mut missing = Vec::new();
    match top.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        Ok(_) => missing.push("basicConstraints CA:TRUE"),
        Err(e) => {
            return PrivateVerdict::Malformed(format!(
                "the basicConstraints of {root} cannot be read ({e})"
            ));
        }
    }
    match top.key_usage() {
        Ok(Some(ku)) if ku.value.key_cert_sign() => {}
        Ok(_) => missing.push("keyUsage keyCertSign"),
        Err(e) => {
            return PrivateVerdict::Malformed(format!(
                "the keyUsage of {root} cannot be read ({e})"
            ));
        }
    }
    if !missing.is_empty() {
        return PrivateVerdict::NotCa {
            root,
            missing: missing.join(" and "),
        };
    }
    let soon = now + EXPIRY_WARNING_DAYS * 86_400;
    if soon > validity.not_after.timestamp() {
        PrivateVerdict::ExpiresSoon { root }
    } else {
        PrivateVerdict::Accepted { root }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_name_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("api.internal.example", "api.internal.example", true),
            ("API.Internal.Example", "api.internal.example", true),
            ("api.internal.example.", "api.internal.example", true),
            ("api.internal.example", "API.INTERNAL.EXAMPLE", true),
            ("*.internal.example", "api.internal.example", true),
            ("*.internal.example", "internal.example", false),
            ("*.internal.example", "a.b.internal.example", false),
            // A wildcard over a single label (a top-level domain) covers nothing.
            ("*.example", "api.example", false),
            ("*.com", "example.com", false),
            ("api*.internal.example", "api1.internal.example", false),
            ("*.*.example", "a.b.example", false),
            ("other.internal.example", "api.internal.example", false),
            ("xn--bcher-kva.example", "bücher.example", true),
            ("*.xn--bcher-kva.example", "shop.BÜCHER.example", true),
            ("10.0.0.1", "10.0.0.1", false),
        ];
        for (pattern, host, want) in cases {
            assert_eq!(name_matches(pattern, host), *want, "{pattern} vs {host}");
        }
    }

    #[test]
    fn first_matching_name_is_named() {
        let names = vec!["example.com".to_string(), "*.example.com".to_string()];
        assert_eq!(
            matching_name(&names, "api.example.com"),
            Some("*.example.com")
        );
        assert_eq!(matching_name(&names, "api.other.com"), None);
    }

    #[test]
    fn malformed_pem_is_reported_not_trusted() {
        let v = verify_chain("not a pem", None, OffsetDateTime::UNIX_EPOCH);
        assert!(matches!(v, ChainVerdict::Malformed(_)), "{v:?}");
    }
}
