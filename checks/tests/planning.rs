//! The planner's answers and the audit's findings, pinned: what
//! `wants_by_api` asks the live collector for, on every example snapshot
//! and on each of its variants missing one resource map, is recorded in
//! `fixtures/planning/`, and so is a digest of every finding those
//! snapshots produce, evidence included.
//! A refactoring of the checks' lookups (a walk memoised per stage, a
//! helper moved) must not change what is read next, nor any verdict.
//!
//! `UPDATE_PLANNING=1 cargo test -p apigw-audit-checks --test planning`
//! rewrites the fixtures; review the diff before committing it.

use std::fmt::Write as _;

use apigw_audit_checks::engine::wants_by_api;
use apigw_audit_checks::{Selection, Snapshot, audit};
use serde_json::Value;

fn examples_dir() -> String {
    format!("{}/../examples/snapshots", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/planning/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Every example, as JSON, sorted by name.
fn examples() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(examples_dir())
        .expect("examples dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        // The manifest of expected verdicts beside the examples is no snapshot.
        .filter(|p| p.file_name().is_none_or(|n| n != "expected.json"))
        .map(|p| {
            let name = p.file_stem().and_then(|s| s.to_str()).expect("name");
            let text = std::fs::read_to_string(&p).expect("read");
            (name.to_string(), serde_json::from_str(&text).expect("json"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The example, then one variant per resource map of its regions with that
/// map emptied: what a collector that has not read that kind yet holds.
fn variants(json: &Value) -> Vec<(String, Value)> {
    let mut out = vec![("full".to_string(), json.clone())];
    let mut fields: Vec<String> = json["regions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|r| r.iter())
        .filter(|(_, v)| is_map(v))
        .map(|(k, _)| k.clone())
        .collect();
    fields.sort();
    fields.dedup();
    for field in fields {
        let mut v = json.clone();
        for region in v["regions"].as_array_mut().into_iter().flatten() {
            if let Some(map) = region.get_mut(&field).and_then(Value::as_object_mut) {
                map.clear();
            }
        }
        out.push((format!("without {field}"), v));
    }
    out
}

/// A map by key, not one `Fetched` answer (`{"Ok": ...}`).
fn is_map(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        !(m.len() == 1
            && m.keys()
                .all(|k| ["ok", "not_found", "error"].contains(&k.as_str())))
    })
}

fn wants_text(snapshot: &Snapshot) -> String {
    let mut s = String::new();
    for region in &snapshot.regions {
        for (api, wants) in wants_by_api(snapshot, region, |_| true) {
            for w in wants {
                let _ = writeln!(
                    s,
                    "  {} {api} {:?} {} {}",
                    region.region,
                    w.kind,
                    w.key,
                    w.scope.as_deref().unwrap_or("-")
                );
            }
        }
    }
    s
}

fn findings_text(snapshot: &Snapshot) -> String {
    let mut s = String::new();
    for api in audit(snapshot, &Selection::default()) {
        for stage in &api.stages {
            let _ = writeln!(s, "  {} {} {:?}", api.region, api.id, stage.name);
            for f in &stage.findings {
                let _ = writeln!(s, "    {}", serde_json::to_string(f).expect("finding"));
            }
        }
    }
    s
}

fn check(name: &str, got: &str) {
    let path = fixture(name);
    if std::env::var_os("UPDATE_PLANNING").is_some() {
        std::fs::write(&path, got).expect("write fixture");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if want != got {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        panic!(
            "{name} differs from its fixture from line {}:\n  fixture: {:?}\n  now:     {:?}",
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        );
    }
}

#[test]
fn wants_are_unchanged_on_every_example_and_variant() {
    let mut text = String::new();
    for (name, json) in examples() {
        for (variant, v) in variants(&json) {
            let snapshot: Snapshot = serde_json::from_value(v).expect("snapshot");
            let _ = writeln!(text, "{name} {variant}");
            text.push_str(&wants_text(&snapshot));
        }
    }
    check("wants.txt", &text);
}

/// FNV-1a: the findings of every variant run to megabytes, so the fixture
/// holds one digest per variant; `APIGW_FINDINGS_DUMP=path` writes the
/// full text to compare against a dump taken before a change.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn findings_are_unchanged_on_every_example_and_variant() {
    let mut digests = String::new();
    let mut dump = String::new();
    for (name, json) in examples() {
        for (variant, v) in variants(&json) {
            let snapshot: Snapshot = serde_json::from_value(v).expect("snapshot");
            let text = findings_text(&snapshot);
            let _ = writeln!(
                digests,
                "{name} {variant}: {} lines, {:016x}",
                text.lines().count(),
                digest(&text)
            );
            let _ = writeln!(dump, "{name} {variant}");
            dump.push_str(&text);
        }
    }
    if let Some(path) = std::env::var_os("APIGW_FINDINGS_DUMP") {
        std::fs::write(path, &dump).expect("write dump");
    }
    check("findings.txt", &digests);
}
