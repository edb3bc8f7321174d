//! Verdicts: what a check says about one resource on one stage.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check_id::CheckId;
use crate::model::{Failure, FailureKind};

/// A finding's verdict. The derived order is the order in which a stage's
/// status is decided: the worst finding wins, `fail > error > warn > pass`,
/// and `skip` counts for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Skip,
    Pass,
    Warn,
    Error,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }

    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::Error,
        Status::Skip,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// What a check declares about itself, once, next to its logic.
#[derive(Debug)]
pub struct CheckMeta {
    pub id: CheckId,
    pub title: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
    /// Former ids, kept so a rename never breaks a suppression or a filter.
    pub aliases: &'static [&'static str],
}

thread_local! {
    static EVIDENCE_WANTED: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether the findings being made will be shown: not while the collector
/// plans its next reads, which keeps only what the checks looked up.
pub fn evidence_wanted() -> bool {
    EVIDENCE_WANTED.with(|w| w.get())
}

/// Runs `f` with evidence left empty: building the evidence trees is most
/// of what a check costs, and a plan throws every finding away.
pub fn without_evidence<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            EVIDENCE_WANTED.with(|w| w.set(self.0));
        }
    }
    let _restore = Restore(EVIDENCE_WANTED.with(|w| w.replace(false)));
    f()
}

/// A finding's evidence: the raw values that decided it, kept as compact
/// JSON text. An account-wide report holds thousands of findings, and a
/// parsed tree of small objects takes several times the memory of its
/// text; the tree is rebuilt one finding at a time when it is written.
#[derive(Debug, Clone)]
pub struct Evidence(Box<serde_json::value::RawValue>);

impl Evidence {
    pub fn new(value: &Value) -> Self {
        // Serializing a `Value` cannot fail (its map keys are strings);
        // were it to, an empty object beats losing the finding.
        match serde_json::value::to_raw_value(value) {
            Ok(raw) => Evidence(raw),
            Err(_) => Evidence::default(),
        }
    }

    /// The evidence as a JSON tree.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// The evidence as compact JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl Default for Evidence {
    fn default() -> Self {
        Evidence::new(&Value::Object(Default::default()))
    }
}

impl From<Value> for Evidence {
    fn from(value: Value) -> Self {
        Evidence::new(&value)
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Self) -> bool {
        // Both sides are compact serializations of a tree whose maps are
        // sorted, so equal trees give equal text.
        self.0.get() == other.0.get()
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Through the tree, so a pretty writer indents it like the rest.
        self.value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(|v| Evidence::new(&v))
    }
}

/// One check's verdict on one resource of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Serialised as the id's contract string.
    pub check: CheckId,
    pub status: Status,
    pub severity: Severity,
    /// The ARN (or id, where AWS has no ARN) the verdict is about.
    pub resource: Option<String>,
    /// The routes whose integrations the verdict affects; empty when it is
    /// about the whole stage.
    pub routes: Vec<String>,
    pub message: String,
    /// What to change; `None` when nothing needs changing.
    pub remediation: Option<String>,
    pub evidence: Evidence,
}

impl Finding {
    pub fn new(
        meta: &CheckMeta,
        status: Status,
        resource: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            check: meta.id,
            status,
            severity: meta.severity,
            resource: Some(resource.into()),
            routes: Vec::new(),
            message: message.into(),
            remediation: match status {
                Status::Fail | Status::Warn => Some(meta.remediation.to_string()),
                _ => None,
            },
            evidence: Evidence::default(),
        }
    }

    /// A finding for data that could not be read: names the call and the
    /// IAM action, so the user knows which permission or which outage to fix.
    pub fn from_failure(
        meta: &CheckMeta,
        resource: impl Into<String>,
        what: &str,
        failure: &Failure,
    ) -> Self {
        let mut f = Finding::new(
            meta,
            Status::Error,
            resource,
            failure_sentence(what, failure),
        );
        f.remediation = Some(failure_remediation(failure));
        f.evidence(|| serde_json::json!({ "failure": failure }))
    }

    pub fn routes<I, S>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut r: Vec<String> = routes.into_iter().map(Into::into).collect();
        r.sort();
        r.dedup();
        self.routes = r;
        self
    }

    pub fn remediation(mut self, text: impl Into<String>) -> Self {
        self.remediation = Some(text.into());
        self
    }

    /// Attaches the evidence `build` makes, calling it only when the
    /// evidence will be shown ([`evidence_wanted`]): a plan skips building
    /// it by construction, not by every check remembering to.
    pub fn evidence(mut self, build: impl FnOnce() -> Value) -> Self {
        if evidence_wanted() {
            self.evidence = Evidence::new(&build());
        }
        self
    }
}

/// One sentence saying what could not be read and why.
pub fn failure_sentence(what: &str, failure: &Failure) -> String {
    let why = match failure.kind {
        FailureKind::AccessDenied => match &failure.iam_action {
            Some(a) => format!("the IAM action {a} was denied"),
            None => "access was denied".to_string(),
        },
        FailureKind::Throttled => "AWS throttled the call past the retry budget".to_string(),
        FailureKind::Timeout => "the call timed out".to_string(),
        FailureKind::Unreachable => "the endpoint could not be reached".to_string(),
        FailureKind::Malformed => "the answer could not be read".to_string(),
        FailureKind::NotFound => "AWS reported it does not exist".to_string(),
        FailureKind::Service => match &failure.code {
            Some(code) => format!("AWS answered {code}"),
            None => "AWS answered with an error".to_string(),
        },
    };
    let detail = if failure.message.is_empty() {
        String::new()
    } else {
        format!(" ({})", failure.message.trim_end_matches('.'))
    };
    format!(
        "Could not read {what}: {} failed because {why}{detail}, so this check cannot decide.",
        failure.operation
    )
}

/// What to do about a failed read.
pub fn failure_remediation(failure: &Failure) -> String {
    match (failure.kind, &failure.iam_action) {
        (FailureKind::AccessDenied, Some(action)) => format!(
            "Allow {action} for the identity running apigw-audit (see examples/iam-policy.json), then run the audit again."
        ),
        (FailureKind::Throttled, _) => {
            "Run the audit again later, or lower --max-concurrency so it stays under the account's rate limits.".to_string()
        }
        (FailureKind::Timeout | FailureKind::Unreachable, _) => {
            "Check network access to the AWS endpoint (or --endpoint-url) and run the audit again.".to_string()
        }
        _ => format!("Run the audit again; if {} keeps failing, check it with the AWS CLI.", failure.operation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_order_is_the_stage_order() {
        assert!(Status::Fail > Status::Error);
        assert!(Status::Error > Status::Warn);
        assert!(Status::Warn > Status::Pass);
        assert!(Status::Pass > Status::Skip);
    }

    #[test]
    fn failure_sentence_names_operation_and_reason() {
        let f = Failure {
            operation: "ec2:DescribeNetworkAcls".into(),
            iam_action: Some("ec2:DescribeNetworkAcls".into()),
            kind: FailureKind::AccessDenied,
            code: Some("UnauthorizedOperation".into()),
            message: "You are not authorized to perform this operation.".into(),
        };
        let s = failure_sentence("the network ACL of subnet-1", &f);
        assert!(
            s.contains("ec2:DescribeNetworkAcls failed because the IAM action ec2:DescribeNetworkAcls was denied"),
            "{s}"
        );
        assert!(s.ends_with("cannot decide."));
        assert!(failure_remediation(&f).contains("Allow ec2:DescribeNetworkAcls"));
    }
}
