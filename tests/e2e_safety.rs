//! Read-only and secret-safe by construction, against moto: every
//! scenario's AWS calls (as the tool's own call interceptor counts them,
//! and as moto received them) are reads the example IAM policy allows;
//! credentials never reach the logs or a recorded snapshot; an interrupt
//! stops the run at once and leaves no file, half or whole.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// The example policy's actions, and whether `op` (`service:Operation`)
/// falls under one of them (API Gateway's are HTTP verbs).
fn policy_allows() -> impl Fn(&str) -> bool {
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/iam-policy.json")).expect("policy"),
    )
    .expect("policy is JSON");
    let mut actions = BTreeSet::new();
    for st in policy["Statement"].as_array().expect("statements") {
        match &st["Action"] {
            Value::String(s) => {
                actions.insert(s.clone());
            }
            Value::Array(a) => {
                actions.extend(a.iter().filter_map(|v| v.as_str().map(String::from)))
            }
            _ => {}
        }
    }
    move |op: &str| {
        if op.starts_with("apigateway:") {
            actions.contains("apigateway:GET")
        } else {
            actions.contains(op)
        }
    }
}

/// Reads by their names. `ExportApi` and `FilterLogEvents` are the two
/// read-only operations AWS named otherwise (an HTTP GET, a log query).
fn read_only(op: &str) -> bool {
    let name = op.split(':').nth(1).unwrap_or_default();
    ["Get", "List", "Describe"]
        .iter()
        .any(|p| name.starts_with(p))
        || name == "ExportApi"
        || name == "FilterLogEvents"
}

/// Every break the scenario builder knows, on the topology it applies to.
const SCENARIOS: &[(&str, &[&str])] = &[
    ("rest-v1", &[]),
    ("rest-v1", &["vpc-link-failed"]),
    ("rest-v1", &["endpoint-connection-rejected"]),
    ("rest-v1", &["listener-removed"]),
    ("rest-v1", &["target-unhealthy"]),
    ("rest-v1", &["nacl-return-denied"]),
    ("rest-v1", &["target-sg-revoked"]),
    ("rest-v1", &["stage-variable-wrong"]),
    ("rest-v1", &["nlb-deleted"]),
    ("rest-v1", &["tls-listener-other-host"]),
    ("rest-v1", &["integration-changed-after-deployment"]),
    ("rest-v1", &["authorizer-without-permission"]),
    ("rest-v1", &["cloudfront-http-only"]),
    ("rest-v1", &["api-prefix-route"]),
    ("rest-v1", &["logging-off"]),
    (
        "rest-v1",
        &["custom-domain", "prefix-list-rule", "two-more-apis"],
    ),
    ("http-v2", &[]),
    ("http-v2", &["link-v2-inactive"]),
    ("http-v2", &["link-sg-egress-removed"]),
    ("http-v2", &["search-group-emptied"]),
    ("http-v2", &["cloud-map-route", "custom-domain"]),
    ("http-v2", &["nlb-behind-link"]),
    ("rest-v1", &["nlb-to-alb"]),
];

#[test]
fn every_scenario_only_reads_and_only_what_the_policy_allows() {
    let allows = policy_allows();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut problems = Vec::new();
    for (n, (topology, breaks)) in SCENARIOS.iter().enumerate() {
        let octet = 110 + n as u8;
        let suffix = format!("ro{n}");
        let s = build(topology, &suffix, octet);
        for b in *breaks {
            apply(&s, b);
        }
        let api = s["api_id"].as_str().expect("api id");
        let key = format!("AKIDro{n}");
        let label = format!("{topology} {breaks:?}");
        let mut runs = vec![vec![
            "audit", "--api-id", api, "--stats", "--output", "json",
        ]];
        if *topology == "rest-v1" && breaks.is_empty() {
            // explain reads the stage's logs too.
            runs.push(vec![
                "explain",
                "--api-id",
                api,
                "--stage",
                "prod",
                "--from-logs",
                "30m",
                "--output",
                "json",
            ]);
        }
        let mut counted: BTreeMap<String, u64> = BTreeMap::new();
        for args in runs {
            let out = run(tool(&key).args(&args));
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{label} {args:?}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            let doc = json_of(&out);
            if let Some(calls) = doc["stats"]["calls"].as_object() {
                for (op, c) in calls {
                    *counted.entry(op.clone()).or_insert(0) += c.as_u64().unwrap_or(0);
                }
            }
        }
        let mut received: BTreeMap<String, u64> = BTreeMap::new();
        for op in requests_by(&key) {
            *received.entry(op).or_insert(0) += 1;
        }
        for op in received.keys() {
            seen.insert(op.clone());
            if !read_only(op) {
                problems.push(format!("{label}: {op} is not a read"));
            }
            if !allows(op) {
                problems.push(format!("{label}: {op} is not in examples/iam-policy.json"));
            }
        }
        // The interceptor sees every call moto received (explain reports
        // no stats, so its calls are only on moto's side).
        for (op, c) in &counted {
            if received.get(op) < Some(c) {
                problems.push(format!(
                    "{label}: the tool counted {c} {op}, moto received {:?}",
                    received.get(op)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        seen.len() >= 35,
        "the scenarios reached only {} operations: {seen:?}",
        seen.len()
    );
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";

/// At every verbosity, nothing on stdout or stderr carries the secret key,
/// the session token, a signature or the credential scope, and a recorded
/// snapshot carries none of them either.
#[test]
fn credentials_never_reach_logs_or_recordings() {
    let s = build("rest-v1", "secrets", 140);
    let api = s["api_id"].as_str().expect("api id");
    let dir = tempfile::tempdir().expect("tmp");
    let key = "AKIDsecretsafe";
    for verbosity in ["-v", "-vv", "-vvv"] {
        let record = dir.path().join(format!("rec{verbosity}.json"));
        let out = run(tool(key)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .env("RUST_LOG", "trace")
            .args([
                verbosity,
                "audit",
                "--api-id",
                api,
                "--record",
                record.to_str().expect("utf-8"),
                "--stats",
            ]));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let recorded = std::fs::read_to_string(&record).expect("snapshot written");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if verbosity == "-vvv" {
            assert!(stderr.lines().count() > 5, "-vvv logs something: {stderr}");
        }
        for (what, text) in [
            ("stdout", String::from_utf8_lossy(&out.stdout).to_string()),
            ("stderr", stderr.to_string()),
            ("the snapshot", recorded),
        ] {
            for needle in [
                SECRET,
                TOKEN,
                key,
                "Signature=",
                "Credential=",
                "x-amz-security-token",
                "X-Amz-Security-Token",
            ] {
                assert!(
                    !text.contains(needle),
                    "{what} at {verbosity} contains {needle:?}"
                );
            }
        }
    }
}

/// Stage variables can hold secrets: `--redact` records and reports none of
/// the values no verdict reads, and keeps the ones that decide verdicts.
#[test]
fn redact_keeps_what_verdicts_need_and_nothing_else() {
    let s = build("rest-v1", "redact", 141);
    apply(&s, "stage-variable-wrong");
    let api = s["api_id"].as_str().expect("api id");
    // A secret on the stage that no route uses, set through AWS.
    let py = python();
    let set = std::process::Command::new(py)
        .arg("-c")
        .arg(format!(
            "import boto3; boto3.client('apigateway', region_name='us-east-1', endpoint_url='{}', aws_access_key_id='x', aws_secret_access_key='x').update_stage(restApiId='{api}', stageName='prod', patchOperations=[{{'op': 'replace', 'path': '/variables/dbPassword', 'value': 'hunter2-secret'}}])",
            moto().endpoint
        ))
        .output()
        .expect("python");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let dir = tempfile::tempdir().expect("tmp");
    let mut verdicts = Vec::new();
    for redact in [false, true] {
        let record = dir.path().join(format!("redact-{redact}.json"));
        let mut args = vec!["audit", "--api-id", api, "--output", "json", "--record"];
        let record_s = record.to_str().expect("utf-8").to_string();
        args.push(&record_s);
        if redact {
            args.push("--redact");
        }
        let out = run(tool("AKIDredact").args(&args));
        let report = String::from_utf8_lossy(&out.stdout).to_string();
        let recorded = std::fs::read_to_string(&record).expect("recorded");
        assert_eq!(
            recorded.contains("hunter2-secret") || report.contains("hunter2-secret"),
            !redact,
            "redact={redact}"
        );
        // The variable the integration names survives redaction.
        assert!(recorded.contains("vpcLinkId"), "{recorded}");
        verdicts.push((out.status.code(), worst_by_check(&json_of(&out))));
    }
    assert_eq!(verdicts[0], verdicts[1], "redaction changes no verdict");
    assert_eq!(verdicts[0].1["vpc-link-reference"], "fail");
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect()
}

/// Ctrl-C (SIGINT) and SIGTERM in the middle of a live audit: the process
/// is gone within a second, exit 130, one line on stderr, and neither the
/// report nor the snapshot file exists, not even as a temporary file.
#[test]
fn an_interrupt_stops_at_once_and_leaves_no_file() {
    let s = build("rest-v1", "interrupt", 142);
    let api = s["api_id"].as_str().expect("api id");
    let key = "AKIDinterrupt";
    // Every answer takes two seconds, so the run is mid-flight when hit.
    set_faults(key, &json!({ "_delay_ms": 2000 }));
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().expect("tmp");
        let report = dir.path().join("report.json");
        let record = dir.path().join("snapshot.json");
        let mut child = tool(key)
            .args([
                "audit",
                "--api-id",
                api,
                "--output",
                "json",
                "--out-file",
                report.to_str().expect("utf-8"),
                "--record",
                record.to_str().expect("utf-8"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start");
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().expect("wait").is_none(),
            "still running when signalled"
        );
        let temp_files = files_in(dir.path());
        assert_eq!(
            temp_files.len(),
            2,
            "both temporary files exist mid-run: {temp_files:?}"
        );
        let sent = Instant::now();
        let kill = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(1),
                "SIG{signal}: still running a second after the signal"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(130), "SIG{signal}");
        let out = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("interrupted"), "{err}");
        assert!(out.stdout.is_empty());
        assert_eq!(
            files_in(dir.path()),
            Vec::<String>::new(),
            "SIG{signal}: files left"
        );
    }
}

/// A run that ends without a result leaves the previous report and snapshot
/// exactly as they were; a run that ends replaces both whole.
#[test]
fn out_file_and_record_are_replaced_whole_or_not_at_all() {
    let s = build("rest-v1", "atomic", 143);
    let api = s["api_id"].as_str().expect("api id");
    let dir = tempfile::tempdir().expect("tmp");
    let report = dir.path().join("report.json");
    let record = dir.path().join("snapshot.json");
    std::fs::write(&report, "previous report\n").expect("write");
    std::fs::write(&record, "previous snapshot\n").expect("write");
    let args = |api: &str| {
        vec![
            "audit".to_string(),
            "--api-id".to_string(),
            api.to_string(),
            "--output".to_string(),
            "json".to_string(),
            "--out-file".to_string(),
            report.to_str().expect("utf-8").to_string(),
            "--record".to_string(),
            record.to_str().expect("utf-8").to_string(),
        ]
    };
    // Fails after the files were opened: an API that does not exist.
    let out = run(tool("AKIDatomic").args(args("doesnotexist")));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&report).expect("r"),
        "previous report\n"
    );
    assert_eq!(
        std::fs::read_to_string(&record).expect("r"),
        "previous snapshot\n"
    );
    let mut left = files_in(dir.path());
    left.sort();
    assert_eq!(left, vec!["report.json", "snapshot.json"]);
    // Succeeds: both replaced by complete documents.
    let out = run(tool("AKIDatomic").args(args(api)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("r"))
        .expect("a whole report");
    validate_report(&r);
    let snap = std::fs::read_to_string(&record).expect("r");
    let audited = run(
        std::process::Command::new(env!("CARGO_BIN_EXE_apigw-audit")).args([
            "audit",
            "--snapshot",
            record.to_str().expect("utf-8"),
        ]),
    );
    assert_eq!(audited.status.code(), Some(0), "{snap:.200}");
    let mut left = files_in(dir.path());
    left.sort();
    assert_eq!(left, vec!["report.json", "snapshot.json"]);
}
