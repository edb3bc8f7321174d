//! AWS configuration and clients: the credential chain, region, endpoint,
//! timeouts and retries as the AWS CLI resolves them, plus an interceptor
//! that records every operation the process invokes.
//!
//! The recorder is how the tool proves it is read-only (every operation it
//! ever sent is listed by name) and how `--stats` counts calls, retries and
//! throttles without trusting the code paths that make the calls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;

use crate::error::Fatal;

/// What the recorder saw.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CallStats {
    /// Operations invoked, as `service:Operation`, with how many times.
    pub calls: BTreeMap<String, u64>,
    /// Attempts beyond the first, summed over every call.
    pub retries: u64,
    /// Attempts AWS answered with a throttling error.
    pub throttles: u64,
    /// Response bytes received (by Content-Length).
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<CallStats>,
    /// Told of every throttled and every successful attempt, to adapt its
    /// rates.
    pacer: Option<Arc<super::pace::Pacer>>,
}

impl Recorder {
    pub fn with_pacer(pacer: Option<Arc<super::pace::Pacer>>) -> Recorder {
        Recorder {
            inner: Mutex::default(),
            pacer,
        }
    }

    pub fn snapshot(&self) -> CallStats {
        self.inner.lock().map(|g| g.clone()).unwrap_or_default()
    }

    fn with(&self, f: impl FnOnce(&mut CallStats)) {
        if let Ok(mut g) = self.inner.lock() {
            f(&mut g);
        }
    }
}

/// The interceptor installed on every client.
#[derive(Debug, Clone)]
pub struct RecordCalls(pub Arc<Recorder>);

fn op_name(cfg: &ConfigBag) -> String {
    match cfg.load::<Metadata>() {
        Some(m) => format!("{}:{}", service_prefix(m.service()), m.name()),
        None => "unknown:unknown".to_string(),
    }
}

/// The operations apigw-audit may send, one `service:Operation` a line.
const READ_ONLY_OPERATIONS: &str = include_str!("read-only-operations.txt");

/// Whether `op` (as [`op_name`] names it) is on the read-only allow-list.
fn is_read_only(op: &str) -> bool {
    READ_ONLY_OPERATIONS
        .lines()
        .map(str::trim)
        .any(|l| !l.starts_with('#') && l == op)
}

/// The IAM service prefix of an SDK service name.
pub fn service_prefix(service: &str) -> &'static str {
    match service.to_ascii_lowercase().as_str() {
        "apigateway" | "api gateway" => "apigateway",
        "apigatewayv2" => "apigateway",
        "elasticloadbalancingv2" | "elastic load balancing v2" | "elasticloadbalancing" => {
            "elasticloadbalancing"
        }
        "ec2" => "ec2",
        "sts" => "sts",
        "acm" => "acm",
        "iam" => "iam",
        "cloudfront" => "cloudfront",
        "lambda" => "lambda",
        "cloudwatchlogs" | "cloudwatch logs" | "logs" => "logs",
        "servicediscovery" => "servicediscovery",
        _ => "unknown",
    }
}

impl Intercept for RecordCalls {
    fn name(&self) -> &'static str {
        "apigw-audit-call-recorder"
    }

    // Client-level interceptors see `read_before_execution` before the
    // operation's configuration (and so its name) is in the bag; this is the
    // first hook that has it.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = op_name(cfg);
        // Read-only by construction: an operation off the allow-list is
        // refused here, before it is serialised or signed, so no code path
        // can change an account however it is called.
        if !is_read_only(&op) {
            return Err(format!(
                "apigw-audit refused to send {op}: it is not on the read-only allow-list (src/collect/read-only-operations.txt)"
            )
            .into());
        }
        tracing::debug!(operation = %op, "calling AWS");
        self.0.with(|s| *s.calls.entry(op).or_insert(0) += 1);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The first attempt is the call itself; count only the rest.
        #[derive(Debug, Clone, Copy)]
        struct Seen;
        impl aws_smithy_types::config_bag::Storable for Seen {
            type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
        }
        if cfg.load::<Seen>().is_some() {
            self.0.with(|s| s.retries += 1);
        } else {
            cfg.interceptor_state().store_put(Seen);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(resp) = context.response() {
            let status = resp.status().as_u16();
            let len = resp
                .headers()
                .get("content-length")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let header_code = resp.headers().get("x-amzn-errortype").unwrap_or("");
            let body = resp.body().bytes().unwrap_or(&[]);
            let throttled = status == 429
                || header_code.contains("Throttl")
                || header_code.contains("TooManyRequests")
                || (status >= 400 && contains_throttle_code(body));
            self.0.with(|s| {
                s.bytes += len;
                if throttled {
                    s.throttles += 1;
                }
            });
            if let Some(p) = &self.0.pacer {
                let op = op_name(cfg);
                let (service, name) = op.split_once(':').unwrap_or((op.as_str(), ""));
                if throttled {
                    p.throttled(service, name);
                } else if status < 400 {
                    p.succeeded(service, name);
                }
            }
        }
        Ok(())
    }
}

fn contains_throttle_code(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    [
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ThrottlingException",
    ]
    .iter()
    .any(|c| text.contains(c))
}

/// The one HTTPS client every AWS client of the process shares (a
/// connection pool per endpoint), built explicitly rather than left to each
/// SDK client's default, so that the pacer can wrap it: rustls with aws-lc,
/// as the SDK's default, and the HTTP(S)_PROXY environment honoured.
pub fn base_http_client() -> SharedHttpClient {
    SharedHttpClient::new(RootsLoadedAhead(hyper_client()))
}

/// The SDK's own hyper-based client behind [`base_http_client`].
fn hyper_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    static CLIENT: std::sync::OnceLock<SharedHttpClient> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            Builder::new().build_with_connector_fn(|settings, components| {
                let mut b =
                    ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
                b.set_connector_settings(settings.cloned());
                if let Some(c) = components {
                    b.set_sleep_impl(c.sleep_impl());
                }
                b.set_proxy_config(Some(ProxyConfig::from_env()));
                b.build()
            })
        })
        .clone()
}

/// Starts loading the system's root certificates on a thread of their own.
///
/// Loading them (every file of the system's bundle and certificate
/// directory) takes about 5 ms, which the SDK spends when the first client
/// is built, in the middle of loading the configuration, before any call
/// can go out. Begun here, at start-up, it overlaps with loading the
/// configuration and building the clients; the first connection waits only
/// for what is left of it.
pub fn load_roots_ahead() {
    let _ = std::thread::Builder::new()
        .name("tls-roots".to_string())
        .spawn(|| {
            // Building a TLS connector loads the roots once per process.
            let _ = hyper_client().validate_base_client_config(
                &RuntimeComponentsBuilder::new("apigw-audit root certificates"),
                &ConfigBag::base(),
            );
        });
}

/// The SDK's HTTP client, minus its habit of building a TLS connector (and
/// so loading the root certificates) whenever an SDK client is built:
/// [`load_roots_ahead`] does that off the critical path, and the first
/// connection does it if that thread has not.
#[derive(Debug)]
struct RootsLoadedAhead(SharedHttpClient);

impl HttpClient for RootsLoadedAhead {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Where and how to reach AWS, as the command resolved it from its flags:
/// the collector knows nothing of the command line.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// The region to use; `None` leaves it to AWS_REGION and the profile.
    pub region: Option<String>,
    /// The named profile; `None` leaves it to AWS_PROFILE.
    pub profile: Option<String>,
    /// Where to send every call; `None` leaves it to AWS_ENDPOINT_URL.
    pub endpoint_url: Option<String>,
    /// Seconds one attempt at a call may take (`--call-timeout`).
    pub call_timeout: f64,
    /// Attempts per call, the first included; `None` leaves it to
    /// AWS_MAX_ATTEMPTS, else 3.
    pub max_attempts: Option<u32>,
}

/// Loads the AWS configuration the way the AWS CLI does, flags first, and
/// makes sure a region and credentials exist before any call is made.
pub async fn load_config(args: &AwsSettings) -> Result<SdkConfig, Fatal> {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).http_client(base_http_client());
    if let Some(p) = &args.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &args.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &args.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    // Bounded both ways: a timeout near zero fails every call, and one of
    // 1e20 s overflows the durations built from it.
    if !(args.call_timeout.is_finite() && (0.1..=3600.0).contains(&args.call_timeout)) {
        return Err(Fatal::Usage(format!(
            "--call-timeout must be a number of seconds from 0.1 to 3600, got {}",
            args.call_timeout
        )));
    }
    let call = Duration::from_secs_f64(args.call_timeout);
    // The default config sets only a connect timeout: a server that accepts
    // and never answers would hang the audit. Every attempt is bounded by
    // the call timeout; the whole operation by attempts x timeout plus the
    // retry back-off, which an operation-wide timeout would cut short.
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2).min(call))
            .read_timeout(call)
            .operation_attempt_timeout(call)
            .build(),
    );
    loader = loader.retry_config(retry_config(args.max_attempts)?);
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(Fatal::Usage(
            "no AWS region: pass --region, set AWS_REGION, or set a region in the profile"
                .to_string(),
        ));
    }
    let Some(provider) = config.credentials_provider() else {
        return Err(Fatal::Usage(
            "no AWS credentials provider could be configured".to_string(),
        ));
    };
    match tokio::time::timeout(Duration::from_secs(15), provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(config),
        Ok(Err(aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_))) => Err(Fatal::Usage(
            "no AWS credentials found (tried the environment, the shared config and credentials files, SSO, web identity, the container and instance metadata): set AWS_PROFILE, run aws sso login, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string(),
        )),
        Ok(Err(e)) => Err(Fatal::Usage(format!(
            "the AWS credentials could not be loaded ({}): check the profile, or run aws sso login",
            error_chain(&e)
        ))),
        Err(_) => Err(Fatal::Usage(
            "no AWS credentials after 15 s of trying the credential chain: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string(),
        )),
    }
}

/// Standard retries (exponential backoff with jitter). Throttling is
/// handled before it happens by the pacer's buckets, which also adapt when
/// AWS throttles anyway (see `pace`); the SDK's own adaptive mode stalls a
/// whole client for seconds after a few throttles, which turns a short
/// burst into timeouts. AWS_MAX_ATTEMPTS and AWS_RETRY_MODE still apply,
/// as in the AWS CLI.
fn retry_config(max_attempts: Option<u32>) -> Result<RetryConfig, Fatal> {
    const MAX_ATTEMPTS: u32 = 10;
    let env_attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok());
    let attempts = max_attempts.or(env_attempts).unwrap_or(3);
    // More attempts than this only stretch a run an outage has already
    // decided: the attempts are paced and backed off, never free.
    if !(1..=MAX_ATTEMPTS).contains(&attempts) {
        return Err(Fatal::Usage(format!(
            "--max-attempts (or AWS_MAX_ATTEMPTS) must be from 1 to {MAX_ATTEMPTS}, got {attempts}"
        )));
    }
    let adaptive_wanted =
        std::env::var("AWS_RETRY_MODE").is_ok_and(|m| m.trim().eq_ignore_ascii_case("adaptive"));
    let retry = if adaptive_wanted {
        RetryConfig::adaptive()
    } else {
        RetryConfig::standard()
    };
    Ok(retry.with_max_attempts(attempts))
}

/// An error and its sources as one line, `outer: inner: root`, without the
/// `Debug` dump the SDK's `DisplayErrorContext` appends and without
/// repeating a cause that its wrapper already printed.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = one_line(&err.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Squeezes a multi-line error into one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_holds_only_reads() {
        let ops: Vec<&str> = READ_ONLY_OPERATIONS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        assert!(ops.len() >= 40, "{ops:?}");
        for op in ops {
            let (_, name) = op.split_once(':').expect("service:Operation");
            let read = ["Get", "Describe", "List", "Filter", "Export"]
                .iter()
                .any(|p| name.starts_with(p));
            assert!(read, "{op} is not a read");
        }
        assert!(is_read_only("ec2:DescribeSubnets"));
        assert!(!is_read_only("apigateway:DeleteRestApi"));
        assert!(!is_read_only("unknown:unknown"));
    }

    /// A mutating call made through a client with the interceptor is
    /// refused before it is signed: the endpoint (a listener on loopback)
    /// never sees a connection.
    #[tokio::test]
    async fn a_mutating_call_cannot_leave_the_process() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let conf = aws_sdk_apigateway::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .interceptor(RecordCalls(Arc::new(Recorder::default())))
            .build();
        let client = aws_sdk_apigateway::Client::from_conf(conf);
        // Were the call not refused, it would connect and wait for an
        // answer that never comes: the timeout turns that into a failure.
        let sent = client.delete_rest_api().rest_api_id("a1b2c3d4e5").send();
        let err = tokio::time::timeout(Duration::from_secs(5), sent)
            .await
            .expect("the call was sent and waited for an answer")
            .expect_err("refused");
        let text = error_chain(&err);
        assert!(
            text.contains("refused to send apigateway:DeleteRestApi"),
            "{text}"
        );
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "the refused call reached the endpoint");
    }
}
