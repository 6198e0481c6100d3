//! Any bytes that reach UDP 68 during the DHCP probe (other clients'
//! traffic, hostile servers): reading must not panic, and what is read as an
//! offer really answers our transaction.
#![no_main]
use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let xid = data
        .get(4..8)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if let Some(offer) = daicho_dhcp::parse_offer(data, xid, Ipv4Addr::LOCALHOST) {
        assert_eq!(offer.from, Ipv4Addr::LOCALHOST);
    }
});
