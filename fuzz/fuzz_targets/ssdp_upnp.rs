//! Whatever a UPnP device sends: SSDP messages, device descriptions and
//! gateway answers must parse or fail, never panic, and stay bounded.
#![no_main]
use daicho_ssdp::{description, gateway, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wire::Message::parse(data);
    assert!(description::parse(data).len() <= 64);
    let _ = gateway::parse_external_ip(data);
    let _ = gateway::parse_natpmp(data);
});
