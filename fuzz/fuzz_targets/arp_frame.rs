//! Any bytes from the wire: parsing must not panic, and what parses must emit
//! back to the same ARP fields.
#![no_main]
use daicho_arp::frame::{ArpRepr, FRAME_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(repr) = ArpRepr::parse(data) {
        let mut buf = [0u8; FRAME_LEN];
        repr.emit(&mut buf);
        assert_eq!(ArpRepr::parse(&buf), Ok(repr));
    }
});
