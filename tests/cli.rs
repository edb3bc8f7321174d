//! The real binary on the example snapshots and on bad input: verdicts,
//! exit codes, the JSON v1 shape (validated against the committed schema),
//! and one clear line on stderr for every invocation error.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{assert_only_fails, isolate, json_of, root, worst_by_check};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apigw-audit"));
    isolate(&mut c);
    c
}

fn example(name: &str) -> PathBuf {
    root()
        .join("examples/snapshots")
        .join(format!("{name}.json"))
}

fn audit_example(name: &str, extra: &[&str]) -> Output {
    let path = example(name);
    let mut c = bin();
    c.args([
        "audit",
        "--snapshot",
        path.to_str().expect("utf-8"),
        "--output",
        "json",
    ]);
    c.args(extra);
    c.output().expect("run apigw-audit")
}

fn validate(report: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../src/report/schema-v1.json")).expect("schema parses");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match schema v1: {errors:#?}"
    );
}

fn one_line_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        err.trim().lines().count(),
        1,
        "stderr should be one line: {err}"
    );
    assert!(err.starts_with("apigw-audit: "), "{err}");
    err
}

#[path = "../checks/tests/common/manifest.rs"]
mod manifest_file;
use manifest_file::{Expected, MANIFEST};

fn manifest() -> Vec<Expected> {
    manifest_file::manifest(root().join("examples/snapshots").to_str().expect("utf-8"))
}

#[test]
fn the_manifest_lists_every_example_snapshot_once_and_nothing_else() {
    let listed: Vec<String> = manifest().into_iter().map(|e| e.name).collect();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "a name repeats in {MANIFEST}");
    let dir = root().join("examples/snapshots");
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("examples dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name == MANIFEST {
            continue;
        }
        if let Some(stem) = name.strip_suffix(".json") {
            files.insert(stem.to_string());
        }
    }
    let listed: BTreeSet<String> = listed.into_iter().collect();
    let unlisted: Vec<&String> = files.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&files).collect();
    assert!(
        unlisted.is_empty(),
        "examples without an entry in examples/snapshots/{MANIFEST}: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "examples/snapshots/{MANIFEST} entries without an example file: {missing:?}"
    );
}

/// On every example the binary exits with the code the manifest's verdicts
/// mean, writes a schema-valid v1 report from the snapshot, gives each check
/// exactly the manifest's worst verdict, and says each API's kind.
#[test]
fn every_example_gets_the_verdicts_and_exit_code_the_manifest_expects() {
    let mut seen = 0;
    for expected in manifest() {
        let name = expected.name.as_str();
        let why = expected.why.as_deref().unwrap_or("");
        let out = audit_example(name, &[]);
        assert_eq!(
            out.status.code(),
            Some(expected.exit_code()),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json_of(&out);
        validate(&report);
        let want: BTreeMap<String, String> = expected
            .worst()
            .into_iter()
            .map(|(check, status)| (check, status.as_str().to_string()))
            .collect();
        assert_eq!(
            worst_by_check(&report),
            want,
            "{name}: got the left, {MANIFEST} says the right. {why}"
        );
        if let [fails] = expected.fail.as_slice()
            && expected.warn.is_empty()
            && expected.error.is_empty()
        {
            assert_only_fails(&report, fails);
        }
        assert_eq!(report["source"], "snapshot", "{name}");
        assert_eq!(report["schema_version"], 1, "{name}");
        let apis = report["apis"].as_array().expect("apis");
        assert!(!apis.is_empty(), "{name}");
        for api in apis {
            assert_eq!(api["kind"], expected.kind.as_str(), "{name}");
        }
        let kind = if name.starts_with("http") {
            "http"
        } else {
            "rest"
        };
        assert_eq!(expected.kind, kind, "{name}: its name says which kind");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} examples");
}

#[test]
fn healthy_example_passes_with_exit_0() {
    let out = audit_example("rest-healthy", &[]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    validate(&report);
    assert_eq!(report["account"], "123456789012");
    assert_eq!(report["region"], "us-east-1");
    assert_eq!(report["summary"]["fail"], 0);
}

#[test]
fn fail_on_moves_the_threshold() {
    // A failing check: --fail-on never reports it and exits 0.
    assert_eq!(
        audit_example("rest-no-healthy-target", &["--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        audit_example("rest-no-healthy-target", &["--fail-on", "warn"])
            .status
            .code(),
        Some(1)
    );
    // A warning (rest-healthy's health check probes another port than
    // traffic) sets the exit code only with --fail-on warn.
    assert_eq!(
        audit_example("rest-healthy", &["--fail-on", "warn"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(audit_example("rest-healthy", &[]).status.code(), Some(0));
    assert_eq!(
        audit_example("http-healthy", &["--fail-on", "warn"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn check_and_skip_check_select_checks() {
    let out = audit_example("rest-no-healthy-target", &["--skip-check", "target-health"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!worst_by_check(&json_of(&out)).contains_key("target-health"));
    let out = audit_example("rest-healthy", &["--check", "listener-port"]);
    let w = worst_by_check(&json_of(&out));
    assert_eq!(w.keys().collect::<Vec<_>>(), vec!["listener-port"]);
}

#[test]
fn stage_filter_and_per_stage_verdicts() {
    // Only prod's stage variable names the missing link.
    let out = audit_example("rest-stage-variable-missing-link", &["--stage", "beta"]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    let stages = report["apis"][0]["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 1);
    assert_eq!(stages[0]["name"], "beta");
    let out = audit_example("rest-stage-variable-missing-link", &["--stage", "prod"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn findings_name_resources_routes_and_evidence() {
    let report = json_of(&audit_example(
        "rest-no-listener-on-port",
        &["--stage", "prod"],
    ));
    let f = report["apis"][0]["stages"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "listener-port")
        .expect("listener-port finding")
        .clone();
    assert_eq!(f["status"], "fail");
    assert!(
        f["resource"]
            .as_str()
            .expect("resource")
            .starts_with("arn:aws:elasticloadbalancing:")
    );
    assert_eq!(
        f["routes"],
        serde_json::json!(["GET /orders", "GET /orders/{id}", "POST /orders"])
    );
    let msg = f["message"].as_str().expect("message");
    assert!(msg.contains("TCP 443") && msg.contains("port 80"), "{msg}");
    assert!(f["remediation"].is_string());
    assert_eq!(f["evidence"]["needed"][0]["port"], 80);
    assert!(f["suppressed"].is_null());
}

#[test]
fn table_output_is_the_default_and_hides_passes_unless_verbose() {
    let path = example("rest-no-healthy-target");
    let out = bin()
        .args(["audit", "--snapshot", path.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("prod") && text.contains("FAIL") && text.contains("target-health"),
        "{text}"
    );
    assert!(
        !text.contains("vpc-link-status"),
        "passes are hidden by default: {text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
    let out = bin()
        .args(["audit", "--snapshot", path.to_str().expect("utf-8"), "-v"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("vpc-link-status"));
}

#[test]
fn out_file_gets_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("report.json");
    let out = audit_example(
        "rest-healthy",
        &["--out-file", file.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("report written"))
            .expect("json");
    validate(&report);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary file left behind: {leftovers:?}"
    );
}

#[test]
fn unwritable_out_file_is_exit_2_before_anything_runs() {
    let out = audit_example(
        "rest-healthy",
        &["--out-file", "/nonexistent-dir/report.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("/nonexistent-dir/report.json"), "{err}");
}

#[test]
fn bad_flag_is_one_line_and_exit_2() {
    let out = bin()
        .args(["audit", "--snapshot", "x.json", "--frobnicate"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("--frobnicate"), "{err}");
    let out = bin()
        .args(["audit", "--output", "yaml", "--snapshot", "x.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
}

#[test]
fn nothing_to_audit_is_exit_2() {
    let out = bin().args(["audit"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("--api-id"), "{err}");
}

#[test]
fn malformed_and_foreign_snapshots_are_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        ("truncated.json", "{\"schema_version\": 1, \"tool\": {"),
        ("not-json.json", "this is not json"),
        ("version.json", "{\"schema_version\": 99}"),
        (
            "wrong-shape.json",
            "{\"schema_version\": 1, \"regions\": 7}",
        ),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = bin()
            .args(["audit", "--snapshot", path.to_str().expect("utf-8")])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = one_line_error(&out);
        assert!(err.contains(name), "{err}");
        assert!(out.stdout.is_empty(), "{name}: nothing written half-way");
    }
    let out = bin()
        .args(["audit", "--snapshot", "/no/such/file.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
}

#[test]
fn unknown_check_api_or_stage_in_a_snapshot_is_exit_2() {
    for extra in [
        vec!["--check", "no-such-check"],
        vec!["--skip-check", "no-such-check"],
        vec!["--api-id", "zzzzzzzzzz"],
        vec!["--stage", "nope"],
    ] {
        let out = audit_example("rest-healthy", &extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        one_line_error(&out);
    }
}

#[test]
fn unreachable_aws_errors_every_check_and_exits_3_within_15_seconds() {
    // A port nothing listens on: connections are refused at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let start = Instant::now();
    let mut child = bin()
        .args(["audit", "--api-id", "a1b2c3d4e5", "--output", "json"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "AKIDunreachable")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    while child.try_wait().expect("wait").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "still running after 15 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    validate(&report);
    let w = worst_by_check(&report);
    assert!(!w.is_empty());
    assert!(w.values().all(|s| s == "error"), "{w:?}");
    assert_eq!(report["apis"][0]["stages"][0]["name"], Value::Null);
}

#[test]
fn missing_credentials_or_region_are_one_line_and_exit_2() {
    let out = bin()
        .args(["audit", "--api-id", "a1b2c3d4e5"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("credentials"), "{err}");
    let out = bin()
        .args(["audit", "--api-id", "a1b2c3d4e5"])
        .env_remove("AWS_REGION")
        .env("AWS_ACCESS_KEY_ID", "AKID")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("region"), "{err}");
}

#[test]
fn checks_catalogue_json_lists_every_check_in_contract_order() {
    let out = bin()
        .args(["checks", "--output", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    assert_eq!(v["schema_version"], 1);
    let checks = v["checks"].as_array().expect("checks");
    let ids: Vec<&str> = checks
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.first(), Some(&"vpc-link-status"));
    for c in checks {
        for key in ["id", "title", "severity", "explains", "remediation"] {
            assert!(!c[key].is_null(), "{key} missing in {c}");
        }
    }
}

/// Compares the text between `open` and `close` in `file` (from the
/// repository root) with `generated`; with `APIGW_AUDIT_BLESS=1` a stale
/// copy is rewritten instead.
fn generated_copy_is_current(file: &str, open: &str, close: &str, generated: &str) {
    let path = root().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(text.matches(open).count(), 1, "{file} needs one {open}");
    assert_eq!(text.matches(close).count(), 1, "{file} needs one {close}");
    let start = text.find(open).expect("open marker");
    let end = text.find(close).expect("close marker");
    assert!(start < end, "{file}: {open} must come before {close}");
    let copy = text[start + open.len()..end].trim();
    if std::env::var_os("APIGW_AUDIT_BLESS").is_some() && copy != generated.trim() {
        let updated = format!(
            "{}{open}\n{}\n{}",
            &text[..start],
            generated.trim(),
            &text[end..]
        );
        std::fs::write(&path, updated).unwrap_or_else(|e| panic!("write {file}: {e}"));
        return;
    }
    assert_eq!(
        copy,
        generated.trim(),
        "{file}'s table between {open} and {close} is stale: run APIGW_AUDIT_BLESS=1 cargo test --test cli generated_table"
    );
}

/// The full catalogue in docs/checks.md is `apigw-audit checks --output
/// markdown`, verbatim.
#[test]
fn generated_table_docs_check_catalogue() {
    let out = bin()
        .args(["checks", "--output", "markdown"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    generated_copy_is_current(
        "docs/checks.md",
        "<!-- checks:start -->",
        "<!-- checks:end -->",
        &generated,
    );
}

/// docs/checks.md's protocol table is the one `protocol-match` decides with.
#[test]
fn generated_table_docs_protocol_match() {
    let generated = apigw_audit_checks::checks::protocol_match::table_markdown();
    generated_copy_is_current(
        "docs/checks.md",
        "<!-- protocol:start -->",
        "<!-- protocol:end -->",
        &generated,
    );
}

/// The README's one line per check: id, severity and title of every check
/// of `apigw-audit checks --output json`, in its order.
#[test]
fn generated_table_readme_check_summary() {
    let out = bin()
        .args(["checks", "--output", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    let mut generated = String::from("| Check | Severity | Verifies |\n|---|---|---|\n");
    for c in v["checks"].as_array().expect("checks") {
        let field = |k: &str| c[k].as_str().expect(k).replace('|', "\\|");
        generated.push_str(&format!(
            "| `{}` | {} | {} |\n",
            field("id"),
            field("severity"),
            field("title")
        ));
    }
    generated_copy_is_current(
        "README.md",
        "<!-- checks-summary:start -->",
        "<!-- checks-summary:end -->",
        &generated,
    );
}

/// The example table in docs/snapshot.md names every example of the
/// manifest once, and for each the checks the manifest expects to fail,
/// warn or error (as `check-id` in its last column), and no other.
#[test]
fn docs_example_table_follows_the_manifest() {
    let text = std::fs::read_to_string(root().join("docs/snapshot.md")).expect("docs/snapshot.md");
    let id = regex::Regex::new(r"`([a-z0-9-]+)`").expect("regex");
    let mut rows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        let Some(name) = cells
            .first()
            .and_then(|c| c.strip_prefix("| `"))
            .and_then(|c| c.strip_suffix(".json`"))
        else {
            continue;
        };
        assert_eq!(cells.len(), 3, "{line}");
        let checks = id
            .captures_iter(cells[2])
            .map(|c| c[1].to_string())
            .collect();
        assert!(
            rows.insert(name.to_string(), checks).is_none(),
            "{name} twice in docs/snapshot.md"
        );
    }
    let want: BTreeMap<String, BTreeSet<String>> = manifest()
        .into_iter()
        .map(|e| {
            let checks = e
                .fail
                .iter()
                .chain(&e.warn)
                .chain(&e.error)
                .cloned()
                .collect();
            (e.name, checks)
        })
        .collect();
    assert_eq!(
        rows, want,
        "docs/snapshot.md's example table against {MANIFEST}"
    );
}

/// Every relative link in the README and docs/ names a file that exists
/// and, with a `#fragment`, a heading in it; the README links every page of
/// docs/.
#[test]
fn readme_and_docs_links_resolve() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").expect("regex");
    let slug = |heading: &str| -> String {
        heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    };
    let anchors = |text: &str| -> BTreeSet<String> {
        text.lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| slug(l.trim_start_matches('#')))
            .collect()
    };
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty());
    let readme = std::fs::read_to_string(&pages[0]).expect("README.md");
    for d in &docs {
        let name = d.file_name().expect("name").to_string_lossy();
        assert!(
            readme.contains(&format!("](docs/{name})")),
            "README.md does not link docs/{name}"
        );
    }
    pages.extend(docs);
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("page");
        for cap in link.captures_iter(&text) {
            let target = &cap[1];
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (file, fragment) = match target.split_once('#') {
                Some((f, frag)) => (f, Some(frag)),
                None => (target, None),
            };
            let resolved = if file.is_empty() {
                page.clone()
            } else {
                page.parent().expect("dir").join(file)
            };
            assert!(
                resolved.exists(),
                "{}: {target} does not exist",
                page.display()
            );
            if let Some(fragment) = fragment {
                let linked = std::fs::read_to_string(&resolved).expect("linked page");
                assert!(
                    anchors(&linked).contains(fragment),
                    "{}: {target} names no heading",
                    page.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} links");
}

fn explain(args: &[&str]) -> Output {
    bin()
        .arg("explain")
        .args(args)
        .output()
        .expect("run apigw-audit")
}

fn explain_json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let out = explain(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "explain {args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

const API: &str = "k7m2x9q4ab";

fn execute_api(path: &str) -> String {
    format!("https://{API}.execute-api.us-east-1.amazonaws.com{path}")
}

/// Every finding of an explain report: (stage, check, status).
fn explain_findings(v: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for api in v["apis"].as_array().into_iter().flatten() {
        for st in api["stages"].as_array().into_iter().flatten() {
            for f in st["findings"].as_array().into_iter().flatten() {
                out.push((
                    st["name"].as_str().unwrap_or_default().to_string(),
                    f["check"].as_str().unwrap_or_default().to_string(),
                    f["status"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn explain_without_input_is_exit_2_and_unknown_input_is_said_not_guessed() {
    let out = explain(&[]);
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);

    let out = explain(&["--message", "upstream connect error or disconnect/reset"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("matches no error signature") && text.contains("apigw-audit audit"),
        "{text}"
    );
    let (code, v) = explain_json(&["--status", "418", "--message", "I'm a teapot"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["matches"], serde_json::json!([]));
    assert_eq!(v["schema_version"], 1);
    assert!(v.get("apis").is_none() && v.get("route").is_none(), "{v}");

    for bad in [
        vec!["--from-logs", "soon", "--api-id", API, "--stage", "prod"],
        vec!["--url", "not a url"],
        vec!["--status", "five hundred"],
    ] {
        let out = explain(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        one_line_error(&out);
    }
}

#[test]
fn explain_names_each_signature_and_its_deciding_checks() {
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &[
                "--log-line",
                "Thu May 04 19:50:21 UTC 2024 : Execution failed due to configuration error: Host name 'domain.com.com' does not match the certificate subject provided by the peer (CN=myinstance.com)",
            ],
            "host-name-mismatch",
            &["tls-certificate-hostname"],
        ),
        (
            &[
                "--status",
                "403",
                "--error-type",
                "MissingAuthenticationTokenException",
                "--message",
                "{\"message\":\"Missing Authentication Token\"}",
            ],
            "missing-authentication-token",
            &["route-exists", "deployment-drift"],
        ),
        (
            &[
                "--status",
                "500",
                "--error-type",
                "AuthorizerConfigurationException",
            ],
            "authorizer-configuration",
            &["authorizer-config"],
        ),
        (
            &[
                "--status",
                "502",
                "--message",
                "ERROR: The request could not be satisfied",
            ],
            "cloudfront-could-not-satisfy",
            &["cloudfront-origin-protocol"],
        ),
        (
            &[
                "--log-line",
                "Execution failed due to configuration error: Cannot verify ECDH ServerKeyExchange signature",
            ],
            "ecdh-signature-mismatch",
            &[],
        ),
    ];
    for (args, sig, checks) in cases {
        let (code, v) = explain_json(args);
        assert_eq!(code, Some(0), "{args:?}");
        assert_eq!(v["matches"][0]["signature"], *sig, "{args:?}: {v}");
        let got: Vec<&str> = v["matches"][0]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(got, *checks, "{sig}");
        assert!(
            !v["matches"][0]["causes"]
                .as_array()
                .expect("causes")
                .is_empty()
        );
    }
    // Without an API the text says how to run the deciding checks.
    let out = explain(&["--status", "504"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("integration-timeout") && text.contains("--api-id"),
        "{text}"
    );
}

#[test]
fn explain_runs_exactly_the_deciding_checks_on_a_snapshot() {
    let snap = example("rest-tls-self-signed");
    let (code, v) = explain_json(&[
        "--log-line",
        "Execution failed due to configuration error: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
        "--snapshot",
        snap.to_str().expect("utf-8"),
        "--api-id",
        API,
        "--stage",
        "prod",
    ]);
    assert_eq!(code, Some(1), "{v}");
    let f = explain_findings(&v);
    assert!(!f.is_empty());
    assert!(
        f.iter()
            .all(|(stage, check, _)| stage == "prod" && check == "tls-certificate-trust"),
        "{f:?}"
    );
    assert!(f.iter().any(|(_, _, s)| s == "fail"), "{f:?}");

    // The same question about the healthy API: the check runs and passes...
    let (code, v) = explain_json(&[
        "--status",
        "500",
        "--error-type",
        "AuthorizerConfigurationException",
        "--snapshot",
        example("rest-healthy").to_str().expect("utf-8"),
        "--api-id",
        API,
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert!(
        explain_findings(&v)
            .iter()
            .all(|(_, c, s)| c == "authorizer-config" && s == "pass")
    );
    // ...and fails where the permission is gone.
    let (code, _) = explain_json(&[
        "--status",
        "500",
        "--error-type",
        "AuthorizerConfigurationException",
        "--snapshot",
        example("rest-authorizer-no-permission")
            .to_str()
            .expect("utf-8"),
        "--api-id",
        API,
    ]);
    assert_eq!(code, Some(1));

    let out = explain(&[
        "--status",
        "500",
        "--snapshot",
        example("rest-healthy").to_str().expect("utf-8"),
        "--api-id",
        "nosuchapi",
    ]);
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
}

#[test]
fn explain_url_matches_routes_and_names_the_closest() {
    let snap = example("rest-healthy");
    let s = snap.to_str().expect("utf-8");
    // A path that exists, through a path parameter.
    let (code, v) = explain_json(&[
        "--url",
        &execute_api("/prod/orders/42"),
        "--method",
        "get",
        "--snapshot",
        s,
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["route"]["exists"], true);
    assert_eq!(v["route"]["stage"], "prod");
    assert_eq!(v["route"]["path"], "/orders/42");
    assert_eq!(v["route"]["method"], "GET");
    // The execute-api host is judged too: the API serves it.
    assert_eq!(
        explain_findings(&v),
        vec![
            ("prod".into(), "route-exists".into(), "pass".into()),
            ("prod".into(), "execute-api-endpoint".into(), "pass".into())
        ]
    );
    // The same URL on an API that disabled that endpoint: 403 Forbidden.
    let off = example("rest-execute-api-disabled");
    let (code, v) = explain_json(&[
        "--url",
        &execute_api("/prod/orders/42"),
        "--snapshot",
        off.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(1), "{v}");
    let fs = explain_findings(&v);
    assert!(
        fs.contains(&("prod".into(), "execute-api-endpoint".into(), "fail".into())),
        "{fs:?}"
    );
    // Through the custom domain the same stage is served.
    let (code, v) = explain_json(&[
        "--url",
        "https://api.orders.example.com/shop/orders/42",
        "--snapshot",
        off.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert!(
        !explain_findings(&v)
            .iter()
            .any(|f| f.1 == "execute-api-endpoint"),
        "{v}"
    );

    // A path missing a segment: the closest existing path first.
    let (code, v) = explain_json(&[
        "--status",
        "403",
        "--message",
        "Missing Authentication Token",
        "--url",
        &execute_api("/prod/order"),
        "--snapshot",
        s,
    ]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["route"]["exists"], false);
    assert_eq!(v["route"]["closest"][0], "/orders", "{v}");
    assert_eq!(v["matches"][0]["signature"], "missing-authentication-token");

    // The wrong method names the methods the path has.
    let (code, v) = explain_json(&[
        "--url",
        &execute_api("/prod/orders"),
        "--method",
        "DELETE",
        "--snapshot",
        s,
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        v["route"]["methods_at_path"],
        serde_json::json!(["GET", "POST"])
    );

    // A stage the API lacks: route-exists fails on it, naming the real ones.
    let (code, v) = explain_json(&["--url", &execute_api("/production/orders"), "--snapshot", s]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["route"]["exists"], false);
    assert_eq!(
        v["route"]["closest"],
        serde_json::json!(["/beta/orders", "/prod/orders"])
    );
    assert_eq!(
        explain_findings(&v),
        vec![("production".into(), "route-exists".into(), "fail".into())]
    );

    // A custom domain with a base path resolves through its mapping.
    let (code, v) = explain_json(&[
        "--url",
        "https://api.orders.example.com/shop/orders/7?x=1",
        "--method",
        "GET",
        "--snapshot",
        s,
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["route"]["api_id"], API);
    assert_eq!(v["route"]["stage"], "prod");
    assert_eq!(v["route"]["path"], "/orders/7");
    assert_eq!(v["route"]["exists"], true);

    // A host that is neither execute-api nor a mapped custom domain.
    let out = explain(&["--url", "https://www.example.org/orders", "--snapshot", s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line_error(&out).contains("www.example.org"));
}

/// With the stage's deployed routes unreadable, explain's route line never
/// says "serves" or "does not serve", and route-exists is not a pass.
#[test]
fn explain_route_line_says_the_deployed_routes_are_unknown() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("snap.json");
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(example("rest-healthy")).expect("read"))
            .expect("json");
    v["regions"][0]["apis"][0]["deployed_routes"]["prod"] = serde_json::json!({"error": {
        "operation": "apigateway:GetExport", "iam_action": "apigateway:GET", "kind": "access_denied",
        "code": "AccessDeniedException", "message": "denied"}});
    std::fs::write(&path, v.to_string()).expect("write");
    let s = path.to_str().expect("utf-8");
    let url = format!("https://{API}.execute-api.us-east-1.amazonaws.com/prod/orders");
    let out = explain(&["--url", &url, "--method", "GET", "--snapshot", s]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("Route:"))
        .expect("a route line");
    assert!(
        line.contains("could not be read")
            && line.contains("GetExport")
            && !line.contains(" serves "),
        "{line}"
    );
    let (_, v) = explain_json(&["--url", &url, "--method", "GET", "--snapshot", s]);
    assert!(
        v["route"]["deployed_unknown"]
            .as_str()
            .is_some_and(|w| w.contains("GetExport")),
        "{v}"
    );
    let route_exists: Vec<String> = explain_findings(&v)
        .into_iter()
        .filter(|(_, c, _)| c == "route-exists")
        .map(|(_, _, st)| st)
        .collect();
    assert_eq!(route_exists, vec!["error".to_string()], "{v}");
}

#[test]
fn explain_from_logs_on_a_snapshot_runs_the_full_audit_and_says_why() {
    let snap = example("rest-healthy");
    let (code, v) = explain_json(&[
        "--from-logs",
        "30m",
        "--api-id",
        API,
        "--stage",
        "prod",
        "--snapshot",
        snap.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert!(
        v["logs"]["note"]
            .as_str()
            .is_some_and(|n| n.contains("full audit")),
        "{v}"
    );
    let checks: std::collections::BTreeSet<String> = explain_findings(&v)
        .into_iter()
        .map(|(_, c, _)| c)
        .collect();
    assert_eq!(checks.len(), apigw_audit_checks::CHECKS.len(), "{checks:?}");

    let out = explain(&[
        "--from-logs",
        "30m",
        "--api-id",
        API,
        "--snapshot",
        snap.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
}

fn audit_args(args: &[&str]) -> Output {
    bin()
        .arg("audit")
        .args(args)
        .output()
        .expect("run apigw-audit")
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("schemas/sarif-schema-2.1.0.json")).expect("schema");
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_for_every_example_is_valid_and_stable() {
    let validator = sarif_validator();
    let mut checked = 0;
    for expected in manifest() {
        let path = example(&expected.name);
        let p = path.to_str().expect("utf-8");
        let out = audit_args(&["--snapshot", p, "--output", "sarif"]);
        let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        // One result per finding that is neither pass nor skip.
        let json = json_of(&audit_args(&["--snapshot", p, "--output", "json"]));
        let wanted = json["apis"]
            .as_array()
            .expect("apis")
            .iter()
            .flat_map(|a| a["stages"].as_array().expect("stages"))
            .flat_map(|s| s["findings"].as_array().expect("findings"))
            .filter(|f| !matches!(f["status"].as_str(), Some("pass" | "skip")))
            .count();
        let results = sarif["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), wanted, "{}", path.display());
        let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        assert_eq!(rules.len(), apigw_audit_checks::CHECKS.len());
        for r in results {
            let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
            let level = r["level"].as_str().expect("level");
            let kind = r["kind"].as_str().expect("kind");
            assert!(
                matches!(
                    (kind, level),
                    ("fail", "error" | "warning") | ("open", "none")
                ),
                "{kind}/{level}"
            );
        }
        // Fingerprints: one per result, distinct, and the same on a re-run.
        let prints = |s: &Value| -> Vec<String> {
            s["runs"][0]["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| {
                    r["partialFingerprints"]["apigwAuditFinding/v1"]
                        .as_str()
                        .expect("fingerprint")
                        .to_string()
                })
                .collect()
        };
        let first = prints(&sarif);
        let mut unique = first.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), first.len(), "{}", path.display());
        let again: Value =
            serde_json::from_slice(&audit_args(&["--snapshot", p, "--output", "sarif"]).stdout)
                .expect("json");
        assert_eq!(prints(&again), first);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} examples");
}

#[test]
fn junit_has_a_suite_per_stage_and_a_case_per_check_and_resource() {
    let path = example("rest-no-healthy-target");
    let p = path.to_str().expect("utf-8");
    let out = audit_args(&["--snapshot", p, "--output", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).expect("utf-8");
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML parses");
    let json = json_of(&audit_args(&["--snapshot", p, "--output", "json"]));
    let stages: Vec<&Value> = json["apis"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .collect();
    assert_eq!(report.test_suites.len(), stages.len());
    let mut failures = 0;
    for (suite, stage) in report.test_suites.iter().zip(&stages) {
        let findings = stage["findings"].as_array().expect("findings");
        assert_eq!(suite.test_cases.len(), findings.len());
        assert_eq!(suite.tests, findings.len());
        let count = |s: &str| findings.iter().filter(|f| f["status"] == s).count();
        assert_eq!(suite.failures, count("fail"));
        assert_eq!(suite.errors, count("error"));
        let skipped = suite
            .test_cases
            .iter()
            .filter(|c| matches!(&c.status, quick_junit::TestCaseStatus::Skipped { .. }))
            .count();
        assert_eq!(skipped, count("skip"));
        failures += suite.failures;
        let failed: Vec<&str> = suite
            .test_cases
            .iter()
            .filter(|c| matches!(&c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
            .map(|c| c.name.as_str())
            .collect();
        assert!(
            failed.iter().all(|n| n.starts_with("target-health ")),
            "{failed:?}"
        );
    }
    assert_eq!(report.failures, failures);
    assert!(xml.starts_with("<?xml"));
    assert!(
        xml.contains("<testsuites")
            && xml.contains("classname=\"apigw-audit.us-east-1.k7m2x9q4ab.")
    );
}

#[test]
fn markdown_lists_what_needs_attention_and_counts_the_rest() {
    let path = example("rest-nacl-drops-return");
    let out = audit_args(&[
        "--snapshot",
        path.to_str().expect("utf-8"),
        "--output",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).expect("utf-8");
    assert!(md.starts_with("## apigw-audit: "), "{md}");
    assert!(md.contains("| Stage | Verdict | Fail | Error | Warn | Pass | Skip |"));
    assert!(md.contains("`network-acls`"), "{md}");
    // Passing checks are counted in the table, never listed.
    assert!(!md.contains("`vpc-link-status`"), "{md}");
    let healthy = audit_args(&[
        "--snapshot",
        example("http-healthy").to_str().expect("utf-8"),
        "--output",
        "markdown",
    ]);
    let md = String::from_utf8(healthy.stdout).expect("utf-8");
    assert!(
        !md.contains("#### "),
        "a healthy API lists no finding: {md}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_str().expect("utf-8").to_string()
}

/// A date `days` from today (the real today: expiry is judged on the wall
/// clock, whatever `SOURCE_DATE_EPOCH` says).
fn days_from_today(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[test]
fn suppressions_silence_mark_expire_and_warn() {
    let dir = tempfile::tempdir().expect("dir");
    let live = days_from_today(30);
    let past = days_from_today(-1);
    let config = r#"
[[suppress]]
check = "target-health"
resource = "arn:aws:elasticloadbalancing:*:targetgroup/orders-app-*"
api = "k7m2x9q4ab"
reason = "targets are being replaced"
expires = "{EXPIRES}"

[[suppress]]
check = "idle-*"
stage = "staging"
reason = "nothing to match"
"#;
    let cfg = write(
        dir.path(),
        "accepted.toml",
        &config.replace("{EXPIRES}", &live),
    );
    let snap = example("rest-no-healthy-target");
    let s = snap.to_str().expect("utf-8");

    // The first entry is live, even with SOURCE_DATE_EPOCH far past its
    // expiry: that variable fixes a replay's timestamp, not the clock.
    let out = bin()
        .env("SOURCE_DATE_EPOCH", "4102444800")
        .args([
            "audit",
            "--snapshot",
            s,
            "--config",
            &cfg,
            "--output",
            "json",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "suppressed failures do not fail"
    );
    let report = json_of(&out);
    validate(&report);
    assert_eq!(
        report["generated_at"], "2100-01-01T00:00:00Z",
        "a replay's report carries SOURCE_DATE_EPOCH's time"
    );
    let suppressed: Vec<&Value> = report["apis"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .flat_map(|s| s["findings"].as_array().expect("findings"))
        .filter(|f| !f["suppressed"].is_null())
        .collect();
    assert_eq!(suppressed.len(), 2, "one per stage");
    assert_eq!(suppressed[0]["status"], "fail", "the verdict stays");
    assert_eq!(
        suppressed[0]["suppressed"],
        serde_json::json!({"reason": "targets are being replaced", "expires": live})
    );
    assert_eq!(report["apis"][0]["stages"][0]["status"], "pass");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("accepted.toml:9") && err.contains("matched no finding"),
        "{err}"
    );
    assert!(!err.contains("accepted.toml:2 "), "{err}");

    // Expired yesterday, so the failure counts again and is warned about,
    // even with SOURCE_DATE_EPOCH before the expiry.
    let cfg = write(
        dir.path(),
        "accepted.toml",
        &config.replace("{EXPIRES}", &past),
    );
    let out = bin()
        .env("SOURCE_DATE_EPOCH", "1")
        .args([
            "audit",
            "--snapshot",
            s,
            "--config",
            &cfg,
            "--output",
            "json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("accepted.toml:2") && err.contains(&format!("expired on {past}")),
        "{err}"
    );

    // apigw-audit.toml in the working directory is found without --config.
    write(
        dir.path(),
        "apigw-audit.toml",
        "[[suppress]]\ncheck = \"target-health\"\nreason = \"known\"\n",
    );
    let out = bin()
        .current_dir(dir.path())
        .args(["audit", "--snapshot", s, "--output", "table"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Suppressed: known") && text.contains("suppressed by configuration"),
        "{text}"
    );
}

#[test]
fn the_commented_example_suppression_file_is_valid() {
    let out = audit_args(&[
        "--snapshot",
        example("rest-no-healthy-target").to_str().expect("utf-8"),
        "--config",
        root()
            .join("examples/apigw-audit.toml")
            .to_str()
            .expect("utf-8"),
    ]);
    // It names other resources: nothing is silenced, and both entries say so.
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("matched no finding").count() + err.matches("expired on").count(),
        2,
        "{err}"
    );
}

#[test]
fn an_invalid_suppression_file_is_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    let snap = example("rest-healthy");
    for (text, line) in [
        ("[[suppress]]\ncheck = \"target-health\"\n", ":1:"),
        (
            "[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nexpires = \"soon\"\n",
            ":4:",
        ),
        (
            "\n[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nwhy = 1\n",
            ":5:",
        ),
        ("[[suppress\n", ":1:"),
    ] {
        let cfg = write(dir.path(), "bad.toml", text);
        let out = audit_args(&[
            "--snapshot",
            snap.to_str().expect("utf-8"),
            "--config",
            &cfg,
        ]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = one_line_error(&out);
        assert!(err.contains(&format!("bad.toml{line}")), "{text}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = audit_args(&[
        "--snapshot",
        snap.to_str().expect("utf-8"),
        "--config",
        "/nonexistent/apigw-audit.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
}

/// An example whose target groups' health checks probe the traffic port,
/// written into `dir`: the REST examples probe 8081, which makes
/// target-health warn.
fn probed_on_traffic_port(dir: &std::path::Path, name: &str) -> String {
    let text = std::fs::read_to_string(example(name)).expect("example");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    let region = &mut v["regions"][0];
    for tg in region["target_groups"]
        .as_object_mut()
        .expect("target groups")
        .values_mut()
    {
        tg["ok"]["health_check"]["port"] = Value::from("traffic-port");
    }
    for targets in region["target_health"]
        .as_object_mut()
        .expect("target health")
        .values_mut()
    {
        for t in targets["ok"].as_array_mut().expect("targets") {
            t["health_check_port"] = t["port"].to_string().into();
        }
    }
    write(dir, &format!("{name}.json"), &v.to_string())
}

#[test]
fn baseline_reports_only_what_is_new() {
    let dir = tempfile::tempdir().expect("dir");
    let prev = dir.path().join("prev.json");
    let p = prev.to_str().expect("utf-8");
    let unhealthy = example("rest-no-healthy-target");
    let u = unhealthy.to_str().expect("utf-8");
    let out = audit_args(&["--snapshot", u, "--output", "json", "--out-file", p]);
    assert_eq!(out.status.code(), Some(1));

    // The same failures again: nothing new, exit 0.
    let out = audit_args(&["--snapshot", u, "--output", "json", "--baseline", p]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    validate(&report);
    assert_eq!(report["baseline"]["new"], 0);
    assert_eq!(report["baseline"]["unchanged"], 2);
    let table = audit_args(&["--snapshot", u, "--baseline", p]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("0 new, 2 unchanged"), "{text}");
    assert!(
        !text.contains("FAIL  target-health") && !text.contains("│ FAIL"),
        "{text}"
    );

    // Another break: its failure is new, the old one resolved (its health
    // check moved onto the traffic port, so target-health passes outright).
    let other = probed_on_traffic_port(dir.path(), "rest-nacl-drops-return");
    let out = audit_args(&["--snapshot", &other, "--output", "json", "--baseline", p]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert!(report["baseline"]["new"].as_u64().expect("new") >= 1);
    let resolved = report["baseline"]["resolved"].as_array().expect("resolved");
    assert!(
        resolved
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains("target-health"))),
        "{resolved:?}"
    );

    // A baseline that is not a v1 report is refused.
    let bad = write(dir.path(), "bad.json", "{\"schema_version\": 9}");
    let out = audit_args(&["--snapshot", u, "--baseline", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line_error(&out).contains("bad.json"));
}

#[test]
fn completions_man_and_quiet() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = bin().args(["completions", shell]).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("apigw-audit") && text.contains("audit"),
            "{shell}"
        );
    }
    let out = bin().arg("man").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let roff = String::from_utf8_lossy(&out.stdout);
    assert!(roff.contains(".TH apigw-audit 1") && roff.contains("apigw-audit-audit"));
    assert!(
        roff.contains("\\-\\-fail\\-on"),
        "the subcommands' flags are in it"
    );
    let out = bin().args(["completions", "tcsh"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);

    let out = audit_args(&[
        "--snapshot",
        example("rest-no-healthy-target").to_str().expect("utf-8"),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin().args(["-q", "-v", "checks"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn several_regions_need_a_live_audit() {
    let out = audit_args(&[
        "--snapshot",
        example("rest-healthy").to_str().expect("utf-8"),
        "--all-regions",
    ]);
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
    let out = bin()
        .args([
            "explain",
            "--status",
            "500",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    one_line_error(&out);
}

/// Numeric flags are bounded: a value that would overflow a duration or
/// make a run wait for ever is refused in one line, exit 2, before any
/// AWS call (the endpoint is a closed port, so a call would fail
/// differently).
#[test]
fn numeric_flags_out_of_bounds_are_exit_2_before_any_call() {
    let cases: &[(&[&str], &str)] = &[
        (&["--call-timeout", "1e20"], "--call-timeout"),
        (&["--call-timeout", "1e-300"], "--call-timeout"),
        (&["--call-timeout", "NaN"], "--call-timeout"),
        (&["--rate-limit", "apigateway=1e-300"], "--rate-limit"),
        (&["--rate-limit", "apigateway=1e20"], "--rate-limit"),
        (&["--max-attempts", "4294967295"], "--max-attempts"),
        (&["--max-attempts", "0"], "--max-attempts"),
        (&["--max-concurrency", "100000"], "--max-concurrency"),
    ];
    for (flags, named) in cases {
        let out = bin()
            .args(["audit", "--api-id", "a1b2c3d4e5"])
            .args(*flags)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = one_line_error(&out);
        assert!(err.contains(named), "{flags:?}: {err}");
    }
    let out = bin()
        .args(["audit", "--api-id", "a1b2c3d4e5"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_MAX_ATTEMPTS", "1000000")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line_error(&out).contains("AWS_MAX_ATTEMPTS"));
}

/// The scheduled-job examples bound a run and never leave half a report:
/// the systemd unit has a start timeout, the crontab line a lock and a
/// timeout, and both write to a new file moved over the old one.
#[test]
fn the_scheduled_job_examples_bound_a_run_and_replace_the_report_whole() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).expect(p);
    let unit = read("examples/ci/apigw-audit.service");
    assert!(
        unit.lines().any(|l| l.starts_with("TimeoutStartSec=")),
        "{unit}"
    );
    let cron = read("examples/ci/crontab");
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .expect("a crontab line");
    assert!(
        line.contains("flock -n ") && line.contains("timeout "),
        "{line}"
    );
    for text in [unit.as_str(), line] {
        assert!(
            text.contains("--out-file report.new.json")
                && text.contains("mv -f report.new.json report.json"),
            "{text}"
        );
    }
    // The flags they use exist.
    let help = bin().args(["audit", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--all-apis",
        "--baseline",
        "--out-file",
        "--region",
        "--output",
    ] {
        assert!(help.contains(flag), "audit --help lacks {flag}");
    }
}

/// A backend key kept in a stage variable and passed on only through
/// `requestParameters` decides no verdict: no output format, at any
/// verbosity, with or without `--redact`, nor `explain`; the verdicts do
/// not change. (`--record` is live only: `e2e_safety.rs` checks recordings,
/// and `redact.rs` that `--redact` drops such a key from a snapshot.)
#[test]
fn a_secret_stage_variable_no_check_resolves_reaches_no_output() {
    const KEY: &str = "sk_live_51Hsecretbackendkey0123456789";
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("snap.json");
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(example("rest-healthy")).expect("read"))
            .expect("json");
    let api = &mut v["regions"][0]["apis"][0];
    for st in api["stages"]["ok"].as_array_mut().expect("stages") {
        st["variables"]["backendKey"] = serde_json::json!(KEY);
    }
    for pointer in ["/routes/ok", "/deployed_routes/prod/ok"] {
        let table = api.pointer_mut(pointer).expect("routes");
        for r in table.as_array_mut().expect("routes") {
            r["integration"]["request_parameters"]["integration.request.header.x-api-key"] =
                serde_json::json!("stageVariables.backendKey");
        }
    }
    std::fs::write(&path, v.to_string()).expect("write");
    // The same, with prod's VPC link variable missing: vpc-link-reference
    // fails there, and its evidence once listed every stage variable.
    let broken = dir.path().join("broken.json");
    let stages = v["regions"][0]["apis"][0]["stages"]["ok"]
        .as_array_mut()
        .expect("stages");
    for st in stages.iter_mut().filter(|st| st["name"] == "prod") {
        st["variables"]
            .as_object_mut()
            .expect("variables")
            .remove("vpcLinkId");
    }
    std::fs::write(&broken, v.to_string()).expect("write");
    for snap in [&path, &broken] {
        audit_all_formats(snap.to_str().expect("utf-8"), KEY);
    }
    let s = path.to_str().expect("utf-8");
    for redact in [false, true] {
        let mut args = vec![
            "--status",
            "500",
            "--message",
            "{\"message\": \"Internal server error\"}",
            "--api-id",
            API,
            "--snapshot",
            s,
            "--output",
            "json",
        ];
        if redact {
            args.push("--redact");
        }
        let out = explain(&args);
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(KEY),
            "explain redact={redact}"
        );
    }
}

/// Audits snapshot `s` in every output format at `-vvv`, with and without
/// `--redact`: none shows `key`, and redaction changes no verdict.
fn audit_all_formats(s: &str, key: &str) {
    let mut verdicts = Vec::new();
    for redact in [false, true] {
        for format in ["table", "json", "sarif", "junit", "markdown"] {
            let mut args = vec!["-vvv", "audit", "--snapshot", s, "--output", format];
            if redact {
                args.push("--redact");
            }
            let out = bin()
                .args(&args)
                .env("RUST_LOG", "trace")
                .output()
                .expect("run");
            for (what, text) in [
                ("stdout", String::from_utf8_lossy(&out.stdout)),
                ("stderr", String::from_utf8_lossy(&out.stderr)),
            ] {
                assert!(
                    !text.contains(key),
                    "{format} {what} (redact={redact}) shows the key"
                );
            }
            if format == "json" {
                verdicts.push(worst_by_check(&json_of(&out)));
            }
        }
    }
    assert_eq!(verdicts[0], verdicts[1], "redaction changes no verdict");
}

/// A WebSocket API in a snapshot's `apis` (a hand-made snapshot: the
/// collector lists them under `skipped_apis`) is never judged as an HTTP
/// API: the report names it under `skipped_apis`, and the table says so.
#[test]
fn websocket_apis_in_a_snapshot_are_skipped_with_the_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let text = std::fs::read_to_string(example("http-healthy")).expect("example");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    let mut ws = v["regions"][0]["apis"][0].clone();
    ws["id"] = Value::from("wsapi123");
    ws["info"]["ok"]["name"] = Value::from("chat");
    ws["info"]["ok"]["protocol_type"] = Value::from("WEBSOCKET");
    v["regions"][0]["apis"]
        .as_array_mut()
        .expect("apis")
        .push(ws);
    let snap = write(dir.path(), "ws.json", &v.to_string());
    let out = audit_args(&["--snapshot", &snap, "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    validate(&report);
    let ids: Vec<&str> = report["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert!(!ids.contains(&"wsapi123"), "{ids:?}");
    assert_eq!(report["skipped_apis"][0]["id"], "wsapi123");
    assert_eq!(report["skipped_apis"][0]["kind"], "websocket");
    let table = audit_args(&["--snapshot", &snap]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Skipped API wsapi123 (chat) in us-east-1: a WebSocket API"),
        "{text}"
    );
    // Without one, the report has no such key.
    let out = audit_args(&[
        "--snapshot",
        example("http-healthy").to_str().expect("utf-8"),
        "--output",
        "json",
    ]);
    assert!(json_of(&out).get("skipped_apis").is_none());
}
