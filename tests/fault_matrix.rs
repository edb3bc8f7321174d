//! The fault matrix: every fault the launcher can inject, on every AWS
//! operation the collector calls, against a healthy REST API and a healthy
//! HTTP API audited together. For each cell the run must end within its
//! budget, every finding that changed must have become `error` naming the
//! operation (and, for a denial, the IAM action to allow), nothing else may
//! change, and the exit code must follow the contract. A run that could not
//! audit at all must say so in one line naming the operation, with exit 3.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Every fault the launcher injects (its docstring describes each).
const FAULTS: &[&str] = &[
    "throttle",
    "http-500",
    "http-503",
    "access-denied",
    "slow:4",
    "reset",
    "truncated",
    "malformed",
    "second-page",
];

/// The attempt timeout the matrix runs with; `slow:4` outlasts it.
const CALL_TIMEOUT: &str = "2";

/// The attempt timeout of the trickling run, far above the 0.5 s a body
/// trickles for, so only the trickle could cause a retry.
const TRICKLE_CALL_TIMEOUT: &str = "10";

/// How long one run may take: three attempts at the operation timeout
/// plus the retry back-off, with room for a loaded machine. A run still
/// going is killed and reported.
const BUDGET: Duration = Duration::from_secs(45);

/// The transient test's budget: every operation of two audits fails once
/// and is retried after the SDK's back-off, while the matrix runs beside
/// it on the same two cores; it asks for equal verdicts, not for speed.
const TRANSIENT_BUDGET: Duration = Duration::from_secs(150);

/// Where the transient-fault test builds, apart from the matrix's region.
const TRANSIENT_REGION: &str = "ap-southeast-2";

/// The longest run of the matrix, for its summary line.
static SLOWEST: Mutex<Duration> = Mutex::new(Duration::ZERO);

/// Listings AWS paginates (their API references define a next-page token):
/// with `second-page`, the tool must ask for that page and, when it fails,
/// must not take the first page for the whole.
const PAGINATED: &[&str] = &[
    "apigateway:GetAuthorizers",
    "apigateway:GetDomainNames",
    "apigateway:GetResources",
    "apigateway:GetRestApis",
    "apigateway:GetApis",
    "apigateway:GetRoutes",
    "apigateway:GetIntegrations",
    "apigateway:GetVpcLinks",
    "apigateway:GetBasePathMappings",
    "apigateway:GetApiMappings",
    "apigateway:GetUsagePlans",
    "apigateway:GetUsagePlanKeys",
    "apigateway:GetApiKeys",
    "cloudfront:ListDistributions",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcEndpointConnections",
    "ec2:DescribeVpcEndpointServiceConfigurations",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "servicediscovery:ListInstances",
];

/// Collector operations no scenario in moto reaches, and why. Kept honest
/// by the test: an operation listed here that a scenario does reach fails.
const UNREACHED: &[(&str, &str)] = &[];

/// Operations whose failure no verdict of these scenarios depends on, and
/// why; their faults must leave every verdict as it was. Every other
/// operation's faults must turn at least one verdict into `error`.
const NOT_NEEDED: &[(&str, &str)] = &[(
    "sts:GetCallerIdentity",
    "the account is taken from the NLB ARNs the VPC link (v1) targets, which \
         the API's account owns (API reference, VpcLink.targetArns), so every \
         verdict must stay as in the clean run",
)];

/// Operations and the checks that read them directly: a fault on one must
/// leave those checks `error` naming it, not merely some error somewhere.
const NEEDED_BY: &[(&str, &[&str])] = &[
    ("ec2:DescribeRouteTables", &["route-tables"]),
    ("ec2:DescribeNetworkAcls", &["network-acls"]),
    ("ec2:DescribeSecurityGroups", &["security-groups"]),
    (
        "elasticloadbalancing:DescribeTargetHealth",
        &["target-health"],
    ),
    (
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        &["target-health"],
    ),
    (
        "elasticloadbalancing:DescribeListenerAttributes",
        &["idle-timeout"],
    ),
    (
        "ec2:DescribeVpcEndpointConnections",
        &["endpoint-connection"],
    ),
    (
        "ec2:DescribeVpcEndpointServicePermissions",
        &["endpoint-connection"],
    ),
    ("apigateway:GetAccount", &["execution-logging"]),
    // A method requires an API key: its stage's usage plans, their keys,
    // and whether the keys are enabled.
    ("apigateway:GetUsagePlans", &["api-key-usage-plan"]),
    ("apigateway:GetUsagePlanKeys", &["api-key-usage-plan"]),
    ("apigateway:GetApiKeys", &["api-key-usage-plan"]),
    // An HTTP API's own record says whether its default endpoint is disabled.
    ("apigateway:GetApi", &["execute-api-endpoint"]),
    (
        "cloudfront:ListDistributions",
        &["cloudfront-origin-protocol"],
    ),
];

const EXPLAIN: &str = "explain from logs";

struct Invocation {
    name: &'static str,
    args: Vec<String>,
}

struct Baseline {
    findings: BTreeMap<String, String>,
    code: Option<i32>,
    calls: BTreeMap<String, usize>,
}

struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
}

/// Runs the binary signed as `key`, killing it past the budget.
fn run_within_budget(key: &str, args: &[String]) -> Outcome {
    run_within(key, args, BUDGET)
}

fn run_within_transient(key: &str, args: &[String]) -> Outcome {
    run_within(key, args, TRANSIENT_BUDGET)
}

/// Runs the binary signed as `key`, killing it past `budget`.
fn run_within(key: &str, args: &[String], budget: Duration) -> Outcome {
    let mut cmd: Command = tool(key);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start apigw-audit");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let code = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break status.code(),
            None if started.elapsed() > budget => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Outcome {
        code,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Whether the tool asked `op` for the page after the injected token.
fn asked_next_page(key: &str, op: &str) -> bool {
    let text = std::fs::read_to_string(&moto().request_log).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|v| v["key"] == key && v["operation"] == op && v["next_page"] == true)
}

fn calls_of(key: &str) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for op in requests_by(key) {
        *calls.entry(op).or_insert(0) += 1;
    }
    calls
}

/// Judges one cell; returns what is wrong with it, if anything.
fn judge(
    inv: &Invocation,
    base: &Baseline,
    audited: &Baseline,
    op: &str,
    fault: &str,
    key: &str,
) -> Vec<String> {
    let out = run_within_budget(key, &inv.args);
    let cell = format!("{op} x {fault} ({})", inv.name);
    let mut problems = Vec::new();
    let Some(code) = out.code else {
        return vec![format!(
            "{cell}: still running after {BUDGET:?}; killed. stderr: {}",
            out.stderr
        )];
    };
    let calls = calls_of(key);
    if fault == "second-page" && !asked_next_page(key, op) {
        // The tool never asked for the next page.
        if PAGINATED.contains(&op) {
            problems.push(format!(
                "{cell}: {op} answered with a next-page token, and the tool never asked for the next page"
            ));
            return problems;
        }
        // The token means nothing for this operation: nothing may change.
        if code != base.code.unwrap_or(-1) {
            problems.push(format!("{cell}: exit {code}, unfaulted {:?}", base.code));
        }
        if let Ok(report) = serde_json::from_slice::<Value>(&out.stdout) {
            let f = findings_of(&report);
            if f.keys().ne(base.findings.keys())
                || f.iter()
                    .any(|(k, v)| status_of(v) != status_of(&base.findings[k]))
            {
                problems.push(format!("{cell}: an ignored token changed the report"));
            }
        }
        return problems;
    }
    if !calls.contains_key(op) {
        problems.push(format!("{cell}: the faulted operation was never called"));
        return problems;
    }
    let denial = fault == "access-denied";
    if inv.name == EXPLAIN {
        return judge_explain(&cell, &out, code, audited, denial, op);
    }
    if out.stdout.is_empty() {
        // No report: the audit could not run at all. One line naming the
        // operation, and exit 3.
        let line = out.stderr.trim();
        if code != 3 {
            problems.push(format!("{cell}: no report and exit {code}: {line}"));
        }
        if line.lines().count() != 1 || !line.contains(op) {
            problems.push(format!(
                "{cell}: without a report, stderr must be one line naming {op}: {line}"
            ));
        }
        return problems;
    }
    let report: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("{cell}: stdout is not JSON: {e}")],
    };
    validate_report(&report);
    let got = findings_of(&report);
    let mut errors = 0;
    for (k, v) in &got {
        let now = status_of(v);
        match base.findings.get(k) {
            Some(was) if status_of(was) == now => {}
            Some(_) if now == "error" => {
                errors += 1;
                let message = v.split('\t').nth(1).unwrap_or_default();
                if !message.contains(op) {
                    problems.push(format!(
                        "{cell}: {k} is error without naming {op}: {message}"
                    ));
                }
                if denial && !message.to_ascii_lowercase().contains("denied") {
                    problems.push(format!(
                        "{cell}: {k} does not say the call was denied: {message}"
                    ));
                }
            }
            Some(was) => problems.push(format!(
                "{cell}: {k} went from {} to {now}: {v}",
                status_of(was)
            )),
            None if now == "error" => {
                errors += 1;
                let message = v.split('\t').nth(1).unwrap_or_default();
                if !message.contains(op) {
                    problems.push(format!(
                        "{cell}: new error finding {k} does not name {op}: {message}"
                    ));
                }
            }
            None => problems.push(format!("{cell}: a new {now} finding {k}: {v}")),
        }
    }
    for (k, v) in &base.findings {
        if !got.contains_key(k) {
            // A finding may only vanish where the whole stage, API or
            // region turned into an error about the failed read.
            // (Its stage, or the API as a whole when its stages are unknown.)
            let parts: Vec<&str> = k.split(' ').collect();
            let stage = format!("{} {} {} ", parts[0], parts[1], parts[2]);
            let whole = format!("{} {} - ", parts[0], parts[1]);
            // Or the region, when its APIs could not be listed (its entry
            // has no id and no stage).
            let region = format!("{}  - ", parts[0]);
            let covered = got.iter().any(|(g, s)| {
                (g.starts_with(&stage) || g.starts_with(&whole) || g.starts_with(&region))
                    && status_of(s) == "error"
            });
            if !covered {
                problems.push(format!(
                    "{cell}: {k} ({}) vanished with no error in its place",
                    status_of(v)
                ));
            }
        }
    }
    for (_, checks) in NEEDED_BY.iter().filter(|(o, _)| *o == op) {
        for check in *checks {
            let named = got.iter().any(|(k, v)| {
                k.split(' ').nth(3) == Some(*check) && status_of(v) == "error" && v.contains(op)
            });
            if !named {
                problems.push(format!(
                    "{cell}: {check} reads {op} but is not an error naming it"
                ));
            }
        }
    }
    let not_needed = NOT_NEEDED.iter().any(|(o, _)| *o == op);
    if errors == 0 && !not_needed {
        problems.push(format!("{cell}: the failure left no error finding"));
    }
    if not_needed
        && got
            .iter()
            .any(|(k, v)| base.findings.get(k).map(|b| status_of(b)) != Some(status_of(v)))
    {
        problems.push(format!(
            "{cell}: {op} is listed as not needed, yet verdicts changed"
        ));
    }
    let want = expected_code(&got);
    if code != want {
        problems.push(format!("{cell}: exit {code}, the contract says {want}"));
    }
    if let Ok(mut d) = SLOWEST.lock() {
        *d = (*d).max(out.elapsed);
    }
    problems
}

/// `explain --from-logs` falls back to the full audit when the logs cannot
/// be read: the note must name the operation, and every finding of that
/// audit must be what the unfaulted audit found.
fn judge_explain(
    cell: &str,
    out: &Outcome,
    code: i32,
    audited: &Baseline,
    denial: bool,
    op: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let doc: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("{cell}: stdout is not JSON: {e}: {}", out.stderr)],
    };
    let note = doc["logs"]["note"].as_str().unwrap_or_default();
    if !note.contains(op) {
        problems.push(format!(
            "{cell}: the logs note does not name {op}: {note:?}"
        ));
    }
    if denial && !note.contains("AccessDenied") && !note.to_ascii_lowercase().contains("denied") {
        problems.push(format!(
            "{cell}: the logs note does not say the call was denied: {note}"
        ));
    }
    let got = findings_of(&doc);
    if got.is_empty() {
        problems.push(format!("{cell}: no audit ran in place of the logs"));
    }
    for (k, v) in &got {
        match audited.findings.get(k) {
            Some(was) if status_of(was) == status_of(v) => {}
            other => problems.push(format!(
                "{cell}: {k} is {v}, the unfaulted audit found {other:?}"
            )),
        }
    }
    let want = expected_code(&got);
    if code != want {
        problems.push(format!("{cell}: exit {code}, the contract says {want}"));
    }
    problems
}

/// Whether a problem is a finding that blames a timeout on an operation
/// other than the faulted one: a timeout the matrix did not inject.
fn uninjected_timeout(problem: &str, op: &str) -> bool {
    let timeout = "failed because the call timed out";
    problem.contains(timeout) && !problem.contains(&format!("{op} {timeout}"))
}

#[test]
fn every_fault_on_every_collector_operation_errors_only_what_needed_it() {
    // Between them, these reach every operation the collector has.
    let rest = build("rest-v1", "fmrest", 101);
    for b in [
        "authorizer-with-permission",
        "cloudfront-https-only",
        "execution-log-errors",
        "custom-domain",
        "prefix-list-rule",
        // GET /partners requires an API key: the usage plan reads.
        "api-key-route-plan",
        // A failing fixture too: the ALB behind the NLB closes idle
        // connections first, so idle-timeout fails, and a fault on either
        // load balancer's attributes must turn that fail into an error.
        "nlb-to-alb",
    ] {
        apply(&rest, b);
    }
    let tls = build("rest-v1", "fmtls", 103);
    apply(&tls, "tls-listener-other-host");
    // An SNI certificate kept in IAM, so iam:GetServerCertificate is faulted too.
    apply(&tls, "tls-listener-iam-sni");
    let http = build("http-v2", "fmhttp", 102);
    apply(&http, "cloud-map-route");
    apply(&http, "custom-domain");
    let rest_id = rest["api_id"].as_str().expect("api id").to_string();
    let http_id = http["api_id"].as_str().expect("api id").to_string();

    let audit = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["audit", "--output", "json", "--call-timeout", CALL_TIMEOUT]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect();
        a.shrink_to_fit();
        a
    };
    let invocations = [
        Invocation {
            name: "both APIs",
            args: audit(&["--all-apis"]),
        },
        Invocation {
            name: "named APIs",
            args: audit(&["--api-id", &rest_id, "--api-id", &http_id]),
        },
        Invocation {
            name: "every region",
            args: audit(&["--api-id", &rest_id, "--all-regions"]),
        },
        Invocation {
            name: EXPLAIN,
            args: [
                "explain",
                "--api-id",
                &rest_id,
                "--stage",
                "prod",
                "--from-logs",
                "30m",
                "--output",
                "json",
                "--call-timeout",
                CALL_TIMEOUT,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        },
    ];

    // Unfaulted runs: what each invocation calls and concludes.
    let mut baselines = Vec::new();
    for (i, inv) in invocations.iter().enumerate() {
        let key = format!("AKIDfmbase{i}");
        let out = run_within_budget(&key, &inv.args);
        let findings = serde_json::from_slice::<Value>(&out.stdout)
            .map(|r| findings_of(&r))
            .unwrap_or_default();
        assert!(
            out.code.is_some(),
            "{}: the unfaulted run did not finish",
            inv.name
        );
        baselines.push(Baseline {
            findings,
            code: out.code,
            calls: calls_of(&key),
        });
    }
    assert!(
        baselines[0]
            .findings
            .values()
            .all(|v| status_of(v) != "error"),
        "the unfaulted audit has errors: {:#?}",
        baselines[0].findings
    );

    // Each operation is faulted in the first invocation that calls it.
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, b) in baselines.iter().enumerate() {
        for op in b.calls.keys() {
            owner.entry(op.clone()).or_insert(i);
        }
    }
    let unreached: BTreeSet<String> = UNREACHED.iter().map(|(o, _)| o.to_string()).collect();
    let reached: BTreeSet<String> = owner.keys().cloned().collect();
    let missing: Vec<_> = collector_operations()
        .difference(&reached)
        .filter(|o| !unreached.contains(*o))
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "the collector can call {missing:?}, which no matrix invocation reaches"
    );
    let stale: Vec<_> = unreached.intersection(&reached).collect();
    assert!(stale.is_empty(), "{stale:?} are reached after all");

    let mut cells: Vec<(String, &'static str, usize)> = Vec::new();
    for (op, inv) in &owner {
        for fault in FAULTS {
            cells.push((op.clone(), fault, *inv));
        }
    }
    let total = cells.len();
    let queue = Mutex::new(cells.into_iter().enumerate().collect::<Vec<_>>());
    let problems = Mutex::new(Vec::new());
    let timed_out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some((n, (op, fault, inv))) = queue.lock().expect("queue").pop() else {
                        break;
                    };
                    let key = format!("AKIDfm{n}");
                    set_faults(&key, &json!({ op.clone(): fault }));
                    let found = judge(
                        &invocations[inv],
                        &baselines[inv],
                        &baselines[0],
                        &op,
                        fault,
                        &key,
                    );
                    if found.iter().any(|p| uninjected_timeout(p, &op)) {
                        timed_out
                            .lock()
                            .expect("timed out")
                            .push((n, op, fault, inv));
                    } else {
                        problems.lock().expect("problems").extend(found);
                    }
                }
            });
        }
    });
    let mut problems = problems.into_inner().expect("problems");
    // A call the matrix did not fault timed out: the machine (four audits
    // and moto on two cores) was too slow for the 2 s attempt timeout, which
    // says nothing about the tool. Such a cell runs once more, alone; what
    // it gets wrong then counts.
    let timed_out = timed_out.into_inner().expect("timed out");
    for (n, op, fault, inv) in &timed_out {
        let key = format!("AKIDfmagain{n}");
        set_faults(&key, &json!({ op.clone(): fault }));
        let (base, audited) = (&baselines[*inv], &baselines[0]);
        problems.extend(judge(&invocations[*inv], base, audited, op, fault, &key));
    }
    println!(
        "fault matrix: {} operations x {} faults = {total} runs, {} re-run alone after a timeout the matrix did not inject ({}), {} problems, slowest run {:?}",
        owner.len(),
        FAULTS.len(),
        timed_out.len(),
        timed_out
            .iter()
            .map(|(_, op, fault, inv)| format!("{op} x {fault} ({})", invocations[*inv].name))
            .collect::<Vec<_>>()
            .join(", "),
        problems.len(),
        SLOWEST.lock().map(|d| *d).unwrap_or_default()
    );
    assert!(
        problems.is_empty(),
        "{} of {total} cells are wrong:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Transient faults: every operation the audit calls fails on its first
/// request only (throttled, a 503, a reset connection) and succeeds on the
/// SDK's retry. Every verdict, message and the exit code must be those of
/// the clean run: a retried read is as good as a first-time one.
#[test]
fn transient_faults_on_every_operation_change_no_verdict() {
    // A region of its own: the matrix audits every API of us-east-1 while
    // this test builds, and must not see these APIs appear half-built.
    let rest = build_in(TRANSIENT_REGION, "rest-v1", "fmonce", 172);
    for b in [
        "authorizer-with-permission",
        "custom-domain",
        "prefix-list-rule",
        "api-key-route-plan",
        // A failing fixture too (idle-timeout fails): a retried read must
        // keep a failure exactly as it was.
        "nlb-to-alb",
    ] {
        apply(&rest, b);
    }
    let http = build_in(TRANSIENT_REGION, "http-v2", "fmoncehttp", 173);
    apply(&http, "cloud-map-route");
    let args: Vec<String> = [
        "audit",
        "--region",
        TRANSIENT_REGION,
        "--output",
        "json",
        "--call-timeout",
        CALL_TIMEOUT,
        "--api-id",
        rest["api_id"].as_str().expect("api id"),
        "--api-id",
        http["api_id"].as_str().expect("api id"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let findings = |out: &Outcome| {
        serde_json::from_slice::<Value>(&out.stdout)
            .map(|r| findings_of(&r))
            .unwrap_or_default()
    };
    let clean = run_within_transient("AKIDfmonceclean", &args);
    let ops = calls_of("AKIDfmonceclean");
    assert!(ops.len() > 15, "the clean run reads little: {ops:?}");
    let base = findings(&clean);
    assert!(
        !base.is_empty() && base.values().all(|v| status_of(v) != "error"),
        "{base:#?}"
    );
    // Every verdict, message and the exit code as in the clean run.
    let same_as_clean = |fault: &str, out: &Outcome| {
        assert_eq!(out.code, clean.code, "{fault}: {}", out.stderr);
        let got = findings(out);
        let changed: Vec<_> = got
            .iter()
            .filter(|(k, v)| base.get(*k) != Some(*v))
            .collect();
        assert!(
            changed.is_empty() && got.len() == base.len(),
            "{fault}: {changed:#?}"
        );
    };
    for (i, fault) in ["throttle", "http-503", "reset"].iter().enumerate() {
        let key = format!("AKIDfmonce{i}");
        let config: serde_json::Map<String, Value> = ops
            .keys()
            .map(|op| (op.clone(), json!(format!("once:{fault}"))))
            .collect();
        set_faults(&key, &Value::Object(config));
        let out = run_within_transient(&key, &args);
        let calls = calls_of(&key);
        let retried = ops
            .keys()
            .filter(|op| calls.get(*op) > ops.get(*op))
            .count();
        assert!(
            retried * 2 > ops.len(),
            "{fault}: few operations were retried: {calls:?}"
        );
        same_as_clean(fault, &out);
    }
    // A body that trickles (every answer spread over 0.5 s in ten pieces,
    // well inside the 2 s attempt timeout: at 1 s a loaded machine once
    // pushed a call past it) is read whole: no retry, and every verdict,
    // message and the exit code as in the clean run.
    //
    // That run gets a 10 s attempt timeout: its question is whether a slow
    // but steady body is read whole, and in CI (2026-12-02) the 2 s one
    // expired once for a DescribeLoadBalancers answer on two cores shared
    // with the matrix, a retry the trickle did not cause.
    let key = "AKIDfmtrickle";
    let config: serde_json::Map<String, Value> = ops
        .keys()
        .map(|op| (op.clone(), json!("trickle:0.5")))
        .collect();
    set_faults(key, &Value::Object(config));
    let mut patient = args.clone();
    let at = patient
        .iter()
        .position(|a| a == "--call-timeout")
        .expect("the audit sets a call timeout");
    patient[at + 1] = TRICKLE_CALL_TIMEOUT.to_string();
    let out = run_within_transient(key, &patient);
    assert_eq!(calls_of(key), ops, "a trickling body was retried");
    same_as_clean("trickle", &out);
}
