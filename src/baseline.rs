//! Baselines: `--baseline previous.json` compares this run with an earlier
//! JSON v1 report, so a scheduled job alerts only on what is new.
//!
//! A finding at warn or worse is `unchanged` when the baseline has the same
//! check on the same resource, API and stage with the same status, and `new`
//! otherwise (a warning that became a failure is new). Unchanged findings
//! stay in the JSON, marked, but no longer set the exit code and are left
//! out of the human-facing outputs; the baseline's findings that are gone
//! are listed as resolved.

use std::collections::BTreeMap;
use std::path::Path;

use apigw_audit_checks::Status;
use serde_json::Value;

use crate::error::Fatal;
use crate::report::{BaselineSummary, Report};

/// (region, api, stage, check, resource): what identifies a finding across
/// runs. The region is empty when the baseline report does not say it.
type Key = (String, String, String, String, String);

/// The baseline's warn-or-worse findings with their statuses.
#[derive(Debug, Default)]
pub struct Baseline {
    file: String,
    findings: BTreeMap<Key, String>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Reads a JSON v1 report; anything else is an input error naming the file.
pub fn load(path: &Path) -> Result<Baseline, Fatal> {
    let bad = |why: String| Fatal::Usage(format!("baseline {}: {why}", path.display()));
    let raw = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let doc: Value = serde_json::from_str(&raw).map_err(|e| bad(format!("is not JSON ({e})")))?;
    parse(&doc, &path.display().to_string()).map_err(bad)
}

/// Reads the findings of a v1 report document.
pub fn parse(doc: &Value, file: &str) -> Result<Baseline, String> {
    if doc.get("schema_version").and_then(Value::as_u64) != Some(1) {
        return Err("is not an apigw-audit JSON report of schema version 1".to_string());
    }
    let apis = doc
        .get("apis")
        .and_then(Value::as_array)
        .ok_or_else(|| "has no `apis` list".to_string())?;
    let top_region = text(&doc["region"]);
    let mut findings = BTreeMap::new();
    for api in apis {
        let region = api
            .get("region")
            .and_then(Value::as_str)
            .map_or_else(|| top_region.clone(), str::to_string);
        for stage in api["stages"].as_array().into_iter().flatten() {
            for f in stage["findings"].as_array().into_iter().flatten() {
                let status = text(&f["status"]);
                if matches!(status.as_str(), "warn" | "fail" | "error") {
                    findings.insert(
                        (
                            region.clone(),
                            text(&api["id"]),
                            text(&stage["name"]),
                            text(&f["check"]),
                            text(&f["resource"]),
                        ),
                        status,
                    );
                }
            }
        }
    }
    Ok(Baseline {
        file: file.to_string(),
        findings,
    })
}

impl Baseline {
    fn lookup(&self, key: &Key) -> Option<&String> {
        self.findings.get(key).or_else(|| {
            // A baseline without regions matches on the rest.
            let (_, a, s, c, r) = key;
            self.findings
                .get(&(String::new(), a.clone(), s.clone(), c.clone(), r.clone()))
        })
    }

    /// Marks each warn-or-worse finding `new` or `unchanged` and records the
    /// comparison in the report.
    pub fn apply(&self, report: &mut Report) {
        let mut summary = BaselineSummary {
            file: self.file.clone(),
            ..Default::default()
        };
        let mut seen: Vec<Key> = Vec::new();
        for api in &mut report.apis {
            for stage in &mut api.stages {
                for f in &mut stage.findings {
                    if !matches!(f.status, Status::Warn | Status::Fail | Status::Error) {
                        continue;
                    }
                    let key = (
                        api.region.clone(),
                        api.id.clone(),
                        stage.name.clone().unwrap_or_default(),
                        f.check.as_str().to_string(),
                        f.resource.clone().unwrap_or_default(),
                    );
                    let before = self.lookup(&key);
                    if before.is_some_and(|s| s == f.status.as_str()) {
                        f.baseline = Some("unchanged");
                        summary.unchanged += 1;
                    } else {
                        f.baseline = Some("new");
                        summary.new += 1;
                    }
                    seen.push(key);
                }
            }
        }
        for key in self.findings.keys() {
            let (region, api, stage, check, resource) = key;
            let still = seen.iter().any(|(r, a, s, c, res)| {
                (region.is_empty() || r == region)
                    && a == api
                    && s == stage
                    && c == check
                    && res == resource
            });
            if !still {
                summary
                    .resolved
                    .push(format!("{api}/{stage} {check} {resource}"));
            }
        }
        report.baseline = Some(summary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FailOn;
    use crate::report::fixtures::{finding, report};
    use serde_json::json;

    fn doc(findings: Value) -> Value {
        json!({"schema_version": 1, "region": "us-east-1",
               "apis": [{"id": "a1", "stages": [{"name": "prod", "findings": findings}]}]})
    }

    #[test]
    fn new_unchanged_worsened_and_resolved() {
        let base = parse(
            &doc(json!([
                {"check": "target-health", "resource": "tg-1", "status": "fail"},
                {"check": "idle-timeout", "resource": "l-1", "status": "warn"},
                {"check": "network-acls", "resource": "acl-1", "status": "fail"},
                {"check": "listener-port", "resource": "nlb-1", "status": "pass"},
            ])),
            "prev.json",
        )
        .expect("v1");
        let mut r = report(vec![
            finding("target-health", "tg-1", Status::Fail),
            finding("idle-timeout", "l-1", Status::Fail),
            finding("listener-port", "nlb-1", Status::Fail),
            finding("security-groups", "sg-1", Status::Pass),
        ]);
        base.apply(&mut r);
        let marks: Vec<Option<&str>> = r.apis[0].stages[0]
            .findings
            .iter()
            .map(|f| f.baseline)
            .collect();
        assert_eq!(
            marks,
            vec![Some("unchanged"), Some("new"), Some("new"), None]
        );
        let b = r.baseline.clone().expect("summary");
        assert_eq!((b.new, b.unchanged), (2, 1));
        assert_eq!(b.resolved, vec!["a1/prod network-acls acl-1"]);
        // Only the new failures set the exit code.
        assert_eq!(r.exit_code(FailOn::Fail), 1);
        let mut only_old = report(vec![finding("target-health", "tg-1", Status::Fail)]);
        base.apply(&mut only_old);
        assert_eq!(only_old.exit_code(FailOn::Fail), 0);
    }

    #[test]
    fn a_baseline_without_regions_still_matches() {
        let mut d = doc(json!([{"check": "target-health", "resource": "tg-1", "status": "fail"}]));
        d["region"] = Value::Null;
        let base = parse(&d, "prev.json").expect("v1");
        let mut r = report(vec![finding("target-health", "tg-1", Status::Fail)]);
        base.apply(&mut r);
        assert_eq!(r.apis[0].stages[0].findings[0].baseline, Some("unchanged"));
        assert!(r.baseline.expect("summary").resolved.is_empty());
    }

    #[test]
    fn anything_but_a_v1_report_is_refused() {
        assert!(parse(&json!({"schema_version": 2, "apis": []}), "x").is_err());
        assert!(parse(&json!({"regions": []}), "x").is_err());
        assert!(parse(&json!({"schema_version": 1}), "x").is_err());
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("prev.json");
        std::fs::write(&p, "not json").expect("write");
        assert!(matches!(load(&p), Err(Fatal::Usage(m)) if m.contains("prev.json")));
    }
}
