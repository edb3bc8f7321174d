//! Client-side pacing: at most `--max-concurrency` AWS calls in flight, and
//! per-service token buckets modelled on AWS's documented control-plane
//! quotas, so an account-wide audit stays under the limits instead of
//! tripping them (throttling that outlasts the retries would turn checks
//! into `error`).
//!
//! Pacing sits in the HTTP layer: each service's client gets its own
//! connector wrapper, which waits for a token from the buckets the request
//! belongs to (the service's, and the operation's own where AWS documents
//! one), then for a concurrency permit, and only then sends. Retries pass
//! through it too, so they are paced like first attempts.
//!
//! The buckets adapt: when AWS throttles a call anyway (other tools share
//! the account's limits), every bucket the call drew from halves its rate
//! and empties, and each success then wins back a twentieth of the
//! configured rate (additive increase, multiplicative decrease). A service
//! with no documented bucket gets one the first time it throttles. The
//! SDK's standard retries resend the throttled call after a backoff.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// A sustained rate and the burst a bucket allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Rate {
    const fn new(per_second: f64, burst: f64) -> Rate {
        Rate { per_second, burst }
    }
}

/// The default buckets, per region: `service` for a whole service,
/// `service:Operation` for an operation AWS limits on its own (checked in
/// addition to the service's), `ec2:*` for EC2's per-action buckets.
/// Sources: the API Gateway quotas (10 requests/s with a burst of 40 per
/// account; GetResources 5 per 2 s), the ELB API throttling buckets
/// (Describe*: 40, refilling 10/s), the EC2 API throttling buckets
/// (non-mutating actions: 100, refilling 20/s, per action), ACM's
/// DescribeCertificate and GetCertificate (10/s), Lambda's control plane
/// (15/s), CloudWatch Logs FilterLogEvents (5/s), and conservative values
/// for CloudFront, Cloud Map and IAM, which publish none.
///
/// Each sustained rate is 90% of the documented one and each burst 75%:
/// a client bucket that matched AWS's exactly would still be throttled now
/// and then, since its requests reach AWS with jitter (a new connection's
/// handshake delays one call while the next reuses a warm one).
pub const DEFAULT_RATES: &[(&str, Rate)] = &[
    ("apigateway", Rate::new(9.0, 30.0)),
    ("apigateway:GetResources", Rate::new(2.25, 3.75)),
    ("elasticloadbalancing", Rate::new(9.0, 30.0)),
    ("ec2:*", Rate::new(18.0, 75.0)),
    ("acm:*", Rate::new(9.0, 7.5)),
    ("lambda", Rate::new(13.5, 11.25)),
    ("logs:FilterLogEvents", Rate::new(4.5, 3.75)),
    ("cloudfront", Rate::new(4.5, 7.5)),
    ("servicediscovery", Rate::new(18.0, 30.0)),
    ("iam", Rate::new(4.5, 7.5)),
];

/// The concurrency a run uses when `--max-concurrency` is not given: in the
/// benchmark (`docs/performance.md`) more than this gains nothing at 50 ms round trips,
/// since the buckets, not the connections, bound an account-wide audit.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;

/// The calls per second `--rate-limit` accepts: from one call every 100 s
/// to far above any AWS quota.
const RPS_BOUNDS: (f64, f64) = (0.01, 10_000.0);
/// The burst `--rate-limit` accepts.
const BURST_BOUNDS: (f64, f64) = (1.0, 10_000.0);

/// Parses `--rate-limit KEY=RPS[/BURST]` or `KEY=off`; `None` lifts the
/// limit. KEY is a service (`apigateway`), an operation
/// (`apigateway:GetResources`) or `SERVICE:*` for per-action buckets.
pub fn parse_rate_limit(s: &str) -> Result<(String, Option<Rate>), String> {
    let (key, value) = s.split_once('=').ok_or_else(|| {
        format!("--rate-limit {s}: expected KEY=RPS[/BURST] or KEY=off, e.g. apigateway=5/20")
    })?;
    let key = key.trim();
    let valid_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '*' || c == '-');
    if !valid_key {
        return Err(format!(
            "--rate-limit {s}: `{key}` is not a service or operation"
        ));
    }
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok((key.to_string(), None));
    }
    let (rps, burst) = match value.split_once('/') {
        Some((r, b)) => (r, Some(b)),
        None => (value, None),
    };
    // Bounded both ways: a rate near zero makes a run wait for ever, and
    // one near f64::MAX overflows the waits computed from it.
    let num = |t: &str, (lo, hi): (f64, f64), what: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && (lo..=hi).contains(v))
            .ok_or_else(|| {
                format!("--rate-limit {s}: {what} `{t}` must be a number from {lo} to {hi}")
            })
    };
    let per_second = num(rps, RPS_BOUNDS, "the rate")?;
    let burst = match burst {
        Some(b) => num(b, BURST_BOUNDS, "the burst")?,
        None => per_second.max(1.0),
    };
    Ok((key.to_string(), Some(Rate { per_second, burst })))
}

/// The rates in force: the defaults with the overrides applied.
pub fn rates(overrides: &[(String, Option<Rate>)]) -> BTreeMap<String, Option<Rate>> {
    let mut out: BTreeMap<String, Option<Rate>> = DEFAULT_RATES
        .iter()
        .map(|(k, r)| (k.to_string(), Some(*r)))
        .collect();
    for (k, r) in overrides {
        out.insert(k.clone(), *r);
    }
    out
}

/// The slowest a throttled bucket gets.
const MIN_RATE: f64 = 0.5;
/// The rate a service without a documented bucket starts at once AWS has
/// throttled it.
const ADAPTIVE_START: Rate = Rate::new(5.0, 1.0);

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    last: Instant,
    /// The rate now: the configured one, or less after throttling.
    per_second: f64,
}

#[derive(Debug)]
struct Bucket {
    /// The configured rate, which recovery never exceeds.
    rate: Rate,
    state: Mutex<BucketState>,
}

impl Bucket {
    fn new(rate: Rate) -> Bucket {
        Bucket {
            rate,
            state: Mutex::new(BucketState {
                tokens: rate.burst,
                last: Instant::now(),
                per_second: rate.per_second,
            }),
        }
    }

    /// Takes a token now, or says how long until one is available.
    fn try_take(&self) -> Result<(), Duration> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let refill = now.duration_since(s.last).as_secs_f64() * s.per_second;
        s.tokens = (s.tokens + refill).min(self.rate.burst);
        s.last = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - s.tokens) / s.per_second))
        }
    }

    /// AWS throttled a call that drew from this bucket: halve the rate and
    /// spend what is left.
    fn slow_down(&self) {
        if let Ok(mut s) = self.state.lock() {
            // Never below the floor, nor above a configured rate that is
            // already lower than the floor.
            s.per_second = (s.per_second / 2.0).max(MIN_RATE.min(self.rate.per_second));
            s.tokens = s.tokens.min(0.0);
            s.last = Instant::now();
        }
    }

    /// A call succeeded: win back part of the configured rate.
    fn recover(&self) {
        if let Ok(mut s) = self.state.lock()
            && s.per_second < self.rate.per_second
        {
            s.per_second = (s.per_second + self.rate.per_second / 20.0).min(self.rate.per_second);
        }
    }

    #[cfg(test)]
    fn per_second(&self) -> f64 {
        self.state.lock().map(|s| s.per_second).unwrap_or(0.0)
    }

    async fn take(&self) -> Duration {
        let mut waited = Duration::ZERO;
        loop {
            match self.try_take() {
                Ok(()) => return waited,
                Err(d) => {
                    tokio::time::sleep(d).await;
                    waited += d;
                }
            }
        }
    }
}

/// What pacing did, for `--stats`.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct PaceStats {
    /// Calls that waited for a token.
    pub waits: u64,
    /// Time spent waiting for tokens, summed over calls, in milliseconds.
    pub waited_ms: u64,
}

/// The buckets of one region and the process-wide concurrency limit.
#[derive(Debug)]
pub struct Pacer {
    rates: BTreeMap<String, Option<Rate>>,
    buckets: Mutex<BTreeMap<String, Arc<Bucket>>>,
    permits: Arc<Semaphore>,
    stats: Mutex<PaceStats>,
}

impl Pacer {
    pub fn new(rates: BTreeMap<String, Option<Rate>>, permits: Arc<Semaphore>) -> Arc<Pacer> {
        Arc::new(Pacer {
            rates,
            buckets: Mutex::new(BTreeMap::new()),
            permits,
            stats: Mutex::new(PaceStats::default()),
        })
    }

    pub fn stats(&self) -> PaceStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    fn bucket(&self, key: &str, rate: Rate) -> Arc<Bucket> {
        match self.buckets.lock() {
            Ok(mut b) => b
                .entry(key.to_string())
                .or_insert_with(|| Arc::new(Bucket::new(rate)))
                .clone(),
            Err(_) => Arc::new(Bucket::new(rate)),
        }
    }

    /// The buckets a call of `operation` on `service` draws from.
    fn buckets_for(&self, service: &str, operation: Option<&str>) -> Vec<Arc<Bucket>> {
        let mut out = Vec::new();
        if let Some(Some(r)) = self.rates.get(service) {
            out.push(self.bucket(service, *r));
        } else if let Some(b) = self.adaptive(service) {
            out.push(b);
        }
        if let Some(op) = operation {
            let own = format!("{service}:{op}");
            if let Some(Some(r)) = self.rates.get(&own) {
                out.push(self.bucket(&own, *r));
            } else if let Some(Some(r)) = self.rates.get(&format!("{service}:*")) {
                out.push(self.bucket(&own, *r));
            }
        }
        out
    }

    /// The bucket a service without a configured rate got when AWS first
    /// throttled it. A service whose limit was lifted with `=off` gets none.
    fn adaptive(&self, service: &str) -> Option<Arc<Bucket>> {
        let key = format!("{service}#adaptive");
        self.buckets.lock().ok()?.get(&key).cloned()
    }

    /// AWS throttled a call of `operation` on `service`.
    pub fn throttled(&self, service: &str, operation: &str) {
        let op = (!operation.is_empty()).then_some(operation);
        let buckets = self.buckets_for(service, op);
        if buckets.is_empty() {
            if matches!(self.rates.get(service), Some(None)) {
                return;
            }
            let b = self.bucket(&format!("{service}#adaptive"), ADAPTIVE_START);
            b.slow_down();
            return;
        }
        for b in buckets {
            b.slow_down();
        }
    }

    /// A call of `operation` on `service` succeeded.
    pub fn succeeded(&self, service: &str, operation: &str) {
        let op = (!operation.is_empty()).then_some(operation);
        for b in self.buckets_for(service, op) {
            b.recover();
        }
    }

    async fn admit(&self, service: &str, operation: Option<&str>) {
        let mut waited = Duration::ZERO;
        // The operation's own bucket first: it is the narrower one, and a
        // call holding a service token while it waits there for seconds
        // would keep that token from calls that could go now.
        for b in self.buckets_for(service, operation).into_iter().rev() {
            waited += b.take().await;
        }
        if !waited.is_zero()
            && let Ok(mut s) = self.stats.lock()
        {
            s.waits += 1;
            s.waited_ms += u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        }
    }
}

/// The operation of a request, as far as pacing needs it: the `Action` of
/// a query-protocol body (EC2, ELB), or a path AWS limits on its own.
fn operation_of(service: &str, req: &HttpRequest) -> Option<String> {
    if let Some(body) = req.body().bytes()
        && let Some(start) = find(body, b"Action=")
    {
        let rest = &body[start + 7..];
        let end = rest.iter().position(|b| *b == b'&').unwrap_or(rest.len());
        return std::str::from_utf8(&rest[..end]).ok().map(str::to_string);
    }
    let path = req.uri().split('?').next().unwrap_or("");
    if service == "apigateway" && req.method() == "GET" && path.ends_with("/resources") {
        return Some("GetResources".to_string());
    }
    // JSON protocols (ACM, Logs) name the operation in a header.
    req.headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// When the run must end (`--deadline`), if it must.
static DEADLINE: std::sync::OnceLock<tokio::time::Instant> = std::sync::OnceLock::new();

/// What a read cut by the deadline says.
pub const DEADLINE_PASSED: &str = "the run's --deadline passed before AWS answered";

/// Sets the run's deadline, `after` from now; a second call changes
/// nothing (one run, one deadline).
pub fn set_deadline(after: Duration) {
    let _ = DEADLINE.set(tokio::time::Instant::now() + after);
}

/// An HTTP client that paces every request of one service.
#[derive(Debug, Clone)]
pub struct PacedClient {
    inner: SharedHttpClient,
    service: &'static str,
    pacer: Arc<Pacer>,
    attempt_timeout: Option<Duration>,
}

impl PacedClient {
    /// `attempt_timeout` bounds each request from its admission on.
    pub fn shared(
        inner: SharedHttpClient,
        service: &'static str,
        pacer: Arc<Pacer>,
        attempt_timeout: Option<Duration>,
    ) -> SharedHttpClient {
        SharedHttpClient::new(PacedClient {
            inner,
            service,
            pacer,
            attempt_timeout,
        })
    }
}

impl HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            service: self.service,
            pacer: self.pacer.clone(),
            attempt_timeout: self.attempt_timeout,
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    service: &'static str,
    pacer: Arc<Pacer>,
    attempt_timeout: Option<Duration>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let pacer = self.pacer.clone();
        let service = self.service;
        let attempt_timeout = self.attempt_timeout;
        let work = async move {
            let op = operation_of(service, &request);
            pacer.admit(service, op.as_deref()).await;
            // A closed semaphore cannot happen (it is never closed); if it
            // did, sending unpaced beats failing the audit.
            let _permit = pacer.permits.clone().acquire_owned().await.ok();
            match attempt_timeout {
                None => inner.call(request).await,
                Some(limit) => match tokio::time::timeout(limit, inner.call(request)).await {
                    Ok(answer) => answer,
                    // A timeout error, so the retry policy and the failure
                    // text treat it as the SDK's own attempt timeout.
                    Err(_) => Err(ConnectorError::timeout(
                        format!("no answer within {limit:?}").into(),
                    )),
                },
            }
        };
        // The whole run's deadline cuts every attempt, waiting for its
        // turn or in flight: what has not answered by then is a timeout,
        // and its read becomes an `error` finding in the report.
        let send = async move {
            match DEADLINE.get() {
                None => work.await,
                Some(at) => match tokio::time::timeout_at(*at, work).await {
                    Ok(answer) => answer,
                    Err(_) => Err(ConnectorError::timeout(DEADLINE_PASSED.into())),
                },
            }
        };
        // Each request goes out on a task of its own. The collector's calls
        // are futures of one task, polled by one thread, so otherwise a
        // request could connect and write only when that task next came
        // round to it: after every other call of its wave had been built
        // and signed, which delayed the first request of a wide wave by
        // milliseconds and kept the second core idle.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let mut task = AbortOnDrop(runtime.spawn(send));
                HttpConnectorFuture::new(async move {
                    match (&mut task.0).await {
                        Ok(answer) => answer,
                        Err(e) => Err(ConnectorError::other(
                            format!("the request's task ended without an answer: {e}").into(),
                            None,
                        )),
                    }
                })
            }
            Err(_) => HttpConnectorFuture::new(send),
        }
    }
}

/// A spawned request, cancelled with the call that awaits it (an
/// interrupted audit, or the SDK giving up on the attempt).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_flags() {
        assert_eq!(
            parse_rate_limit("apigateway=5/20"),
            Ok(("apigateway".to_string(), Some(Rate::new(5.0, 20.0))))
        );
        assert_eq!(
            parse_rate_limit("ec2:*=50"),
            Ok(("ec2:*".to_string(), Some(Rate::new(50.0, 50.0))))
        );
        assert_eq!(
            parse_rate_limit("elasticloadbalancing=off"),
            Ok(("elasticloadbalancing".to_string(), None))
        );
        for bad in [
            "apigateway",
            "=5",
            "apigateway=0",
            "apigateway=-1",
            "apigateway=5/0.5",
            "api gateway=5",
            "x=fast",
            // A rate that would make a run wait for ever, or overflow.
            "apigateway=1e-300",
            "apigateway=1e20",
            "apigateway=5/1e20",
            "apigateway=NaN",
            "apigateway=inf",
        ] {
            assert!(parse_rate_limit(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_rate_limit("acm:*=0.01/1"),
            Ok(("acm:*".to_string(), Some(Rate::new(0.01, 1.0))))
        );
        let r = rates(&[("apigateway".into(), None)]);
        assert_eq!(r["apigateway"], None);
        assert_eq!(r["elasticloadbalancing"], Some(Rate::new(9.0, 30.0)));
    }

    #[tokio::test]
    async fn a_bucket_allows_its_burst_then_makes_callers_wait() {
        let b = Bucket::new(Rate::new(200.0, 3.0));
        for _ in 0..3 {
            assert_eq!(b.take().await, Duration::ZERO);
        }
        // The burst is spent: the next token has to be waited for.
        assert!(b.take().await > Duration::ZERO);
    }

    #[test]
    fn throttling_halves_a_bucket_and_success_wins_it_back() {
        let pacer = Pacer::new(rates(&[]), Arc::new(Semaphore::new(4)));
        let b = pacer.buckets_for("elasticloadbalancing", None)[0].clone();
        assert_eq!(b.per_second(), 9.0);
        pacer.throttled("elasticloadbalancing", "DescribeTargetHealth");
        assert_eq!(b.per_second(), 4.5);
        pacer.throttled("elasticloadbalancing", "DescribeTargetHealth");
        assert_eq!(b.per_second(), 2.25);
        for _ in 0..100 {
            pacer.succeeded("elasticloadbalancing", "DescribeTargetHealth");
        }
        assert_eq!(b.per_second(), 9.0, "never above the configured rate");
        for _ in 0..20 {
            pacer.throttled("elasticloadbalancing", "DescribeTargetHealth");
        }
        assert_eq!(b.per_second(), MIN_RATE);
        // A configured rate below the floor is never raised by a throttle.
        let slow = rates(&[("acm:*".into(), Some(Rate::new(0.1, 1.0)))]);
        let pacer_slow = Pacer::new(slow, Arc::new(Semaphore::new(4)));
        let acm = pacer_slow.buckets_for("acm", Some("DescribeCertificate"))[0].clone();
        pacer_slow.throttled("acm", "DescribeCertificate");
        assert_eq!(acm.per_second(), 0.1);
        // A service without a bucket gets one when it is first throttled...
        assert!(
            pacer
                .buckets_for("sts", Some("GetCallerIdentity"))
                .is_empty()
        );
        pacer.throttled("sts", "GetCallerIdentity");
        let sts = pacer.buckets_for("sts", Some("GetCallerIdentity"));
        assert_eq!(sts.len(), 1);
        assert_eq!(sts[0].per_second(), ADAPTIVE_START.per_second / 2.0);
        // ...but not one whose limit was lifted on purpose.
        let lifted = Pacer::new(
            rates(&[("apigateway".into(), None)]),
            Arc::new(Semaphore::new(4)),
        );
        lifted.throttled("apigateway", "GetStages");
        assert!(lifted.buckets_for("apigateway", None).is_empty());
    }

    #[test]
    fn operations_and_buckets() {
        let pacer = Pacer::new(rates(&[]), Arc::new(Semaphore::new(4)));
        assert_eq!(
            pacer.buckets_for("apigateway", Some("GetResources")).len(),
            2
        );
        assert_eq!(pacer.buckets_for("apigateway", None).len(), 1);
        assert_eq!(pacer.buckets_for("ec2", Some("DescribeSubnets")).len(), 1);
        assert_eq!(pacer.buckets_for("sts", Some("GetCallerIdentity")).len(), 0);
        // EC2's buckets are per action: two actions, two buckets.
        let a = pacer.buckets_for("ec2", Some("DescribeSubnets"));
        let b = pacer.buckets_for("ec2", Some("DescribeNetworkAcls"));
        assert!(!Arc::ptr_eq(&a[0], &b[0]));
        let again = pacer.buckets_for("ec2", Some("DescribeSubnets"));
        assert!(Arc::ptr_eq(&a[0], &again[0]));
    }

    /// An endpoint that never answers and reports when a request reaches
    /// it and when that request is dropped.
    #[derive(Debug, Clone, Default)]
    struct Silent {
        reached: Arc<std::sync::atomic::AtomicBool>,
        dropped: Arc<std::sync::atomic::AtomicBool>,
    }

    struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);

    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl HttpConnector for Silent {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let (reached, dropped) = (self.reached.clone(), self.dropped.clone());
            HttpConnectorFuture::new(async move {
                let _guard = SetOnDrop(dropped);
                reached.store(true, std::sync::atomic::Ordering::SeqCst);
                std::future::pending().await
            })
        }
    }

    fn paced_silent() -> (PacedConnector, Silent) {
        let silent = Silent::default();
        let connector = PacedConnector {
            inner: SharedHttpConnector::new(silent.clone()),
            service: "apigateway",
            pacer: Pacer::new(rates(&[]), Arc::new(Semaphore::new(4))),
            attempt_timeout: None,
        };
        (connector, silent)
    }

    async fn until(flag: &std::sync::atomic::AtomicBool) -> bool {
        for _ in 0..200 {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_goes_out_before_its_caller_polls_it_and_stops_when_dropped() {
        let (connector, silent) = paced_silent();
        let request = HttpRequest::get("http://127.0.0.1:9/restapis").expect("a valid URI");
        // Never polled: the collector may be busy building the other calls
        // of its wave, and the request must leave regardless.
        let call = connector.call(request);
        assert!(
            until(&silent.reached).await,
            "the request never reached the endpoint"
        );
        assert!(!silent.dropped.load(std::sync::atomic::Ordering::SeqCst));
        // Dropping the call (an interrupt, an abandoned attempt) cancels the
        // request instead of leaving it running.
        drop(call);
        assert!(
            until(&silent.dropped).await,
            "the request outlived its call"
        );
    }
}
