//! Suppressions: accepted findings silenced with a reason and an optional
//! expiry, read from `apigw-audit.toml` (the working directory's, or
//! `--config PATH`) in the contract's format.
//!
//! A suppressed finding stays in every output, marked, and no longer sets
//! the exit code. An entry that has expired silences nothing, and one that
//! silenced nothing in this run, is a warning: a silence nobody notices
//! going stale is how a real outage hides. Every problem in the file is an
//! input error naming the file and line.

use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use time::Date;
use time::macros::format_description;
use toml::Spanned;

use apigw_audit_checks::Status;

use crate::error::Fatal;
use crate::report::{Report, Suppressed};

/// The file looked for in the working directory when `--config` is absent.
pub const DEFAULT_FILE: &str = "apigw-audit.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    suppress: Vec<Spanned<EntryDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDoc {
    check: Spanned<String>,
    resource: Option<Spanned<String>>,
    api: Option<Spanned<String>>,
    stage: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    expires: Option<Spanned<toml::Value>>,
    status: Option<Spanned<toml::Value>>,
}

/// One parsed `[[suppress]]` entry.
#[derive(Debug)]
pub struct Suppression {
    /// 1-based line of the entry in its file, for messages.
    pub line: usize,
    pub check: String,
    check_glob: GlobMatcher,
    resource: Option<GlobMatcher>,
    api: Option<GlobMatcher>,
    stage: Option<GlobMatcher>,
    pub reason: String,
    pub expires: Option<Date>,
    /// The verdicts it silences: `warn` and `fail` unless the entry says
    /// otherwise; `error` only when the entry names it, since an error
    /// hides an unknown, not an accepted risk.
    statuses: Vec<Status>,
}

/// The suppressions of one file.
#[derive(Debug)]
pub struct Suppressions {
    pub path: PathBuf,
    pub entries: Vec<Suppression>,
}

fn line_of(text: &str, span: &Range<usize>) -> usize {
    text[..span.start.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn glob(text: &str, path: &Path, field: &str, v: &Spanned<String>) -> Result<GlobMatcher, Fatal> {
    if v.get_ref().trim().is_empty() {
        return Err(Fatal::Usage(format!(
            "{}:{}: `{field}` is empty; give a pattern or leave the key out",
            path.display(),
            line_of(text, &v.span())
        )));
    }
    Glob::new(v.get_ref())
        .map(|g| g.compile_matcher())
        .map_err(|e| {
            Fatal::Usage(format!(
                "{}:{}: `{field}` is not a valid glob ({})",
                path.display(),
                line_of(text, &v.span()),
                e.kind()
            ))
        })
}

/// Parses a suppression file's text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Suppressions, Fatal> {
    let doc: FileDoc = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, &s));
        Fatal::Usage(format!(
            "{}:{line}: {}",
            path.display(),
            e.message().trim().replace('\n', " ")
        ))
    })?;
    let entries = doc
        .suppress
        .into_iter()
        .map(|spanned| entry(text, path, spanned))
        .collect::<Result<_, _>>()?;
    Ok(Suppressions {
        path: path.to_path_buf(),
        entries,
    })
}

/// One `[[suppress]]` table, checked.
fn entry(text: &str, path: &Path, spanned: Spanned<EntryDoc>) -> Result<Suppression, Fatal> {
    let line = line_of(text, &spanned.span());
    let e = spanned.into_inner();
    let check_glob = glob(text, path, "check", &e.check)?;
    let reason = match &e.reason {
        Some(r) if !r.get_ref().trim().is_empty() => r.get_ref().trim().to_string(),
        Some(r) => {
            return Err(Fatal::Usage(format!(
                "{}:{}: `reason` is empty; say why the finding is accepted",
                path.display(),
                line_of(text, &r.span())
            )));
        }
        None => {
            return Err(Fatal::Usage(format!(
                "{}:{line}: the suppression of `{}` has no `reason`; every suppression needs one",
                path.display(),
                e.check.get_ref()
            )));
        }
    };
    let expires = e
        .expires
        .as_ref()
        .map(|v| {
            value(
                text,
                path,
                v,
                "expires",
                "a date like \"2027-01-31\"",
                parse_date,
            )
        })
        .transpose()?;
    let statuses = match &e.status {
        None => vec![Status::Warn, Status::Fail],
        Some(v) => value(
            text,
            path,
            v,
            "status",
            "\"warn\", \"fail\", \"error\" or a list of them",
            parse_statuses,
        )?,
    };
    let optional = |field: &str, v: &Option<Spanned<String>>| {
        v.as_ref().map(|v| glob(text, path, field, v)).transpose()
    };
    Ok(Suppression {
        line,
        statuses,
        check: e.check.get_ref().clone(),
        check_glob,
        resource: optional("resource", &e.resource)?,
        api: optional("api", &e.api)?,
        stage: optional("stage", &e.stage)?,
        reason,
        expires,
    })
}

/// A typed value of the file, or an error naming the file, the line and
/// what the key needs.
fn value<T>(
    text: &str,
    path: &Path,
    v: &Spanned<toml::Value>,
    key: &str,
    needed: &str,
    parse: fn(&toml::Value) -> Option<T>,
) -> Result<T, Fatal> {
    parse(v.get_ref()).ok_or_else(|| {
        Fatal::Usage(format!(
            "{}:{}: `{key}` must be {needed}, not {}",
            path.display(),
            line_of(text, &v.span()),
            v.get_ref()
        ))
    })
}

/// `status = "error"` or `status = ["warn", "error"]`: the verdicts an
/// entry silences.
fn parse_statuses(v: &toml::Value) -> Option<Vec<Status>> {
    let one = |v: &toml::Value| match v.as_str()? {
        "warn" => Some(Status::Warn),
        "fail" => Some(Status::Fail),
        "error" => Some(Status::Error),
        _ => None,
    };
    match v {
        toml::Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        toml::Value::Array(_) => None,
        v => one(v).map(|s| vec![s]),
    }
}

/// A date as a string (`"2027-01-31"`) or a TOML local date.
fn parse_date(v: &toml::Value) -> Option<Date> {
    let text = match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        _ => return None,
    };
    Date::parse(&text, format_description!("[year]-[month]-[day]")).ok()
}

/// Reads `--config PATH` (which must exist), else `apigw-audit.toml` in the
/// working directory when there is one.
pub fn load(explicit: Option<&Path>) -> Result<Option<Suppressions>, Fatal> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(DEFAULT_FILE);
            if !p.exists() {
                return Ok(None);
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Fatal::Usage(format!("cannot read {}: {e}", path.display())))?;
    parse(&text, &path).map(Some)
}

/// The outcome of applying suppressions: warnings for stderr.
#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    pub warnings: Vec<String>,
    /// How many findings were suppressed.
    pub suppressed: usize,
}

/// What one entry met in a run, for its warning.
#[derive(Debug, Default, Clone, Copy)]
struct Met {
    silenced: bool,
    /// A pass or skip its patterns named: nothing to silence.
    passing: bool,
    /// An error its patterns named, which it may not silence.
    error: bool,
}

impl Suppression {
    fn is_live(&self, today: Date) -> bool {
        self.expires.is_none_or(|d| d >= today)
    }

    /// Whether the patterns name this finding, whatever its verdict.
    fn names(&self, f: &crate::report::FindingReport, api: &str, stage: &str) -> bool {
        self.check_glob.is_match(f.check.as_str())
            && self
                .resource
                .as_ref()
                .is_none_or(|g| f.resource.as_deref().is_some_and(|r| g.is_match(r)))
            && self.api.as_ref().is_none_or(|g| g.is_match(api))
            && self.stage.as_ref().is_none_or(|g| g.is_match(stage))
    }

    /// The warning for this entry after a run, if it deserves one.
    fn warning(&self, at: &str, met: Met, today: Date) -> Option<String> {
        let check = &self.check;
        match self.expires {
            Some(d) if d < today => Some(format!(
                "suppression at {at} (check {check}) expired on {d} and silences nothing now; renew its `expires` or remove it"
            )),
            _ if met.silenced => None,
            _ if met.error => Some(format!(
                "suppression at {at} (check {check}) matched only `error` findings, which it silences only with status = \"error\"; fix what kept the check from deciding, or add the status"
            )),
            _ if met.passing => Some(format!(
                "suppression at {at} (check {check}) matched only passing findings in this run and is stale; remove it"
            )),
            _ => Some(format!(
                "suppression at {at} (check {check}) matched no finding in this run; fix its patterns or remove it"
            )),
        }
    }
}

impl Suppressions {
    /// Marks the findings a live entry silences (the first such entry
    /// wins) and reports expired, stale and unmatched entries.
    pub fn apply(&self, report: &mut Report, today: Date) -> Applied {
        let mut met = vec![Met::default(); self.entries.len()];
        let mut applied = Applied::default();
        for api in &mut report.apis {
            for stage in &mut api.stages {
                let stage_name = stage.name.clone().unwrap_or_default();
                for f in &mut stage.findings {
                    let named = self
                        .entries
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.is_live(today) && s.names(f, &api.id, &stage_name));
                    let mut hit = None;
                    for (i, s) in named {
                        if s.statuses.contains(&f.status) {
                            hit = Some((i, s));
                            break;
                        }
                        match f.status {
                            Status::Pass | Status::Skip => met[i].passing = true,
                            Status::Error => met[i].error = true,
                            _ => {}
                        }
                    }
                    if let Some((i, s)) = hit {
                        met[i].silenced = true;
                        applied.suppressed += 1;
                        f.suppressed = Some(Suppressed {
                            reason: s.reason.clone(),
                            expires: s.expires.map(|d| d.to_string()),
                        });
                    }
                }
                stage.refresh_status();
            }
        }
        for (s, m) in self.entries.iter().zip(met) {
            let at = format!("{}:{}", self.path.display(), s.line);
            applied.warnings.extend(s.warning(&at, m, today));
        }
        applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn parse_ok(text: &str) -> Suppressions {
        parse(text, Path::new("apigw-audit.toml")).expect("valid")
    }

    fn parse_err(text: &str) -> String {
        match parse(text, Path::new("apigw-audit.toml")) {
            Err(Fatal::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    fn warnings_after(text: &str, report: &mut Report) -> Vec<String> {
        parse_ok(text).apply(report, date!(2026 - 12 - 01)).warnings
    }

    #[test]
    fn errors_are_silenced_only_by_an_entry_that_names_the_status() {
        use crate::report::fixtures::{finding, report};
        let entry = "[[suppress]]\ncheck = \"target-health\"\nreason = \"known\"\n";
        let mut r = report(vec![finding("target-health", "tg-1", Status::Error)]);
        let w = warnings_after(entry, &mut r);
        assert!(r.apis[0].stages[0].findings[0].suppressed.is_none());
        assert_eq!(r.exit_code(crate::cli::FailOn::Fail), 3);
        assert!(
            w[0].contains("silences only with status = \"error\""),
            "{w:?}"
        );
        let mut r = report(vec![finding("target-health", "tg-1", Status::Error)]);
        let w = warnings_after(&format!("{entry}status = \"error\"\n"), &mut r);
        assert!(
            r.apis[0].stages[0].findings[0].suppressed.is_some(),
            "{w:?}"
        );
        assert_eq!(r.exit_code(crate::cli::FailOn::Fail), 0);
        // An entry for errors only leaves a failure alone.
        let mut r = report(vec![finding("target-health", "tg-1", Status::Fail)]);
        warnings_after(&format!("{entry}status = [\"error\"]\n"), &mut r);
        assert!(r.apis[0].stages[0].findings[0].suppressed.is_none());
    }

    #[test]
    fn an_entry_that_matched_only_passes_is_stale_and_one_that_matched_nothing_says_so() {
        use crate::report::fixtures::{finding, report};
        let mut r = report(vec![
            finding("target-health", "tg-1", Status::Pass),
            finding("listener-port", "nlb-1", Status::Warn),
        ]);
        let w = warnings_after(
            "[[suppress]]\ncheck = \"target-health\"\nreason = \"a\"\n\n[[suppress]]\ncheck = \"idle-*\"\nreason = \"b\"\n\n[[suppress]]\ncheck = \"listener-port\"\nreason = \"c\"\n",
            &mut r,
        );
        assert!(r.apis[0].stages[0].findings[0].suppressed.is_none());
        assert!(r.apis[0].stages[0].findings[1].suppressed.is_some());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains(":1 ") && w[0].contains("is stale"), "{w:?}");
        assert!(
            w[1].contains(":5 ") && w[1].contains("matched no finding"),
            "{w:?}"
        );
        let m = parse_err("[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nstatus = \"pass\"\n");
        assert!(
            m.starts_with("apigw-audit.toml:4:") && m.contains("`status`"),
            "{m}"
        );
    }

    #[test]
    fn parses_the_contract_example() {
        let s = parse_ok(
            r#"
# accepted
[[suppress]]
check = "target-health"
resource = "arn:aws:elasticloadbalancing:*:targetgroup/orders-*"
api = "a1b2c3"
stage = "beta"
reason = "blue/green standby group, empty by design"
expires = "2027-01-31"

[[suppress]]
check = "tls-*"
reason = "internal CA, tracked in SEC-12"
expires = 2027-03-01
"#,
        );
        assert_eq!(s.entries.len(), 2);
        assert_eq!(s.entries[0].line, 3);
        assert_eq!(s.entries[0].expires, Some(date!(2027 - 01 - 31)));
        assert_eq!(s.entries[1].expires, Some(date!(2027 - 03 - 01)));
        assert!(s.entries[1].check_glob.is_match("tls-certificate-trust"));
        assert!(
            s.entries[0]
                .resource
                .as_ref()
                .expect("resource")
                .is_match("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/orders-app/0a9b")
        );
    }

    #[test]
    fn every_problem_names_the_file_and_line() {
        let m = parse_err("[[suppress]]\ncheck = \"x\"\n");
        assert!(
            m.starts_with("apigw-audit.toml:1:") && m.contains("reason"),
            "{m}"
        );
        let m =
            parse_err("[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nexpires = \"31/01/2027\"\n");
        assert!(
            m.starts_with("apigw-audit.toml:4:") && m.contains("expires"),
            "{m}"
        );
        let m = parse_err("[[suppress]]\ncheck = \"x\"\nreason = \"r\"\ncolour = \"red\"\n");
        assert!(
            m.starts_with("apigw-audit.toml:4:") && m.contains("colour"),
            "{m}"
        );
        let m = parse_err("[[suppress]]\ncheck = \"[x\"\nreason = \"r\"\n");
        assert!(
            m.starts_with("apigw-audit.toml:2:") && m.contains("glob"),
            "{m}"
        );
        let m = parse_err("[[suppress]]\nreason = \"r\"\n");
        assert!(m.contains("check"), "{m}");
        let m = parse_err("[[suppress]]\ncheck = \"x\"\nreason = \"  \"\n");
        assert!(m.starts_with("apigw-audit.toml:3:"), "{m}");
        let m = parse_err("[[suppress]\n");
        assert!(m.starts_with("apigw-audit.toml:1:"), "{m}");
        let m = parse_err(
            "[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nexpires = 2027-01-31T00:00:00Z\n",
        );
        assert!(m.starts_with("apigw-audit.toml:4:"), "{m}");
    }

    #[test]
    fn an_empty_or_absent_file_suppresses_nothing() {
        assert!(parse_ok("").entries.is_empty());
        assert!(load(None).is_ok());
        let missing = Path::new("/nonexistent/apigw-audit.toml");
        assert!(matches!(load(Some(missing)), Err(Fatal::Usage(_))));
    }
}
