//! The `audit` and `checks` commands: validate the invocation, get a
//! snapshot (live or from a file), run the checks, render, pick the exit
//! code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use apigw_audit_checks::catalogue;
use apigw_audit_checks::engine::{Selection, audit};
use apigw_audit_checks::model::{Fetched, Snapshot};

use crate::cli::{AuditArgs, ChecksArgs, OutputFormat};
use crate::collect::{self, Request};
use crate::error::Fatal;
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

pub async fn run(args: AuditArgs, verbose: u8, quiet: bool) -> Result<u8, Fatal> {
    validate_check_ids(&args.check, "--check")?;
    validate_check_ids(&args.skip_check, "--skip-check")?;
    if args.snapshot.is_none() && args.api_id.is_empty() && !args.all_apis {
        return Err(Fatal::Usage(
            "nothing to audit: pass --api-id ID, --all-apis, or --snapshot FILE".to_string(),
        ));
    }
    let overrides = args
        .rate_limit
        .iter()
        .map(|r| collect::pace::parse_rate_limit(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Fatal::Usage)?;
    // Everything the user handed in is read before any AWS call: a bad
    // suppression file or baseline fails fast, with nothing spent.
    let suppressions = crate::suppress::load(args.config.as_deref())?;
    let baseline = match &args.baseline {
        Some(p) => Some(crate::baseline::load(p)?),
        None => None,
    };
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

    let started = std::time::Instant::now();
    let (mut snapshot, source, cost) = match &args.snapshot {
        Some(path) => {
            let snap = load_snapshot(path)?;
            check_selection(&snap, &args.api_id, &args.stage, path)?;
            (snap, Source::Snapshot, None)
        }
        None => {
            let (snap, cost) = collect_live(&args, &overrides, quiet).await?;
            (snap, Source::Live, Some(cost))
        }
    };

    if args.redact {
        let n = apigw_audit_checks::redact::redact(&mut snapshot);
        tracing::info!(values = n, "redacted stage variable values no check reads");
    }
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
    let mut report = Report::build(results, source, snapshot.account.clone(), &regions);
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
            render(&report, &opts, &mut w)
                .and_then(|()| w.flush())
                .map_err(|e| Fatal::Usage(format!("cannot write the report: {e}")))?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            write_or_pipe(render(&report, &opts, &mut w).and_then(|()| w.flush()))?;
        }
    }
    if let Some(f) = out_file {
        f.commit("report")?;
    }
    if let Some(s) = &report.stats {
        print_stats(s);
    }
    Ok(code)
}

/// What a live collection cost, summed over regions.
#[derive(Debug, Default)]
struct Cost {
    calls: std::collections::BTreeMap<String, u64>,
    retries: u64,
    throttles: u64,
    bytes: u64,
    /// The deepest chain of dependent calls in any region.
    depth: usize,
    regions: usize,
    waits: u64,
    waited_ms: u64,
    max_concurrency: usize,
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

/// Reads every requested region concurrently, each with its own call
/// budget, into one snapshot.
async fn collect_live(
    args: &AuditArgs,
    overrides: &[(String, Option<collect::pace::Rate>)],
    quiet: bool,
) -> Result<(Snapshot, Cost), Fatal> {
    let base = collect::aws::load_config(&args.aws, None).await?;
    let mut regions: Vec<String> = if args.all_regions {
        collect::enabled_regions(&base).await?
    } else if args.aws.region.is_empty() {
        base.region().map(|r| r.to_string()).into_iter().collect()
    } else {
        args.aws.region.clone()
    };
    regions.sort();
    regions.dedup();
    let multi = regions.len() > 1;
    let progress = progress_bar(quiet);
    let max_concurrency = args
        .max_concurrency
        .map_or(collect::pace::DEFAULT_MAX_CONCURRENCY, usize::from);
    let req = Request {
        api_ids: args.api_id.clone(),
        all_apis: args.all_apis,
        stages: args.stage.clone(),
        max_concurrency,
        multi_region: multi,
        progress: progress.clone(),
        pacing: Some(collect::Pacing {
            rates: collect::pace::rates(overrides),
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(max_concurrency)),
        }),
    };
    let runs = futures::future::join_all(regions.iter().map(|r| {
        let cfg = collect::for_region(&base, r);
        let req = req.clone();
        async move { collect::collect_with(&cfg, &req).await }
    }))
    .await;
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    let mut merged: Option<Snapshot> = None;
    let mut cost = Cost {
        regions: regions.len(),
        max_concurrency,
        ..Default::default()
    };
    for run in runs {
        let c = run?;
        for (op, n) in &c.stats.calls {
            *cost.calls.entry(op.clone()).or_insert(0) += n;
        }
        cost.retries += c.stats.retries;
        cost.throttles += c.stats.throttles;
        cost.bytes += c.stats.bytes;
        cost.depth = cost.depth.max(c.levels);
        cost.waits += c.pace.waits;
        cost.waited_ms += c.pace.waited_ms;
        tracing::info!(region = ?c.snapshot.regions.first().map(|r| &r.region), calls = ?c.stats.calls, retries = c.stats.retries, levels = c.levels, "collection finished");
        match &mut merged {
            None => merged = Some(c.snapshot),
            Some(m) => {
                if m.account.is_none() {
                    m.account = c.snapshot.account;
                    m.account_failure = c.snapshot.account_failure;
                }
                m.recorded_at = m.recorded_at.min(c.snapshot.recorded_at);
                m.regions.extend(c.snapshot.regions);
            }
        }
    }
    let snap = merged.ok_or_else(|| {
        Fatal::Usage(
            "no AWS region: pass --region, set AWS_REGION, or use --all-regions".to_string(),
        )
    })?;
    if multi {
        found_somewhere(&snap, &args.api_id, &args.stage, &regions)?;
    }
    Ok((snap, cost))
}

/// Across regions, each requested API id and stage must exist somewhere.
fn found_somewhere(
    snap: &Snapshot,
    api_ids: &[String],
    stages: &[String],
    regions: &[String],
) -> Result<(), Fatal> {
    let apis: Vec<&apigw_audit_checks::model::ApiRecord> =
        snap.regions.iter().flat_map(|r| r.apis.iter()).collect();
    for id in api_ids {
        if !apis.iter().any(|a| &a.id == id) {
            return Err(Fatal::Usage(format!(
                "no REST or HTTP API with id {id} in {}",
                regions.join(", ")
            )));
        }
    }
    let unreadable = apis.iter().any(|a| !matches!(a.stages, Fetched::Ok(_)));
    for name in stages {
        let found = apis
            .iter()
            .any(|a| matches!(&a.stages, Fetched::Ok(s) if s.iter().any(|s| &s.name == name)));
        if !found && !unreadable {
            return Err(Fatal::Usage(format!(
                "no stage {name} in the API(s) audited in {}",
                regions.join(", ")
            )));
        }
    }
    Ok(())
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
