//! CloudWatch Logs reads for `explain --from-logs`: the recent messages of
//! one stage's log group, newest pages followed up to a cap so a noisy
//! stage cannot make an incident-time command run for minutes.

use aws_config::SdkConfig;

use apigw_audit_checks::model::Failure;

use super::aws::RecordCalls;
use super::error::{Op, classify};

/// The messages a log group received in the last `seconds`, oldest first,
/// at most `cap` of them.
pub async fn messages(
    cfg: &SdkConfig,
    rec: &RecordCalls,
    group: &str,
    seconds: u64,
    cap: usize,
) -> Result<Vec<String>, Failure> {
    let client = aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::config::Builder::from(cfg)
            .interceptor(rec.clone())
            .build(),
    );
    let op = Op::named("logs:FilterLogEvents");
    let now_ms = crate::clock::now_seconds().unix_timestamp() * 1000;
    let window_ms = i64::try_from(seconds)
        .unwrap_or(i64::MAX / 2000)
        .saturating_mul(1000);
    let start = now_ms.saturating_sub(window_ms).max(0);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| classify(&op, &e))?;
        out.extend(
            page.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        // A repeated token would loop forever on a misbehaving endpoint.
        match page.next_token() {
            Some(t) if out.len() < cap && Some(t) != token.as_deref() => {
                token = Some(t.to_string());
            }
            _ => break,
        }
    }
    out.truncate(cap);
    Ok(out)
}
