//! Any Ethernet frame the passive listener receives (its kernel filter lets
//! through only DHCP server replies and ICMPv6 router advertisements, but a
//! hostile sender controls every byte behind the headers): reading must not
//! panic. Half the inputs are wrapped in a valid Ethernet/IPv6 header from a
//! link-local sender at hop limit 255, so the advert's options get fuzzed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = daicho_listen::hear(data);
    let mut frame = vec![0x33, 0x33, 0, 0, 0, 1, 0, 0x1e, 0x42, 0, 0, 1, 0x86, 0xdd];
    frame.extend_from_slice(&[0x60, 0, 0, 0]);
    frame.extend_from_slice(&u16::try_from(data.len()).unwrap_or(u16::MAX).to_be_bytes());
    frame.extend_from_slice(&[58, 255, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    frame.extend_from_slice(&[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    frame.extend_from_slice(data);
    if let Some(daicho_listen::Heard::RouterAdvert { advert, .. }) = daicho_listen::hear(&frame) {
        assert!(advert.prefixes.len() * 32 <= data.len());
    }
});
