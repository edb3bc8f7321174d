//! Golden tests: every renderer's exact output on example snapshots,
//! compared with the reviewed copies in `tests/snapshots/` (insta). The
//! clock is fixed with `SOURCE_DATE_EPOCH`, so the outputs are
//! byte-identical run to run; a deliberate change is reviewed with
//! `INSTA_UPDATE=always cargo test --test golden` and `git diff`.

mod common;

use std::process::Command;

use common::{isolate, root};

/// 2026-11-21T10:00:00Z.
const NOW: &str = "1795255200";

fn run(args: &[&str]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apigw-audit"));
    isolate(&mut c);
    let out = c
        .env("SOURCE_DATE_EPOCH", NOW)
        .current_dir(root())
        .args(args)
        .output()
        .expect("run apigw-audit");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn audit(example: &str, format: &str, extra: &[&str]) -> String {
    let path = format!("examples/snapshots/{example}.json");
    let mut args = vec!["audit", "--snapshot", path.as_str(), "--output", format];
    args.extend(extra);
    run(&args)
}

#[test]
fn table() {
    insta::assert_snapshot!(
        "table_rest_no_healthy_target",
        audit("rest-no-healthy-target", "table", &[])
    );
    insta::assert_snapshot!(
        "table_verbose_http_healthy",
        audit("http-healthy", "table", &["-v"])
    );
}

#[test]
fn json() {
    insta::assert_snapshot!(
        "json_rest_no_healthy_target",
        audit("rest-no-healthy-target", "json", &[])
    );
}

#[test]
fn sarif() {
    insta::assert_snapshot!(
        "sarif_rest_tls_self_signed",
        audit("rest-tls-self-signed", "sarif", &[])
    );
}

#[test]
fn junit() {
    insta::assert_snapshot!(
        "junit_rest_nacl_drops_return",
        audit("rest-nacl-drops-return", "junit", &[])
    );
    // A warning gates only with --fail-on warn.
    insta::assert_snapshot!(
        "junit_rest_undeployed_fix_fail_on_warn",
        audit("rest-undeployed-fix", "junit", &["--fail-on", "warn"])
    );
}

#[test]
fn markdown() {
    insta::assert_snapshot!(
        "markdown_http_cloud_map_no_healthy_instance",
        audit("http-cloud-map-no-healthy-instance", "markdown", &[])
    );
    insta::assert_snapshot!(
        "markdown_suppressed",
        audit(
            "rest-no-healthy-target",
            "markdown",
            &["--config", "tests/fixtures/suppress-beta.toml"]
        )
    );
}

#[test]
fn explain_text() {
    insta::assert_snapshot!(
        "explain_missing_prefix",
        run(&[
            "explain",
            "--status",
            "403",
            "--message",
            "{\"message\":\"Missing Authentication Token\"}",
            "--url",
            "https://api.orders.example.com/shop/order/7",
            "--method",
            "GET",
            "--snapshot",
            "examples/snapshots/rest-healthy.json",
        ])
    );
}
