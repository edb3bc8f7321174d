//! The one place the process reads the wall clock.
//!
//! What the tool judges is judged against the real time: a live snapshot's
//! `recorded_at` (which certificate expiry is measured from), a
//! suppression's expiry, the window of a log scan. `SOURCE_DATE_EPOCH`
//! (the reproducible-builds convention) changes none of them: a variable
//! left set in a CI job must not make an expired suppression live again or
//! an expired certificate pass. It fixes only the timestamp a report of a
//! snapshot replay carries, so golden tests and replays render
//! byte-identical output. Measuring how long something took (`Instant`) is
//! not reading the time of day and stays where it is measured.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The current time in UTC, to the second. Never overridden.
pub fn now_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    OffsetDateTime::from_unix_timestamp(now.unix_timestamp()).unwrap_or(now)
}

/// When a report says it was generated, as RFC 3339: the wall clock, or for
/// a replay of a snapshot (`replay`) the time `SOURCE_DATE_EPOCH` names.
pub fn report_rfc3339(replay: bool) -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    rfc3339(report_time(epoch.as_deref(), replay, now_seconds()))
}

/// [`report_rfc3339`]'s choice, without the environment.
fn report_time(epoch: Option<&str>, replay: bool, wall: OffsetDateTime) -> OffsetDateTime {
    epoch
        .filter(|_| replay)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(wall)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_fixes_only_a_replays_report_time() {
        let wall = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let fixed = OffsetDateTime::from_unix_timestamp(1_796_083_200).expect("time");
        assert_eq!(report_time(Some("1796083200"), true, wall), fixed);
        assert_eq!(report_time(Some("1796083200"), false, wall), wall);
        assert_eq!(report_time(Some("not a number"), true, wall), wall);
        assert_eq!(report_time(None, true, wall), wall);
        assert_eq!(rfc3339(fixed), "2026-12-01T00:00:00Z");
    }
}
