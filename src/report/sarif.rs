//! The SARIF 2.1.0 report, for code-scanning dashboards (GitHub, GitLab,
//! Azure DevOps): one rule per catalogue check, one result per finding that
//! needs attention.
//!
//! A `fail` is a result of kind `fail` at level `error`, a `warn` at level
//! `warning`; an `error` (the data could not be read) is kind `open`, which
//! SARIF reserves for "could not decide", at level `none` as the spec
//! requires for that kind. Passes and skips are not results. Each result
//! names the resource and its routes as logical locations and carries a
//! fingerprint of (region, API, stage, check, resource), never of the
//! message, so a re-run does not open a new alert. Dashboards want a
//! physical location as well: each result points at the pseudo-path
//! `apigateway/REGION/API/STAGE`, stable across runs.

use std::collections::BTreeMap;
use std::io::Write;

use apigw_audit_checks::{CHECKS, Severity, Status};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultKind, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};
use sha2::{Digest, Sha256};

use super::{ApiReport, FindingReport, Report, StageReport};

/// The schema URI SARIF consumers recognise.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The fingerprint's name: versioned, so a change of recipe is a new name.
const FINGERPRINT: &str = "apigwAuditFinding/v1";

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

fn level_of(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

/// A rule name in the PascalCase SARIF suggests: `vpc-link-status` ->
/// `VpcLinkStatus`.
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rules() -> Vec<ReportingDescriptor> {
    CHECKS
        .iter()
        .map(|c| {
            let m = &c.meta;
            let mut r = ReportingDescriptor::builder().id(m.id.as_str()).build();
            r.name = Some(rule_name(m.id.as_str()));
            r.short_description = Some(text(m.title));
            let explained = apigw_audit_checks::explain::explained_by(m.id);
            let explains = if explained.is_empty() {
                String::new()
            } else {
                format!(" Explains: {}.", explained.join("; "))
            };
            r.full_description = Some(text(format!("{}.{explains}", m.title)));
            let mut help = text(m.remediation);
            help.markdown = Some(format!(
                "**{}**\n\n{}\n\n{}",
                m.title,
                m.remediation,
                explained
                    .iter()
                    .map(|e| format!("- `{}`", e.replace('`', "'")))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
            r.help = Some(help);
            r.default_configuration = Some(ReportingConfiguration {
                level: Some(json!(level_of(m.severity))),
                ..Default::default()
            });
            r.properties = Some(PropertyBag {
                tags: Some(vec!["apigateway".to_string(), "aws".to_string()]),
                additional_properties: BTreeMap::from([(
                    "severity".to_string(),
                    json!(m.severity.as_str()),
                )]),
            });
            r
        })
        .collect()
}

/// The stable identity of a finding across runs.
pub fn fingerprint(api: &ApiReport, stage: &StageReport, f: &FindingReport) -> String {
    let mut h = Sha256::new();
    for part in [
        api.region.as_str(),
        api.id.as_str(),
        stage.name.as_deref().unwrap_or(""),
        f.check.as_str(),
        f.resource.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A finding as a SARIF result: its level, where it is, the fingerprint
/// that follows it across runs, and its suppression or baseline state.
fn result(
    api: &ApiReport,
    stage: &StageReport,
    f: &FindingReport,
    rule_index: Option<usize>,
) -> SarifResult {
    let stage_name = api.stage_label(stage);
    let message = Message {
        text: Some(f.message.clone()),
        ..Default::default()
    };
    let mut r = SarifResult::builder().message(message).build();
    r.rule_id = Some(f.check.as_str().to_string());
    r.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
    let (kind, level) = match f.status {
        Status::Fail => (ResultKind::Fail, ResultLevel::Error),
        Status::Warn => (ResultKind::Fail, ResultLevel::Warning),
        _ => (ResultKind::Open, ResultLevel::None),
    };
    r.kind = Some(kind);
    r.level = Some(level);
    r.locations = Some(vec![location(api, stage_name, f)]);
    r.partial_fingerprints = Some(BTreeMap::from([(
        FINGERPRINT.to_string(),
        fingerprint(api, stage, f),
    )]));
    if let Some(s) = &f.suppressed {
        let mut sup = Suppression::builder().kind(json!("external")).build();
        sup.status = Some(json!("accepted"));
        sup.justification = Some(match &s.expires {
            Some(d) => format!("{} (until {d})", s.reason),
            None => s.reason.clone(),
        });
        r.suppressions = Some(vec![sup]);
    }
    if let Some(b) = f.baseline {
        r.baseline_state = Some(json!(b));
    }
    r.properties = Some(properties(api, stage, f));
    r
}

/// Where the finding is: the stage as the one artifact a code-scanning UI
/// can show, the resource and routes as logical locations inside it.
fn location(api: &ApiReport, stage_name: &str, f: &FindingReport) -> Location {
    let mut logical = Vec::new();
    if let Some(res) = &f.resource {
        logical.push(LogicalLocation {
            fully_qualified_name: Some(res.clone()),
            // The ARN's resource part (`targetgroup/orders-app-8080/0a9b...`).
            name: Some(res.splitn(6, ':').nth(5).unwrap_or(res).to_string()),
            kind: Some("resource".to_string()),
            ..Default::default()
        });
    }
    for route in &f.routes {
        logical.push(LogicalLocation {
            fully_qualified_name: Some(format!("{}/{stage_name}/{route}", api.id)),
            name: Some(route.clone()),
            kind: Some("function".to_string()),
            ..Default::default()
        });
    }
    let physical = PhysicalLocation {
        artifact_location: Some(ArtifactLocation {
            uri: Some(format!("apigateway/{}/{}/{stage_name}", api.region, api.id)),
            ..Default::default()
        }),
        region: Some(Region {
            start_line: Some(1),
            ..Default::default()
        }),
        ..Default::default()
    };
    Location {
        physical_location: Some(physical),
        logical_locations: (!logical.is_empty()).then_some(logical),
        ..Default::default()
    }
}

/// The finding's fields SARIF has no place for, kept as properties so a
/// consumer loses nothing; absent ones are left out.
fn properties(api: &ApiReport, stage: &StageReport, f: &FindingReport) -> PropertyBag {
    let mut props = BTreeMap::new();
    let extra = [
        ("status", json!(f.status.as_str())),
        ("severity", json!(f.severity.as_str())),
        ("region", json!(api.region)),
        ("apiId", json!(api.id)),
        ("stage", json!(stage.name)),
        ("routes", json!(f.routes)),
        ("remediation", json!(f.remediation)),
    ];
    for (k, v) in extra {
        if !v.is_null() {
            props.insert(k.to_string(), v);
        }
    }
    PropertyBag {
        tags: None,
        additional_properties: props,
    }
}

/// The SARIF document for a report.
pub fn document(report: &Report) -> Sarif {
    let rules = rules();
    let mut results = Vec::new();
    for (api, stage, f) in report.findings() {
        if matches!(f.status, Status::Pass | Status::Skip) {
            continue;
        }
        let idx = rules.iter().position(|r| r.id == f.check.as_str());
        results.push(result(api, stage, f, idx));
    }
    let mut driver = ToolComponent::builder().name("apigw-audit").build();
    driver.version = Some(report.tool.version.to_string());
    driver.semantic_version = Some(report.tool.version.to_string());
    driver.full_name = Some(format!("apigw-audit {}", report.tool.version));
    driver.rules = Some(rules);
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.results = Some(results);
    let mut props = BTreeMap::from([
        ("source".to_string(), json!(report.source)),
        ("generatedAt".to_string(), json!(report.generated_at)),
    ]);
    if let Some(a) = &report.account {
        props.insert("account".to_string(), json!(a));
    }
    run.properties = Some(PropertyBag {
        tags: None,
        additional_properties: props,
    });
    let mut doc = Sarif::builder()
        .version(Value::String("2.1.0".to_string()))
        .runs(vec![run])
        .build();
    doc.schema = Some(SCHEMA.to_string());
    doc
}

pub fn render(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}
