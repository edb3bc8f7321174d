//! Reading AWS live for a command: the command line's AWS flags turned into
//! the collector's settings, the regions to read, and one collection over
//! all of them merged into one snapshot.
//!
//! `audit` and `explain` both come through here, so a live read means the
//! same thing (same pacing, same merge, same "found somewhere" rule) for
//! both; only what they ask for differs.

use aws_config::SdkConfig;

use apigw_audit_checks::model::{ApiRecord, Fetched, Snapshot};

use crate::cli::AwsArgs;
use crate::collect::aws::AwsSettings;
use crate::collect::{self, Request};
use crate::error::Fatal;

/// The collector's settings from the command line's AWS flags; `region`,
/// when given, wins over `--region` (explain's region from a URL).
pub fn aws_settings(args: &AwsArgs, region: Option<&str>) -> AwsSettings {
    AwsSettings {
        region: region
            .or(args.region.first().map(String::as_str))
            .map(str::to_string),
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        call_timeout: args.call_timeout,
        max_attempts: args.max_attempts,
    }
}

/// The regions to read, sorted and each once: every enabled region, the
/// ones asked for, or else the configuration's own.
pub async fn regions(
    base: &SdkConfig,
    all_regions: bool,
    asked: &[String],
) -> Result<Vec<String>, Fatal> {
    let mut regions: Vec<String> = if all_regions {
        collect::enabled_regions(base).await?
    } else if asked.is_empty() {
        base.region().map(|r| r.to_string()).into_iter().collect()
    } else {
        asked.to_vec()
    };
    regions.sort();
    regions.dedup();
    Ok(regions)
}

/// What to read in every region.
pub struct Reading<'a> {
    pub api_ids: Vec<String>,
    pub all_apis: bool,
    pub stages: Vec<String>,
    /// Calls in flight at most, over all regions together.
    pub max_concurrency: usize,
    /// `--rate-limit` overrides of the per-service rates.
    pub overrides: &'a [(String, Option<collect::pace::Rate>)],
    /// The spinner to keep turning, and to clear when the reads are done.
    pub progress: Option<indicatif::ProgressBar>,
}

/// What a live collection cost, summed over regions.
#[derive(Debug, Default)]
pub struct Cost {
    pub calls: std::collections::BTreeMap<String, u64>,
    pub retries: u64,
    pub throttles: u64,
    pub bytes: u64,
    /// The deepest chain of dependent calls in any region.
    pub depth: usize,
    pub regions: usize,
    pub waits: u64,
    pub waited_ms: u64,
    pub max_concurrency: usize,
}

/// Reads every region concurrently, each with its own call budget but one
/// shared limit on calls in flight, into one snapshot.
pub async fn collect_regions(
    base: &SdkConfig,
    regions: &[String],
    reading: Reading<'_>,
) -> Result<(Snapshot, Cost), Fatal> {
    let multi = regions.len() > 1;
    let req = Request {
        api_ids: reading.api_ids.clone(),
        all_apis: reading.all_apis,
        stages: reading.stages.clone(),
        max_concurrency: reading.max_concurrency,
        multi_region: multi,
        progress: reading.progress.clone(),
        pacing: Some(collect::Pacing {
            rates: collect::pace::rates(reading.overrides),
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(reading.max_concurrency)),
        }),
    };
    let runs = futures::future::join_all(regions.iter().map(|r| {
        let cfg = collect::for_region(base, r);
        let req = req.clone();
        async move { collect::collect_with(&cfg, &req).await }
    }))
    .await;
    if let Some(p) = &reading.progress {
        p.finish_and_clear();
    }
    let mut cost = Cost {
        regions: regions.len(),
        max_concurrency: reading.max_concurrency,
        ..Default::default()
    };
    let snap = merge(runs, &mut cost)?.ok_or_else(|| {
        Fatal::Usage(
            "no AWS region: pass --region, set AWS_REGION, or use --all-regions".to_string(),
        )
    })?;
    if multi {
        found_somewhere(&snap, &reading.api_ids, &reading.stages, regions)?;
    }
    Ok((snap, cost))
}

/// One snapshot from the regions' collections, in region order, their
/// costs added up; the first failed region fails the whole.
fn merge(
    runs: Vec<Result<collect::Collected, Fatal>>,
    cost: &mut Cost,
) -> Result<Option<Snapshot>, Fatal> {
    let mut merged: Option<Snapshot> = None;
    for run in runs {
        let c = run?;
        for (op, n) in &c.stats.calls {
            *cost.calls.entry(op.clone()).or_insert(0) += n;
        }
        cost.retries += c.stats.retries;
        cost.throttles += c.stats.throttles;
        cost.bytes += c.stats.bytes;
        cost.depth = cost.depth.max(c.levels);
        cost.waits += c.pace.waits;
        cost.waited_ms += c.pace.waited_ms;
        tracing::info!(region = ?c.snapshot.regions.first().map(|r| &r.region), calls = ?c.stats.calls, retries = c.stats.retries, levels = c.levels, "collection finished");
        match &mut merged {
            None => merged = Some(c.snapshot),
            Some(m) => {
                if m.account.is_none() {
                    m.account = c.snapshot.account;
                    m.account_failure = c.snapshot.account_failure;
                }
                m.recorded_at = m.recorded_at.min(c.snapshot.recorded_at);
                m.regions.extend(c.snapshot.regions);
            }
        }
    }
    Ok(merged)
}

/// Across regions, each requested API id and stage must exist somewhere.
fn found_somewhere(
    snap: &Snapshot,
    api_ids: &[String],
    stages: &[String],
    regions: &[String],
) -> Result<(), Fatal> {
    // A region whose APIs are unknown may hold what was asked for: the
    // report's entry for it says so, and it is not an input error.
    if snap.regions.iter().any(|r| r.unlisted.is_some()) {
        return Ok(());
    }
    let apis: Vec<&ApiRecord> = snap.regions.iter().flat_map(|r| r.apis.iter()).collect();
    for id in api_ids {
        if !apis.iter().any(|a| &a.id == id) {
            return Err(Fatal::Usage(format!(
                "no REST or HTTP API with id {id} in {}",
                regions.join(", ")
            )));
        }
    }
    let unreadable = apis.iter().any(|a| !matches!(a.stages, Fetched::Ok(_)));
    for name in stages {
        let found = apis
            .iter()
            .any(|a| matches!(&a.stages, Fetched::Ok(s) if s.iter().any(|s| &s.name == name)));
        if !found && !unreadable {
            return Err(Fatal::Usage(format!(
                "no stage {name} in the API(s) audited in {}",
                regions.join(", ")
            )));
        }
    }
    Ok(())
}
