//! Chain verification on certificates generated here (rcgen) and on one
//! real public chain (aws.amazon.com, see tests/fixtures/README.md).

use apigw_audit_checks::tls::{ChainVerdict, verify_chain, verify_chain_with};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use time::{Duration, OffsetDateTime, macros::datetime};

const LEAF: &str = include_str!("fixtures/aws.amazon.com.leaf.pem");
const CHAIN: &str = include_str!("fixtures/aws.amazon.com.chain.pem");

#[test]
fn the_real_public_chain_verifies_while_valid() {
    // A moment inside the leaf's validity (2025-11-06 .. 2026-10-17).
    assert_eq!(
        verify_chain(LEAF, Some(CHAIN), datetime!(2026-08-12 09:00 UTC)),
        ChainVerdict::Trusted
    );
    assert_eq!(
        verify_chain(LEAF, Some(CHAIN), datetime!(2026-10-01 00:00 UTC)),
        ChainVerdict::ExpiresSoon
    );
    assert_eq!(
        verify_chain(LEAF, Some(CHAIN), datetime!(2026-11-21 00:00 UTC)),
        ChainVerdict::Expired
    );
    assert_eq!(
        verify_chain(LEAF, Some(CHAIN), datetime!(2025-01-01 00:00 UTC)),
        ChainVerdict::NotYetValid
    );
}

#[test]
fn the_real_leaf_without_its_intermediate_does_not_verify() {
    let v = verify_chain(LEAF, None, datetime!(2026-08-12 09:00 UTC));
    assert!(matches!(v, ChainVerdict::Untrusted(_)), "{v:?}");
}

struct Ca {
    der: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

fn ca() -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "apigw-audit test CA");
    let key = KeyPair::generate().expect("key");
    let der = p.self_signed(&key).expect("ca");
    Ca {
        der,
        issuer: Issuer::new(p, key),
    }
}

fn leaf(ca: Option<&Ca>, from: OffsetDateTime, to: OffsetDateTime) -> String {
    let mut p = CertificateParams::new(vec!["api.internal.example".to_string()]).expect("params");
    p.not_before = from;
    p.not_after = to;
    let key = KeyPair::generate().expect("key");
    match ca {
        Some(ca) => p.signed_by(&key, &ca.issuer).expect("leaf").pem(),
        None => p.self_signed(&key).expect("leaf").pem(),
    }
}

fn anchors(ca: &Ca) -> Vec<rustls_pki_types::TrustAnchor<'static>> {
    let der = rustls_pki_types::CertificateDer::from(ca.der.der().to_vec());
    vec![
        webpki::anchor_from_trusted_cert(&der)
            .expect("anchor")
            .to_owned(),
    ]
}

#[test]
fn generated_certificates() {
    let now = datetime!(2026-11-21 12:00 UTC);
    let ca = ca();
    let roots = anchors(&ca);
    let good = leaf(
        Some(&ca),
        now - Duration::days(30),
        now + Duration::days(200),
    );
    assert_eq!(
        verify_chain_with(&good, None, now, &roots),
        ChainVerdict::Trusted
    );

    let soon = leaf(
        Some(&ca),
        now - Duration::days(80),
        now + Duration::days(10),
    );
    assert_eq!(
        verify_chain_with(&soon, None, now, &roots),
        ChainVerdict::ExpiresSoon
    );

    let expired = leaf(
        Some(&ca),
        now - Duration::days(400),
        now - Duration::days(1),
    );
    assert_eq!(
        verify_chain_with(&expired, None, now, &roots),
        ChainVerdict::Expired
    );

    // Self-signed: no root vouches for it, whatever its dates.
    let selfsigned = leaf(None, now - Duration::days(1), now + Duration::days(300));
    assert!(matches!(
        verify_chain_with(&selfsigned, None, now, &roots),
        ChainVerdict::Untrusted(_)
    ));
    // A private CA is not a public root.
    assert!(matches!(
        verify_chain(&good, None, now),
        ChainVerdict::Untrusted(_)
    ));
}

/// What an IAM server certificate's PEM says of itself: its common name,
/// its DNS names and its dates; text that is no certificate is an error.
#[test]
fn pem_facts_read_names_and_dates() {
    use apigw_audit_checks::tls::pem_facts;
    let mut params = CertificateParams::new(vec![
        "orders.example.com".to_string(),
        "*.orders.example.com".to_string(),
    ])
    .expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "orders.example.com");
    params.not_before = datetime!(2026-01-01 0:00 UTC);
    params.not_after = datetime!(2027-01-01 0:00 UTC);
    let key = KeyPair::generate().expect("key");
    let pem = params.self_signed(&key).expect("cert").pem();
    let facts = pem_facts(&pem).expect("facts");
    assert_eq!(facts.common_name.as_deref(), Some("orders.example.com"));
    assert_eq!(
        facts.dns_names,
        vec!["orders.example.com", "*.orders.example.com"]
    );
    assert_eq!(facts.not_after, datetime!(2027-01-01 0:00 UTC));
    assert_eq!(facts.not_before, datetime!(2026-01-01 0:00 UTC));
    assert!(pem_facts("not a certificate").is_err());
}
