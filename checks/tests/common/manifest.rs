//! The manifest of the example snapshots' expected verdicts
//! (`examples/snapshots/expected.json`), read by `checks/tests/examples.rs`
//! and, through `#[path]`, by the binary's `tests/cli.rs`: one reader of
//! one file.

use std::collections::BTreeMap;

use apigw_audit_checks::Status;
use serde::Deserialize;

/// The manifest beside the examples; it is JSON but not a snapshot.
pub const MANIFEST: &str = "expected.json";

/// `examples/snapshots/expected.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[allow(dead_code)]
    about: Vec<String>,
    examples: Vec<Expected>,
}

/// One example's expected verdicts: the worst status of each check across
/// every API and stage is the list's it appears in, `pass` for every check
/// of the catalogue that none names.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub fail: Vec<String>,
    #[serde(default)]
    pub warn: Vec<String>,
    #[serde(default)]
    pub error: Vec<String>,
    #[serde(default)]
    pub skip: Vec<String>,
    #[serde(default)]
    pub why: Option<String>,
}

impl Expected {
    /// The worst status of every check of the catalogue.
    pub fn worst(&self) -> BTreeMap<String, Status> {
        let mut out: BTreeMap<String, Status> = apigw_audit_checks::CHECKS
            .iter()
            .map(|c| (c.meta.id.to_string(), Status::Pass))
            .collect();
        for (list, status) in [
            (&self.fail, Status::Fail),
            (&self.warn, Status::Warn),
            (&self.error, Status::Error),
            (&self.skip, Status::Skip),
        ] {
            for check in list {
                let slot = out
                    .get_mut(check)
                    .unwrap_or_else(|| panic!("{}: no check {check} in the catalogue", self.name));
                assert_eq!(
                    *slot,
                    Status::Pass,
                    "{}: {check} is listed twice in {MANIFEST}",
                    self.name
                );
                *slot = status;
            }
        }
        out
    }
}

/// The manifest in `dir` (the examples' folder).
pub fn manifest(dir: &str) -> Vec<Expected> {
    let path = format!("{dir}/{MANIFEST}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let m: Manifest = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    m.examples
}

impl Expected {
    /// The contract's exit code under the default `--fail-on fail`.
    #[allow(dead_code)]
    pub fn exit_code(&self) -> i32 {
        if !self.fail.is_empty() {
            1
        } else if !self.error.is_empty() {
            3
        } else {
            0
        }
    }
}
