//! The `explain` command: from what a caller saw (a status, an error type, a
//! body, a log line, the URL, or the stage's recent logs) to what it means,
//! its likely causes ranked, and, when an API is named or resolved from the
//! URL, the verdict of exactly the checks that decide between those causes.

use std::collections::BTreeMap;
use std::io::Write;

use apigw_audit_checks::engine::{Selection, audit};
use apigw_audit_checks::explain::{
    ErrorInput, Resolved, RouteMatch, Signature, UrlTarget, classify_line, match_route,
    match_signatures, parse_duration, parse_url, resolve_custom_domain, resolve_execute_api,
};
use apigw_audit_checks::model::{ApiKind, ApiRecord, Fetched, Snapshot};
use apigw_audit_checks::view::Probe;
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{ExplainArgs, ExplainFormat};
use crate::collect::{self, Request};
use crate::error::Fatal;
use crate::report::{Report, Source};

/// How many log events `--from-logs` reads at most.
const LOG_CAP: usize = 20_000;

#[derive(Debug, Serialize)]
struct MatchOut {
    signature: &'static str,
    meaning: &'static str,
    causes: &'static [&'static str],
    checks: &'static [&'static str],
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

pub async fn run(args: ExplainArgs) -> Result<u8, Fatal> {
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
    let mut sigs = match_signatures(&input);
    let recorder = std::sync::Arc::new(collect::aws::Recorder::default());
    let rec = collect::aws::RecordCalls(recorder);

    // Which API (and region) the input is about.
    let region_override = match &url {
        Some(UrlTarget::ExecuteApi { region, .. }) if args.aws.region.is_empty() => {
            Some(region.clone())
        }
        _ => None,
    };
    let live_cfg = if args.snapshot.is_none()
        && (args.api_id.is_some() || url.is_some() || window.is_some())
    {
        Some(collect::aws::load_config(&args.aws, region_override.as_deref()).await?)
    } else {
        None
    };
    let snapshot_file = match &args.snapshot {
        Some(p) => Some(crate::audit::load_snapshot(p)?),
        None => None,
    };
    let mut resolved: Option<Resolved> = None;
    if let Some(UrlTarget::CustomDomain { domain, segments }) = &url {
        let domains = match (&snapshot_file, &live_cfg) {
            (Some(s), _) => s
                .regions
                .iter()
                .filter_map(|r| r.domain_names.as_ref().and_then(|d| d.ok()).cloned())
                .flatten()
                .collect(),
            (None, Some(cfg)) => collect::domain_names(cfg, &rec).await?,
            (None, None) => Vec::new(),
        };
        resolved = Some(resolve_custom_domain(&domains, domain, segments).ok_or_else(|| {
            Fatal::Usage(format!(
                "{domain} is neither an execute-api host nor a custom domain name with a mapping for this path in the region"
            ))
        })?);
    }
    let api_id = args
        .api_id
        .clone()
        .or_else(|| resolved.as_ref().map(|r| r.api_id.clone()))
        .or_else(|| match &url {
            Some(UrlTarget::ExecuteApi { api_id, .. }) => Some(api_id.clone()),
            _ => None,
        });

    // The snapshot the checks judge, when there is an API.
    let snapshot: Option<(Snapshot, Source)> = match (&api_id, snapshot_file, &live_cfg) {
        (None, _, _) => None,
        (Some(_), Some(s), _) => Some((s, Source::Snapshot)),
        (Some(id), None, Some(cfg)) => {
            let req = Request {
                api_ids: vec![id.clone()],
                all_apis: false,
                stages: Vec::new(),
                max_concurrency: collect::pace::DEFAULT_MAX_CONCURRENCY,
                multi_region: false,
                progress: None,
                pacing: Some(collect::Pacing {
                    rates: collect::pace::rates(&[]),
                    permits: std::sync::Arc::new(tokio::sync::Semaphore::new(
                        collect::pace::DEFAULT_MAX_CONCURRENCY,
                    )),
                }),
            };
            Some((
                collect::collect_with(cfg, &req).await?.snapshot,
                Source::Live,
            ))
        }
        (Some(_), None, None) => None,
    };
    let api_record = match (&snapshot, &api_id) {
        (Some((s, _)), Some(id)) => {
            let found = s
                .regions
                .iter()
                .flat_map(|r| r.apis.iter())
                .find(|a| &a.id == id)
                .cloned();
            Some(found.ok_or_else(|| Fatal::Usage(format!("API {id} is not in the snapshot")))?)
        }
        _ => None,
    };
    if let (
        Some(UrlTarget::ExecuteApi {
            api_id, segments, ..
        }),
        Some(api),
    ) = (&url, &api_record)
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
    if let (Some(api), Some(st)) = (&api_record, &stage)
        && let Fetched::Ok(stages) = &api.stages
        && !stages.iter().any(|s| &s.name == st)
        && url.is_none()
    {
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        return Err(Fatal::Usage(format!(
            "no stage {st} in API {} (stages: {})",
            api.id,
            names.join(", ")
        )));
    }

    // --from-logs: classify the stage's recent log lines.
    let mut logs_out: Option<LogsOut> = None;
    let mut run_everything = false;
    if let Some(seconds) = window {
        let (Some(api), Some(st)) = (&api_record, &stage) else {
            return Err(Fatal::Usage(
                "--from-logs needs --api-id and --stage (or a --url naming them)".to_string(),
            ));
        };
        let group = log_group(api, st);
        let out = match (&live_cfg, &group) {
            (_, None) => LogsOut {
                log_group: String::new(),
                window_seconds: seconds,
                lines_read: 0,
                causes: Vec::new(),
                note: Some(format!(
                    "stage {st} writes no logs, so there is nothing to read; running the full audit instead"
                )),
            },
            (Some(cfg), Some(g)) => {
                match collect::logs::messages(cfg, &rec, g, seconds, LOG_CAP).await {
                    Ok(lines) => classify_lines(g, seconds, &lines),
                    Err(f) => LogsOut {
                        log_group: g.clone(),
                        window_seconds: seconds,
                        lines_read: 0,
                        causes: Vec::new(),
                        note: Some(format!(
                            "{} Running the full audit instead.",
                            apigw_audit_checks::finding::failure_sentence(
                                &format!("log group {g}"),
                                &f
                            )
                            .replace(", so this check cannot decide.", ".")
                        )),
                    },
                }
            }
            (None, Some(g)) => LogsOut {
                log_group: g.clone(),
                window_seconds: seconds,
                lines_read: 0,
                causes: Vec::new(),
                note: Some(
                    "a snapshot holds no log lines; running the full audit instead".to_string(),
                ),
            },
        };
        if out.note.is_some() {
            run_everything = true;
        }
        for c in &out.causes {
            if let Some(id) = c.signature
                && let Some(s) = apigw_audit_checks::explain::SIGNATURES
                    .iter()
                    .find(|s| s.id == id)
                && !sigs.iter().any(|x| x.id == id)
            {
                sigs.push(s);
            }
        }
        logs_out = Some(out);
    }

    // The route the URL asks for.
    let mut route_out: Option<RouteOut> = None;
    let mut probe: Option<Probe> = None;
    if let (Some(r), Some(api)) = (&resolved, &api_record) {
        let st = stage.clone().unwrap_or_default();
        let method = args.method.as_ref().map(|m| m.to_ascii_uppercase());
        let names: Vec<String> = match &api.stages {
            Fetched::Ok(s) => s.iter().map(|x| x.name.clone()).collect(),
            _ => Vec::new(),
        };
        if names.contains(&st) || !matches!(api.stages, Fetched::Ok(_)) {
            let routes = api
                .deployed_routes
                .get(&st)
                .and_then(|r| r.ok())
                .or_else(|| api.routes.ok())
                .cloned()
                .unwrap_or_default();
            let m: RouteMatch = match_route(&routes, method.as_deref(), &r.path);
            route_out = Some(RouteOut {
                api_id: r.api_id.clone(),
                stage: st.clone(),
                method: method.clone(),
                path: r.path.clone(),
                exists: m.matched.is_some(),
                closest: m.closest,
                matched: m.matched,
                methods_at_path: m.methods_at_path,
                note: r.note.clone(),
            });
        } else {
            route_out = Some(RouteOut {
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
            });
        }
        // route-exists judges the stage too: one the API lacks is a fail.
        probe = Some(Probe {
            api_id: r.api_id.clone(),
            stage: st,
            method,
            path: r.path.clone(),
        });
    }

    // The checks to run: those deciding between the matched causes.
    let mut checks: Vec<String> = Vec::new();
    for s in &sigs {
        for c in s.checks {
            if !checks.iter().any(|x| x == c) {
                checks.push(c.to_string());
            }
        }
    }
    if probe.is_some() && !checks.iter().any(|c| c == "route-exists") {
        checks.push("route-exists".to_string());
    }
    let report = match &snapshot {
        Some((snap, source)) if run_everything || !checks.is_empty() => {
            let sel = Selection {
                only: if run_everything {
                    Vec::new()
                } else {
                    checks.clone()
                },
                skip: Vec::new(),
                apis: api_id.iter().cloned().collect(),
                stages: probe
                    .as_ref()
                    .map(|p| p.stage.clone())
                    .or_else(|| stage.clone())
                    .into_iter()
                    .collect(),
                probe: probe.clone(),
            };
            let regions: Vec<String> = snap.regions.iter().map(|r| r.region.clone()).collect();
            Some(Report::build(
                audit(snap, &sel),
                *source,
                snap.account.clone(),
                &regions,
            ))
        }
        _ => None,
    };
    // As for audit, over the checks that were run; none run is 0.
    let code = report.as_ref().map_or(0, |r| r.exit_code(args.fail_on));

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match args.output {
        ExplainFormat::Json => {
            let mut doc = json!({
                "schema_version": 1,
                "input": input,
                "matches": matches_out(&sigs),
            });
            if let Some(r) = &route_out {
                doc["route"] = json!(r);
            }
            if let Some(rep) = &report {
                doc["apis"] = serde_json::to_value(&rep.apis).unwrap_or(Value::Null);
                doc["summary"] = json!(rep.summary);
            }
            if let Some(l) = &logs_out {
                doc["logs"] = json!(l);
            }
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
        ExplainFormat::Text => write_text(
            &mut out,
            &input,
            &sigs,
            route_out.as_ref(),
            logs_out.as_ref(),
            report.as_ref(),
            api_id.as_deref(),
        ),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            return Err(Fatal::Incomplete(format!(
                "cannot write the explanation: {e}"
            )));
        }
    }
    Ok(code)
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

fn write_text(
    out: &mut impl Write,
    input: &ErrorInput,
    sigs: &[&'static Signature],
    route: Option<&RouteOut>,
    logs: Option<&LogsOut>,
    report: Option<&Report>,
    api_id: Option<&str>,
) -> std::io::Result<()> {
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
    if let Some(l) = logs {
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
    }
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
            writeln!(out, "   Deciding checks: {}", s.checks.join(", "))?;
        }
    }
    if let Some(r) = route {
        writeln!(out)?;
        let what = format!(
            "{} {}",
            r.method.as_deref().unwrap_or("(any method)"),
            r.path
        );
        match (&r.matched, r.exists) {
            (Some(m), true) => writeln!(
                out,
                "Route: stage {} of API {} serves {what} with {m}.",
                r.stage, r.api_id
            )?,
            _ => {
                if r.stage.is_empty() {
                    writeln!(out, "Route: the URL names no stage of API {}.", r.api_id)?;
                } else {
                    writeln!(
                        out,
                        "Route: stage {} of API {} does not serve {what}.",
                        r.stage, r.api_id
                    )?;
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
            }
        }
    }
    if let Some(rep) = report {
        writeln!(out)?;
        writeln!(out, "Verdicts ({}):", rep.source)?;
        for (api, stage, f) in rep.findings() {
            if f.status == apigw_audit_checks::Status::Skip && f.check != "route-exists" {
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
