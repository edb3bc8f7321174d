//! `--redact`: takes out of a snapshot the values no verdict needs and that
//! may be secret. Stage variables are the case in point: teams keep API
//! keys and passwords in them for integrations to pass along (say
//! `integration.request.header.x-api-key = stageVariables.key`). The
//! allow-list is what the checks themselves resolved: the audit is run
//! with [`crate::view::recording_resolved`] on, and a variable keeps its
//! value only if a check substituted it for a verdict (the VPC link id in
//! `${stageVariables.vpcLinkId}`, a host in an integration URI). Every
//! other value is replaced, its name kept so the evidence still reads.

use std::collections::BTreeSet;

use crate::engine::{Selection, audit};
use crate::model::{Fetched, Snapshot};

/// What a redacted value reads as.
pub const REDACTED: &str = "(redacted)";

/// Replaces every stage variable value no check resolved; returns how many.
pub fn redact(snapshot: &mut Snapshot) -> usize {
    let mut keep: Vec<BTreeSet<(String, String)>> = Vec::new();
    for region in &snapshot.regions {
        for api in &region.apis {
            let sel = Selection {
                apis: vec![api.id.clone()],
                ..Default::default()
            };
            let (_, resolved) = crate::view::recording_resolved(|| {
                crate::finding::without_evidence(|| audit(snapshot, &sel))
            });
            keep.push(resolved);
        }
    }
    let mut keep = keep.into_iter();
    let mut replaced = 0;
    for region in &mut snapshot.regions {
        for api in &mut region.apis {
            let resolved = keep.next().unwrap_or_default();
            let Fetched::Ok(stages) = &mut api.stages else {
                continue;
            };
            for stage in stages {
                for (name, value) in &mut stage.variables {
                    let kept = resolved.contains(&(stage.name.clone(), name.clone()));
                    if !kept && value != REDACTED {
                        *value = REDACTED.to_string();
                        replaced += 1;
                    }
                }
            }
        }
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Integration, Route, Stage};

    /// A snapshot of one REST API whose stage holds a VPC link id its
    /// integration resolves and a key only `requestParameters` passes on.
    fn snapshot() -> Snapshot {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/snapshots/rest-stage-variable-missing-link.json"
        ))
        .expect("example");
        Snapshot::from_json(&text).expect("snapshot")
    }

    fn stages(s: &mut Snapshot) -> &mut Vec<Stage> {
        match &mut s.regions[0].apis[0].stages {
            Fetched::Ok(st) => st,
            _ => panic!("stages"),
        }
    }

    #[test]
    fn keeps_only_what_a_check_resolved() {
        let mut s = snapshot();
        for st in stages(&mut s) {
            st.variables
                .insert("backendKey".into(), "s3cr3t-value".into());
        }
        if let Fetched::Ok(routes) = &mut s.regions[0].apis[0].routes {
            let r: &mut Route = &mut routes[0];
            let i: &mut Integration = r.integration.as_mut().expect("integration");
            i.request_parameters.insert(
                "integration.request.header.x-api-key".into(),
                "stageVariables.backendKey".into(),
            );
        }
        let before: Vec<_> = stages(&mut s)
            .iter()
            .map(|st| st.variables.clone())
            .collect();
        assert!(redact(&mut s) > 0);
        let text = serde_json::to_string(&s).expect("json");
        assert!(!text.contains("s3cr3t-value"), "the key is redacted");
        // A variable an integration resolves keeps its value.
        let kept = stages(&mut s)
            .iter()
            .zip(&before)
            .flat_map(|(st, b)| {
                st.variables
                    .iter()
                    .filter(move |(k, v)| b.get(*k) == Some(*v) && *v != REDACTED)
                    .map(|(k, _)| k.clone())
            })
            .count();
        assert!(
            kept > 0,
            "{:?}",
            stages(&mut s)
                .iter()
                .map(|s| &s.variables)
                .collect::<Vec<_>>()
        );
    }
}
