//! The one place the process reads the wall clock.
//!
//! Every timestamp a report, a snapshot, a log query or a suppression's
//! expiry sees comes from here, so `SOURCE_DATE_EPOCH` fixes all of them
//! at once (golden tests and replays render byte-identical output).
//! Measuring how long something took (`Instant`) is not reading the time
//! of day and stays where it is measured.

/// The current time in UTC, to the second; `SOURCE_DATE_EPOCH` (the
/// reproducible-builds convention) fixes it, so golden tests and replays
/// render byte-identical reports.
pub fn now_seconds() -> time::OffsetDateTime {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
    {
        return t;
    }
    let now = time::OffsetDateTime::now_utc();
    time::OffsetDateTime::from_unix_timestamp(now.unix_timestamp()).unwrap_or(now)
}

/// The current time as RFC 3339 in UTC, to the second.
pub fn now_rfc3339() -> String {
    let now = now_seconds();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}
