//! IAM reads: an IAM server certificate a listener presents
//! (`GetServerCertificate`), as the TLS checks read an ACM one. ELB
//! listeners may use certificates uploaded to IAM as well as ACM ones (ALB
//! guide, "SSL certificates for your Application Load Balancer"); IAM keeps
//! the PEM and the chain, and the names and dates are read from the PEM.

use aws_sdk_iam::Client;

use apigw_audit_checks::model::{
    Certificate, CertificateStatus, CertificateType, FailureKind, Fetched,
};
use apigw_audit_checks::tls::pem_facts;

use super::error::{Op, classify};
use super::plumbing::fetched;

/// The certificate's name, the last segment of its ARN
/// (`arn:aws:iam::ACCOUNT:server-certificate/PATH/NAME`): the call takes
/// the name, not the ARN.
pub fn server_certificate_name(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":server-certificate/")?.1;
    rest.rsplit('/').next().filter(|n| !n.is_empty())
}

pub async fn server_certificate(c: &Client, arn: &str) -> Fetched<Certificate> {
    let op = Op::named("iam:GetServerCertificate");
    let Some(name) = server_certificate_name(arn) else {
        return Fetched::Error(op.failure(
            FailureKind::Malformed,
            None,
            format!("{arn} is not an IAM server certificate ARN"),
        ));
    };
    let out = match c
        .get_server_certificate()
        .server_certificate_name(name)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => return fetched(Err(classify(&op, &e))),
    };
    let Some(sc) = out.server_certificate() else {
        return Fetched::Error(op.failure(
            FailureKind::Malformed,
            None,
            "GetServerCertificate returned no certificate".into(),
        ));
    };
    let body = sc.certificate_body();
    let facts = match pem_facts(body) {
        Ok(f) => f,
        Err(why) => {
            return Fetched::Error(op.failure(
                FailureKind::Malformed,
                None,
                format!(
                    "the body of IAM server certificate {name} is not a PEM certificate: {why}"
                ),
            ));
        }
    };
    // IAM has no status: a certificate past its end date is EXPIRED, as
    // ACM would say; otherwise it is in service.
    let expired = facts.not_after < crate::clock::now_seconds();
    Fetched::Ok(Certificate {
        arn: arn.to_string(),
        domain_name: facts.common_name,
        subject_alternative_names: facts.dns_names,
        status: Some(if expired {
            CertificateStatus::Expired
        } else {
            CertificateStatus::Issued
        }),
        cert_type: Some(CertificateType::Imported),
        not_before: Some(facts.not_before),
        not_after: Some(facts.not_after),
        pem: Some(body.to_string()),
        chain_pem: sc.certificate_chain().map(str::to_string),
        pem_failure: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_arn() {
        assert_eq!(
            server_certificate_name("arn:aws:iam::123456789012:server-certificate/orders"),
            Some("orders")
        );
        assert_eq!(
            server_certificate_name(
                "arn:aws:iam::123456789012:server-certificate/cloudfront/prod/orders"
            ),
            Some("orders")
        );
        assert_eq!(
            server_certificate_name("arn:aws:acm:us-east-1:1:certificate/x"),
            None
        );
    }
}
