//! Hostile and broken snapshots: each is a clear one-line error with exit 2,
//! or an audit whose findings say what they could not see; never a panic,
//! never a pass on data the file does not hold. Offline: no moto.

mod common;

use std::path::Path;
use std::process::Output;

use common::{expected_code, findings_of, isolate, root, status_of};
use serde_json::{Value, json};

fn audit(path: &Path) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_apigw-audit"));
    isolate(&mut cmd);
    cmd.args([
        "audit",
        "--snapshot",
        path.to_str().expect("utf-8 path"),
        "--output",
        "json",
    ])
    .output()
    .expect("run apigw-audit")
}

fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("examples/snapshots").join(name))
        .expect("example snapshot");
    serde_json::from_str(&text).expect("example is JSON")
}

/// Exit 2, one line on stderr naming the file, nothing on stdout.
fn assert_refused(name: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    assert!(err.contains(name), "{name}: {err}");
    assert!(out.stdout.is_empty(), "{name}");
}

#[test]
fn broken_files_are_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let healthy = std::fs::read_to_string(root().join("examples/snapshots/rest-healthy.json"))
        .expect("example");
    let mut wrong_version = example("rest-healthy.json");
    wrong_version["schema_version"] = json!(2);
    let mut version_as_text = example("rest-healthy.json");
    version_as_text["schema_version"] = json!("1");
    let deep = format!(
        "{{\"schema_version\": 1, \"x\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut deep_in_data = example("rest-healthy.json");
    deep_in_data["regions"][0]["apis"][0]["stages"]["ok"][0]["variables"] =
        serde_json::from_str(&format!("{}1{}", "[".repeat(120), "]".repeat(120))).expect("nested");
    let mut no_regions = example("rest-healthy.json");
    no_regions
        .as_object_mut()
        .expect("object")
        .remove("regions");
    let mut bad_status = example("rest-healthy.json");
    bad_status["regions"][0]["apis"][0]["kind"] = json!("soap");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.json", Vec::new()),
        ("binary.json", vec![0xff, 0xfe, 0x00, 0x81, 0x7b]),
        ("null.json", b"null".to_vec()),
        ("array.json", b"[]".to_vec()),
        ("head-only.json", b"{\"schema_version\": 1}".to_vec()),
        (
            "truncated.json",
            healthy.as_bytes()[..healthy.len() / 2].to_vec(),
        ),
        (
            "trailing-garbage.json",
            format!("{healthy}\n{{}}").into_bytes(),
        ),
        ("wrong-version.json", wrong_version.to_string().into_bytes()),
        (
            "version-as-text.json",
            version_as_text.to_string().into_bytes(),
        ),
        ("deep-nesting.json", deep.into_bytes()),
        ("deep-in-data.json", deep_in_data.to_string().into_bytes()),
        ("no-regions.json", no_regions.to_string().into_bytes()),
        ("unknown-kind.json", bad_status.to_string().into_bytes()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        assert_refused(name, &audit(&path));
    }
    // A directory, and a file that is not there.
    assert_refused(
        dir.path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name"),
        &audit(dir.path()),
    );
    assert_refused("absent.json", &audit(&dir.path().join("absent.json")));
}

/// Large inputs are audited in full: many routes, and a field the tool
/// does not know holding a million values.
#[test]
fn huge_arrays_are_audited_not_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let base_path = root().join("examples/snapshots/rest-healthy.json");
    let base = findings_of(&json_report(&audit(&base_path)));

    let mut many_routes = example("rest-healthy.json");
    let routes = many_routes["regions"][0]["apis"][0]["routes"]["ok"]
        .as_array()
        .expect("routes")
        .clone();
    let mut grown = Vec::new();
    for i in 0..5_000 {
        for r in &routes {
            let mut r = r.clone();
            r["path"] = json!(format!("/bulk{i}{}", r["path"].as_str().unwrap_or("/")));
            grown.push(r);
        }
    }
    grown.extend(routes);
    many_routes["regions"][0]["apis"][0]["routes"]["ok"] = Value::Array(grown);
    let path = dir.path().join("many-routes.json");
    std::fs::write(&path, many_routes.to_string()).expect("write");
    let out = audit(&path);
    let report = json_report(&out);
    assert_eq!(
        out.status.code(),
        Some(expected_code(&findings_of(&report)))
    );

    let mut padded = example("rest-healthy.json");
    padded["padding"] = Value::Array(vec![Value::Null; 1_000_000]);
    let path = dir.path().join("padded.json");
    std::fs::write(&path, padded.to_string()).expect("write");
    let out = audit(&path);
    assert_eq!(
        findings_of(&json_report(&out)),
        base,
        "unknown fields change nothing"
    );
}

fn json_report(out: &Output) -> Value {
    assert!(
        matches!(out.status.code(), Some(0..=3)),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    common::json_of(out)
}

/// Every entry of every lookup table in the example snapshots, healthy and
/// failing, removed in turn, leaves the references to it dangling. The
/// audit must then see the gap: no verdict may become `pass`, and every
/// check whose findings changed (so it read the entry) must now report an
/// `error` itself; an entry no check read changes nothing.
#[test]
fn dangling_references_are_errors_never_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut removals = 0;
    let mut unused = Vec::new();
    let mut problems = Vec::new();
    for name in [
        "rest-healthy.json",
        "http-healthy.json",
        "rest-nlb-to-alb-healthy.json",
        "rest-vpc-link-v2-healthy.json",
        "rest-no-healthy-target.json",
        "rest-nacl-drops-return.json",
        "rest-target-sg-drops-port.json",
        "rest-tls-self-signed.json",
        "rest-authorizer-no-permission.json",
        "http-cloud-map-no-healthy-instance.json",
        "http-link-sg-no-egress.json",
    ] {
        let snap = example(name);
        let base_path = root().join("examples/snapshots").join(name);
        let base = findings_of(&json_report(&audit(&base_path)));
        for (field, key) in lookup_entries(&snap["regions"][0]) {
            removals += 1;
            let mut broken = snap.clone();
            broken["regions"][0][&field]
                .as_object_mut()
                .expect("table")
                .remove(&key);
            let path = dir.path().join("dangling.json");
            std::fs::write(&path, broken.to_string()).expect("write");
            let out = audit(&path);
            let label = format!("{name}: without {field}[{key}]");
            if !matches!(out.status.code(), Some(0 | 1 | 3)) {
                problems.push(format!(
                    "{label}: exit {:?}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            let got = findings_of(&common::json_of(&out));
            if got == base {
                unused.push(format!("{name}: {field}[{key}]"));
            }
            problems.extend(judge_removal(&label, &base, &got));
            if out.status.code() != Some(expected_code(&got)) {
                problems.push(format!("{label}: exit {:?}", out.status.code()));
            }
        }
    }
    println!(
        "{removals} dangling references, {} of them to entries no check needs: {unused:#?}",
        unused.len()
    );
    assert!(
        removals > 30,
        "only {removals} removals: the tables were not found"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `(field, key)` of every entry of the region's lookup tables (a
/// single read, `{"ok": ...}`, is not a table of ids).
fn lookup_entries(region: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (field, v) in region.as_object().expect("region") {
        let Some(table) = v.as_object() else { continue };
        let single = table
            .keys()
            .all(|k| ["ok", "not_found", "error"].contains(&k.as_str()));
        if single || table.is_empty() {
            continue;
        }
        out.extend(table.keys().map(|k| (field.clone(), k.clone())));
    }
    out
}

/// A finding key's stage and check: `region api stage check ...`.
fn check_of(key: &str) -> String {
    key.split(' ').take(4).collect::<Vec<_>>().join(" ")
}

/// What is wrong with the report after a removal: a new pass, or a check
/// whose findings changed without an error of its own.
fn judge_removal(
    label: &str,
    base: &std::collections::BTreeMap<String, String>,
    got: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut changed = std::collections::BTreeSet::new();
    for (k, v) in got {
        let was = base.get(k).map(|b| status_of(b));
        if status_of(v) == "pass" && was != Some("pass") {
            problems.push(format!("{label}: {k} became pass: {v}"));
        }
        if base.get(k) != Some(v) {
            changed.insert(check_of(k));
        }
    }
    changed.extend(
        base.keys()
            .filter(|k| !got.contains_key(*k))
            .map(|k| check_of(k)),
    );
    for check in changed {
        let errs = got
            .iter()
            .any(|(k, v)| check_of(k) == check && status_of(v) == "error");
        // Within one finding a fail outranks the error of a flow it could
        // not read: a finding that stays `fail` has not hidden the gap.
        let vanished = base
            .keys()
            .any(|k| check_of(k) == check && !got.contains_key(k));
        let still_failing = got
            .iter()
            .filter(|(k, v)| check_of(k) == check && base.get(*k) != Some(*v))
            .all(|(k, v)| {
                status_of(v) == "fail" && base.get(k).is_some_and(|b| status_of(b) == "fail")
            });
        if !errs && (vanished || !still_failing) {
            problems.push(format!(
                "{label}: {check} changed without an error of its own"
            ));
        }
    }
    problems
}
