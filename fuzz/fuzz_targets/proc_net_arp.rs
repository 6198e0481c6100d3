//! The neighbour-table parser over arbitrary text: never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = daicho_arp::neighbours::parse_proc_net_arp(text, "eth0");
    }
});
