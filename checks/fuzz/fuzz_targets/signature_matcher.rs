//! Any text as `explain` input: status, message, error type, log line and
//! URL are matched, classified and parsed without a panic.
#![no_main]

use apigw_audit_checks::explain::{
    ErrorInput, classify_line, match_signatures, parse_duration, parse_url,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let message = parts.next().map(str::to_string);
    let error_type = parts.next().map(str::to_string);
    let log_line = parts.next().map(str::to_string);
    let url = parts.next().map(str::to_string);
    let status = data.first().map(|b| 400 + u16::from(*b) % 200);
    let input = ErrorInput {
        status,
        message,
        error_type,
        log_line: log_line.clone(),
        url: url.clone(),
    };
    let _ = match_signatures(&input);
    if let Some(line) = &log_line {
        let _ = classify_line(line);
        let _ = parse_duration(line);
    }
    if let Some(u) = &url {
        let _ = parse_url(u);
    }
});
