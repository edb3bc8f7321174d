//! `examples/iam-policy.json` covers every AWS operation the collector can
//! invoke, and every one of them is read-only. The operations are taken from
//! the collector's code (each SDK fluent call on a client), not from a hand
//! list, so a new call without a policy line fails here.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{COLLECTOR_FILES as FILES, calls, pascal};
use serde_json::Value;

/// Operation names that change AWS state, as SDK methods start.
fn mutating(text: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r"\.((?:create|delete|put|update|modify|register|deregister|tag|untag|accept|reject|attach|detach|associate|disassociate|authorize|revoke|replace|reboot|terminate|run|import|invoke)_[a-z_]+)\(",
    )
    .expect("regex");
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

fn policy_actions() -> (BTreeSet<String>, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("examples/iam-policy.json")).expect("policy"),
    )
    .expect("policy is JSON");
    let mut actions = BTreeSet::new();
    let mut apigw_resources = Vec::new();
    for st in policy["Statement"].as_array().expect("statements") {
        assert_eq!(st["Effect"], "Allow", "the policy only allows");
        let list: Vec<String> = match &st["Action"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        for a in &list {
            assert!(!a.contains('*'), "no wildcard actions: {a}");
            if a == "apigateway:GET" {
                apigw_resources.extend(
                    st["Resource"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str().map(str::to_string)),
                );
            }
        }
        actions.extend(list);
    }
    (actions, apigw_resources)
}

#[test]
fn every_collector_call_is_read_only_and_in_the_policy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect");
    let (actions, apigw_resources) = policy_actions();
    let mut seen = 0;
    for (file, service) in FILES {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for call in calls(&text) {
            seen += 1;
            // API Gateway's export is a GET like its other reads.
            let read_only = call.starts_with("get_")
                || call.starts_with("describe_")
                || call.starts_with("list_")
                || call.starts_with("filter_")
                || (*service == "apigateway" && call == "export_api");
            assert!(read_only, "{file}: {call} is not a read-only operation");
            if *service == "apigateway" {
                // API Gateway's IAM actions are HTTP verbs on resource paths.
                assert!(
                    actions.contains("apigateway:GET"),
                    "the policy lacks apigateway:GET"
                );
                continue;
            }
            let action = format!("{service}:{}", pascal(&call));
            assert!(
                actions.contains(&action),
                "{file} calls {action}, which examples/iam-policy.json lacks"
            );
        }
    }
    assert!(
        seen >= 20,
        "found only {seen} calls: the scan no longer matches the collector's code"
    );
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .expect("src")
        .chain(std::fs::read_dir(&dir).expect("src/collect"))
    {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("source");
            // Unit tests are not in the binary: the one that proves the
            // interceptor refuses a mutating call has to make one.
            let text = text
                .split("\n#[cfg(test)]\nmod tests {")
                .next()
                .unwrap_or_default();
            assert!(
                mutating(text).is_empty(),
                "{} calls {:?}",
                path.display(),
                mutating(text)
            );
        }
    }
    for path in [
        "/restapis",
        "/restapis/*",
        "/apis",
        "/apis/*",
        "/account",
        "/vpclinks",
        "/vpclinks/*",
        "/domainnames",
        "/domainnames/*",
    ] {
        assert!(
            apigw_resources
                .iter()
                .any(|r| r.ends_with(&format!("::{path}"))),
            "apigateway:GET does not cover {path}"
        );
    }
}

#[test]
fn the_scan_finds_calls_and_only_calls() {
    let sample = "let a = c.describe_rules().listener_arn(x); let b = c.ec2.get_managed_prefix_list_entries(); let s = x.len(); sts.get_caller_identity().send(); m.get(\"k\"); logs.filter_log_events().log_group_name(g)";
    let got = calls(sample);
    assert_eq!(
        mutating("c.create_vpc_link().name(x); c.delete_rule()"),
        vec!["create_vpc_link", "delete_rule"]
    );
    let want: BTreeSet<String> = [
        "describe_rules",
        "get_managed_prefix_list_entries",
        "get_caller_identity",
        "filter_log_events",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
}

/// The resource table names the IAM actions each kind's reads need: the
/// policy allows every one of them, so a kind added to the table without
/// its policy line fails here even before its reader makes a call.
#[test]
fn the_policy_allows_every_action_the_resource_table_names() {
    let (actions, _) = policy_actions();
    for def in apigw_audit_checks::resources::KINDS {
        for action in def.iam_actions {
            assert!(
                actions.contains(*action),
                "{:?} needs {action}, which examples/iam-policy.json lacks",
                def.kind
            );
        }
    }
}

/// The interceptor's allow-list (`src/collect/read-only-operations.txt`) is
/// exactly the operations the collector's code calls: one missing would
/// refuse a read the audit needs, one extra would allow a call no code
/// makes.
#[test]
fn the_read_only_allow_list_is_the_collectors_calls() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect/read-only-operations.txt"),
    )
    .expect("allow-list");
    let listed: BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(listed, common::collector_operations());
}
