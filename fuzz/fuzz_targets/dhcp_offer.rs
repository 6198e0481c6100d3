//! Any bytes that reach UDP 68 during the DHCP probe (other clients'
//! traffic, hostile servers): reading must not panic, and what is read as an
//! offer really answers our transaction. Half the inputs are given a valid
//! header for our transaction, so that the options behind it get fuzzed.
#![no_main]
use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let xid = 0x6461_6963;
    let _ = daicho_dhcp::parse_offer(data, xid, Ipv4Addr::LOCALHOST);
    let mut packet = vec![0u8; 240];
    packet[0] = 2; // BOOTREPLY
    packet[4..8].copy_from_slice(&xid.to_be_bytes());
    packet[28..34].copy_from_slice(&daicho_dhcp::PROBE_MAC);
    packet[236..240].copy_from_slice(&[99, 130, 83, 99]);
    packet.extend_from_slice(data);
    if let Some(offer) = daicho_dhcp::parse_offer(&packet, xid, Ipv4Addr::LOCALHOST) {
        assert_eq!(offer.from, Ipv4Addr::LOCALHOST);
        assert!(offer.routers.len() * 4 <= data.len());
    }
});
