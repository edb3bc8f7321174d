//! The benchmark (`./bench.sh`, `docs/performance.md`) at its smallest size,
//! as a smoke test: it builds its account, runs every measured audit, and
//! every audit completes correctly. Timings are printed, never asserted.

mod common;

use std::process::Command;

use common::{python, root};
use serde_json::Value;

#[test]
fn the_benchmark_runs_at_a_small_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_json = dir.path().join("bench.json");
    let out = Command::new(python())
        .arg(root().join("tests/bench/bench.py"))
        .args(["--binary", env!("CARGO_BIN_EXE_apigw-audit")])
        .args([
            "--size", "small", "--rtt-ms", "20", "--repeat", "1", "--json",
        ])
        .arg(&out_json)
        .output()
        .expect("run bench.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fig: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_json).expect("figures")).expect("json");
    assert_eq!(fig["problems"], serde_json::json!([]));
    let one = &fig["one_api"];
    assert!(one["critical_path_depth"].as_u64().is_some_and(|d| d >= 4));
    assert!(one["calls"].as_u64().is_some_and(|c| c > 10));
    for key in [
        "wall_seconds",
        "floor_seconds",
        "ratio_to_floor",
        "one_call_at_a_time_seconds",
    ] {
        assert!(one[key].is_number(), "{key}: {one}");
    }
    // The warm-up taught the launcher every answer the measured runs ask
    // for, so they time the tool against the injected latency, not moto.
    // An account's describes are batched as their wants arrive, which
    // depends on timing, so a batch may differ from the warm-up's and be
    // served by moto; most are still replayed.
    assert_eq!(one["requests_not_replayed"], 0, "{one}");
    let account = &fig["account"];
    let misses = account["requests_not_replayed"].as_u64().expect("misses");
    let calls = account["calls"].as_u64().expect("calls");
    assert!(misses * 4 < calls, "{account}");
    assert_eq!(account["apis"], 4);
    assert_eq!(account["error_findings"], 0);
    for key in ["wall_seconds", "floor_seconds", "peak_rss_mb", "throttles"] {
        assert!(account[key].is_number(), "{key}: {account}");
    }
}
