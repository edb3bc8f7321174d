//! The terminal report: a one-line verdict per stage, then the failing,
//! erroring and warning findings with what to change (`-v` adds passes and
//! skips). Colour only when stdout is a terminal and `NO_COLOR` is unset.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use apigw_audit_checks::Status;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style as TableStyle, Width};

use super::{ApiReport, FindingReport, Report, StageReport};

pub struct TableOptions {
    pub color: bool,
    /// Show passing and skipped findings too.
    pub verbose: bool,
    /// Total width to wrap to.
    pub width: usize,
}

fn style_of(s: Status) -> Style {
    let c = match s {
        Status::Fail => AnsiColor::Red,
        Status::Error => AnsiColor::Magenta,
        Status::Warn => AnsiColor::Yellow,
        Status::Pass => AnsiColor::Green,
        Status::Skip => AnsiColor::BrightBlack,
    };
    let st = Style::new().fg_color(Some(c.into()));
    if matches!(s, Status::Fail | Status::Error) {
        st.bold()
    } else {
        st
    }
}

fn paint(text: &str, s: Status, color: bool) -> String {
    if color {
        let st = style_of(s);
        format!("{st}{text}{st:#}")
    } else {
        text.to_string()
    }
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Error => "ERROR",
        Status::Skip => "SKIP",
    }
}

/// What the tables left out, for the closing lines that say how to see it.
#[derive(Default)]
struct Hidden {
    /// Passing or skipped findings (shown with `-v`).
    quiet: usize,
    /// Findings unchanged since the baseline (shown with `-v`).
    unchanged: usize,
}

pub fn render(report: &Report, opts: &TableOptions, out: &mut impl Write) -> std::io::Result<()> {
    write_heading(report, out)?;
    let mut hidden = Hidden::default();
    for api in &report.apis {
        write_api(api, opts, &mut hidden, out)?;
    }
    write_summary(report, opts, &hidden, out)
}

/// The first line: which tool, which kind of audit, of what.
fn write_heading(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let scope = match (&report.account, &report.region) {
        (Some(a), Some(r)) => format!("account {a}, {r}"),
        (None, Some(r)) => r.clone(),
        (Some(a), None) => format!("account {a}"),
        (None, None) => "unknown account".to_string(),
    };
    writeln!(
        out,
        "apigw-audit {} — {} audit of {scope}",
        report.tool.version,
        if report.source == "live" {
            "live"
        } else {
            "snapshot"
        }
    )?;
    if report.apis.is_empty() {
        writeln!(out, "\nNo API to audit.")?;
    }
    Ok(())
}

/// One API: a verdict line per stage, then each stage's findings table.
fn write_api(
    api: &ApiReport,
    opts: &TableOptions,
    hidden: &mut Hidden,
    out: &mut impl Write,
) -> std::io::Result<()> {
    writeln!(out)?;
    if api.id.is_empty() {
        writeln!(out, "{}", api.label())?;
    } else {
        writeln!(
            out,
            "{} ({}, {}, {})",
            api.name.as_deref().unwrap_or("(name unknown)"),
            api.id,
            api.kind.to_uppercase(),
            api.region
        )?;
    }
    let name_width = api
        .stages
        .iter()
        .map(|s| api.stage_label(s).len())
        .max()
        .unwrap_or(0);
    for stage in &api.stages {
        let counts = count(&stage.findings);
        writeln!(
            out,
            "  {:<name_width$}  {}  {counts}",
            api.stage_label(stage),
            paint(
                &format!("{:<5}", label(stage.status)),
                stage.status,
                opts.color
            ),
        )?;
    }
    for stage in &api.stages {
        write_stage_findings(api, stage, opts, hidden, out)?;
    }
    Ok(())
}

/// A stage's findings worth reading (all of them with `-v`), worst first;
/// nothing at all when none is.
fn write_stage_findings(
    api: &ApiReport,
    stage: &StageReport,
    opts: &TableOptions,
    hidden: &mut Hidden,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut shown: Vec<&FindingReport> = stage
        .findings
        .iter()
        .filter(|f| {
            opts.verbose
                || (matches!(f.status, Status::Fail | Status::Error | Status::Warn)
                    && f.baseline != Some("unchanged"))
        })
        .collect();
    let old = stage
        .findings
        .iter()
        .filter(|f| f.baseline == Some("unchanged"))
        .count();
    hidden.unchanged += if opts.verbose { 0 } else { old };
    hidden.quiet += stage.findings.len() - shown.len() - if opts.verbose { 0 } else { old };
    if shown.is_empty() {
        return Ok(());
    }
    shown.sort_by(FindingReport::worst_first);
    writeln!(out)?;
    writeln!(
        out,
        "{} / {}",
        if api.id.is_empty() {
            api.label()
        } else {
            api.name.clone().unwrap_or_else(|| api.id.clone())
        },
        api.stage_label(stage)
    )?;
    let mut b = Builder::default();
    b.push_record(["Status", "Check", "Routes", "Finding"]);
    for f in shown {
        b.push_record(finding_row(f, opts.color));
    }
    let fixed = 8 + 28 + 24 + 13;
    let finding_width = opts.width.saturating_sub(fixed).max(40);
    let mut table = b.build();
    table
        .with(TableStyle::sharp())
        .with(Modify::new(Columns::new(2..3)).with(Width::wrap(24).keep_words(true)))
        .with(Modify::new(Columns::new(3..4)).with(Width::wrap(finding_width).keep_words(true)));
    writeln!(out, "{table}")
}

/// A finding's row: its status, check, routes, and what it says with the
/// fix, the suppression and the baseline folded into the text.
fn finding_row(f: &FindingReport, color: bool) -> [String; 4] {
    let mut status = label(f.status).to_string();
    if f.suppressed.is_some() {
        status.push_str("\n(suppressed)");
    }
    let routes = if f.routes.is_empty() {
        "(stage)".to_string()
    } else {
        f.routes.join("\n")
    };
    let mut text = f.message.clone();
    if let Some(r) = &f.remediation {
        text.push_str("\nFix: ");
        text.push_str(r);
    }
    if let Some(sup) = &f.suppressed {
        text.push_str("\nSuppressed: ");
        text.push_str(&sup.reason);
        if let Some(d) = &sup.expires {
            text.push_str(&format!(" (until {d})"));
        }
    }
    if f.baseline == Some("unchanged") {
        text.push_str("\nUnchanged since the baseline.");
    }
    [
        paint(&status, f.status, color),
        f.check.as_str().to_string(),
        routes,
        text,
    ]
}

/// The closing lines: the counts, the baseline's, and what was hidden or
/// suppressed and how to see it.
fn write_summary(
    report: &Report,
    opts: &TableOptions,
    hidden: &Hidden,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let s = &report.summary;
    // A count is coloured only when it is not zero.
    let worst = |n: usize, status: Status| if n > 0 { status } else { Status::Pass };
    writeln!(out)?;
    writeln!(
        out,
        "Summary: {} fail, {} error, {} warn, {} pass, {} skip.",
        paint(&s.fail.to_string(), worst(s.fail, Status::Fail), opts.color),
        paint(
            &s.error.to_string(),
            worst(s.error, Status::Error),
            opts.color
        ),
        paint(&s.warn.to_string(), worst(s.warn, Status::Warn), opts.color),
        s.pass,
        s.skip
    )?;
    if let Some(b) = &report.baseline {
        writeln!(
            out,
            "Since baseline {}: {} new, {} unchanged{}, {} resolved.",
            b.file,
            b.new,
            b.unchanged,
            if hidden.unchanged > 0 {
                " (not shown; -v shows them)"
            } else {
                ""
            },
            b.resolved.len()
        )?;
    }
    for a in &report.skipped_apis {
        writeln!(
            out,
            "Skipped API {}{} in {}: {}.",
            a.id,
            a.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            a.region,
            a.reason
        )?;
    }
    let suppressed = report
        .findings()
        .filter(|(_, _, f)| f.suppressed.is_some())
        .count();
    if suppressed > 0 {
        writeln!(
            out,
            "{suppressed} finding(s) suppressed by configuration; they do not set the exit code."
        )?;
    }
    if hidden.quiet > 0 && !opts.verbose {
        writeln!(
            out,
            "{} passing or skipped finding(s) hidden; -v shows them.",
            hidden.quiet
        )?;
    }
    Ok(())
}

fn count(findings: &[FindingReport]) -> String {
    let n = |s: Status| findings.iter().filter(|f| f.status == s).count();
    format!(
        "{} fail, {} error, {} warn, {} pass, {} skip",
        n(Status::Fail),
        n(Status::Error),
        n(Status::Warn),
        n(Status::Pass),
        n(Status::Skip)
    )
}
