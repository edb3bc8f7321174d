//! End to end against moto: many APIs and many regions in one report.
//! These tests build in regions no other test uses, so `--all-apis` sees
//! exactly what they built while the other tests run in parallel.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

fn calls(key: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for op in requests_by(key) {
        *out.entry(op).or_insert(0) += 1;
    }
    out
}

#[test]
fn all_apis_sharing_one_nlb_read_it_once() {
    let s = build_in("eu-west-2", "rest-v1", "shared", 50);
    apply(&s, "two-more-apis");
    let key = "AKIDsharednlb";
    let out = run(tool(key).args([
        "audit",
        "--all-apis",
        "--region",
        "eu-west-2",
        "--output",
        "json",
    ]));
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{:?}", worst_by_check(&report));
    let apis = report["apis"].as_array().expect("apis");
    assert_eq!(apis.len(), 3, "the three APIs of the region");
    for a in apis {
        assert_eq!(a["region"], "eu-west-2");
        assert_eq!(a["stages"][0]["status"], "pass", "{}", a["id"]);
    }
    // Every API reaches the same link, NLB, listener and target group: each
    // is read once, whatever the number of APIs.
    let c = calls(key);
    for op in [
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "cloudfront:ListDistributions",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcEndpointServiceConfigurations",
    ] {
        assert_eq!(c.get(op), Some(&1), "{op} in {c:#?}");
    }
    // One listing of each kind of API and of VPC link (v1 and v2 share the
    // operation name), then per-API reads only.
    assert_eq!(c.get("apigateway:GetVpcLinks"), Some(&2), "{c:#?}");
    assert_eq!(c.get("apigateway:GetRestApis"), Some(&1), "{c:#?}");
    assert_eq!(c.get("apigateway:GetStages"), Some(&3), "{c:#?}");
}

#[test]
fn several_regions_make_one_report_and_an_id_must_exist_in_one() {
    let s = build_in("eu-west-3", "rest-v1", "west3", 51);
    let api = s["api_id"].as_str().expect("api id");
    let out = run(tool("AKIDregions").args([
        "audit",
        "--api-id",
        api,
        "--region",
        "eu-west-3",
        "--region",
        "ap-southeast-2",
        "--output",
        "json",
    ]));
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{:?}", worst_by_check(&report));
    assert_eq!(
        report["region"],
        Value::Null,
        "the report spans two regions"
    );
    let apis = report["apis"].as_array().expect("apis");
    assert_eq!(apis.len(), 1);
    assert_eq!(apis[0]["region"], "eu-west-3");

    // An id no region has is an input error naming every region tried.
    let out = run(tool("AKIDregions").args([
        "audit",
        "--api-id",
        "nosuchapi1",
        "--region",
        "eu-west-3",
        "--region",
        "ap-southeast-2",
    ]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("nosuchapi1") && err.contains("eu-west-3") && err.contains("ap-southeast-2"),
        "{err}"
    );

    // Every enabled region: the API is found in the one it lives in.
    let out = run(tool("AKIDallregions").args([
        "audit",
        "--api-id",
        api,
        "--all-regions",
        "--output",
        "json",
    ]));
    let report = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{:?}", worst_by_check(&report));
    assert_eq!(report["apis"][0]["region"], "eu-west-3");
    assert_eq!(calls("AKIDallregions").get("ec2:DescribeRegions"), Some(&1));
}

/// One region that cannot be read (an SCP denies API Gateway there) is
/// `error` for that region, with a report for the others and exit 3:
/// never an aborted run, and never an errored API invented where the id
/// was not found.
#[test]
fn a_region_that_fails_is_an_error_entry_and_the_others_are_judged() {
    let s = build_in("eu-west-3", "rest-v1", "regionfail", 52);
    let api = s["api_id"].as_str().expect("api id");
    set_faults(
        "AKIDregionfail",
        &serde_json::json!({
            "ap-southeast-2/apigateway:GetRestApi": "access-denied",
            "ap-southeast-2/apigateway:GetApi": "access-denied",
            "ap-southeast-2/apigateway:GetRestApis": "access-denied",
            "ap-southeast-2/apigateway:GetApis": "access-denied",
        }),
    );
    for (what, select) in [
        ("named", vec!["--api-id", api]),
        ("listed", vec!["--all-apis"]),
    ] {
        let mut args = vec![
            "audit",
            "--output",
            "json",
            "--region",
            "eu-west-3",
            "--region",
            "ap-southeast-2",
        ];
        args.extend(select);
        let out = run(tool("AKIDregionfail").args(&args));
        let report = json_of(&out);
        validate_report(&report);
        let apis = report["apis"].as_array().expect("apis");
        let failed: Vec<&Value> = apis
            .iter()
            .filter(|a| a["region"] == "ap-southeast-2")
            .collect();
        assert_eq!(
            failed.len(),
            1,
            "{what}: one entry for the failed region: {report}"
        );
        assert_eq!(
            failed[0]["id"],
            Value::Null,
            "{what}: no API is invented there"
        );
        assert_eq!(failed[0]["kind"], Value::Null);
        let findings = failed[0]["stages"][0]["findings"]
            .as_array()
            .expect("findings");
        assert_eq!(findings.len(), apigw_audit_checks::CHECKS.len(), "{what}");
        for f in findings {
            assert_eq!(f["status"], "error", "{what}: {f}");
            let m = f["message"].as_str().unwrap_or_default();
            assert!(
                m.contains("ap-southeast-2") && m.contains("apigateway:Get"),
                "{what}: {m}"
            );
        }
        // The readable region is judged as usual.
        let ours = apis
            .iter()
            .find(|a| a["id"] == api)
            .expect("the API in eu-west-3");
        assert_eq!(ours["region"], "eu-west-3");
        assert_eq!(ours["stages"][0]["status"], "pass", "{what}: {ours}");
        if what == "named" {
            assert_eq!(out.status.code(), Some(3), "{what}");
        } else {
            assert!(matches!(out.status.code(), Some(1 | 3)), "{what}");
        }
    }
}
