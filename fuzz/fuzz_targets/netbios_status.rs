//! Any bytes a host sends back to UDP 137: parsing must not panic, and the
//! names it returns are bounded by the bytes.
#![no_main]
use daicho_netbios::{NodeStatus, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = Packet::new_checked(data)
        && let Ok(status) = NodeStatus::parse(&packet)
    {
        assert!(status.names.len() * 18 <= data.len());
        let _ = (status.computer_name(), status.workgroup());
    }
});
