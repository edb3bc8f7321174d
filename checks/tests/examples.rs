//! Every example snapshot, audited: each check's worst verdict is the one
//! `examples/snapshots/expected.json` records for it (the cause an example
//! was built for is found by exactly the check meant to find it, and no
//! other check fails or errors). `tests/cli.rs` holds the binary to the same
//! manifest.

use std::collections::{BTreeMap, BTreeSet};

use apigw_audit_checks::{Selection, Snapshot, Status, audit};

fn snapshots_dir() -> String {
    format!("{}/../examples/snapshots", env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> Snapshot {
    let path = format!("{}/{name}.json", snapshots_dir());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Snapshot::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[path = "common/manifest.rs"]
mod manifest_file;
use manifest_file::{Expected, MANIFEST};

fn manifest() -> Vec<Expected> {
    manifest_file::manifest(&snapshots_dir())
}

/// The names of every example snapshot, sorted.
fn example_names() -> Vec<String> {
    let dir = snapshots_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter(|path| path.file_name().is_none_or(|n| n != MANIFEST))
        .map(|path| {
            path.file_stem()
                .and_then(|s| s.to_str())
                .expect("name")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// Worst status per check across every stage.
fn worst(snapshot: &Snapshot) -> BTreeMap<String, Status> {
    let mut out: BTreeMap<String, Status> = BTreeMap::new();
    for api in audit(snapshot, &Selection::default()) {
        for stage in api.stages {
            for f in stage.findings {
                let e = out.entry(f.check.to_string()).or_insert(Status::Skip);
                *e = (*e).max(f.status);
            }
        }
    }
    out
}

#[test]
fn the_manifest_lists_every_example_once_and_nothing_else() {
    let listed: Vec<String> = manifest().into_iter().map(|e| e.name).collect();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "a name repeats in {MANIFEST}");
    let files: BTreeSet<String> = example_names().into_iter().collect();
    let listed: BTreeSet<String> = listed.into_iter().collect();
    let unlisted: Vec<&String> = files.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&files).collect();
    assert!(
        unlisted.is_empty(),
        "examples without an entry in {MANIFEST}: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "{MANIFEST} entries without an example file: {missing:?}"
    );
}

/// Each example's worst verdict per check is exactly the manifest's (every
/// check of the catalogue reports, the ones not listed pass), and every
/// API in it is of the manifest's kind.
#[test]
fn every_example_gets_the_verdicts_the_manifest_expects() {
    let mut seen = 0;
    let mut healthy = 0;
    let mut spotless = 0;
    for expected in manifest() {
        let name = expected.name.as_str();
        let snap = load(name);
        let want = expected.worst();
        let why = expected.why.as_deref().unwrap_or("");
        assert_eq!(
            worst(&snap),
            want,
            "{name}: got the left, {MANIFEST} says the right. {why}"
        );
        let kinds: BTreeSet<&str> = snap
            .regions
            .iter()
            .flat_map(|r| &r.apis)
            .map(|a| a.kind.as_str())
            .collect();
        assert_eq!(kinds, BTreeSet::from([expected.kind.as_str()]), "{name}");
        for api in audit(&snap, &Selection::default()) {
            assert_eq!(
                api.kind.map(|k| k.as_str()),
                Some(expected.kind.as_ref()),
                "{name}"
            );
        }
        // Healthy: nothing fails or errs. Most REST examples warn on
        // target-health (their health check probes 8081, traffic goes to 8080).
        if want.values().all(|s| *s < Status::Error) {
            healthy += 1;
        }
        if want.values().all(|s| *s < Status::Warn) {
            spotless += 1;
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} examples");
    assert!(healthy >= 4, "only {healthy} healthy examples");
    assert!(
        spotless >= 2,
        "only {spotless} examples where everything passes"
    );
}

/// API, check, status, resource, routes.
type Verdict = (String, String, Status, Option<String>, Vec<String>);

/// `--redact` keeps every value a verdict reads: on every example, each
/// finding's status, resource and routes are the same before and after,
/// and every stage variable left in clear is one the API references.
#[test]
fn redaction_never_changes_a_verdict() {
    let mut replaced = 0;
    let mut seen = 0;
    for name in example_names() {
        let name = name.as_str();
        let mut snap = load(name);
        // A secret no route uses, on every stage.
        for region in &mut snap.regions {
            for api in &mut region.apis {
                if let apigw_audit_checks::model::Fetched::Ok(stages) = &mut api.stages {
                    for s in stages {
                        s.variables
                            .insert("dbPassword".to_string(), "hunter2".to_string());
                    }
                }
            }
        }
        let verdicts = |s: &Snapshot| -> Vec<Verdict> {
            audit(s, &Selection::default())
                .into_iter()
                .flat_map(|a| {
                    let id = a.id.clone();
                    a.stages.into_iter().flat_map(move |st| {
                        let id = id.clone();
                        st.findings.into_iter().map(move |f| {
                            (
                                id.clone(),
                                f.check.to_string(),
                                f.status,
                                f.resource.clone(),
                                f.routes.clone(),
                            )
                        })
                    })
                })
                .collect()
        };
        let before = verdicts(&snap);
        let mut redacted = snap.clone();
        replaced += apigw_audit_checks::redact::redact(&mut redacted);
        assert_eq!(before, verdicts(&redacted), "{name}");
        let text = redacted.to_json().expect("json");
        assert!(!text.contains("hunter2"), "{name} still holds the secret");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} examples");
    assert!(replaced >= seen, "only {replaced} values replaced");
}

/// Planning skips the evidence; on every example, findings made that way
/// differ from the reported ones in their evidence only, and the evidence
/// of the reported ones is never empty where a check built one.
#[test]
fn findings_without_evidence_differ_only_in_evidence() {
    let mut seen = 0;
    let mut with_evidence = 0;
    for name in example_names() {
        let name = name.as_str();
        let snap = load(name);
        let strip = |mut r: Vec<apigw_audit_checks::ApiResult>| {
            for a in &mut r {
                for s in &mut a.stages {
                    for f in &mut s.findings {
                        f.evidence = Default::default();
                    }
                }
            }
            r
        };
        let shown = audit(&snap, &Selection::default());
        with_evidence += shown
            .iter()
            .flat_map(|a| &a.stages)
            .flat_map(|s| &s.findings)
            .filter(|f| f.evidence.as_str() != "{}")
            .count();
        let planned =
            apigw_audit_checks::finding::without_evidence(|| audit(&snap, &Selection::default()));
        assert!(
            planned
                .iter()
                .flat_map(|a| &a.stages)
                .flat_map(|s| &s.findings)
                .all(|f| f.evidence.as_str() == "{}"),
            "{name}: evidence built while planning"
        );
        assert_eq!(strip(shown), strip(planned), "{name}");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} examples");
    assert!(
        with_evidence > 100,
        "only {with_evidence} findings with evidence"
    );
    // The flag is back on after planning.
    assert!(apigw_audit_checks::finding::evidence_wanted());
}

/// Whether every value `original` holds is in `written`, unchanged.
/// Written snapshots also carry the fields an example leaves to their
/// defaults, so this is inclusion, not equality.
fn holds(
    original: &serde_json::Value,
    written: &serde_json::Value,
    at: &str,
) -> Result<(), String> {
    use serde_json::Value;
    match (original, written) {
        (Value::Object(o), Value::Object(w)) => o.iter().try_for_each(|(k, v)| match w.get(k) {
            Some(wv) => holds(v, wv, &format!("{at}/{k}")),
            None if v.is_null() => Ok(()),
            None => Err(format!("{at}/{k} is gone")),
        }),
        (Value::Array(o), Value::Array(w)) if o.len() == w.len() => o
            .iter()
            .zip(w)
            .enumerate()
            .try_for_each(|(i, (a, b))| holds(a, b, &format!("{at}/{i}"))),
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{at}: {a} became {b}")),
    }
}

/// The typed AWS values (load balancer type, protocols, states...) read
/// and write exactly the strings they came from: every example written
/// back holds every value it was read from.
#[test]
fn every_example_round_trips_unchanged() {
    for name in example_names() {
        let path = format!(
            "{}/../examples/snapshots/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let written = load(&name).to_json().expect("json");
        let before: serde_json::Value = serde_json::from_str(&text).expect("json");
        let after: serde_json::Value = serde_json::from_str(&written).expect("json");
        if let Err(e) = holds(&before, &after, "") {
            panic!("{name} changed when written back: {e}");
        }
    }
}
