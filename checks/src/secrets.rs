//! Takes credentials out of text AWS sent back. An error message can echo
//! the request it refuses: an `InvalidSignatureException` (behind a
//! TLS-inspecting proxy, say) quotes the canonical request with its
//! `x-amz-security-token` header, and a refused presigned URL carries
//! `X-Amz-Credential` and `X-Amz-Signature`. The collector scrubs every
//! failure message with [`scrub`] before it reaches a finding, a snapshot,
//! a log line or any report.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a scrubbed value reads as.
pub const SCRUBBED: &str = "(redacted)";

/// Each pattern keeps its first group (the name of the field) and replaces
/// the value after it.
static FIELDS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Session tokens: a header in a canonical request, a query
        // parameter in a URL, a field in a credentials file.
        r"(?i)(x-amz-security-token\s*[:=]\s*)[^\s&'\x22,;]+",
        r"(?i)(aws_session_token\s*[:=]\s*)[^\s&'\x22,;]+",
        r"(?i)(aws_secret_access_key\s*[:=]\s*)[^\s&'\x22,;]+",
        // SigV4 signatures and credential scopes, in a header or a URL.
        r"(?i)((?:x-amz-)?signature\s*[:=]\s*)[0-9a-f]{16,}",
        r"(?i)((?:x-amz-)?credential\s*[:=]\s*)[^\s&'\x22,;]+",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// Access key ids (long-term `AKIA`, temporary `ASIA`) wherever they stand.
static KEY_IDS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b").ok());

/// `text` with every credential, token and signature replaced by
/// [`SCRUBBED`]; borrowed when there was nothing to take out.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for re in FIELDS.iter() {
        if re.is_match(&out) {
            out = Cow::Owned(
                re.replace_all(&out, format!("${{1}}{SCRUBBED}"))
                    .into_owned(),
            );
        }
    }
    if let Some(re) = KEY_IDS.as_ref()
        && re.is_match(&out)
    {
        out = Cow::Owned(re.replace_all(&out, SCRUBBED).into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6+abc/def==";

    #[test]
    fn a_refused_signature_loses_its_token_signature_and_key_id() {
        // The shape of an InvalidSignatureException body, squeezed onto one
        // line as the collector keeps it.
        let msg = format!(
            "The request signature we calculated does not match the signature you provided. \
             The Canonical String for this request should have been 'GET / \
             Action=DescribeInstances&Version=2016-11-15 host:ec2.us-east-1.amazonaws.com \
             x-amz-date:20261201T000000Z x-amz-security-token:{TOKEN} \
             host;x-amz-date;x-amz-security-token e3b0c44298fc1c149afbf4c8996fb924' \
             Authorization: AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20261201/us-east-1/ec2/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
        );
        let out = scrub(&msg);
        assert!(!out.contains(TOKEN), "{out}");
        assert!(!out.contains("ASIAIOSFODNN7EXAMPLE"), "{out}");
        assert!(!out.contains("fe5f80f77d5fa3be"), "{out}");
        assert!(out.contains("x-amz-security-token:(redacted)"), "{out}");
        // What a person needs to act on stays.
        assert!(out.contains("does not match the signature you provided"));
        assert!(out.contains("host;x-amz-date;x-amz-security-token"));
    }

    #[test]
    fn presigned_urls_and_credential_files_lose_their_values() {
        let url = format!(
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261201&X-Amz-Security-Token={TOKEN}&X-Amz-Signature=0123456789abcdef0123"
        );
        let out = scrub(&url);
        assert!(
            !out.contains("AKIAIOSFODNN7EXAMPLE") && !out.contains(TOKEN),
            "{out}"
        );
        assert!(!out.contains("0123456789abcdef0123"), "{out}");
        let file = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(scrub(file), "aws_secret_access_key = (redacted)");
    }

    #[test]
    fn ordinary_messages_are_left_as_they_are() {
        for msg in [
            "User: arn:aws:iam::123456789012:role/audit is not authorized to perform: ec2:DescribeNetworkAcls",
            "Rate exceeded",
            "The target group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067 does not exist",
        ] {
            assert!(matches!(scrub(msg), Cow::Borrowed(_)), "{msg}");
        }
    }
}
