//! Property test of the policy evaluator (`policy::evaluate`) against a
//! naive model of IAM's evaluation over random statements: every element
//! and its `Not` form expanded to plain sets over a small universe, and
//! every condition tried both ways. A request is explicitly denied when a
//! Deny applies, allowed when no Deny but an Allow applies, else denied by
//! default (IAM User Guide, "Policy evaluation logic").

use apigw_audit_checks::policy::{Decision, evaluate, glob_match, parse_policy};
use proptest::prelude::*;
use serde_json::{Value, json};

const ACTIONS: &[&str] = &[
    "execute-api:Invoke",
    "execute-api:ManageConnections",
    "lambda:InvokeFunction",
];
const ACTION_PATTERNS: &[&str] = &[
    "execute-api:Invoke",
    "execute-api:ManageConnections",
    "lambda:InvokeFunction",
    "execute-api:*",
    "*",
];
const RESOURCES: &[&str] = &["api/prod/GET/a", "api/prod/POST/a", "api/beta/GET/b"];
const RESOURCE_PATTERNS: &[&str] = &[
    "api/prod/GET/a",
    "api/prod/POST/a",
    "api/beta/GET/b",
    "api/prod/*",
    "*",
];
/// `*` is a caller the policy cannot name (anonymous).
const CALLERS: &[&str] = &[
    "*",
    "AWS:arn:aws:iam::111122223333:role/a",
    "AWS:arn:aws:iam::111122223333:role/b",
];
const PRINCIPAL_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:iam::111122223333:role/a",
    "arn:aws:iam::111122223333:role/b",
];

/// A random statement as policy JSON, and its meaning as plain sets.
#[derive(Debug, Clone)]
struct Gen {
    deny: bool,
    not_principal: bool,
    principals: Vec<usize>,
    not_action: bool,
    actions: Vec<usize>,
    not_resource: bool,
    resources: Vec<usize>,
    conditional: bool,
}

fn pick(n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::btree_set(0..n, 1..=n.min(3)).prop_map(|s| s.into_iter().collect())
}

fn statement() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        any::<bool>(),
        pick(PRINCIPAL_PATTERNS.len()),
        any::<bool>(),
        pick(ACTION_PATTERNS.len()),
        any::<bool>(),
        pick(RESOURCE_PATTERNS.len()),
        any::<bool>(),
    )
        .prop_map(
            |(
                deny,
                not_principal,
                principals,
                not_action,
                actions,
                not_resource,
                resources,
                conditional,
            )| Gen {
                deny,
                not_principal,
                principals,
                not_action,
                actions,
                not_resource,
                resources,
                conditional,
            },
        )
}

fn to_json(g: &Gen) -> Value {
    fn names(idx: &[usize], from: &[&'static str]) -> Vec<&'static str> {
        idx.iter().map(|i| from[*i]).collect()
    }
    let principals: Vec<&str> = names(&g.principals, PRINCIPAL_PATTERNS);
    let principal = if principals.contains(&"*") {
        json!("*")
    } else {
        json!({ "AWS": principals })
    };
    let mut s = json!({ "Effect": if g.deny { "Deny" } else { "Allow" } });
    let key = |not: bool, k: &str| {
        if not {
            format!("Not{k}")
        } else {
            k.to_string()
        }
    };
    s[key(g.not_principal, "Principal")] = principal;
    s[key(g.not_action, "Action")] = json!(names(&g.actions, ACTION_PATTERNS));
    s[key(g.not_resource, "Resource")] = json!(names(&g.resources, RESOURCE_PATTERNS));
    if g.conditional {
        s["Condition"] = json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}});
    }
    s
}

/// The naive reading of a pattern: itself, `*`, or a prefix before `*`.
fn naive_match(pattern: &str, value: &str) -> bool {
    pattern == "*"
        || pattern == value
        || pattern
            .strip_suffix('*')
            .is_some_and(|prefix| value.starts_with(prefix))
}

fn naive_applies(g: &Gen, action: &str, resource: &str, caller: &str) -> bool {
    let named = g.principals.iter().any(|i| {
        let p = PRINCIPAL_PATTERNS[*i];
        p == "*" || (caller != "*" && format!("AWS:{p}") == caller)
    });
    let acts = g
        .actions
        .iter()
        .any(|i| naive_match(ACTION_PATTERNS[*i], action));
    let res = g
        .resources
        .iter()
        .any(|i| naive_match(RESOURCE_PATTERNS[*i], resource));
    named != g.not_principal && acts != g.not_action && res != g.not_resource
}

/// IAM's answer with each condition fixed to true or false.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Plain {
    Explicit,
    Allowed,
    Default,
}

fn naive(stmts: &[Gen], action: &str, resource: &str, caller: &str) -> Vec<Plain> {
    let conditional: Vec<usize> = (0..stmts.len()).filter(|i| stmts[*i].conditional).collect();
    (0..1u32 << conditional.len())
        .map(|bits| {
            let holds = |i: usize| {
                conditional
                    .iter()
                    .position(|c| *c == i)
                    .is_none_or(|k| bits & (1 << k) != 0)
            };
            let applying: Vec<&Gen> = stmts
                .iter()
                .enumerate()
                .filter(|(i, g)| holds(*i) && naive_applies(g, action, resource, caller))
                .map(|(_, g)| g)
                .collect();
            if applying.iter().any(|g| g.deny) {
                Plain::Explicit
            } else if applying.iter().any(|g| !g.deny) {
                Plain::Allowed
            } else {
                Plain::Default
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn evaluator_agrees_with_the_naive_model(
        gens in proptest::collection::vec(statement(), 1..5),
        a in 0..ACTIONS.len(),
        r in 0..RESOURCES.len(),
        c in 0..CALLERS.len(),
    ) {
        let doc = json!({"Version": "2012-10-17", "Statement": gens.iter().map(to_json).collect::<Vec<_>>()});
        let stmts = parse_policy(&doc.to_string()).expect("policy");
        let (action, resource, caller) = (ACTIONS[a], RESOURCES[r], CALLERS[c]);
        let got = evaluate(&stmts, action, caller, &|p| glob_match(p, resource));
        let outcomes = naive(&gens, action, resource, caller);
        let all = |p: Plain| outcomes.iter().all(|o| *o == p);
        let denied = outcomes.iter().all(|o| *o != Plain::Allowed);
        match got {
            Decision::ExplicitDeny(_) => prop_assert!(all(Plain::Explicit), "{outcomes:?}"),
            Decision::Allow(_) => prop_assert!(all(Plain::Allowed), "{outcomes:?}"),
            Decision::ImplicitDeny => prop_assert!(denied, "{outcomes:?}"),
            // A condition decides: some outcome allows and some denies.
            Decision::Depends(_) => prop_assert!(!denied && !all(Plain::Allowed), "{outcomes:?}"),
        }
        // Nothing decided by a condition is ever reported as settled.
        if all(Plain::Allowed) {
            prop_assert!(matches!(got, Decision::Allow(_)), "{got:?}");
        }
        if all(Plain::Explicit) {
            prop_assert!(matches!(got, Decision::ExplicitDeny(_)), "{got:?}");
        }
    }
}
