//! MAC address → vendor name, from the IEEE registries (MA-L, MA-M, MA-S, IAB,
//! CID) embedded at build time from `data/ieee-registry.tsv`.
//!
//! Why not a crate: `oui-data` (the freshest, MIT) stores a `phf` map of
//! `&'static str`; every entry needs a load-time relocation, which made 8 MB of
//! the agent's memory resident before any scan. Our build script writes the
//! same IEEE data as pointer-free sorted tables that are paged in on use. The
//! TSV is regenerated from the IEEE CSVs by `scripts/update-oui-data.py`
//! (current data: the IEEE files of 2026-07, as shipped by oui-data 0.2.4).
//! Debian's `ieee-data` is from 2022; the `oui` crate bundles GPL data.

use daicho_report::MacAddr;

include!(concat!(env!("OUT_DIR"), "/registry.rs"));

/// The organisation the IEEE lists for this MAC's prefix, longest match first
/// (MA-S/IAB 36 bits, then MA-M 28 bits, then MA-L/CID 24 bits).
///
/// Multicast addresses have no vendor. Locally administered addresses usually
/// have none either; the CID registry covers the few that do.
pub fn vendor(mac: &MacAddr) -> Option<&'static str> {
    if mac.is_multicast() {
        return None;
    }
    let bits = mac
        .0
        .iter()
        .fold(0u64, |acc, octet| (acc << 8) | u64::from(*octet));
    [(MA_S, 36), (MA_M, 28), (MA_L, 24)]
        .into_iter()
        .find_map(|(table, len)| {
            let prefix = bits >> (48 - len);
            let at = table.binary_search_by_key(&prefix, |entry| entry.0).ok()?;
            let (_, start, len) = table[at];
            NAMES.get(start as usize..(start + len) as usize)
        })
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
        // A 36-bit MA-S block.
        assert_eq!(
            lookup("8c:1f:64:af:a0:01"),
            Some("DATA ELECTRONIC DEVICES, INC")
        );
        assert_eq!(lookup("00:40:d1:00:00:01"), Some("FUKUDA DENSHI CO., LTD."));
    }

    #[test]
    fn random_and_group_addresses_have_no_vendor() {
        assert_eq!(lookup("02:11:22:33:44:55"), None);
        assert_eq!(lookup("01:00:5e:00:00:fb"), None);
        assert_eq!(lookup("ff:ff:ff:ff:ff:ff"), None);
    }
}
