//! Fixture helpers the `variations*` tests share: an example snapshot as
//! JSON to change one way, the stage deployed as changed, and the findings
//! of one check on it.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use apigw_audit_checks::{Finding, Selection, Snapshot, Status, audit};
use serde_json::Value;

/// The example snapshot `name`, as JSON.
pub fn example(name: &str) -> Value {
    let path = format!(
        "{}/../examples/snapshots/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("json")
}

/// The snapshot's first (only) region.
pub fn region(v: &mut Value) -> &mut Value {
    &mut v["regions"][0]
}

/// These tests change the API's definition: make every stage serve it, as
/// a deployment after the change would.
pub fn deployed(v: &Value) -> Value {
    let mut v = v.clone();
    for api in v["regions"][0]["apis"].as_array_mut().expect("apis") {
        let routes = api["routes"].clone();
        let stages: Vec<String> = api["stages"]["ok"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["name"].as_str().map(str::to_string))
            .collect();
        for s in stages {
            api["deployed_routes"][s] = routes.clone();
        }
    }
    v
}

/// Only stage prod, which every example has.
pub fn prod() -> Selection {
    Selection {
        stages: vec!["prod".into()],
        ..Default::default()
    }
}

/// The findings of `check` on the snapshot `v`, audited with `sel`.
pub fn check_findings(v: &Value, check: &str, sel: &Selection) -> Vec<Finding> {
    let snap = Snapshot::from_json(&v.to_string()).expect("snapshot");
    audit(&snap, sel)
        .into_iter()
        .flat_map(|a| a.stages)
        .flat_map(|s| s.findings)
        .filter(|f| f.check == check)
        .collect()
}

/// The worst of `fs`, with its message.
pub fn worst_of(fs: &[Finding]) -> (Status, String) {
    let f = fs.iter().max_by_key(|f| f.status).expect("a finding");
    (f.status, f.message.clone())
}
