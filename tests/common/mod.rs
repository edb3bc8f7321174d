//! Shared harness for the end-to-end tests: one moto server per test binary
//! on 127.0.0.1 (started on first use, gone when the test process exits),
//! the scenario builder, and the real binary run against it with dummy
//! credentials. Nothing here reaches any other address.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

pub struct Moto {
    pub endpoint: String,
    pub faults_dir: PathBuf,
    pub request_log: PathBuf,
    // Held open: the launcher exits when this pipe closes, i.e. when the
    // test process ends, however it ends.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The project-local virtualenv's Python, which `./test.sh` creates with
/// the pinned moto. A missing one fails the test rather than skipping it.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("APIGW_AUDIT_PYTHON") {
        return PathBuf::from(p);
    }
    let p = root().join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run ./test.sh once, which creates the virtualenv with the pinned moto",
        p.display()
    );
    p
}

pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        let work = std::env::temp_dir().join(format!("apigw-audit-e2e-{}", std::process::id()));
        std::fs::create_dir_all(work.join("faults")).expect("create the work directory");
        let stderr = std::fs::File::create(work.join("moto.stderr")).expect("create the moto log");
        let mut child = Command::new(python())
            .arg(root().join("tests/moto/launcher.py"))
            .arg("--faults-dir")
            .arg(work.join("faults"))
            .arg("--request-log")
            .arg(work.join("requests.jsonl"))
            .env("MOTO_ACM_VALIDATION_WAIT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start moto's launcher");
        let stdin = child.stdin.take().expect("launcher stdin");
        let stdout = child.stdout.take().expect("launcher stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| {
                panic!(
                    "moto did not start; see {}",
                    work.join("moto.stderr").display()
                )
            });
        let port: u16 = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected launcher output {line:?}"));
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            faults_dir: work.join("faults"),
            request_log: work.join("requests.jsonl"),
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    })
}

fn scenario(args: &[&str]) -> Output {
    let m = moto();
    let out = Command::new(python())
        .arg(root().join("tests/moto/scenario.py"))
        .arg("--endpoint")
        .arg(&m.endpoint)
        .args(args)
        .output()
        .expect("run scenario.py");
    assert!(
        out.status.success(),
        "scenario.py {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Builds a topology and returns the ids it created.
pub fn build(topology: &str, suffix: &str, octet: u8) -> Value {
    build_in("us-east-1", topology, suffix, octet)
}

/// [`build`] in another region: a test that lists every API of a region
/// uses one no other test builds in.
pub fn build_in(region: &str, topology: &str, suffix: &str, octet: u8) -> Value {
    let out = scenario(&[
        "--region",
        region,
        "build",
        topology,
        "--suffix",
        suffix,
        "--octet",
        &octet.to_string(),
    ]);
    serde_json::from_slice(&out.stdout).expect("scenario.py prints JSON")
}

/// Applies one named break to a built topology.
pub fn apply(state: &Value, name: &str) {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(f.path(), state.to_string()).expect("write state");
    scenario(&[
        "--state",
        f.path().to_str().expect("utf-8 path"),
        "break",
        name,
    ]);
}

/// Makes every call signed with `key` answer `faults` (operation -> fault).
pub fn set_faults(key: &str, faults: &Value) {
    let m = moto();
    std::fs::write(m.faults_dir.join(format!("{key}.json")), faults.to_string())
        .expect("write faults");
}

/// The operations moto received from requests signed with `key`.
pub fn requests_by(key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(&moto().request_log).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["key"] == key)
        .filter_map(|v| v["operation"].as_str().map(str::to_string))
        .collect()
}

/// The operations moto answered with a throttling error for `key`.
pub fn throttled_by(key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(&moto().request_log).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["key"] == key && v["throttled"] == true)
        .filter_map(|v| v["operation"].as_str().map(str::to_string))
        .collect()
}

/// A command for the real binary, pointed at moto with dummy credentials
/// signed as `key`, isolated from the user's AWS configuration.
pub fn tool(key: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-audit"));
    isolate(&mut cmd);
    cmd.env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret");
    cmd
}

/// Strips the environment of anything that could reach real AWS.
pub fn isolate(cmd: &mut Command) {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run apigw-audit")
}

/// The JSON on stdout; an audit report is also validated against the
/// committed report v1 schema, so every report a test reads is checked.
pub fn json_of(out: &Output) -> Value {
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if doc.get("tool").is_some() && doc.get("summary").is_some() {
        validate_report(&doc);
    }
    doc
}

/// Validates an audit report against `src/report/schema-v1.json`.
pub fn validate_report(report: &Value) {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = SCHEMA.get_or_init(|| {
        let schema: Value = serde_json::from_str(include_str!("../../src/report/schema-v1.json"))
            .expect("schema parses");
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match schema v1: {errors:#?}"
    );
}

/// The worst status of each check across the report's stages.
pub fn worst_by_check(report: &Value) -> BTreeMap<String, String> {
    let rank = |s: &str| match s {
        "fail" => 4,
        "error" => 3,
        "warn" => 2,
        "pass" => 1,
        _ => 0,
    };
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for api in report["apis"].as_array().into_iter().flatten() {
        for stage in api["stages"].as_array().into_iter().flatten() {
            for f in stage["findings"].as_array().into_iter().flatten() {
                let check = f["check"].as_str().unwrap_or_default().to_string();
                let status = f["status"].as_str().unwrap_or_default().to_string();
                let e = out.entry(check).or_insert_with(|| "skip".to_string());
                if rank(&status) > rank(e) {
                    *e = status;
                }
            }
        }
    }
    out
}

/// Asserts that `expected` fails and every other check passes or skips.
pub fn assert_only_fails(report: &Value, expected: &str) {
    assert_only(report, &[expected], &[]);
}

/// Asserts that exactly `fails` fail, exactly `warns` warn, and every other
/// check passes or skips.
pub fn assert_only(report: &Value, fails: &[&str], warns: &[&str]) {
    let w = worst_by_check(report);
    for (check, status) in &w {
        let want = if fails.contains(&check.as_str()) {
            "fail"
        } else if warns.contains(&check.as_str()) {
            "warn"
        } else {
            assert!(
                status == "pass" || status == "skip",
                "{check} is {status}; only {fails:?} should fail and {warns:?} warn: {w:?}"
            );
            continue;
        };
        assert_eq!(status, want, "{check} should {want}: {w:?}");
    }
    for check in fails.iter().chain(warns) {
        assert!(w.contains_key(*check), "{check} has no finding: {w:?}");
    }
}

pub fn write_file(path: &Path, text: &str) {
    let mut f = std::fs::File::create(path).expect("create file");
    f.write_all(text.as_bytes()).expect("write file");
}

/// The IAM service prefix of the calls in each collector file.
pub const COLLECTOR_FILES: &[(&str, &str)] = &[
    ("apigw.rs", "apigateway"),
    ("apigw2.rs", "apigateway"),
    ("elb.rs", "elasticloadbalancing"),
    ("ec2.rs", "ec2"),
    ("cloudmap.rs", "servicediscovery"),
    ("acm.rs", "acm"),
    ("iam.rs", "iam"),
    ("lambda.rs", "lambda"),
    ("cloudfront.rs", "cloudfront"),
    ("logs.rs", "logs"),
    ("mod.rs", "sts"),
];

pub fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every SDK operation a file invokes: the fluent builders are methods
/// named after the operation, called with no arguments.
pub fn calls(text: &str) -> BTreeSet<String> {
    let re =
        regex::Regex::new(r"\.((?:get|describe|list|export|filter)_[a-z_]+)\(\)").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

/// Every AWS operation the collector's code can invoke, as `service:Operation`
/// (API Gateway's v1 and v2 share the `apigateway` prefix, as IAM and the
/// request log name them).
pub fn collector_operations() -> BTreeSet<String> {
    let dir = root().join("src/collect");
    let mut ops = BTreeSet::new();
    for (file, service) in COLLECTOR_FILES {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for call in calls(&text) {
            ops.insert(format!("{service}:{}", pascal(&call)));
        }
    }
    ops
}

/// Each verdict by (region, API, stage, check, resource, route): a finding
/// that covers several routes gives one verdict per route, so a route that
/// moved to an error finding of its own is compared route by route. The
/// account is taken out of ARNs (it is unknown when STS fails).
pub fn findings_of(report: &Value) -> BTreeMap<String, String> {
    let account = regex::Regex::new(r":\d{12}:").expect("regex");
    let mut out = BTreeMap::new();
    for api in report["apis"].as_array().into_iter().flatten() {
        for stage in api["stages"].as_array().into_iter().flatten() {
            for f in stage["findings"].as_array().into_iter().flatten() {
                let resource =
                    account.replace_all(f["resource"].as_str().unwrap_or_default(), "::");
                let mut routes: Vec<&str> = f["routes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if routes.is_empty() {
                    routes.push("-");
                }
                let status = f["status"].as_str().unwrap_or_default();
                let message = f["message"].as_str().unwrap_or_default();
                for route in routes {
                    let key = format!(
                        "{} {} {} {} {resource} {route}",
                        api["region"].as_str().unwrap_or("-"),
                        api["id"].as_str().unwrap_or_default(),
                        stage["name"]
                            .as_str()
                            .filter(|n| !n.is_empty())
                            .unwrap_or("-"),
                        f["check"].as_str().unwrap_or_default(),
                    );
                    // Two findings can give one route the same key (one
                    // per target, say): keep the worst, as a user reads it.
                    let e = out
                        .entry(key)
                        .or_insert_with(|| format!("{status}\t{message}"));
                    if rank(status) > rank(status_of(e)) {
                        *e = format!("{status}\t{message}");
                    }
                }
            }
        }
    }
    out
}

pub fn rank(s: &str) -> u8 {
    match s {
        "fail" => 4,
        "error" => 3,
        "warn" => 2,
        "pass" => 1,
        _ => 0,
    }
}

pub fn status_of(entry: &str) -> &str {
    entry.split('\t').next().unwrap_or_default()
}

/// The contract's exit code for a report at `--fail-on fail`.
pub fn expected_code(findings: &BTreeMap<String, String>) -> i32 {
    let statuses: BTreeSet<&str> = findings.values().map(|v| status_of(v)).collect();
    if statuses.contains("fail") {
        1
    } else if statuses.contains("error") {
        3
    } else {
        0
    }
}
