//! What a check is made of and what it builds its findings with: the
//! [`CheckDef`] every check declares, the [`Findings`] sink it reports
//! into, and the helpers that turn a stopped walk, a stage without a
//! VPC-link route or many judged flows into findings.
//!
//! It lives apart from the catalogue (which only lists the checks) and the
//! engine (which only runs them) so that checks depend on it and on
//! nothing above them: the catalogue imports the checks, the engine the
//! catalogue, and no arrow points back.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::finding::{
    CheckMeta, Finding, Status, evidence_wanted, failure_remediation, failure_sentence,
};
use crate::model::{ApiRecord, Failure, Route};
use crate::view::{Blocked, BlockedKind, Probe, RoutePath, StageView};
use crate::walk::{DeadEnd, Walk, walk};

/// Judges a probe naming a stage the API does not have: the API's region,
/// the API, the probe and the names of the stages it does have.
pub type MissingStageFn = fn(&str, &ApiRecord, &Probe, &[String]) -> Finding;

/// A check: its metadata and its logic, declared side by side, with the
/// hooks by which the engine treats it apart from the others without
/// naming it.
pub struct CheckDef {
    pub meta: CheckMeta,
    pub run: fn(&StageCtx, &mut Findings),
    /// Whether the check judges the stage's deployed definition against
    /// the current one itself: the engine then does not note, on its
    /// findings, that they were judged on the current definition.
    pub judges_definition_itself: bool,
    /// How the check judges a probe (`explain --url`) naming a stage the
    /// API does not have, where no stage exists to run it on.
    pub on_missing_stage: Option<MissingStageFn>,
}

impl std::fmt::Debug for CheckDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckDef")
            .field("id", &self.meta.id)
            .finish()
    }
}

impl CheckDef {
    /// Whether `id` names this check, by id or by a former id.
    pub fn is(&self, id: &str) -> bool {
        self.meta.id == id || self.meta.aliases.contains(&id)
    }
}

/// Keeps one finding per resource in `by_resource`: the worse verdict
/// wins, and routes of equal verdicts are united, whatever order they come
/// in.
pub fn merge_by_resource(by_resource: &mut BTreeMap<String, Finding>, f: Finding) {
    let key = f.resource.clone().unwrap_or_default();
    match by_resource.get_mut(&key) {
        None => {
            by_resource.insert(key, f);
        }
        Some(old) if f.status > old.status => *old = f,
        Some(old) if f.status == old.status => {
            old.routes.extend(f.routes);
            old.routes.sort();
            old.routes.dedup();
        }
        Some(_) => {}
    }
}

/// What a check sees of one stage: its [`StageView`] (through `Deref`),
/// and what is derived from the view once per stage, however many checks
/// use it. It lives here rather than on the view because the walk is built
/// from the view: the view holding it would make each import the other.
pub struct StageCtx<'v, 'a> {
    view: &'v StageView<'a>,
    walk: OnceCell<Walk<'a>>,
}

impl<'v, 'a> StageCtx<'v, 'a> {
    pub fn new(view: &'v StageView<'a>) -> Self {
        StageCtx {
            view,
            walk: OnceCell::new(),
        }
    }

    /// The stage's topology walk, made by the first check that asks. Its
    /// lookups are recorded in the view's want log then, once: the log is
    /// a set, so planning sees the same wants as when each check walked.
    ///
    /// The walk's own misses are not the asking check's: the walk records
    /// where each route stopped and why, and every check reports that
    /// itself (`Findings::walked`), so the engine's no-pass-on-misses rule
    /// judges only the lookups a check makes beyond the walk.
    pub fn walk(&self) -> &Walk<'a> {
        self.walk.get_or_init(|| {
            let from = self.view.misses_len();
            let w = walk(self.view);
            self.view.forget_misses_from(from);
            w
        })
    }
}

impl<'a> std::ops::Deref for StageCtx<'_, 'a> {
    type Target = StageView<'a>;

    fn deref(&self) -> &StageView<'a> {
        self.view
    }
}

/// Collects one check's findings on one stage, merging by resource so the
/// contract's "one finding per check and resource" holds whatever order the
/// routes are walked in: the worse verdict wins, routes of equal verdicts
/// are united.
pub struct Findings {
    def: &'static CheckDef,
    by_resource: BTreeMap<String, Finding>,
}

impl Findings {
    pub fn new(def: &'static CheckDef) -> Self {
        Findings {
            def,
            by_resource: BTreeMap::new(),
        }
    }

    pub fn meta(&self) -> &'static CheckMeta {
        &self.def.meta
    }

    pub fn add(&mut self, f: Finding) {
        merge_by_resource(&mut self.by_resource, f);
    }

    /// Reports a walk that stopped before reaching what this check judges.
    pub fn blocked<S: AsRef<str>>(&mut self, b: &Blocked, routes: &[S]) {
        let f = blocked_finding(&self.def.meta, b);
        self.add(f.routes(routes.iter().map(|r| r.as_ref().to_string())));
    }

    /// The stage's walk, after reporting, as this check's findings, why
    /// there is nothing to walk or where routes stopped on the way.
    pub fn walked<'w, 'a>(&mut self, stage: &'w StageCtx<'_, 'a>) -> &'w Walk<'a> {
        let w = stage.walk();
        if private_routes(stage, self).is_some() {
            for s in &w.stopped {
                self.blocked(&s.blocked, &s.routes);
            }
        }
        w
    }

    /// Reports the walk's dead ends as not applicable: `target-health`
    /// judges them, the checks behind a target group cannot.
    pub fn skip_dead_ends(&mut self, w: &Walk) {
        for d in &w.dead_ends {
            let (resource, route, reason) = match d {
                DeadEnd::NoForward { listener, route } => (
                    listener.arn.as_str(),
                    route,
                    format!(
                        "listener {} forwards to no target group (see target-health)",
                        listener.arn
                    ),
                ),
                DeadEnd::MissingGroup { arn, route } => (
                    *arn,
                    route,
                    format!("target group {arn} does not exist (see target-health)"),
                ),
            };
            self.add(skip(self.meta(), resource, reason).routes([route.clone()]));
        }
    }

    /// `f` as it may stand beside this check's other findings. A `pass`
    /// that aggregates every flow of its routes through one resource (a
    /// network ACL many hops cross) proves nothing for a route this check
    /// could not read to its end, since that route's flows through the
    /// resource may be missing: it becomes `error` naming what was not read.
    pub fn unless_partial(&self, mut f: Finding) -> Finding {
        if f.status != Status::Pass {
            return f;
        }
        let unread = self
            .by_resource
            .values()
            .find(|e| e.status == Status::Error && e.routes.iter().any(|r| f.routes.contains(r)));
        if let Some(e) = unread {
            f.status = Status::Error;
            f.message = format!(
                "{}; it passed only on the flows that could be read: {}",
                e.message.trim_end_matches('.'),
                f.message
            );
            f.remediation = e.remediation.clone();
        }
        f
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.by_resource.into_values().collect()
    }
}

/// The one way to say a check does not apply: `skip`, with the reason as
/// "Not applicable: {reason}." so every skip reads alike.
pub fn skip(meta: &CheckMeta, resource: &str, reason: impl AsRef<str>) -> Finding {
    let mut s = String::from("Not applicable: ");
    s.push_str(reason.as_ref().trim_end_matches('.'));
    s.push('.');
    Finding::new(meta, Status::Skip, resource, s)
}

/// The finding for a walk that stopped at `b`: `skip` or `error`.
pub fn blocked_finding(meta: &CheckMeta, b: &Blocked) -> Finding {
    match &b.kind {
        BlockedKind::Skip(reason) => skip(meta, &b.resource, reason),
        BlockedKind::Error { what, failure } => {
            Finding::from_failure(meta, &b.resource, what, failure)
        }
    }
}

/// The error finding for a stage whose API's routes cannot be read.
fn routes_unreadable(meta: &CheckMeta, view: &StageView, failure: &Failure) -> Finding {
    let what = format!("the routes of API {}", view.api.id);
    Finding::from_failure(meta, &view.stage_arn, &what, failure)
}

/// Every route of the definition the stage is judged on; when they cannot
/// be read, records the `error` saying so and returns `None`.
pub fn all_routes<'a>(view: &StageView<'a>, out: &mut Findings) -> Option<&'a [Route]> {
    match view.all_routes() {
        Ok(r) => Some(r),
        Err(f) => {
            out.add(routes_unreadable(out.meta(), view, f));
            None
        }
    }
}

/// The routes a VPC-link check walks. When there is nothing to walk it
/// records why (no VPC-link route: `skip`; routes unreadable: `error`) and
/// returns `None`.
pub fn private_routes<'v, 'a>(
    view: &'v StageView<'a>,
    out: &mut Findings,
) -> Option<&'v [RoutePath<'a>]> {
    let meta = out.meta();
    match view.private_routes() {
        Err(failure) => {
            out.add(routes_unreadable(meta, view, failure));
            None
        }
        Ok([]) => {
            out.add(skip(
                meta,
                &view.stage_arn,
                format!(
                    "no route of stage {} integrates through a VPC link",
                    view.stage.name
                ),
            ));
            None
        }
        Ok(routes) => Some(routes),
    }
}

/// Accumulates the verdicts of many flows into one finding for one
/// resource: the worst verdict decides, and its sentence is the message.
pub struct Judgement {
    items: Vec<(Status, String, Option<String>)>,
    evidence: Vec<Value>,
}

impl Judgement {
    pub fn new() -> Self {
        Judgement {
            items: Vec::new(),
            evidence: Vec::new(),
        }
    }

    /// Records one flow's verdict; `evidence` is built only when the
    /// finding's evidence will be shown.
    pub fn push(&mut self, status: Status, sentence: String, evidence: impl FnOnce() -> Value) {
        self.items.push((status, sentence, None));
        self.evidence.push(if evidence_wanted() {
            evidence()
        } else {
            Value::Null
        });
    }

    /// Records a flow that could not be judged because `what` could not be
    /// read; the finding then carries the failure's remediation.
    pub fn push_failure(&mut self, what: &str, failure: &Failure) {
        self.items.push((
            Status::Error,
            failure_sentence(what, failure),
            Some(failure_remediation(failure)),
        ));
        if evidence_wanted() {
            self.evidence
                .push(json!({ "what": what, "failure": failure }));
        } else {
            self.evidence.push(Value::Null);
        }
    }

    /// Records a hop walk that stopped: a skip is a flow this check cannot
    /// see (`warn`: it might be blocked), an error a flow it cannot read.
    pub fn push_blocked(&mut self, b: &Blocked, unseen_means: &str) {
        match &b.kind {
            BlockedKind::Skip(reason) => self.push(
                Status::Warn,
                format!(
                    "{}, so {unseen_means} cannot be verified",
                    capitalize(reason)
                ),
                || json!({ "unverifiable": reason }),
            ),
            BlockedKind::Error { what, failure } => self.push_failure(what, failure),
        }
    }

    pub fn worst(&self) -> Option<Status> {
        self.items.iter().map(|(s, _, _)| *s).max()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The finding, with `pass_message` when every flow passed. The
    /// message is the first worst sentence, with a count of the others.
    pub fn finding(
        self,
        meta: &CheckMeta,
        resource: &str,
        pass_message: String,
        extra: Value,
    ) -> Finding {
        let worst = self.worst().unwrap_or(Status::Pass);
        let message = if worst == Status::Pass || worst == Status::Skip {
            pass_message
        } else {
            let same: Vec<&(Status, String, Option<String>)> =
                self.items.iter().filter(|(s, _, _)| *s == worst).collect();
            let first = same[0].1.trim_end_matches('.');
            if same.len() > 1 {
                format!("{first} ({} more like it in the evidence).", same.len() - 1)
            } else {
                format!("{first}.")
            }
        };
        let remediation = self
            .items
            .iter()
            .find(|(s, _, r)| *s == worst && r.is_some())
            .and_then(|(_, _, r)| r.clone());
        let flows = self.evidence;
        let f = Finding::new(meta, worst, resource, message).evidence(move || {
            let mut evidence = json!({ "flows": flows });
            if let (Value::Object(map), Value::Object(more)) = (&mut evidence, extra) {
                map.extend(more);
            }
            evidence
        });
        match remediation {
            Some(r) => f.remediation(r),
            None => f,
        }
    }
}

impl Default for Judgement {
    fn default() -> Self {
        Self::new()
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
