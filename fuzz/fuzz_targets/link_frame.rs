//! LLDP and CDP frames as the passive listener receives them: any switch
//! port or device on the segment controls every byte behind the header.
//! The input goes in once behind an LLDP Ethernet header and once behind
//! CDP's 802.3 + LLC/SNAP header; reading must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lldp = vec![0x01, 0x80, 0xc2, 0, 0, 0x0e, 0, 0x1a, 0xeb, 0, 0, 1, 0x88, 0xcc];
    lldp.extend_from_slice(data);
    let _ = daicho_listen::hear(&lldp);
    let length = u16::try_from(data.len() + 12).unwrap_or(0x05ff).min(0x05ff);
    let mut cdp = vec![0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc, 0, 0x1a, 0xeb, 0, 0, 1];
    cdp.extend_from_slice(&length.to_be_bytes());
    cdp.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 0x02, 0xb4, 0, 0]);
    cdp.extend_from_slice(data);
    let _ = daicho_listen::hear(&cdp);
});
