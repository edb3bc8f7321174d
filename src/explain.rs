//! The `explain` command: from what a caller saw (a status, an error type, a
//! body, a log line, the URL, or the stage's recent logs) to what it means,
//! its likely causes ranked, and, when an API is named or resolved from the
//! URL, the verdict of exactly the checks that decide between those causes.

use std::collections::BTreeMap;
use std::io::Write;

use apigw_audit_checks::CheckId;
use apigw_audit_checks::engine::{Selection, audit};
use apigw_audit_checks::explain::{
    ErrorInput, Resolved, RouteMatch, Signature, UrlTarget, classify_line, match_route,
    match_signatures, parse_duration, parse_url, resolve_custom_domain, resolve_execute_api,
};
use apigw_audit_checks::model::{ApiKind, ApiRecord, Failure, Fetched, Route, Snapshot};
use apigw_audit_checks::view::Probe;
use aws_config::SdkConfig;
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{ExplainArgs, ExplainFormat};
use crate::collect::{self, aws::RecordCalls};
use crate::error::Fatal;
use crate::live;
use crate::report::{Report, Source};

/// How many log events `--from-logs` reads at most.
const LOG_CAP: usize = 20_000;

#[derive(Debug, Serialize)]
struct MatchOut {
    signature: &'static str,
    meaning: &'static str,
    causes: &'static [&'static str],
    checks: &'static [apigw_audit_checks::CheckId],
}

#[derive(Debug, Serialize)]
struct RouteOut {
    api_id: String,
    stage: String,
    method: Option<String>,
    path: String,
    exists: bool,
    closest: Vec<String>,
    /// An addition: the route that serves the request, or the methods the
    /// path has when the method is wrong, or why the stage is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    matched: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    methods_at_path: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// An addition: why the stage's deployed routes are unknown, when they
    /// could not be read. `exists` then answers for the API's current
    /// definition only, which the stage may not serve.
    #[serde(skip_serializing_if = "Option::is_none")]
    deployed_unknown: Option<String>,
}

#[derive(Debug, Serialize)]
struct LogCount {
    signature: Option<&'static str>,
    count: usize,
    example: String,
}

#[derive(Debug, Serialize)]
struct LogsOut {
    log_group: String,
    window_seconds: u64,
    lines_read: usize,
    causes: Vec<LogCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn matches_out(sigs: &[&'static Signature]) -> Vec<MatchOut> {
    sigs.iter()
        .map(|s| MatchOut {
            signature: s.id,
            meaning: s.meaning,
            causes: s.causes,
            checks: s.checks,
        })
        .collect()
}

/// What the caller handed in, checked before anything is read.
struct Asked {
    input: ErrorInput,
    /// `--from-logs`, in seconds.
    window: Option<u64>,
    url: Option<UrlTarget>,
}

/// The API the input is about, and what was read to judge it.
struct Target {
    /// Present only when something has to be read from AWS.
    live_cfg: Option<SdkConfig>,
    /// The API, stage and path the URL leads to.
    resolved: Option<Resolved>,
    api_id: Option<String>,
    /// The snapshot the checks judge, when there is an API.
    snapshot: Option<(Snapshot, Source)>,
    api_record: Option<ApiRecord>,
    stage: Option<String>,
}

/// Everything an explanation shows, for either output format.
struct Explanation<'a> {
    input: &'a ErrorInput,
    sigs: &'a [&'static Signature],
    route: Option<&'a RouteOut>,
    logs: Option<&'a LogsOut>,
    report: Option<&'a Report>,
    api_id: Option<&'a str>,
}

pub async fn run(args: ExplainArgs) -> Result<u8, Fatal> {
    let asked = asked(&args)?;
    let mut sigs = match_signatures(&asked.input);
    let recorder = std::sync::Arc::new(collect::aws::Recorder::default());
    let rec = collect::aws::RecordCalls(recorder);
    let target = target(&args, &asked, &rec).await?;

    // --from-logs: classify the stage's recent log lines.
    let mut logs_out: Option<LogsOut> = None;
    let mut run_everything = false;
    if let Some(seconds) = asked.window {
        let out = read_logs(&target, seconds, &rec).await?;
        // A note says the logs could not be read: every check runs instead.
        if out.note.is_some() {
            run_everything = true;
        }
        add_log_signatures(&mut sigs, &out);
        logs_out = Some(out);
    }

    let (route_out, probe) = match route(&target, args.method.as_deref()) {
        Some((r, p)) => (Some(r), Some(p)),
        None => (None, None),
    };
    let checks = deciding_checks(&sigs, probe.as_ref());
    let report = verdicts(&target, &checks, probe, run_everything);
    // As for audit, over the checks that were run; none run is 0.
    let code = report.as_ref().map_or(0, |r| r.exit_code(args.fail_on));
    write_explanation(
        args.output,
        &Explanation {
            input: &asked.input,
            sigs: &sigs,
            route: route_out.as_ref(),
            logs: logs_out.as_ref(),
            report: report.as_ref(),
            api_id: target.api_id.as_deref(),
        },
    )?;
    Ok(code)
}

/// Refuses an invocation with nothing to explain and parses the window and
/// the URL, before any file is read or AWS is called.
fn asked(args: &ExplainArgs) -> Result<Asked, Fatal> {
    if args.aws.region.len() > 1 {
        return Err(Fatal::Usage(
            "explain takes one --region (the API's); audit takes several".to_string(),
        ));
    }
    let input = ErrorInput {
        status: args.status,
        message: args.message.clone(),
        error_type: args.error_type.clone(),
        log_line: args.log_line.clone(),
        url: args.url.clone(),
    };
    if input.is_empty() && args.api_id.is_none() && args.from_logs.is_none() {
        return Err(Fatal::Usage(
            "nothing to explain: pass --status, --error-type, --message, --log-line, --url or --from-logs".to_string(),
        ));
    }
    let window = match &args.from_logs {
        Some(d) => Some(parse_duration(d).map_err(|e| Fatal::Usage(format!("--from-logs: {e}")))?),
        None => None,
    };
    let url = match &args.url {
        Some(u) => Some(parse_url(u).map_err(Fatal::Usage)?),
        None => None,
    };
    Ok(Asked { input, window, url })
}

/// Works out which API (and region) and stage the input is about, and
/// reads what the checks need to judge it.
async fn target(args: &ExplainArgs, asked: &Asked, rec: &RecordCalls) -> Result<Target, Fatal> {
    let url = &asked.url;
    let live_cfg = live_config(args, asked).await?;
    let snapshot_file = match &args.snapshot {
        Some(p) => Some(crate::audit::load_snapshot(p)?),
        None => None,
    };
    let mut resolved: Option<Resolved> = None;
    if let Some(UrlTarget::CustomDomain { domain, segments }) = url {
        let found = custom_domain(
            domain,
            segments,
            snapshot_file.as_ref(),
            live_cfg.as_ref(),
            rec,
        )
        .await?;
        resolved = Some(found);
    }
    let api_id = args
        .api_id
        .clone()
        .or_else(|| resolved.as_ref().map(|r| r.api_id.clone()))
        .or_else(|| match url {
            Some(UrlTarget::ExecuteApi { api_id, .. }) => Some(api_id.clone()),
            _ => None,
        });
    let mut snapshot = judged_snapshot(api_id.as_deref(), snapshot_file, live_cfg.as_ref()).await?;
    if args.redact
        && let Some((s, _)) = &mut snapshot
    {
        let n = apigw_audit_checks::redact::redact(s);
        tracing::info!(
            values = n,
            "redacted stage variable values no check resolved"
        );
    }
    let api_record = api_record(snapshot.as_ref(), api_id.as_deref())?;
    if let (
        Some(UrlTarget::ExecuteApi {
            api_id, segments, ..
        }),
        Some(api),
    ) = (url, &api_record)
    {
        let stages: Vec<String> = match &api.stages {
            Fetched::Ok(s) => s.iter().map(|s| s.name.clone()).collect(),
            _ => Vec::new(),
        };
        resolved = Some(resolve_execute_api(api_id, &stages, segments));
    }
    let stage = args
        .stage
        .clone()
        .or_else(|| resolved.as_ref().and_then(|r| r.stage.clone()));
    if url.is_none() {
        check_stage(api_record.as_ref(), stage.as_deref())?;
    }
    Ok(Target {
        live_cfg,
        resolved,
        api_id,
        snapshot,
        api_record,
        stage,
    })
}

/// The AWS configuration, loaded (credentials checked) only when AWS will
/// be read: an execute-api URL's region applies unless `--region` is given.
async fn live_config(args: &ExplainArgs, asked: &Asked) -> Result<Option<SdkConfig>, Fatal> {
    let region_override = match &asked.url {
        Some(UrlTarget::ExecuteApi { region, .. }) if args.aws.region.is_empty() => {
            Some(region.clone())
        }
        _ => None,
    };
    if args.snapshot.is_none()
        && (args.api_id.is_some() || asked.url.is_some() || asked.window.is_some())
    {
        let settings = live::aws_settings(&args.aws, region_override.as_deref());
        Ok(Some(collect::aws::load_config(&settings).await?))
    } else {
        Ok(None)
    }
}

/// The API and stage a custom domain's mapping sends the URL's path to,
/// from the snapshot's domain names or the region's live ones.
async fn custom_domain(
    domain: &str,
    segments: &[String],
    snapshot_file: Option<&Snapshot>,
    live_cfg: Option<&SdkConfig>,
    rec: &RecordCalls,
) -> Result<Resolved, Fatal> {
    let domains = match (snapshot_file, live_cfg) {
        (Some(s), _) => s
            .regions
            .iter()
            .filter_map(|r| r.domain_names.as_ref().and_then(|d| d.ok()).cloned())
            .flatten()
            .collect(),
        (None, Some(cfg)) => collect::domain_names(cfg, rec).await?,
        (None, None) => Vec::new(),
    };
    resolve_custom_domain(&domains, domain, segments).ok_or_else(|| {
        Fatal::Usage(format!(
            "{domain} is neither an execute-api host nor a custom domain name with a mapping for this path in the region"
        ))
    })
}

/// The snapshot the checks judge: the file, or the named API read live
/// (the same way `audit` reads it), or none without an API.
async fn judged_snapshot(
    api_id: Option<&str>,
    snapshot_file: Option<Snapshot>,
    live_cfg: Option<&SdkConfig>,
) -> Result<Option<(Snapshot, Source)>, Fatal> {
    match (api_id, snapshot_file, live_cfg) {
        (None, _, _) => Ok(None),
        (Some(_), Some(s), _) => Ok(Some((s, Source::Snapshot))),
        (Some(id), None, Some(cfg)) => {
            let regions = live::regions(cfg, false, &[]).await?;
            let reading = live::Reading {
                api_ids: vec![id.to_string()],
                all_apis: false,
                stages: Vec::new(),
                max_concurrency: collect::pace::DEFAULT_MAX_CONCURRENCY,
                overrides: &[],
                progress: None,
            };
            let (snap, _) = live::collect_regions(cfg, &regions, reading).await?;
            Ok(Some((snap, Source::Live)))
        }
        (Some(_), None, None) => Ok(None),
    }
}

/// The named API's record in the snapshot; naming one it lacks is an
/// input error.
fn api_record(
    snapshot: Option<&(Snapshot, Source)>,
    api_id: Option<&str>,
) -> Result<Option<ApiRecord>, Fatal> {
    let (Some((s, _)), Some(id)) = (snapshot, api_id) else {
        return Ok(None);
    };
    let found = s
        .regions
        .iter()
        .flat_map(|r| r.apis.iter())
        .find(|a| a.id == id)
        .cloned();
    Ok(Some(found.ok_or_else(|| {
        Fatal::Usage(format!("API {id} is not in the snapshot"))
    })?))
}

/// A `--stage` the API does not have is an input error; with a URL it is
/// instead what the route report explains.
fn check_stage(api: Option<&ApiRecord>, stage: Option<&str>) -> Result<(), Fatal> {
    if let (Some(api), Some(st)) = (api, stage)
        && let Fetched::Ok(stages) = &api.stages
        && !stages.iter().any(|s| s.name == st)
    {
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        return Err(Fatal::Usage(format!(
            "no stage {st} in API {} (stages: {})",
            api.id,
            names.join(", ")
        )));
    }
    Ok(())
}

/// `--from-logs`: the stage's recent error lines counted by signature, or
/// a note saying why there are none to read (then every check runs).
async fn read_logs(target: &Target, seconds: u64, rec: &RecordCalls) -> Result<LogsOut, Fatal> {
    let (Some(api), Some(st)) = (&target.api_record, &target.stage) else {
        return Err(Fatal::Usage(
            "--from-logs needs --api-id and --stage (or a --url naming them)".to_string(),
        ));
    };
    let group = log_group(api, st);
    Ok(match (&target.live_cfg, &group) {
        (_, None) => no_lines(
            String::new(),
            seconds,
            format!(
                "stage {st} writes no logs, so there is nothing to read; running the full audit instead"
            ),
        ),
        (Some(cfg), Some(g)) => {
            match collect::logs::messages(cfg, rec, g, seconds, LOG_CAP).await {
                Ok(lines) => classify_lines(g, seconds, &lines),
                Err(f) => no_lines(
                    g.clone(),
                    seconds,
                    format!(
                        "{} Running the full audit instead.",
                        apigw_audit_checks::finding::failure_sentence(
                            &format!("log group {g}"),
                            &f
                        )
                        .replace(", so this check cannot decide.", ".")
                    ),
                ),
            }
        }
        (None, Some(g)) => no_lines(
            g.clone(),
            seconds,
            "a snapshot holds no log lines; running the full audit instead".to_string(),
        ),
    })
}

/// The logs section when no line could be read, and why.
fn no_lines(log_group: String, window_seconds: u64, note: String) -> LogsOut {
    LogsOut {
        log_group,
        window_seconds,
        lines_read: 0,
        causes: Vec::new(),
        note: Some(note),
    }
}

/// Signatures the logs showed join those the input matched, so their
/// deciding checks run too.
fn add_log_signatures(sigs: &mut Vec<&'static Signature>, logs: &LogsOut) {
    for c in &logs.causes {
        if let Some(id) = c.signature
            && let Some(s) = apigw_audit_checks::explain::SIGNATURES
                .iter()
                .find(|s| s.id == id)
            && !sigs.iter().any(|x| x.id == id)
        {
            sigs.push(s);
        }
    }
}

/// Whether the stage serves the route the URL asks for, and the probe that
/// makes route-exists judge exactly that request.
fn route(target: &Target, method: Option<&str>) -> Option<(RouteOut, Probe)> {
    let (Some(r), Some(api)) = (&target.resolved, &target.api_record) else {
        return None;
    };
    let st = target.stage.clone().unwrap_or_default();
    let method = method.map(str::to_ascii_uppercase);
    let names: Vec<String> = match &api.stages {
        Fetched::Ok(s) => s.iter().map(|x| x.name.clone()).collect(),
        _ => Vec::new(),
    };
    let route_out = if names.contains(&st) || !matches!(api.stages, Fetched::Ok(_)) {
        let deployed = apigw_audit_checks::view::deployed_routes(api, &st);
        let deployed_unknown = deployed.as_ref().err().map(Failure::clause);
        let routes: Vec<Route> = match deployed {
            Ok(r) => r.to_vec(),
            Err(_) => api.routes.ok().cloned().unwrap_or_default(),
        };
        let m: RouteMatch = match_route(&routes, method.as_deref(), &r.path);
        RouteOut {
            api_id: r.api_id.clone(),
            stage: st.clone(),
            method: method.clone(),
            path: r.path.clone(),
            exists: m.matched.is_some(),
            closest: m.closest,
            matched: m.matched,
            methods_at_path: m.methods_at_path,
            note: r.note.clone(),
            deployed_unknown,
        }
    } else {
        RouteOut {
            api_id: r.api_id.clone(),
            stage: st.clone(),
            method: method.clone(),
            path: r.path.clone(),
            exists: false,
            closest: names.iter().map(|n| format!("/{n}{}", r.path)).collect(),
            matched: None,
            methods_at_path: Vec::new(),
            note: Some(format!(
                "API {} has no stage {} (stages: {})",
                r.api_id,
                if st.is_empty() { "in the URL" } else { &st },
                names.join(", ")
            )),
            deployed_unknown: None,
        }
    };
    // route-exists judges the stage too: one the API lacks is a fail.
    let probe = Probe {
        api_id: r.api_id.clone(),
        stage: st,
        method,
        path: r.path.clone(),
        via_execute_api: r.via_execute_api,
    };
    Some((route_out, probe))
}

/// The checks that decide between the matched causes, each once, in the
/// signatures' order; route-exists too when a route is probed, and
/// execute-api-endpoint when the URL uses the default execute-api host.
fn deciding_checks(sigs: &[&'static Signature], probe: Option<&Probe>) -> Vec<String> {
    let mut checks: Vec<String> = Vec::new();
    for s in sigs {
        for c in s.checks {
            if !checks.iter().any(|x| x == c.as_str()) {
                checks.push(c.to_string());
            }
        }
    }
    let mut also = |id: CheckId| {
        if !checks.iter().any(|c| c == id.as_str()) {
            checks.push(id.to_string());
        }
    };
    if let Some(p) = probe {
        also(CheckId::RouteExists);
        if p.via_execute_api {
            also(CheckId::ExecuteApiEndpoint);
        }
    }
    checks
}

/// The report of the deciding checks (or of every check, when the logs
/// could not narrow them) on the API and stage; none without a snapshot
/// or without a check to run.
fn verdicts(
    target: &Target,
    checks: &[String],
    probe: Option<Probe>,
    run_everything: bool,
) -> Option<Report> {
    let Some((snap, source)) = &target.snapshot else {
        return None;
    };
    if !run_everything && checks.is_empty() {
        return None;
    }
    let sel = Selection {
        only: if run_everything {
            Vec::new()
        } else {
            checks.to_vec()
        },
        skip: Vec::new(),
        apis: target.api_id.iter().cloned().collect(),
        stages: probe
            .as_ref()
            .map(|p| p.stage.clone())
            .or_else(|| target.stage.clone())
            .into_iter()
            .collect(),
        probe,
    };
    let regions: Vec<String> = snap.regions.iter().map(|r| r.region.clone()).collect();
    Some(Report::build(
        audit(snap, &sel),
        *source,
        snap.account.clone(),
        &regions,
    ))
}

/// Writes the explanation to stdout; a closed pipe is no error.
fn write_explanation(format: ExplainFormat, e: &Explanation) -> Result<(), Fatal> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match format {
        ExplainFormat::Json => write_json(&mut out, e),
        ExplainFormat::Text => write_text(&mut out, e),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(Fatal::Incomplete(format!(
            "cannot write the explanation: {err}"
        ))),
    }
}

/// The JSON document: the input and its matches always, the route, the
/// verdicts and the logs when there are any.
fn write_json(out: &mut impl Write, e: &Explanation) -> std::io::Result<()> {
    let mut doc = json!({
        "schema_version": 1,
        "input": e.input,
        "matches": matches_out(e.sigs),
    });
    if let Some(r) = e.route {
        doc["route"] = json!(r);
    }
    if let Some(rep) = e.report {
        doc["apis"] = serde_json::to_value(&rep.apis).unwrap_or(Value::Null);
        doc["summary"] = json!(rep.summary);
    }
    if let Some(l) = e.logs {
        doc["logs"] = json!(l);
    }
    serde_json::to_writer_pretty(&mut *out, &doc)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
}

/// The log group a stage writes errors to: REST execution logs, or an HTTP
/// API's access log group.
fn log_group(api: &ApiRecord, stage: &str) -> Option<String> {
    match api.kind {
        ApiKind::Rest => Some(format!("API-Gateway-Execution-Logs_{}/{stage}", api.id)),
        ApiKind::Http => {
            let Fetched::Ok(stages) = &api.stages else {
                return None;
            };
            let arn = stages
                .iter()
                .find(|s| s.name == stage)?
                .access_log
                .as_ref()?
                .destination_arn
                .clone()?;
            // arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
            let name = arn.split(":log-group:").nth(1)?;
            Some(name.trim_end_matches(":*").to_string())
        }
    }
}

fn classify_lines(group: &str, seconds: u64, lines: &[String]) -> LogsOut {
    let mut counts: BTreeMap<Option<&'static str>, (usize, String)> = BTreeMap::new();
    for l in lines {
        let sig = classify_line(l);
        // Only error lines count; the rest of an execution log is routine.
        let is_error =
            sig.is_some() || l.contains("Execution failed") || l.contains("\"status\":\"5");
        if !is_error {
            continue;
        }
        let e = counts
            .entry(sig.map(|s| s.id))
            .or_insert((0, l.trim().to_string()));
        e.0 += 1;
    }
    let mut causes: Vec<LogCount> = counts
        .into_iter()
        .map(|(signature, (count, example))| LogCount {
            signature,
            count,
            example,
        })
        .collect();
    causes.sort_by_key(|c| std::cmp::Reverse(c.count));
    LogsOut {
        log_group: group.to_string(),
        window_seconds: seconds,
        lines_read: lines.len(),
        causes,
        note: None,
    }
}

/// The explanation for a person, section by section in reading order:
/// what was seen, the logs, the signatures, the route, the verdicts.
fn write_text(out: &mut impl Write, e: &Explanation) -> std::io::Result<()> {
    write_seen(out, e.input)?;
    if let Some(l) = e.logs {
        write_logs(out, l)?;
    }
    write_signatures(out, e.input, e.sigs, e.api_id)?;
    if let Some(r) = e.route {
        write_route(out, r)?;
    }
    write_verdicts(out, e.report, e.sigs, e.api_id)
}

/// One line restating the input, so the reader can check it was read
/// as meant.
fn write_seen(out: &mut impl Write, input: &ErrorInput) -> std::io::Result<()> {
    let mut seen: Vec<String> = Vec::new();
    if let Some(s) = input.status {
        seen.push(format!("HTTP {s}"));
    }
    if let Some(t) = &input.error_type {
        seen.push(format!("x-amzn-errortype {t}"));
    }
    if let Some(m) = &input.message {
        seen.push(format!("\"{m}\""));
    }
    if let Some(l) = &input.log_line {
        seen.push(format!("log line \"{l}\""));
    }
    if let Some(u) = &input.url {
        seen.push(if seen.is_empty() {
            format!("a request to {u}")
        } else {
            format!("on {u}")
        });
    }
    if !seen.is_empty() {
        writeln!(out, "Seen: {}", seen.join(", "))?;
    }
    Ok(())
}

/// The logs section: why none were read, or the error lines by cause.
fn write_logs(out: &mut impl Write, l: &LogsOut) -> std::io::Result<()> {
    writeln!(out)?;
    match &l.note {
        Some(n) => writeln!(out, "Logs: {n}.")?,
        None => {
            writeln!(
                out,
                "Logs: {} line(s) of {} in the last {} s.",
                l.lines_read, l.log_group, l.window_seconds
            )?;
            if l.causes.is_empty() {
                writeln!(out, "  No error line.")?;
            }
            for c in &l.causes {
                writeln!(
                    out,
                    "  {:>5} x {}: {}",
                    c.count,
                    c.signature.unwrap_or("unrecognised"),
                    c.example
                )?;
            }
        }
    }
    Ok(())
}

/// Each matched signature with its causes and deciding checks; an error
/// that matches none says so rather than guess.
fn write_signatures(
    out: &mut impl Write,
    input: &ErrorInput,
    sigs: &[&'static Signature],
    api_id: Option<&str>,
) -> std::io::Result<()> {
    if sigs.is_empty()
        && (input.status.is_some()
            || input.message.is_some()
            || input.error_type.is_some()
            || input.log_line.is_some())
    {
        writeln!(out)?;
        writeln!(
            out,
            "This matches no error signature apigw-audit knows, so it does not guess; run the full audit: apigw-audit audit --api-id {}.",
            api_id.unwrap_or("ID")
        )?;
    }
    for (i, s) in sigs.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "{}. {} ({})", i + 1, s.meaning, s.id)?;
        writeln!(out, "   Likely causes, most likely first:")?;
        for (n, c) in s.causes.iter().enumerate() {
            writeln!(out, "   {}. {c}", n + 1)?;
        }
        if s.checks.is_empty() {
            writeln!(out, "   No check can see this cause in AWS configuration.")?;
        } else {
            let names: Vec<&str> = s.checks.iter().map(|c| c.as_str()).collect();
            writeln!(out, "   Deciding checks: {}", names.join(", "))?;
        }
    }
    Ok(())
}

/// Whether the stage serves the URL's request, and if not what comes
/// closest.
fn write_route(out: &mut impl Write, r: &RouteOut) -> std::io::Result<()> {
    writeln!(out)?;
    let what = format!(
        "{} {}",
        r.method.as_deref().unwrap_or("(any method)"),
        r.path
    );
    if let Some(why) = &r.deployed_unknown {
        // Never "serves" or "does not serve": the stage's routes are unknown.
        let current = match (&r.matched, r.exists) {
            (Some(m), true) => format!("has {what} (route {m})"),
            _ => format!("does not have {what}"),
        };
        writeln!(
            out,
            "Route: the deployed routes of stage {} of API {} could not be read ({why}); the API's current definition {current}, which the stage may not serve.",
            r.stage, r.api_id
        )?;
        return write_route_hints(out, r);
    }
    if let (Some(m), true) = (&r.matched, r.exists) {
        return writeln!(
            out,
            "Route: stage {} of API {} serves {what} with {m}.",
            r.stage, r.api_id
        );
    }
    if r.stage.is_empty() {
        writeln!(out, "Route: the URL names no stage of API {}.", r.api_id)?;
    } else {
        writeln!(
            out,
            "Route: stage {} of API {} does not serve {what}.",
            r.stage, r.api_id
        )?;
    }
    write_route_hints(out, r)
}

/// What comes closest to a route the stage (or its current definition)
/// lacks.
fn write_route_hints(out: &mut impl Write, r: &RouteOut) -> std::io::Result<()> {
    if r.exists {
        return Ok(());
    }
    if let Some(n) = &r.note {
        writeln!(out, "  {n}.")?;
    }
    if !r.methods_at_path.is_empty() {
        writeln!(
            out,
            "  The path exists for {}.",
            r.methods_at_path.join(", ")
        )?;
    }
    if !r.closest.is_empty() {
        writeln!(out, "  Closest existing: {}", r.closest.join(", "))?;
    }
    Ok(())
}

/// The deciding checks' verdicts (skips left out, but for route-exists),
/// or how to get them when no API was named.
fn write_verdicts(
    out: &mut impl Write,
    report: Option<&Report>,
    sigs: &[&'static Signature],
    api_id: Option<&str>,
) -> std::io::Result<()> {
    if let Some(rep) = report {
        writeln!(out)?;
        writeln!(out, "Verdicts ({}):", rep.source)?;
        for (api, stage, f) in rep.findings() {
            if f.status == apigw_audit_checks::Status::Skip
                && f.check != apigw_audit_checks::CheckId::RouteExists
            {
                continue;
            }
            writeln!(
                out,
                "  {:<5} {:<26} {}/{}: {}",
                f.status.as_str().to_uppercase(),
                f.check,
                api.id,
                stage.name.as_deref().unwrap_or("-"),
                f.message
            )?;
        }
    } else if api_id.is_none() && !sigs.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Name the API (--api-id, or --url) to run the deciding checks live."
        )?;
    }
    Ok(())
}
