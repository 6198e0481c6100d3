//! sysObjectID → the maker, through IANA's Private Enterprise Numbers: a
//! device's sysObjectID sits under 1.3.6.1.4.1.<PEN> of its vendor. The table
//! is a data file (`data/enterprise-numbers.tsv`, rebuilt by
//! `scripts/update-enterprise-numbers.sh`), parsed on first use only, so an
//! agent that never speaks SNMP never pays for it.

use std::sync::OnceLock;

const DATA: &str = include_str!("../data/enterprise-numbers.tsv");

fn table() -> &'static [(u32, &'static str)] {
    static TABLE: OnceLock<Vec<(u32, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows: Vec<(u32, &'static str)> = DATA
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (pen, name) = l.split_once('\t')?;
                Some((pen.parse().ok()?, name))
            })
            .collect();
        rows.sort_unstable_by_key(|r| r.0);
        rows
    })
}

/// The enterprise number and organisation of a dotted sysObjectID
/// (`1.3.6.1.4.1.367.1.1` → 367, "RICOH Co. Ltd."). None when the OID is not
/// under the enterprises arc or the number is not registered.
pub fn enterprise_of(sys_object_id: &str) -> Option<(u32, &'static str)> {
    let rest = sys_object_id
        .trim_start_matches('.')
        .strip_prefix("1.3.6.1.4.1.")?;
    let pen: u32 = rest.split('.').next()?.parse().ok()?;
    let table = table();
    let at = table.binary_search_by_key(&pen, |r| r.0).ok()?;
    Some(table[at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makers_from_sys_object_ids() {
        assert_eq!(
            enterprise_of("1.3.6.1.4.1.367.1.1"),
            Some((367, "RICOH Co. Ltd."))
        );
        assert_eq!(
            enterprise_of(".1.3.6.1.4.1.48690.1.1"),
            Some((48690, "Teltonika"))
        );
        assert_eq!(
            enterprise_of("1.3.6.1.4.1.8072.3.2.10"),
            Some((8072, "net-snmp"))
        );
        assert_eq!(
            enterprise_of("1.3.6.1.4.1.20992"),
            Some((20992, "CradlePoint, Inc."))
        );
    }

    #[test]
    fn other_oids_have_no_maker() {
        for oid in [
            "",
            "1.3.6.1.2.1.1",
            "1.3.6.1.4.1.",
            "1.3.6.1.4.1.x.1",
            "1.3.6.1.4.1.4294967295",
            "1.3.6.1.4.1.99999999999",
        ] {
            assert_eq!(enterprise_of(oid), None, "{oid}");
        }
    }
}
