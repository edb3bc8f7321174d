//! The Markdown report: a verdict line, a compact table per API with one row
//! per stage, then the findings that need attention, grouped by stage. Sized
//! for `$GITHUB_STEP_SUMMARY` and merge-request comments: passes and skips
//! are counted, never listed; suppressed findings and those unchanged since
//! the baseline are listed apart, one line each.

use std::io::Write;

use apigw_audit_checks::Status;

use super::{ApiReport, BaselineSummary, FindingReport, Report, StageReport};

fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅ pass",
        Status::Warn => "⚠️ warn",
        Status::Fail => "❌ fail",
        Status::Error => "❗ error",
        Status::Skip => "⏭️ skip",
    }
}

/// Text safe inside a table cell or a list item: no pipe, no line break,
/// no HTML.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace(['\n', '\r'], " "))
}

fn stage_name(s: &StageReport) -> &str {
    s.name.as_deref().unwrap_or("(stages unreadable)")
}

fn api_title(a: &ApiReport) -> String {
    match &a.name {
        Some(n) => format!(
            "{} ({}, {}, {})",
            cell(n),
            a.id,
            a.kind.to_uppercase(),
            a.region
        ),
        None => a.label(),
    }
}

fn needs_attention(f: &FindingReport) -> bool {
    matches!(f.status, Status::Fail | Status::Error | Status::Warn) && f.is_active()
}

pub fn render(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    write_verdict(report, out)?;
    for api in &report.apis {
        write_api(api, out)?;
    }
    write_suppressed(report, out)?;
    if let Some(b) = &report.baseline {
        write_baseline(b, out)?;
    }
    Ok(())
}

/// The heading (the worst stage's verdict) and the one-sentence counts.
fn write_verdict(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let worst = report
        .apis
        .iter()
        .flat_map(|a| a.stages.iter())
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Pass);
    let s = &report.summary;
    writeln!(out, "## apigw-audit: {}", label(worst))?;
    writeln!(out)?;
    writeln!(
        out,
        "{} audit{}, {}: {} fail, {} error, {} warn, {} pass, {} skip.",
        if report.source == "live" {
            "Live"
        } else {
            "Snapshot"
        },
        report
            .account
            .as_ref()
            .map(|a| format!(" of account {a}"))
            .unwrap_or_default(),
        report.generated_at,
        s.fail,
        s.error,
        s.warn,
        s.pass,
        s.skip
    )?;
    if report.apis.is_empty() {
        writeln!(out)?;
        writeln!(out, "No API to audit.")?;
    }
    Ok(())
}

/// One API: its table of stages, then each stage's findings that need
/// attention.
fn write_api(api: &ApiReport, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "### {}", api_title(api))?;
    writeln!(out)?;
    writeln!(
        out,
        "| Stage | Verdict | Fail | Error | Warn | Pass | Skip |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---:|---:|")?;
    for st in &api.stages {
        let n = |x: Status| st.findings.iter().filter(|f| f.status == x).count();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(stage_name(st)),
            label(st.status),
            n(Status::Fail),
            n(Status::Error),
            n(Status::Warn),
            n(Status::Pass),
            n(Status::Skip)
        )?;
    }
    for st in &api.stages {
        write_attention(api, st, out)?;
    }
    Ok(())
}

/// A stage's active failing, erroring and warning findings, worst first;
/// nothing when it has none.
fn write_attention(api: &ApiReport, st: &StageReport, out: &mut impl Write) -> std::io::Result<()> {
    let mut shown: Vec<&FindingReport> =
        st.findings.iter().filter(|f| needs_attention(f)).collect();
    if shown.is_empty() {
        return Ok(());
    }
    shown.sort_by(FindingReport::worst_first);
    writeln!(out)?;
    writeln!(out, "#### {} / {}", api.id, cell(stage_name(st)))?;
    writeln!(out)?;
    for f in shown {
        writeln!(
            out,
            "- **{}** {}: {}",
            label(f.status),
            code(f.check.as_str()),
            cell(&f.message)
        )?;
        if !f.routes.is_empty() {
            let routes: Vec<String> = f.routes.iter().map(|r| code(r)).collect();
            writeln!(out, "  - Routes: {}", routes.join(", "))?;
        }
        if let Some(r) = &f.resource {
            writeln!(out, "  - Resource: {}", code(r))?;
        }
        if let Some(r) = &f.remediation {
            writeln!(out, "  - Fix: {}", cell(r))?;
        }
    }
    Ok(())
}

/// Suppressed findings, one line each, folded away so they do not crowd
/// the ones that need attention.
fn write_suppressed(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let quiet: Vec<(&ApiReport, &StageReport, &FindingReport)> = report
        .findings()
        .filter(|(_, _, f)| f.suppressed.is_some())
        .collect();
    if quiet.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "<details><summary>{} suppressed finding(s)</summary>",
        quiet.len()
    )?;
    writeln!(out)?;
    for (a, st, f) in quiet {
        let sup = f.suppressed.as_ref().map_or(String::new(), |s| {
            format!(
                "{}{}",
                cell(&s.reason),
                s.expires
                    .as_ref()
                    .map(|d| format!(" (until {d})"))
                    .unwrap_or_default()
            )
        });
        writeln!(
            out,
            "- {} / {} {} {}: {sup}",
            a.id,
            cell(stage_name(st)),
            label(f.status),
            code(f.check.as_str())
        )?;
    }
    writeln!(out)?;
    writeln!(out, "</details>")
}

/// How the run compares with the baseline, the resolved findings listed.
fn write_baseline(b: &BaselineSummary, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Since baseline {}: {} new, {} unchanged (not listed), {} resolved.",
        code(&b.file),
        b.new,
        b.unchanged,
        b.resolved.len()
    )?;
    for r in &b.resolved {
        writeln!(out, "- resolved: {}", code(r))?;
    }
    Ok(())
}
