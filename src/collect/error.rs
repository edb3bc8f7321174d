//! SDK errors become the snapshot's [`Failure`] at the collector boundary:
//! classified (denied, throttled, timed out, unreachable, not found), with
//! the operation and the IAM action it needs, so a check can say exactly
//! which permission or outage kept it from deciding.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use std::borrow::Cow;

use apigw_audit_checks::model::{Failure, FailureKind};
use apigw_audit_checks::secrets::scrub;

use super::aws::{error_chain, one_line};

/// An AWS operation as the snapshot names it, with the IAM action (and for
/// API Gateway, the resource) a policy must allow.
#[derive(Debug, Clone)]
pub struct Op {
    pub operation: &'static str,
    pub iam_action: String,
}

impl Op {
    /// An operation whose IAM action has the same name (EC2, ELBv2, ...).
    pub fn named(operation: &'static str) -> Op {
        Op {
            operation,
            iam_action: operation.to_string(),
        }
    }

    /// An API Gateway operation: IAM knows it as `apigateway:GET` on a path.
    pub fn apigw(operation: &'static str, region: &str, path: &str) -> Op {
        Op {
            operation,
            iam_action: format!(
                "apigateway:GET on arn:{}:apigateway:{region}::{path}",
                apigw_audit_checks::view::partition(region)
            ),
        }
    }

    /// The failure of this operation. Its message is scrubbed of
    /// credentials here, where every failure the collector records is
    /// made: AWS can echo the signed request in an error.
    pub fn failure(&self, kind: FailureKind, code: Option<String>, message: String) -> Failure {
        let message = match scrub(&message) {
            Cow::Borrowed(_) => message,
            Cow::Owned(clean) => clean,
        };
        Failure {
            operation: self.operation.to_string(),
            iam_action: Some(self.iam_action.clone()),
            kind,
            code,
            message,
        }
    }
}

const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
];

const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Whether a service error code means "no such resource".
fn is_not_found(code: &str) -> bool {
    code == "NotFoundException"
        || code.ends_with("NotFound")
        || code.ends_with(".NotFound")
        || code.ends_with("NotFoundException")
}

/// Converts any SDK error into a [`Failure`] for `op`.
pub fn classify<E, R>(op: &Op, err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().map(str::to_string);
            let message = e.message().map(one_line).unwrap_or_else(|| error_chain(e));
            let kind = match code.as_deref() {
                Some(c) if DENIED.contains(&c) => FailureKind::AccessDenied,
                Some(c) if THROTTLED.contains(&c) => FailureKind::Throttled,
                Some(c) if is_not_found(c) => FailureKind::NotFound,
                _ => FailureKind::Service,
            };
            op.failure(kind, code, message)
        }
        SdkError::TimeoutError(_) => op.failure(
            FailureKind::Timeout,
            None,
            "no answer within the call timeout".to_string(),
        ),
        SdkError::DispatchFailure(d) => {
            let kind = if d.is_timeout() {
                FailureKind::Timeout
            } else {
                FailureKind::Unreachable
            };
            op.failure(kind, None, error_chain(err))
        }
        SdkError::ResponseError(_) => op.failure(FailureKind::Malformed, None, error_chain(err)),
        _ => op.failure(FailureKind::Service, None, error_chain(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_the_collector_makes_is_scrubbed_of_credentials() {
        let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH";
        let f = Op::named("ec2:DescribeSubnets").failure(
            FailureKind::AccessDenied,
            Some("InvalidSignatureException".into()),
            format!("The Canonical String should have been 'x-amz-security-token:{token}'"),
        );
        assert!(!f.message.contains(token), "{}", f.message);
        assert!(f.message.contains("x-amz-security-token:(redacted)"));
    }
}
