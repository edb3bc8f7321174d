//! The report: audit results aggregated per API stage, in the contract's
//! frozen JSON v1 shape, and the exit code they imply.
//!
//! [`Report`] is the v1 schema itself, kept apart from the checks crate's
//! internal types so that an internal rename can never change the JSON.
//! Renderers are pure functions from a `Report` to a writer.

pub mod catalogue;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use std::io::Write;

use apigw_audit_checks::finding::Evidence;
use apigw_audit_checks::{ApiResult, CheckId, Severity, Status};
use serde::Serialize;
use serde_json::Value;

use crate::cli::FailOn;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub generated_at: String,
    /// `live` or `snapshot`.
    pub source: &'static str,
    pub account: Option<String>,
    /// The region audited; `null` when the report spans several.
    pub region: Option<String>,
    pub apis: Vec<ApiReport>,
    pub summary: Summary,
    /// An addition to v1, with `--baseline`: what changed since that report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
    /// With `--stats`: what the collection cost (the contract's optional key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<Value>,
    /// An addition to v1: APIs found and not judged (WebSocket APIs), each
    /// with its region and the reason; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_apis: Vec<SkippedReport>,
}

/// An API the audit found and did not judge.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedReport {
    pub id: String,
    pub name: Option<String>,
    pub region: String,
    pub kind: String,
    pub reason: String,
}

/// How this report compares with a baseline report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct BaselineSummary {
    /// The baseline file, as given.
    pub file: String,
    /// Findings at warn or worse that the baseline did not have (or had
    /// with a milder status).
    pub new: usize,
    /// Findings the baseline already had with the same status.
    pub unchanged: usize,
    /// The baseline's warn-or-worse findings gone from this report, as
    /// `api/stage check resource`.
    pub resolved: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiReport {
    /// `null` (empty here) for a region whose APIs could not be listed.
    #[serde(serialize_with = "empty_as_null")]
    pub id: String,
    pub name: Option<String>,
    /// `null` (empty here) for a region whose APIs could not be listed.
    #[serde(serialize_with = "empty_as_null")]
    pub kind: &'static str,
    /// An addition to v1: the region the API lives in.
    pub region: String,
    pub stages: Vec<StageReport>,
}

/// The contract's "unknown values are null": an id or kind left empty
/// because nothing could be read is written as `null`.
fn empty_as_null<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(v)
    }
}

impl ApiReport {
    /// How a text report names one of its stages.
    pub fn stage_label<'s>(&self, stage: &'s StageReport) -> &'s str {
        match (&stage.name, self.id.is_empty()) {
            (Some(n), _) => n,
            (None, true) => "(no API could be read)",
            (None, false) => "(stages unreadable)",
        }
    }

    /// How a text report names it: "id (REST, region)", or the region
    /// whose APIs could not be listed.
    pub fn label(&self) -> String {
        if self.id.is_empty() {
            format!("the APIs of {} (could not be listed)", self.region)
        } else {
            format!(
                "{} ({}, {})",
                self.id,
                self.kind.to_uppercase(),
                self.region
            )
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    /// `null` when the API's stages could not be read.
    pub name: Option<String>,
    pub status: Status,
    pub findings: Vec<FindingReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    pub check: CheckId,
    pub status: Status,
    pub severity: Severity,
    pub resource: Option<String>,
    pub routes: Vec<String>,
    pub message: String,
    pub remediation: Option<String>,
    pub evidence: Evidence,
    pub suppressed: Option<Suppressed>,
    /// An addition to v1, with `--baseline`: `new` or `unchanged` for a
    /// finding at warn or worse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<&'static str>,
}

impl FindingReport {
    /// The order findings are listed in: worst first, then by check id (as
    /// a string, the order the outputs have always had).
    pub fn worst_first(a: &&FindingReport, b: &&FindingReport) -> std::cmp::Ordering {
        b.status
            .cmp(&a.status)
            .then(a.check.as_str().cmp(b.check.as_str()))
    }

    /// Whether the finding counts toward the exit code and the stage's
    /// status: neither suppressed nor already in the baseline. A baseline
    /// accepts known verdicts about the configuration; an `error` says this
    /// run could not decide, which no baseline can have accepted, so it
    /// always counts (a suppression entry may still silence it, but only
    /// with `status = "error"`).
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
            && (self.baseline != Some("unchanged") || self.status == Status::Error)
    }
}

impl StageReport {
    /// Recomputes the stage's status from its findings: the worst that is
    /// not suppressed (skips count for nothing; no finding is a pass).
    pub fn refresh_status(&mut self) {
        self.status = self
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| f.status)
            .filter(|s| *s != Status::Skip)
            .max()
            .unwrap_or(Status::Pass);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    pub reason: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub error: usize,
    pub skip: usize,
}

impl Summary {
    fn count(&mut self, s: Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Warn => self.warn += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::Skip => self.skip += 1,
        }
    }
}

/// Where the audited data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Live,
    Snapshot,
}

impl Report {
    pub fn build(
        results: Vec<ApiResult>,
        source: Source,
        account: Option<String>,
        regions: &[String],
    ) -> Report {
        let mut summary = Summary::default();
        let apis = results
            .into_iter()
            .map(|api| ApiReport {
                id: api.id,
                name: api.name,
                kind: api.kind.map_or("", |k| k.as_str()),
                region: api.region,
                stages: api
                    .stages
                    .into_iter()
                    .map(|stage| {
                        let status = stage.status();
                        let findings = stage
                            .findings
                            .into_iter()
                            .map(|f| {
                                summary.count(f.status);
                                FindingReport {
                                    check: f.check,
                                    status: f.status,
                                    severity: f.severity,
                                    resource: f.resource,
                                    routes: f.routes,
                                    message: f.message,
                                    remediation: f.remediation,
                                    evidence: f.evidence,
                                    suppressed: None,
                                    baseline: None,
                                }
                            })
                            .collect();
                        StageReport {
                            name: stage.name,
                            status,
                            findings,
                        }
                    })
                    .collect(),
            })
            .collect();
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: Tool {
                name: "apigw-audit",
                version: env!("CARGO_PKG_VERSION"),
            },
            generated_at: crate::clock::report_rfc3339(matches!(source, Source::Snapshot)),
            source: match source {
                Source::Live => "live",
                Source::Snapshot => "snapshot",
            },
            account,
            region: match regions {
                [one] => Some(one.clone()),
                _ => None,
            },
            apis,
            summary,
            baseline: None,
            stats: None,
            skipped_apis: Vec::new(),
        }
    }

    /// Every finding with the API and stage it belongs to.
    pub fn findings(&self) -> impl Iterator<Item = (&ApiReport, &StageReport, &FindingReport)> {
        self.apis
            .iter()
            .flat_map(|a| a.stages.iter().map(move |s| (a, s)))
            .flat_map(|(a, s)| s.findings.iter().map(move |f| (a, s, f)))
    }

    /// The contract's exit code: 1 when an active finding (neither
    /// suppressed nor unchanged since the baseline) reaches `fail_on`, else
    /// 3 when an active one is `error`, else 0.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
        let threshold = match fail_on {
            FailOn::Fail => Some(Status::Fail),
            FailOn::Warn => Some(Status::Warn),
            FailOn::Never => None,
        };
        let active = || self.findings().map(|(_, _, f)| f).filter(|f| f.is_active());
        let reaches = |f: &FindingReport| match threshold {
            None => false,
            // `error` is not a verdict about the configuration: it only
            // ever sets exit code 3.
            Some(t) => f.status != Status::Error && f.status >= t,
        };
        if active().any(reaches) {
            1
        } else if active().any(|f| f.status == Status::Error) {
            3
        } else {
            0
        }
    }

    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

/// Reports built by hand, for the tests of what reads or marks them.
#[cfg(test)]
pub mod fixtures {
    use super::*;
    use serde_json::Value;

    pub fn finding(check: &str, resource: &str, status: Status) -> FindingReport {
        FindingReport {
            check: apigw_audit_checks::CheckId::parse(check).expect("a check id"),
            status,
            severity: apigw_audit_checks::Severity::High,
            resource: Some(resource.into()),
            routes: vec![],
            message: "m".into(),
            remediation: None,
            evidence: apigw_audit_checks::finding::Evidence::new(&Value::Null),
            suppressed: None,
            baseline: None,
        }
    }

    pub fn report(findings: Vec<FindingReport>) -> Report {
        let mut r = Report::build(vec![], Source::Snapshot, None, &["us-east-1".into()]);
        r.apis.push(ApiReport {
            id: "a1".into(),
            name: None,
            kind: "rest",
            region: "us-east-1".into(),
            stages: vec![StageReport {
                name: Some("prod".into()),
                status: Status::Pass,
                findings,
            }],
        });
        r.summary = Summary::default();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apigw_audit_checks::{Finding, StageResult, model::ApiKind};

    fn finding(status: Status) -> Finding {
        Finding {
            check: apigw_audit_checks::CheckId::TargetHealth,
            status,
            severity: Severity::High,
            resource: Some("arn".into()),
            routes: vec![],
            message: "m".into(),
            remediation: None,
            evidence: Evidence::new(&Value::Null),
        }
    }

    fn report(statuses: &[Status]) -> Report {
        let api = ApiResult {
            region: "us-east-1".into(),
            id: "a".into(),
            name: None,
            kind: Some(ApiKind::Rest),
            stages: vec![StageResult {
                name: Some("prod".into()),
                findings: statuses.iter().map(|s| finding(*s)).collect(),
            }],
        };
        Report::build(vec![api], Source::Snapshot, None, &["us-east-1".into()])
    }

    #[test]
    fn exit_code_matrix() {
        use Status::{Error, Fail, Pass, Skip, Warn};
        let (f, w, n) = (FailOn::Fail, FailOn::Warn, FailOn::Never);
        let cases: &[(&[Status], FailOn, u8)] = &[
            (&[Pass, Skip], f, 0),
            (&[Pass, Warn], f, 0),
            (&[Pass, Warn], w, 1),
            (&[Fail], f, 1),
            (&[Fail], w, 1),
            (&[Fail], n, 0),
            (&[Error], f, 3),
            (&[Error], n, 3),
            (&[Error, Warn], w, 1),
            (&[Error, Fail], f, 1),
            (&[Error, Fail], n, 3),
            (&[Error, Warn], f, 3),
        ];
        for (statuses, fail_on, code) in cases {
            assert_eq!(
                report(statuses).exit_code(*fail_on),
                *code,
                "{statuses:?} with {fail_on:?}"
            );
        }
    }

    /// `--fail-on` x statuses x (suppressed or unchanged since the
    /// baseline): a finding set aside either way counts for nothing.
    #[test]
    fn exit_code_matrix_with_findings_set_aside() {
        use Status::{Error, Fail, Pass, Warn};
        let (f, w, n) = (FailOn::Fail, FailOn::Warn, FailOn::Never);
        // (statuses, which are set aside, fail_on, exit code when
        // suppressed, exit code when unchanged in the baseline): a baseline
        // never sets an `error` aside, since no baseline can have accepted
        // what a run could not decide.
        type Case<'a> = (&'a [Status], &'a [bool], FailOn, u8, u8);
        let cases: &[Case] = &[
            (&[Fail], &[true], f, 0, 0),
            (&[Fail], &[true], w, 0, 0),
            (&[Fail, Warn], &[true, false], f, 0, 0),
            (&[Fail, Warn], &[true, false], w, 1, 1),
            (&[Fail, Warn], &[false, true], w, 1, 1),
            (&[Fail, Error], &[true, false], f, 3, 3),
            (&[Fail, Error], &[false, true], f, 1, 1),
            (&[Fail, Error], &[true, true], f, 0, 3),
            (&[Error], &[true], n, 0, 3),
            (&[Warn, Pass], &[true, false], w, 0, 0),
            (&[Fail, Fail], &[true, false], f, 1, 1),
        ];
        for aside in ["suppressed", "unchanged"] {
            for (statuses, set_aside, fail_on, suppressed_code, unchanged_code) in cases {
                let code = if aside == "suppressed" {
                    suppressed_code
                } else {
                    unchanged_code
                };
                let mut r = report(statuses);
                for (finding, yes) in r.apis[0].stages[0].findings.iter_mut().zip(*set_aside) {
                    if !*yes {
                        continue;
                    }
                    if aside == "suppressed" {
                        finding.suppressed = Some(Suppressed {
                            reason: "accepted".into(),
                            expires: None,
                        });
                    } else {
                        finding.baseline = Some("unchanged");
                    }
                }
                assert_eq!(
                    r.exit_code(*fail_on),
                    *code,
                    "{statuses:?} with {set_aside:?} {aside}, --fail-on {fail_on:?}"
                );
            }
        }
    }

    #[test]
    fn a_stage_whose_failures_are_all_suppressed_is_not_failing() {
        let mut r = report(&[Status::Fail, Status::Warn, Status::Pass]);
        r.apis[0].stages[0].findings[0].suppressed = Some(Suppressed {
            reason: "accepted".into(),
            expires: None,
        });
        r.apis[0].stages[0].refresh_status();
        assert_eq!(r.apis[0].stages[0].status, Status::Warn);
    }

    #[test]
    fn suppressed_findings_do_not_set_the_exit_code() {
        let mut r = report(&[Status::Fail, Status::Error]);
        for s in &mut r.apis[0].stages[0].findings {
            s.suppressed = Some(Suppressed {
                reason: "accepted".into(),
                expires: None,
            });
        }
        assert_eq!(r.exit_code(FailOn::Fail), 0);
    }

    #[test]
    fn summary_and_stage_status() {
        let r = report(&[Status::Pass, Status::Warn, Status::Skip, Status::Error]);
        assert_eq!(
            r.summary,
            Summary {
                pass: 1,
                warn: 1,
                fail: 0,
                error: 1,
                skip: 1
            }
        );
        assert_eq!(r.apis[0].stages[0].status, Status::Error);
    }
}
