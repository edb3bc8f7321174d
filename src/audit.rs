//! The `audit` and `checks` commands: validate the invocation, get a
//! snapshot (live or from a file), run the checks, render, pick the exit
//! code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use apigw_audit_checks::catalogue;
use apigw_audit_checks::engine::{Selection, audit};
use apigw_audit_checks::model::{Fetched, SkippedApi, Snapshot};

use crate::cli::{AuditArgs, ChecksArgs, OutputFormat};
use crate::collect;
use crate::error::Fatal;
use crate::live::{self, Cost};
use crate::output::PendingFile;
use crate::report::table::TableOptions;
use crate::report::{Report, Source};

pub fn catalogue(args: &ChecksArgs) -> Result<u8, Fatal> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_or_pipe(crate::report::catalogue::render(args.output, &mut out))?;
    Ok(0)
}

/// `apigw-audit completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<u8, Fatal> {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "apigw-audit", &mut buf);
    write_or_pipe(std::io::stdout().lock().write_all(&buf))?;
    Ok(0)
}

/// `apigw-audit man`: the manual page (roff) on stdout, subcommands
/// included.
pub fn man() -> Result<u8, Fatal> {
    use clap::CommandFactory;
    let cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    let render = |buf: &mut Vec<u8>| -> std::io::Result<()> {
        clap_mangen::Man::new(cmd.clone()).render(buf)?;
        for sub in cmd.get_subcommands() {
            let name = format!("apigw-audit-{}", sub.get_name());
            let sub = sub.clone().display_name(name);
            clap_mangen::Man::new(sub).render(buf)?;
        }
        Ok(())
    };
    render(&mut buf).map_err(|e| Fatal::Incomplete(format!("cannot render the manual: {e}")))?;
    write_or_pipe(std::io::stdout().lock().write_all(&buf))?;
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

/// Refuses an invocation that cannot audit anything, before any file or
/// AWS call is touched; the `--rate-limit` overrides it parses are kept.
fn validate(args: &AuditArgs) -> Result<Vec<(String, Option<collect::pace::Rate>)>, Fatal> {
    validate_check_ids(&args.check, "--check")?;
    validate_check_ids(&args.skip_check, "--skip-check")?;
    if args.snapshot.is_none() && args.api_id.is_empty() && !args.all_apis {
        return Err(Fatal::Usage(
            "nothing to audit: pass --api-id ID, --all-apis, or --snapshot FILE".to_string(),
        ));
    }
    args.rate_limit
        .iter()
        .map(|r| collect::pace::parse_rate_limit(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Fatal::Usage)
}

pub async fn run(args: AuditArgs, verbose: u8, quiet: bool) -> Result<u8, Fatal> {
    let overrides = validate(&args)?;
    // Everything the user handed in is read before any AWS call: a bad
    // suppression file or baseline fails fast, with nothing spent.
    let suppressions = crate::suppress::load(args.config.as_deref())?;
    let baseline = match &args.baseline {
        Some(p) => Some(crate::baseline::load(p)?),
        None => None,
    };
    // Destinations are opened first: an unwritable path fails before any
    // AWS call, and nothing appears there unless the run completes.
    let out_file = match &args.out_file {
        Some(p) => Some(PendingFile::create(p, "report")?),
        None => None,
    };
    let record_file = match &args.record {
        Some(p) => Some(PendingFile::create(p, "snapshot")?),
        None => None,
    };

    let started = std::time::Instant::now();
    if let Some(d) = args.deadline {
        crate::collect::pace::set_deadline(d);
    }
    let (mut snapshot, source, cost) = read_snapshot(&args, &overrides, quiet).await?;
    // Before anything is written: a run that named only skipped APIs
    // records no snapshot and writes no report.
    refuse_only_skipped(&args, &snapshot)?;
    if args.redact {
        let n = apigw_audit_checks::redact::redact(&mut snapshot);
        tracing::info!(values = n, "redacted stage variable values no check reads");
    }
    if let Some(f) = record_file {
        record(&snapshot, f)?;
    }

    let mut report = judge(&args, &snapshot, source);
    if let Some(s) = &suppressions {
        let today = crate::clock::now_seconds().date();
        for w in s.apply(&mut report, today).warnings {
            eprintln!("apigw-audit: warning: {w}");
        }
    }
    if let Some(b) = &baseline {
        b.apply(&mut report);
    }
    if args.stats {
        report.stats = Some(stats_json(cost.as_ref(), started.elapsed()));
    }
    let code = report.exit_code(args.fail_on);
    deliver(&report, &args, out_file, verbose)?;
    if let Some(s) = &report.stats {
        print_stats(s);
    }
    Ok(code)
}

/// The snapshot to judge: the file `--snapshot` names (its selection
/// checked against what it holds), or a live read, whose cost `--stats`
/// reports.
async fn read_snapshot(
    args: &AuditArgs,
    overrides: &[(String, Option<collect::pace::Rate>)],
    quiet: bool,
) -> Result<(Snapshot, Source, Option<Cost>), Fatal> {
    match &args.snapshot {
        Some(path) => {
            let snap = load_snapshot(path)?;
            check_selection(&snap, &args.api_id, &args.stage, path)?;
            Ok((snap, Source::Snapshot, None))
        }
        None => {
            let (snap, cost) = collect_live(args, overrides, quiet).await?;
            Ok((snap, Source::Live, Some(cost)))
        }
    }
}

/// `--record`: the snapshot as judged (redacted if asked), committed only
/// once it is written in full.
fn record(snapshot: &Snapshot, mut f: PendingFile) -> Result<(), Fatal> {
    let text = snapshot
        .to_json()
        .map_err(|e| Fatal::Incomplete(format!("cannot serialise the snapshot: {e}")))?;
    f.writer()
        .write_all(text.as_bytes())
        .and_then(|()| f.writer().write_all(b"\n"))
        .map_err(|e| Fatal::Usage(format!("cannot write the snapshot: {e}")))?;
    f.commit("snapshot")
}

/// The APIs found and not judged (WebSocket APIs), among those selected,
/// each once: the collector's list, and any a hand-made snapshot holds in
/// `apis`.
fn skipped(args: &AuditArgs, snapshot: &Snapshot) -> Vec<crate::report::SkippedReport> {
    let mut out: Vec<crate::report::SkippedReport> = Vec::new();
    for r in &snapshot.regions {
        let in_apis = r.apis.iter().filter_map(|a| match &a.info {
            Fetched::Ok(i) if i.is_websocket() => Some(SkippedApi::websocket(&a.id, i)),
            _ => None,
        });
        for a in r.skipped_apis.iter().cloned().chain(in_apis) {
            let wanted = args.api_id.is_empty() || args.api_id.contains(&a.id);
            let seen = out.iter().any(|o| o.id == a.id && o.region == r.region);
            if wanted && !seen {
                out.push(crate::report::SkippedReport {
                    id: a.id,
                    name: a.name,
                    region: r.region.clone(),
                    kind: a.kind,
                    reason: a.reason,
                });
            }
        }
    }
    out
}

/// `--api-id` naming only APIs no check judges (WebSocket APIs) audits
/// nothing: bad input, said in one line.
fn refuse_only_skipped(args: &AuditArgs, snapshot: &Snapshot) -> Result<(), Fatal> {
    let judged = snapshot.regions.iter().any(|r| {
        r.unlisted.is_some()
            || r.apis
                .iter()
                .filter(|a| args.api_id.contains(&a.id))
                .any(|a| !matches!(&a.info, Fetched::Ok(i) if i.is_websocket()))
    });
    if args.api_id.is_empty() || judged {
        return Ok(());
    }
    match skipped(args, snapshot).first() {
        Some(a) => Err(Fatal::Usage(format!(
            "API {} in {} is a WebSocket API; apigw-audit audits REST and HTTP APIs only",
            a.id, a.region
        ))),
        None => Ok(()),
    }
}

/// The checks the flags select, run over the snapshot, as a report.
fn judge(args: &AuditArgs, snapshot: &Snapshot, source: Source) -> Report {
    let selection = Selection {
        only: args.check.clone(),
        skip: args.skip_check.clone(),
        apis: args.api_id.clone(),
        stages: args.stage.clone(),
        probe: None,
    };
    let results = audit(snapshot, &selection);
    let regions: Vec<String> = snapshot.regions.iter().map(|r| r.region.clone()).collect();
    let mut report = Report::build(results, source, snapshot.account.clone(), &regions);
    report.skipped_apis = skipped(args, snapshot);
    report
}

/// Writes the report to `--out-file` (renamed into place only when
/// complete) or to stdout, where a closed pipe is no error.
fn deliver(
    report: &Report,
    args: &AuditArgs,
    mut out_file: Option<PendingFile>,
    verbose: u8,
) -> Result<(), Fatal> {
    let to_terminal = out_file.is_none() && std::io::stdout().is_terminal();
    let opts = RenderOptions {
        format: args.output,
        verbose,
        terminal: to_terminal,
        fail_on: args.fail_on,
    };
    // Buffered: the writers emit a report in many small pieces, and an
    // account's JSON report runs to megabytes.
    match &mut out_file {
        Some(f) => {
            let mut w = std::io::BufWriter::new(f.writer());
            render(report, &opts, &mut w)
                .and_then(|()| w.flush())
                .map_err(|e| Fatal::Usage(format!("cannot write the report: {e}")))?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write_or_pipe(render(report, &opts, &mut w).and_then(|()| w.flush()))?;
        }
    }
    if let Some(f) = out_file {
        f.commit("report")?;
    }
    Ok(())
}

/// The process's peak resident memory so far, in bytes (`VmHWM`; Linux
/// only). Read by the process itself: a parent's view (`ru_maxrss`) can
/// include the memory of the process it was forked from.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn stats_json(cost: Option<&Cost>, elapsed: std::time::Duration) -> serde_json::Value {
    let mut s = stats_of(cost, elapsed);
    if let (Some(rss), Some(map)) = (peak_rss_bytes(), s.as_object_mut()) {
        map.insert("peak_rss_bytes".into(), rss.into());
    }
    s
}

fn stats_of(cost: Option<&Cost>, elapsed: std::time::Duration) -> serde_json::Value {
    let Some(c) = cost else {
        return serde_json::json!({
            "source": "snapshot",
            "calls": {},
            "calls_total": 0,
            "wall_seconds": elapsed.as_secs_f64(),
        });
    };
    serde_json::json!({
        "calls": c.calls,
        "calls_total": c.calls.values().sum::<u64>(),
        "retries": c.retries,
        "throttles": c.throttles,
        "bytes": c.bytes,
        "critical_path_depth": c.depth,
        "regions": c.regions,
        "rate_limit_waits": c.waits,
        "rate_limit_waited_ms": c.waited_ms,
        "max_concurrency": c.max_concurrency,
        "wall_seconds": elapsed.as_secs_f64(),
    })
}

/// `--stats` on stderr, after the report.
fn print_stats(s: &serde_json::Value) {
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    eprintln!(
        "apigw-audit: stats: {} AWS call(s), {} retr(ies), {} throttled, {} byte(s), critical path {} call(s) deep, {:.2} s",
        n("calls_total"),
        n("retries"),
        n("throttles"),
        n("bytes"),
        n("critical_path_depth"),
        s["wall_seconds"].as_f64().unwrap_or(0.0)
    );
    if let Some(calls) = s["calls"].as_object() {
        for (op, count) in calls {
            eprintln!("apigw-audit: stats:   {count:>5} {op}");
        }
    }
    if let Some(rss) = peak_rss_bytes() {
        eprintln!(
            "apigw-audit: stats: peak resident memory {:.1} MB",
            rss as f64 / 1_048_576.0
        );
    }
    if n("rate_limit_waits") > 0 {
        eprintln!(
            "apigw-audit: stats: {} call(s) waited {} ms in all for client-side rate limits",
            n("rate_limit_waits"),
            n("rate_limit_waited_ms")
        );
    }
}

/// Reads the regions the flags name, with the flags' pacing, a spinner
/// while someone watches.
async fn collect_live(
    args: &AuditArgs,
    overrides: &[(String, Option<collect::pace::Rate>)],
    quiet: bool,
) -> Result<(Snapshot, Cost), Fatal> {
    let base = collect::aws::load_config(&live::aws_settings(&args.aws, None)).await?;
    let regions = live::regions(&base, args.all_regions, &args.aws.region).await?;
    let progress = progress_bar(quiet);
    let max_concurrency = args
        .max_concurrency
        .map_or(collect::pace::DEFAULT_MAX_CONCURRENCY, usize::from);
    let reading = live::Reading {
        api_ids: args.api_id.clone(),
        all_apis: args.all_apis,
        stages: args.stage.clone(),
        max_concurrency,
        overrides,
        progress,
    };
    live::collect_regions(&base, &regions, reading).await
}

/// A spinner on stderr while AWS is read, only when a person is watching.
fn progress_bar(quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let p = indicatif::ProgressBar::new_spinner();
    p.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    p.enable_steady_tick(std::time::Duration::from_millis(120));
    p.set_message("reading AWS");
    Some(p)
}

struct RenderOptions {
    format: OutputFormat,
    verbose: u8,
    terminal: bool,
    fail_on: crate::cli::FailOn,
}

fn render(report: &Report, opts: &RenderOptions, out: &mut impl Write) -> std::io::Result<()> {
    match opts.format {
        OutputFormat::Json => report.write_json(out),
        OutputFormat::Sarif => crate::report::sarif::render(report, out),
        OutputFormat::Junit => crate::report::junit::render(report, opts.fail_on, out),
        OutputFormat::Markdown => crate::report::markdown::render(report, out),
        OutputFormat::Table => {
            let color = opts.terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let width = if opts.terminal {
                terminal_size::terminal_size().map_or(120, |(w, _)| usize::from(w.0))
            } else {
                120
            };
            crate::report::table::render(
                report,
                &TableOptions {
                    color,
                    verbose: opts.verbose > 0,
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
