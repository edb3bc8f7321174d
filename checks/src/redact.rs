//! `--redact`: takes out of a snapshot the values no verdict needs and that
//! may be secret. Stage variables are the case in point: teams keep API
//! keys and passwords in them for integrations to pass along. A variable
//! that the API's routes, deployments or authorizers reference (say the VPC
//! link id in `${stageVariables.vpcLinkId}`) decides verdicts and is kept;
//! every other value is replaced, its name kept so the evidence still
//! reads.

use std::collections::BTreeSet;

use crate::model::{Fetched, Snapshot};

/// What a redacted value reads as.
pub const REDACTED: &str = "(redacted)";

/// Replaces every stage variable value no check reads; returns how many.
pub fn redact(snapshot: &mut Snapshot) -> usize {
    let mut replaced = 0;
    for region in &mut snapshot.regions {
        for api in &mut region.apis {
            // Everything of the API but its stages, as text: a variable
            // named in it is one a verdict can depend on.
            let used = referenced_variables(
                &[
                    serde_json::to_string(&api.routes),
                    serde_json::to_string(&api.deployed_routes),
                    serde_json::to_string(&api.authorizers),
                    serde_json::to_string(&api.info),
                ]
                .into_iter()
                .map(|r| r.unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n"),
            );
            if let Fetched::Ok(stages) = &mut api.stages {
                for stage in stages {
                    for (name, value) in &mut stage.variables {
                        if !used.contains(name) && value != REDACTED {
                            *value = REDACTED.to_string();
                            replaced += 1;
                        }
                    }
                }
            }
        }
    }
    replaced
}

/// Names in `${stageVariables.NAME}` (and the `stageVariables.NAME` form
/// of mapping templates and authorizer identity sources).
fn referenced_variables(text: &str) -> BTreeSet<String> {
    const MARK: &str = "stageVariables.";
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let after = &rest[at + MARK.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_in_every_form() {
        let got = referenced_variables(
            r#"{"uri":"http://${stageVariables.host}:8080/x","c":"${stageVariables.vpcLinkId}","s":"stageVariables.token_2"}"#,
        );
        let want: BTreeSet<String> = ["host", "vpcLinkId", "token_2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(got, want);
        assert!(referenced_variables("stageVariables.").is_empty());
    }
}
