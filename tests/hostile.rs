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

/// Every entry of every lookup table in the example snapshots, removed in
/// turn, leaves the references to it dangling. The audit must then see the
/// gap: no verdict may become `pass`, and either some verdict turns to
/// `error` or `fail`, or the entry was not needed and nothing changes.
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
    ] {
        let snap = example(name);
        let base_path = root().join("examples/snapshots").join(name);
        let base = findings_of(&json_report(&audit(&base_path)));
        let region = &snap["regions"][0];
        let tables: Vec<(String, Vec<String>)> = region
            .as_object()
            .expect("region")
            .iter()
            .filter_map(|(field, v)| {
                let keys: Vec<String> = v.as_object()?.keys().cloned().collect();
                // A single read (`{"ok": ...}`) is not a table of ids.
                let single = keys
                    .iter()
                    .all(|k| ["ok", "not_found", "error"].contains(&k.as_str()));
                (!single && !keys.is_empty()).then(|| (field.clone(), keys))
            })
            .collect();
        for (field, keys) in tables {
            for key in keys {
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
                let mut worse = false;
                for (k, v) in &got {
                    let now = status_of(v);
                    let was = base.get(k).map(|b| status_of(b));
                    if now == "pass" && was != Some("pass") {
                        problems.push(format!("{label}: {k} became pass: {v}"));
                    }
                    if (now == "error" || now == "fail") && was != Some(now) {
                        worse = true;
                    }
                }
                for (k, v) in &base {
                    if status_of(v) == "pass" && !got.contains_key(k) {
                        // A pass that vanished must have become an error elsewhere.
                        worse |= got.values().any(|g| status_of(g) == "error");
                    }
                }
                if !worse {
                    if got == base {
                        unused.push(format!("{name}: {field}[{key}]"));
                    } else {
                        problems.push(format!(
                            "{label}: the report changed, with no error or fail"
                        ));
                    }
                }
                if out.status.code() != Some(expected_code(&got)) {
                    problems.push(format!("{label}: exit {:?}", out.status.code()));
                }
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
