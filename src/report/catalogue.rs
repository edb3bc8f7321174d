//! `apigw-audit checks`: the catalogue of checks and of the error
//! signatures `explain` recognises, rendered from their one registry each.

use std::io::Write;

use apigw_audit_checks::CHECKS;
use apigw_audit_checks::explain::{SIGNATURES, explained_by};
use serde_json::json;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style, Width};

use crate::cli::CatalogueFormat;

pub fn render(format: CatalogueFormat, out: &mut impl Write) -> std::io::Result<()> {
    match format {
        CatalogueFormat::Json => {
            let checks: Vec<_> = CHECKS
                .iter()
                .map(|c| {
                    json!({
                        "id": c.meta.id,
                        "title": c.meta.title,
                        "severity": c.meta.severity.as_str(),
                        "explains": explained_by(c.meta.id),
                        "remediation": c.meta.remediation,
                        "aliases": c.meta.aliases,
                    })
                })
                .collect();
            let signatures: Vec<_> = SIGNATURES
                .iter()
                .map(|s| {
                    json!({
                        "id": s.id,
                        "statuses": s.statuses,
                        "error_types": s.error_types,
                        "patterns": s.patterns,
                        "meaning": s.meaning,
                        "causes": s.causes,
                        "checks": s.checks,
                        "example": s.example,
                    })
                })
                .collect();
            // `signatures` is an addition to the contract's catalogue.
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({ "schema_version": 1, "checks": checks, "signatures": signatures }),
            )?;
            writeln!(out)
        }
        CatalogueFormat::Markdown => markdown(out),
        CatalogueFormat::Table => {
            let mut b = Builder::default();
            b.push_record(["Check", "Severity", "Title", "Remediation"]);
            for c in CHECKS {
                b.push_record([
                    c.meta.id.to_string(),
                    c.meta.severity.as_str().to_string(),
                    c.meta.title.to_string(),
                    c.meta.remediation.to_string(),
                ]);
            }
            let mut t = b.build();
            t.with(Style::sharp())
                .with(Modify::new(Columns::new(2..3)).with(Width::wrap(30).keep_words(true)))
                .with(Modify::new(Columns::new(3..4)).with(Width::wrap(60).keep_words(true)));
            writeln!(out, "{t}")?;
            writeln!(out)?;
            writeln!(out, "Error signatures (apigw-audit explain):")?;
            let mut b = Builder::default();
            b.push_record(["Signature", "Status", "Meaning", "Deciding checks"]);
            for s in SIGNATURES {
                b.push_record([
                    s.id.to_string(),
                    statuses(s.statuses),
                    s.meaning.to_string(),
                    checks_text(s.checks),
                ]);
            }
            let mut t = b.build();
            t.with(Style::sharp())
                .with(Modify::new(Columns::new(2..3)).with(Width::wrap(60).keep_words(true)))
                .with(Modify::new(Columns::new(3..4)).with(Width::wrap(30).keep_words(true)));
            writeln!(out, "{t}")
        }
    }
}

/// A Markdown table; `docs/checks.md` embeds it verbatim and a test keeps the
/// copy current.
pub fn markdown(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "| Check | Severity | Verifies | Explains | Remediation |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for c in CHECKS {
        let explains: Vec<String> = explained_by(c.meta.id)
            .iter()
            .map(|e| format!("`{}`", cell(e)))
            .collect();
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            c.meta.id,
            c.meta.severity.as_str(),
            cell(c.meta.title),
            explains.join("<br>"),
            cell(c.meta.remediation)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Error signatures `apigw-audit explain` recognises, and the checks that decide between their causes:"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| Signature | Status | What a caller or log shows | Likely causes, most likely first | Deciding checks |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for s in SIGNATURES {
        let causes: Vec<String> = s
            .causes
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}. {}", i + 1, cell(c)))
            .collect();
        let checks: Vec<String> = s.checks.iter().map(|c| format!("`{c}`")).collect();
        writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} |",
            s.id,
            statuses(s.statuses),
            cell(s.example),
            causes.join("<br>"),
            if checks.is_empty() {
                "none: no AWS setting shows it".to_string()
            } else {
                checks.join(", ")
            }
        )?;
    }
    Ok(())
}

fn statuses(s: &[u16]) -> String {
    if s.is_empty() {
        "any".to_string()
    } else {
        s.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
    }
}

fn checks_text(c: &[apigw_audit_checks::CheckId]) -> String {
    if c.is_empty() {
        "none: no AWS setting shows it".to_string()
    } else {
        let names: Vec<&str> = c.iter().map(|id| id.as_str()).collect();
        names.join(", ")
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
