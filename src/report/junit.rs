//! The JUnit XML report, for CI systems that show test results (GitLab,
//! Jenkins, Azure DevOps): one test suite per API stage, one test case per
//! check and resource. `fail` is a failure, `error` an error, `skip`,
//! suppressed and baseline-unchanged findings are skipped with the reason;
//! a `warn` fails only when `--fail-on warn` makes it gate the pipeline.

use std::io::Write;

use apigw_audit_checks::Status;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{FindingReport, Report};
use crate::cli::FailOn;

fn details(f: &FindingReport) -> String {
    let mut text = f.message.clone();
    if let Some(r) = &f.resource {
        text.push_str(&format!("\nResource: {r}"));
    }
    if !f.routes.is_empty() {
        text.push_str(&format!("\nRoutes: {}", f.routes.join(", ")));
    }
    if let Some(r) = &f.remediation {
        text.push_str(&format!("\nFix: {r}"));
    }
    text
}

fn case(f: &FindingReport, classname: &str, fail_on: FailOn) -> TestCase {
    let name = match &f.resource {
        Some(r) => format!("{} {r}", f.check),
        None => f.check.as_str().to_string(),
    };
    let status = if let Some(s) = &f.suppressed {
        let mut st = TestCaseStatus::skipped();
        st.set_message(format!(
            "suppressed ({}): {}{}",
            f.status.as_str(),
            s.reason,
            s.expires
                .as_ref()
                .map(|d| format!(" (until {d})"))
                .unwrap_or_default()
        ));
        st
    } else if f.baseline == Some("unchanged") {
        let mut st = TestCaseStatus::skipped();
        st.set_message(format!(
            "unchanged since the baseline ({}): {}",
            f.status.as_str(),
            f.message
        ));
        st
    } else {
        match f.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Warn if fail_on != FailOn::Warn => TestCaseStatus::success(),
            Status::Warn | Status::Fail | Status::Error => {
                let kind = if f.status == Status::Error {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut st = TestCaseStatus::non_success(kind);
                st.set_message(f.message.clone())
                    .set_type(f.status.as_str())
                    .set_description(details(f));
                st
            }
            Status::Skip => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(f.message.clone());
                st
            }
        }
    };
    let mut tc = TestCase::new(name, status);
    tc.set_classname(classname.to_string());
    if f.status == Status::Warn && f.is_active() && fail_on != FailOn::Warn {
        // A warning that does not gate still reaches the job log.
        tc.set_system_out(format!("warning: {}", details(f)));
    }
    tc
}

pub fn render(report: &Report, fail_on: FailOn, out: &mut impl Write) -> std::io::Result<()> {
    let mut junit = quick_junit::Report::new("apigw-audit");
    for api in &report.apis {
        for stage in &api.stages {
            let stage_name = api.stage_label(stage);
            let suite_name = if api.id.is_empty() {
                api.label()
            } else {
                format!("{} / {stage_name}", api.id)
            };
            let mut suite = TestSuite::new(suite_name);
            suite.add_properties([
                Property::new("region", api.region.clone()),
                Property::new("api_id", api.id.clone()),
                Property::new("api_name", api.name.clone().unwrap_or_default()),
                Property::new("kind", api.kind),
                Property::new("stage", stage_name),
                Property::new("verdict", stage.status.as_str()),
            ]);
            let classname = format!("apigw-audit.{}.{}.{stage_name}", api.region, api.id);
            for f in &stage.findings {
                suite.add_test_case(case(f, &classname, fail_on));
            }
            junit.add_test_suite(suite);
        }
    }
    // Serialised in memory first: the writer's own errors (a closed pipe)
    // must reach the caller as what they are, not as a serialisation error.
    let xml = junit
        .to_string()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    out.write_all(xml.as_bytes())?;
    writeln!(out)
}
