//! Every example snapshot, audited: the cause it was built for is found by
//! exactly the check meant to find it, and no other check fails or errors.

use std::collections::BTreeMap;

use apigw_audit_checks::{Selection, Snapshot, Status, audit};

fn load(name: &str) -> Snapshot {
    let path = format!(
        "{}/../examples/snapshots/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Snapshot::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The names of every example snapshot, sorted.
fn example_names() -> Vec<String> {
    let dir = format!("{}/../examples/snapshots", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
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
                let e = out.entry(f.check.clone()).or_insert(Status::Skip);
                *e = (*e).max(f.status);
            }
        }
    }
    out
}

fn assert_only_fails(name: &str, expected: &str) {
    let w = worst(&load(name));
    assert_eq!(
        w.get(expected),
        Some(&Status::Fail),
        "{name}: {expected} should fail; got {w:?}"
    );
    for (check, status) in &w {
        if check != expected {
            assert!(
                *status < Status::Error,
                "{name}: {check} is {status:?}, only {expected} should fail; got {w:?}"
            );
        }
    }
}

/// Checks a healthy example may skip: the TLS ones apply only to https://
/// integrations (every healthy example speaks plain HTTP), and
/// `route-exists` judges only a URL given to `explain`.
const SKIPPABLE: &[&str] = &[
    "tls-certificate-hostname",
    "tls-certificate-trust",
    "route-exists",
];

#[test]
fn healthy_example_passes_every_check() {
    let w = worst(&load("rest-healthy"));
    for (check, status) in &w {
        let want = if SKIPPABLE.contains(&check.as_str()) {
            Status::Skip
        } else {
            Status::Pass
        };
        assert_eq!(*status, want, "{check} in rest-healthy: {w:?}");
    }
    assert_eq!(w.len(), apigw_audit_checks::CHECKS.len());
}

/// The other healthy topologies: nothing fails, warns or errors; the
/// PrivateLink-only checks are skipped on VPC link v2, the TLS ones on
/// plain HTTP.
#[test]
fn healthy_topologies_pass() {
    for name in [
        "http-healthy",
        "rest-vpc-link-v2-healthy",
        "rest-nlb-to-alb-healthy",
    ] {
        let w = worst(&load(name));
        for (check, status) in &w {
            let may_skip = SKIPPABLE.contains(&check.as_str()) || name != "rest-nlb-to-alb-healthy";
            assert!(
                *status == Status::Pass || (*status == Status::Skip && may_skip),
                "{check} is {status:?} in {name}: {w:?}"
            );
        }
        for check in [
            "vpc-link-status",
            "listener-port",
            "target-health",
            "security-groups",
            "network-acls",
            "protocol-match",
            "idle-timeout",
            "deployment-drift",
        ] {
            assert_eq!(
                w.get(check),
                Some(&Status::Pass),
                "{check} in {name}: {w:?}"
            );
        }
    }
}

#[test]
fn tls_certificate_for_another_host() {
    assert_only_fails("rest-tls-hostname-mismatch", "tls-certificate-hostname");
}

#[test]
fn self_signed_certificate() {
    assert_only_fails("rest-tls-self-signed", "tls-certificate-trust");
}

#[test]
fn plain_http_target_behind_tls_passthrough() {
    assert_only_fails("rest-tls-plain-http-target", "protocol-match");
}

#[test]
fn alb_closes_idle_connections_before_the_nlb() {
    assert_only_fails("rest-nlb-to-alb-idle-timeout", "idle-timeout");
}

/// The fix was made but never deployed: the stage still serves the broken
/// port, which the checks judge, and the drift says why the fix is absent.
#[test]
fn undeployed_fix() {
    let w = worst(&load("rest-undeployed-fix"));
    assert_eq!(w["listener-port"], Status::Fail, "{w:?}");
    assert_eq!(w["deployment-drift"], Status::Warn, "{w:?}");
    for (check, status) in &w {
        if check != "listener-port" && check != "deployment-drift" {
            assert!(*status < Status::Warn, "{check} is {status:?}: {w:?}");
        }
    }
}

#[test]
fn vpc_link_v2_inactive() {
    assert_only_fails("http-vpc-link-inactive", "vpc-link-status");
}

#[test]
fn link_security_group_without_egress() {
    assert_only_fails("http-link-sg-no-egress", "security-groups");
}

#[test]
fn alb_rule_forwarding_to_an_empty_group() {
    assert_only_fails("http-alb-rule-empty-target-group", "target-health");
}

#[test]
fn cloud_map_without_a_healthy_instance() {
    assert_only_fails("http-cloud-map-no-healthy-instance", "target-health");
}

#[test]
fn vpc_link_failed() {
    assert_only_fails("rest-vpc-link-failed", "vpc-link-status");
}

#[test]
fn endpoint_connection_rejected() {
    assert_only_fails("rest-endpoint-connection-rejected", "endpoint-connection");
}

#[test]
fn nlb_deleted() {
    assert_only_fails("rest-nlb-deleted", "load-balancer-exists");
}

#[test]
fn no_listener_on_port() {
    assert_only_fails("rest-no-listener-on-port", "listener-port");
}

#[test]
fn no_healthy_target() {
    assert_only_fails("rest-no-healthy-target", "target-health");
}

#[test]
fn target_sg_drops_port() {
    assert_only_fails("rest-target-sg-drops-port", "security-groups");
}

#[test]
fn nacl_drops_return() {
    assert_only_fails("rest-nacl-drops-return", "network-acls");
}

#[test]
fn privatelink_enforced() {
    assert_only_fails("rest-privatelink-enforced", "privatelink-inbound-rules");
}

#[test]
fn stage_variable_missing_link() {
    assert_only_fails("rest-stage-variable-missing-link", "vpc-link-reference");
}

#[test]
fn execution_logging_off() {
    assert_only_fails("rest-execution-logging-off", "execution-logging");
}

#[test]
fn authorizer_without_invoke_permission() {
    assert_only_fails("rest-authorizer-no-permission", "authorizer-config");
}

#[test]
fn resource_policy_denies_writes() {
    assert_only_fails("rest-resource-policy-deny", "resource-policy");
}

#[test]
fn cloudfront_reaches_the_api_over_http() {
    assert_only_fails("rest-cloudfront-http-only", "cloudfront-origin-protocol");
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
                                f.check.clone(),
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
