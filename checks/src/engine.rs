//! Runs the catalogue over a snapshot: one [`StageResult`] per API stage,
//! each holding exactly one finding per check and resource.

use crate::catalogue::CHECKS;
use crate::finding::{Finding, Status};
use crate::model::{ApiKind, ApiRecord, Failure, Fetched, RegionData, Snapshot};
use crate::toolkit::{CheckDef, Findings, StageCtx};
use crate::view::{Definition, StageView, Want, WantLog, api_arn, partition};

/// Which checks, APIs and stages to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Check ids to run; empty means all.
    pub only: Vec<String>,
    /// Check ids not to run.
    pub skip: Vec<String>,
    /// API ids to audit; empty means every API in the snapshot.
    pub apis: Vec<String>,
    /// Stage names to audit; empty means every stage.
    pub stages: Vec<String>,
    /// A request for `route-exists` to judge.
    pub probe: Option<crate::view::Probe>,
}

impl Selection {
    /// The checks to run, in catalogue order.
    pub fn checks(&self) -> Vec<&'static CheckDef> {
        CHECKS
            .iter()
            .copied()
            .filter(|c| self.only.is_empty() || self.only.iter().any(|id| c.is(id)))
            .filter(|c| !self.skip.iter().any(|id| c.is(id)))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResult {
    pub region: String,
    /// Empty for the entry of a region whose APIs could not be listed.
    pub id: String,
    pub name: Option<String>,
    /// `None` for the entry of a region whose APIs could not be listed.
    pub kind: Option<ApiKind>,
    pub stages: Vec<StageResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageResult {
    /// `None` when the stages could not be read.
    pub name: Option<String>,
    pub findings: Vec<Finding>,
}

impl StageResult {
    /// The stage's verdict: its worst finding, skips aside.
    pub fn status(&self) -> Status {
        self.findings
            .iter()
            .map(|f| f.status)
            .filter(|s| *s != Status::Skip)
            .max()
            .unwrap_or(Status::Pass)
    }
}

/// Audits every selected API stage of the snapshot.
pub fn audit(snapshot: &Snapshot, selection: &Selection) -> Vec<ApiResult> {
    let checks = selection.checks();
    let mut out = Vec::new();
    for region in &snapshot.regions {
        if let Some(f) = &region.unlisted {
            out.push(unlisted_region(region, &checks, f));
        }
        for api in &region.apis {
            if !selection.apis.is_empty() && !selection.apis.contains(&api.id) {
                continue;
            }
            // The collector keeps WebSocket APIs out of `apis` and names them
            // in `skipped_apis`; one in `apis` (a hand-made snapshot) is not
            // judged either, and the report names it as skipped.
            if matches!(&api.info, Fetched::Ok(i) if i.is_websocket()) {
                continue;
            }
            out.push(audit_api(
                snapshot,
                region,
                api,
                &checks,
                &selection.stages,
                None,
                selection.probe.as_ref(),
            ));
        }
    }
    out
}

/// What every check, run on every stage of the snapshot's regions, looked
/// up and did not find, per region: what the live collector reads next.
pub fn wants(snapshot: &Snapshot) -> Vec<std::collections::BTreeSet<Want>> {
    snapshot
        .regions
        .iter()
        .map(|region| {
            wants_by_api(snapshot, region, |_| true)
                .into_values()
                .flatten()
                .collect()
        })
        .collect()
}

/// What the checks looked up and did not find for each API of `region`
/// that `select` picks, by API id: a collector that knows which APIs a
/// new answer can concern re-plans only those.
pub fn wants_by_api(
    snapshot: &Snapshot,
    region: &RegionData,
    select: impl Fn(&ApiRecord) -> bool,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<Want>> {
    let checks: Vec<&'static CheckDef> = CHECKS.to_vec();
    region
        .apis
        .iter()
        .filter(|api| select(api))
        .map(|api| {
            let log = WantLog::default();
            crate::finding::without_evidence(|| {
                audit_api(snapshot, region, api, &checks, &[], Some(&log), None)
            });
            (api.id.clone(), log.into_inner())
        })
        .collect()
}

fn audit_api(
    snapshot: &Snapshot,
    region: &RegionData,
    api: &ApiRecord,
    checks: &[&'static CheckDef],
    stage_filter: &[String],
    wants: Option<&WantLog>,
    probe: Option<&crate::view::Probe>,
) -> ApiResult {
    let name = api.info.ok().and_then(|i| i.name.clone());
    let stages = match &api.stages {
        Fetched::Ok(stages) => stages
            .iter()
            .filter(|s| stage_filter.is_empty() || stage_filter.contains(&s.name))
            .map(|stage| {
                let mut view = StageView::new(snapshot, region, api, stage, wants);
                view.probe = probe.filter(|p| p.api_id == api.id && p.stage == stage.name);
                let stage_ctx = StageCtx::new(&view);
                let mut findings = Vec::new();
                for def in checks {
                    let mut sink = Findings::new(def);
                    view.take_misses();
                    (def.run)(&stage_ctx, &mut sink);
                    let mut got = sink.into_vec();
                    no_pass_on_misses(&mut got, &view.take_misses());
                    if let Definition::Current(failure) = &view.definition
                        && !def.judges_definition_itself
                    {
                        for f in got.iter_mut().filter(|f| !f.routes.is_empty()) {
                            judged_on_current(f, failure);
                        }
                    }
                    findings.extend(got);
                }
                StageResult {
                    name: Some(stage.name.clone()),
                    findings,
                }
            })
            .collect(),
        Fetched::NotFound(f) | Fetched::Error(f) => vec![unreadable_stages(region, api, checks, f)],
    };
    let mut stages = stages;
    // A probe naming a stage the API lacks is judged here: no view exists
    // for a stage that does not. The checks that judge it say how.
    if let (Some(p), Fetched::Ok(all)) = (probe.filter(|p| p.api_id == api.id), &api.stages)
        && !all.iter().any(|s| s.name == p.stage)
    {
        let names: Vec<String> = all.iter().map(|s| s.name.clone()).collect();
        let findings: Vec<Finding> = checks
            .iter()
            .filter_map(|c| c.on_missing_stage)
            .map(|judge| judge(&region.region, api, p, &names))
            .collect();
        if !findings.is_empty() {
            stages.push(StageResult {
                name: Some(p.stage.clone()),
                findings,
            });
        }
    }
    ApiResult {
        region: region.region.clone(),
        id: api.id.clone(),
        name,
        kind: Some(api.kind),
        stages,
    }
}

/// The engine's rule under every check: a check whose lookups missed data
/// (a failed read, or one never made) and that reported no `error` built
/// its passes on what it could see, so they become `error` naming the
/// first miss. A check that reports the miss itself (the usual way, with
/// [`crate::toolkit::blocked_finding`]) is left as it said.
///
/// A check that reports one miss and silently passes on another is not
/// caught here; the per-check tests and the hostile-snapshot suite are.
pub fn no_pass_on_misses(findings: &mut [Finding], misses: &[crate::view::Miss]) {
    let Some(first) = misses.first() else {
        return;
    };
    if findings.iter().any(|f| f.status == Status::Error) {
        return;
    }
    let unknown = crate::finding::failure_sentence(&first.what, &first.failure);
    for f in findings.iter_mut().filter(|f| f.status == Status::Pass) {
        f.status = Status::Error;
        f.message = format!(
            "{}; it passed only on what could be read: {}",
            unknown.trim_end_matches('.'),
            f.message
        );
        f.remediation = Some(crate::finding::failure_remediation(&first.failure));
    }
}

/// A finding judged on the API's current definition because the stage's
/// deployed one could not be read. What the stage serves is then unknown,
/// so a `pass` becomes `error` naming the failed read: the current
/// definition passing says nothing about the deployed one. A `fail` or
/// `warn` keeps its verdict with the note, since the next deployment will
/// serve what it found.
fn judged_on_current(f: &mut Finding, failure: &Failure) {
    let why = failure.clause();
    if f.status == Status::Pass {
        f.status = Status::Error;
        let unknown = crate::finding::failure_sentence("the stage's deployed definition", failure);
        f.message = format!(
            "{}, and what the stage serves is unknown; on the API's current definition: {}",
            unknown.trim_end_matches('.'),
            f.message
        );
        f.remediation = Some(crate::finding::failure_remediation(failure));
    } else {
        f.message = format!(
            "{} (judged on the API's current definition, since the stage's deployed one could not be read: {why}).",
            f.message.trim_end_matches('.')
        );
    }
    if !crate::finding::evidence_wanted() {
        return;
    }
    let mut evidence = f.evidence.value();
    if let serde_json::Value::Object(m) = &mut evidence {
        m.insert(
            "definition".into(),
            serde_json::json!({ "judged": "current", "why": why, "failure": failure }),
        );
        f.evidence = crate::finding::Evidence::new(&evidence);
    }
}

/// A region whose APIs could not be listed: no API to judge, so every
/// check is `error` on the region, naming the call that failed, and the
/// other regions' report is still written.
fn unlisted_region(region: &RegionData, checks: &[&'static CheckDef], f: &Failure) -> ApiResult {
    let arn = format!(
        "arn:{}:apigateway:{}::/restapis",
        partition(&region.region),
        region.region
    );
    let what = format!("the APIs of region {}", region.region);
    ApiResult {
        region: region.region.clone(),
        id: String::new(),
        name: None,
        kind: None,
        stages: vec![every_check_errs(checks, &arn, &what, f)],
    }
}

/// With no stage list there is no stage to judge: every check is `error`,
/// naming the call that failed.
fn unreadable_stages(
    region: &RegionData,
    api: &ApiRecord,
    checks: &[&'static CheckDef],
    f: &Failure,
) -> StageResult {
    let what = format!("the stages of API {}", api.id);
    every_check_errs(checks, &api_arn(&region.region, api), &what, f)
}

/// A stage-less result in which every check is `error` on `arn`, because
/// `what` could not be read.
fn every_check_errs(
    checks: &[&'static CheckDef],
    arn: &str,
    what: &str,
    f: &Failure,
) -> StageResult {
    StageResult {
        name: None,
        findings: checks
            .iter()
            .map(|def| Finding::from_failure(&def.meta, arn, what, f))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::CheckMeta;
    use crate::model::FailureKind;
    use crate::view::Miss;

    static META: CheckMeta = CheckMeta {
        id: crate::CheckId::NetworkAcls,
        title: "t",
        severity: crate::Severity::High,
        remediation: "r",
        aliases: &[],
    };

    fn miss() -> Miss {
        Miss {
            resource: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1".into(),
            what: "instance i-1".into(),
            failure: Failure {
                operation: "ec2:DescribeInstances".into(),
                iam_action: Some("ec2:DescribeInstances".into()),
                kind: FailureKind::AccessDenied,
                code: None,
                message: String::new(),
            },
        }
    }

    fn pass() -> Finding {
        Finding::new(&META, Status::Pass, "arn:acl", "ACL acl-1 allows the path.")
    }

    #[test]
    fn a_pass_built_on_a_miss_the_check_ignored_becomes_an_error() {
        let mut fs = vec![pass(), Finding::new(&META, Status::Warn, "arn:x", "w")];
        no_pass_on_misses(&mut fs, &[miss()]);
        assert_eq!(fs[0].status, Status::Error);
        assert!(
            fs[0].message.contains("ec2:DescribeInstances"),
            "{}",
            fs[0].message
        );
        assert!(fs[0].message.contains("ACL acl-1 allows the path"));
        assert!(
            fs[0]
                .remediation
                .as_deref()
                .is_some_and(|r| r.contains("ec2:DescribeInstances"))
        );
        assert_eq!(fs[1].status, Status::Warn, "only passes change");
    }

    #[test]
    fn a_check_that_reported_its_miss_or_missed_nothing_is_left_alone() {
        let mut fs = vec![
            pass(),
            Finding::new(&META, Status::Error, "arn:tg", "could not read"),
        ];
        no_pass_on_misses(&mut fs, &[miss()]);
        assert_eq!(fs[0].status, Status::Pass);
        let mut fs = vec![pass()];
        no_pass_on_misses(&mut fs, &[]);
        assert_eq!(fs[0].status, Status::Pass);
    }
}
