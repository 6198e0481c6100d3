//! MAC address → vendor name, from the IEEE registries (MA-L, MA-M, MA-S, IAB, CID)
//! embedded at build time by the `oui-data` crate.
//!
//! Why `oui-data`: it carries the freshest registry of the candidates (2026 data,
//! MIT, a compile-time perfect-hash map, no start-up parsing); Debian's `ieee-data`
//! is from 2022 and `oui` bundles Wireshark's GPL `manuf`. See
//! `shared/notes/crates.md` §8.

use daicho_report::MacAddr;

/// The organisation the IEEE lists for this MAC's prefix, longest match first
/// (MA-S 36 bits, then MA-M 28 bits, then MA-L 24 bits).
///
/// Multicast addresses have no vendor. Locally administered addresses usually
/// have none either; the CID registry covers the few that do.
pub fn vendor(mac: &MacAddr) -> Option<&'static str> {
    if mac.is_multicast() {
        return None;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = [0u8; 12];
    for (i, octet) in mac.0.iter().enumerate() {
        text[2 * i] = HEX[usize::from(octet >> 4)];
        text[2 * i + 1] = HEX[usize::from(octet & 0x0f)];
    }
    let text = std::str::from_utf8(&text).expect("hex digits are ASCII");
    oui_data::lookup(text).map(|record| record.organization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(mac: &str) -> Option<&'static str> {
        vendor(&mac.parse().unwrap())
    }

    #[test]
    fn known_prefixes() {
        assert_eq!(lookup("00:00:00:12:34:56"), Some("XEROX CORPORATION"));
        assert_eq!(lookup("50:a6:d8:00:00:01"), Some("Apple, Inc."));
        // A 28-bit MA-M block wins over its 24-bit parent.
        assert_eq!(lookup("b8:4c:87:40:00:00"), Some("Blum Novotest GmbH"));
    }

    #[test]
    fn random_and_group_addresses_have_no_vendor() {
        assert_eq!(lookup("02:11:22:33:44:55"), None);
        assert_eq!(lookup("01:00:5e:00:00:fb"), None);
        assert_eq!(lookup("ff:ff:ff:ff:ff:ff"), None);
    }
}
