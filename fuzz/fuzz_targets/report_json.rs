//! Reports arrive at the collector from the network: any bytes give a report or
//! an error, never a panic; what reads back writes and reads the same.
#![no_main]
use daicho_report::Report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = Report::from_json(data) {
        let again = serde_json::to_vec(&report).expect("a report serializes");
        assert!(Report::from_json(&again).is_ok());
    }
});
