//! AWS Certificate Manager reads: a certificate's names, status, type and
//! dates (`DescribeCertificate`) and its PEM and chain (`GetCertificate`),
//! which the TLS checks verify.

use aws_sdk_acm::Client;
use futures::future::join;

use apigw_audit_checks::model;
use apigw_audit_checks::model::{Certificate, FailureKind, Fetched};

use super::error::{Op, classify};
use super::plumbing::fetched;

fn datetime(d: Option<&aws_smithy_types::DateTime>) -> Option<time::OffsetDateTime> {
    d.and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.secs()).ok())
}

pub async fn certificate(c: &Client, arn: &str) -> Fetched<Certificate> {
    let dop = Op::named("acm:DescribeCertificate");
    let gop = Op::named("acm:GetCertificate");
    let (desc, pem) = join(
        c.describe_certificate().certificate_arn(arn).send(),
        c.get_certificate().certificate_arn(arn).send(),
    )
    .await;
    let desc = match desc {
        Ok(d) => d,
        Err(e) => {
            let f = classify(&dop, &e);
            return fetched(Err(f));
        }
    };
    let Some(d) = desc.certificate() else {
        return Fetched::Error(dop.failure(
            FailureKind::Malformed,
            None,
            "DescribeCertificate returned no certificate".into(),
        ));
    };
    // A certificate whose PEM cannot be read is still described; the trust
    // check then says the PEM is missing, naming GetCertificate.
    let (pem, chain, pem_failure) = match pem {
        Ok(p) => (
            p.certificate().map(str::to_string),
            p.certificate_chain().map(str::to_string),
            None,
        ),
        Err(e) => {
            let f = classify(&gop, &e);
            tracing::warn!("{} failed for {arn}: {}", f.operation, f.message);
            (None, None, Some(f))
        }
    };
    Fetched::Ok(Certificate {
        arn: d.certificate_arn().unwrap_or(arn).to_string(),
        domain_name: d.domain_name().map(str::to_string),
        subject_alternative_names: d.subject_alternative_names().to_vec(),
        status: d
            .status()
            .map(|s| model::CertificateStatus::from(s.as_str())),
        cert_type: d.r#type().map(|t| model::CertificateType::from(t.as_str())),
        not_before: datetime(d.not_before()),
        not_after: datetime(d.not_after()),
        pem,
        chain_pem: chain,
        pem_failure,
    })
}
