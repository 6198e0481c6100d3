//! Any frame from the link, read as an answer to the half-open port check:
//! parsing must not panic, and an answer is only ever to our address and
//! port, from the frame's own IPv4 source.
#![no_main]
use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;

const OWN: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);

fuzz_target!(|data: &[u8]| {
    if let Some((from, _port, _state)) = daicho_pace::parse_reply(data, OWN, 61_234) {
        // Ethernet (14) + the IPv4 source at offset 12.
        assert_eq!(from.octets(), data[26..30]);
        assert_eq!(data[30..34], OWN.octets());
    }
});
