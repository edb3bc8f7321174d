//! The `audit` and `checks` commands: validate the invocation, get a
//! snapshot (live or from a file), run the checks, render, pick the exit
//! code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use apigw_audit_checks::catalogue;
use apigw_audit_checks::engine::{Selection, audit};
use apigw_audit_checks::model::{Fetched, Snapshot};

use crate::Fatal;
use crate::cli::{AuditArgs, ChecksArgs, OutputFormat};
use crate::collect::{self, Request};
use crate::output::PendingFile;
use crate::report::table::TableOptions;
use crate::report::{Report, Source};

const DEFAULT_MAX_CONCURRENCY: usize = 16;

pub fn catalogue(args: &ChecksArgs) -> Result<u8, Fatal> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_or_pipe(crate::report::catalogue::render(args.output, &mut out))?;
    Ok(0)
}

/// A closed pipe (`| head`) is not an error worth a message.
fn write_or_pipe(r: std::io::Result<()>) -> Result<(), Fatal> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Fatal::Incomplete(format!("cannot write the report: {e}"))),
    }
}

fn validate_check_ids(ids: &[String], flag: &str) -> Result<(), Fatal> {
    for id in ids {
        if catalogue::find(id).is_none() {
            return Err(Fatal::Usage(format!(
                "unknown check id {id} in {flag} (apigw-audit checks lists them)"
            )));
        }
    }
    Ok(())
}

pub async fn run(args: AuditArgs, verbose: u8) -> Result<u8, Fatal> {
    validate_check_ids(&args.check, "--check")?;
    validate_check_ids(&args.skip_check, "--skip-check")?;
    if args.snapshot.is_none() && args.api_id.is_empty() && !args.all_apis {
        return Err(Fatal::Usage(
            "nothing to audit: pass --api-id ID, --all-apis, or --snapshot FILE".to_string(),
        ));
    }
    // Destinations are opened first: an unwritable path fails before any
    // AWS call, and nothing appears there unless the run completes.
    let mut out_file = match &args.out_file {
        Some(p) => Some(PendingFile::create(p, "report")?),
        None => None,
    };
    let mut record_file = match &args.record {
        Some(p) => Some(PendingFile::create(p, "snapshot")?),
        None => None,
    };

    let (snapshot, source) = match &args.snapshot {
        Some(path) => {
            let snap = load_snapshot(path)?;
            check_selection(&snap, &args.api_id, &args.stage, path)?;
            (snap, Source::Snapshot)
        }
        None => {
            let req = Request {
                region: None,
                api_ids: args.api_id.clone(),
                all_apis: args.all_apis,
                stages: args.stage.clone(),
                max_concurrency: DEFAULT_MAX_CONCURRENCY,
            };
            let collected = collect::collect(&args.aws, &req).await?;
            tracing::info!(calls = ?collected.stats.calls, retries = collected.stats.retries, levels = collected.levels, "collection finished");
            (collected.snapshot, Source::Live)
        }
    };

    if let Some(mut f) = record_file.take() {
        let text = snapshot
            .to_json()
            .map_err(|e| Fatal::Incomplete(format!("cannot serialise the snapshot: {e}")))?;
        f.writer()
            .write_all(text.as_bytes())
            .and_then(|()| f.writer().write_all(b"\n"))
            .map_err(|e| Fatal::Usage(format!("cannot write the snapshot: {e}")))?;
        f.commit("snapshot")?;
    }

    let selection = Selection {
        only: args.check.clone(),
        skip: args.skip_check.clone(),
        apis: args.api_id.clone(),
        stages: args.stage.clone(),
        probe: None,
    };
    let results = audit(&snapshot, &selection);
    let regions: Vec<String> = snapshot.regions.iter().map(|r| r.region.clone()).collect();
    let report = Report::build(results, source, snapshot.account.clone(), &regions);
    let code = report.exit_code(args.fail_on);

    let to_terminal = out_file.is_none() && std::io::stdout().is_terminal();
    match &mut out_file {
        Some(f) => {
            render(&report, args.output, verbose, false, f.writer())
                .map_err(|e| Fatal::Usage(format!("cannot write the report: {e}")))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            write_or_pipe(render(
                &report,
                args.output,
                verbose,
                to_terminal,
                &mut lock,
            ))?;
        }
    }
    if let Some(f) = out_file {
        f.commit("report")?;
    }
    Ok(code)
}

fn render(
    report: &Report,
    format: OutputFormat,
    verbose: u8,
    terminal: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => report.write_json(out),
        OutputFormat::Table => {
            let color = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let width = if terminal {
                terminal_size::terminal_size().map_or(120, |(w, _)| usize::from(w.0))
            } else {
                120
            };
            crate::report::table::render(
                report,
                &TableOptions {
                    color,
                    verbose: verbose > 0,
                    width,
                },
                out,
            )
        }
    }
}

/// Reads a snapshot file: unreadable, malformed or of another version is
/// an input error (exit 2), reported with the file name.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, Fatal> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fatal::Usage(format!("cannot read snapshot {}: {e}", path.display())))?;
    Snapshot::from_json(&text)
        .map_err(|e| Fatal::Usage(format!("snapshot {}: {e}", path.display())))
}

/// Refuses API ids and stage names the snapshot does not hold.
fn check_selection(
    snap: &Snapshot,
    api_ids: &[String],
    stages: &[String],
    path: &Path,
) -> Result<(), Fatal> {
    let apis: Vec<&apigw_audit_checks::model::ApiRecord> =
        snap.regions.iter().flat_map(|r| r.apis.iter()).collect();
    for id in api_ids {
        if !apis.iter().any(|a| &a.id == id) {
            let held: Vec<&str> = apis.iter().map(|a| a.id.as_str()).collect();
            return Err(Fatal::Usage(format!(
                "API {id} is not in snapshot {} (it holds: {})",
                path.display(),
                if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(", ")
                }
            )));
        }
    }
    let selected: Vec<_> = apis
        .iter()
        .filter(|a| api_ids.is_empty() || api_ids.contains(&a.id))
        .collect();
    for name in stages {
        let unreadable = selected.iter().any(|a| !matches!(a.stages, Fetched::Ok(_)));
        let found = selected
            .iter()
            .any(|a| matches!(&a.stages, Fetched::Ok(s) if s.iter().any(|s| &s.name == name)));
        if !found && !unreadable {
            return Err(Fatal::Usage(format!(
                "no stage {name} in the selected API(s) of snapshot {}",
                path.display()
            )));
        }
    }
    Ok(())
}
