//! `apigw-audit checks`: the catalogue, rendered from the one registry.

use std::io::Write;

use apigw_audit_checks::CHECKS;
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
                        "explains": c.meta.explains,
                        "remediation": c.meta.remediation,
                        "aliases": c.meta.aliases,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({ "schema_version": 1, "checks": checks }),
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
            writeln!(out, "{t}")
        }
    }
}

/// A Markdown table; the README embeds it verbatim and a test keeps the
/// copy current.
pub fn markdown(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "| Check | Severity | Verifies | Explains | Remediation |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for c in CHECKS {
        let explains: Vec<String> = c
            .meta
            .explains
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
    Ok(())
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
