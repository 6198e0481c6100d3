//! The tables that show a device's interfaces and addresses: IF-MIB ifTable
//! and ifXTable (names, types, MACs, states) and IP-MIB ipAddrTable (every
//! IPv4 address with its interface and mask — how a host shows that it also
//! sits on another network).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use async_snmp::{Client, Oid, Value};
use daicho_report::{MacAddr, SnmpAddress, SnmpEntity, SnmpInterface, SnmpNeighbour, SnmpRoute};

/// Rows read per column at most; a larger table is cut and said so.
pub const MAX_ROWS: usize = 10_000;

/// Walks one column; returns (index arcs after the column OID, value) pairs.
/// A failed or cut walk keeps what it got and adds a note.
async fn column(
    client: &Client,
    base: &[u32],
    label: &str,
    notes: &mut Vec<String>,
) -> Vec<(Vec<u32>, Value)> {
    let base = Oid::from_slice(base);
    let mut rows = Vec::new();
    let mut walk = match client.walk(base.clone()) {
        Ok(walk) => walk,
        Err(e) => {
            notes.push(format!("{label}: {e}"));
            return rows;
        }
    };
    while let Some(item) = walk.next().await {
        match item {
            Ok(varbind) => {
                if rows.len() >= MAX_ROWS {
                    notes.push(format!("{label}: cut at {MAX_ROWS} rows"));
                    break;
                }
                if let Some(index) = varbind.oid.strip_prefix(&base) {
                    rows.push((index.arcs().to_vec(), varbind.value));
                }
            }
            // Includes the library's loop guard: an agent returning
            // non-increasing OIDs ends the walk here instead of looping.
            Err(e) => {
                notes.push(format!("{label}: walk stopped: {e}"));
                break;
            }
        }
    }
    rows
}

/// Device strings are untrusted: invalid UTF-8 is replaced, control
/// characters dropped, length capped.
pub(crate) fn text(value: &Value) -> Option<String> {
    const MAX: usize = 1024;
    let bytes = value.as_bytes()?;
    let clean: String = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)])
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    Some(clean.trim().to_owned())
}

/// One column of a table: its OID, a label for notes, and where its value goes.
struct Column<R> {
    oid: &'static [u32],
    label: &'static str,
    set: fn(&mut R, &Value),
}

/// Walks `columns` and gathers their values into rows keyed by `key(index)`;
/// `new` makes a row the first time a key is seen.
async fn rows<K: Ord + Copy, R>(
    client: &Client,
    notes: &mut Vec<String>,
    columns: &[Column<R>],
    key: fn(&[u32]) -> Option<K>,
    new: fn(K) -> R,
) -> BTreeMap<K, R> {
    let mut rows = BTreeMap::new();
    for c in columns {
        for (index, value) in column(client, c.oid, c.label, notes).await {
            if let Some(k) = key(&index) {
                (c.set)(rows.entry(k).or_insert_with(|| new(k)), &value);
            }
        }
    }
    rows
}

fn if_index(index: &[u32]) -> Option<u32> {
    match index {
        [i] => Some(*i),
        _ => None,
    }
}

fn ipv4_index(index: &[u32]) -> Option<Ipv4Addr> {
    let octets: Vec<u8> = index
        .iter()
        .map(|a| u8::try_from(*a).ok())
        .collect::<Option<_>>()?;
    let octets: [u8; 4] = octets.try_into().ok()?;
    Some(octets.into())
}

const IF_COLUMNS: &[Column<SnmpInterface>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2],
        label: "ifDescr",
        set: |r, v| r.descr = text(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3],
        label: "ifType",
        set: |r, v| r.if_type = v.as_i32(),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 6],
        label: "ifPhysAddress",
        set: |r, v| r.mac = mac(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7],
        label: "ifAdminStatus",
        set: |r, v| r.admin_up = v.as_i32().map(|s| s == 1),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8],
        label: "ifOperStatus",
        set: |r, v| r.oper_up = v.as_i32().map(|s| s == 1),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1],
        label: "ifName",
        set: |r, v| r.name = text(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15],
        label: "ifHighSpeed",
        set: |r, v| r.speed_mbps = v.as_u32().map(u64::from),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18],
        label: "ifAlias",
        set: |r, v| r.alias = text(v).filter(|a| !a.is_empty()),
    },
];

const IP_ADDR_COLUMNS: &[Column<SnmpAddress>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 20, 1, 2],
        label: "ipAdEntIfIndex",
        set: |r, v| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 20, 1, 3],
        label: "ipAdEntNetMask",
        set: |r, v| r.prefix_len = v.as_ip().map(|mask| u32::from(mask).leading_ones() as u8),
    },
];

const NET_TO_MEDIA_COLUMNS: &[Column<(SnmpNeighbour, Option<i32>)>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 22, 1, 2],
        label: "ipNetToMediaPhysAddress",
        set: |r, v| r.0.mac = mac(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 22, 1, 4],
        label: "ipNetToMediaType",
        set: |r, v| r.1 = v.as_i32(),
    },
];

const ROUTE_COLUMNS: &[Column<SnmpRoute>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 21, 1, 2],
        label: "ipRouteIfIndex",
        set: |r, v| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 21, 1, 7],
        label: "ipRouteNextHop",
        set: |r, v| r.next_hop = v.as_ip().map(Into::into),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 21, 1, 11],
        label: "ipRouteMask",
        set: |r, v| r.prefix_len = v.as_ip().map(|mask| u32::from(mask).leading_ones() as u8),
    },
];

const ENTITY_COLUMNS: &[Column<SnmpEntity>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 2],
        label: "entPhysicalDescr",
        set: |r, v| r.descr = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 5],
        label: "entPhysicalClass",
        set: |r, v| r.class = v.as_i32(),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7],
        label: "entPhysicalName",
        set: |r, v| r.name = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 8],
        label: "entPhysicalHardwareRev",
        set: |r, v| r.hardware_rev = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 9],
        label: "entPhysicalFirmwareRev",
        set: |r, v| r.firmware_rev = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 10],
        label: "entPhysicalSoftwareRev",
        set: |r, v| r.software_rev = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11],
        label: "entPhysicalSerialNum",
        set: |r, v| r.serial = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 12],
        label: "entPhysicalMfgName",
        set: |r, v| r.maker = non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 13],
        label: "entPhysicalModelName",
        set: |r, v| r.model = non_empty(v),
    },
];

fn non_empty(value: &Value) -> Option<String> {
    text(value).filter(|t| !t.is_empty())
}

/// A MAC from an octet string; all-zero means "none" (loopback, tunnels).
fn mac(value: &Value) -> Option<MacAddr> {
    let octets = <[u8; 6]>::try_from(value.as_bytes()?).ok()?;
    Some(MacAddr(octets)).filter(|m| *m != MacAddr::ZERO)
}

/// Reads ENTITY-MIB's physical table, keeping the entities a ledger cares
/// about: those with a model or serial number (a switch also lists every port).
pub(crate) async fn entities(client: &Client, notes: &mut Vec<String>) -> Vec<SnmpEntity> {
    let new = |index| SnmpEntity {
        index,
        ..SnmpEntity::default()
    };
    rows(client, notes, ENTITY_COLUMNS, if_index, new)
        .await
        .into_values()
        .filter(|e| e.model.is_some() || e.serial.is_some())
        .collect()
}

/// ipNetToMediaTable index: ifIndex then the IPv4 address.
fn if_and_ipv4_index(index: &[u32]) -> Option<(u32, Ipv4Addr)> {
    let (first, rest) = index.split_first()?;
    Some((*first, ipv4_index(rest)?))
}

/// Reads the device's ARP cache; ipNetToMediaType 2 (invalid) entries are
/// dropped, 3 is learned, 4 static.
pub(crate) async fn neighbours(client: &Client, notes: &mut Vec<String>) -> Vec<SnmpNeighbour> {
    let new = |(if_index, ip): (u32, Ipv4Addr)| {
        let neighbour = SnmpNeighbour {
            ip: ip.into(),
            mac: None,
            if_index,
            is_static: None,
        };
        (neighbour, None)
    };
    rows(client, notes, NET_TO_MEDIA_COLUMNS, if_and_ipv4_index, new)
        .await
        .into_values()
        .filter(|(_, kind)| *kind != Some(2))
        .map(|(neighbour, kind)| SnmpNeighbour {
            is_static: match kind {
                Some(3) => Some(false),
                Some(4) => Some(true),
                _ => None,
            },
            ..neighbour
        })
        .collect()
}

/// Reads the IPv4 routing table (the default route is destination 0.0.0.0).
pub(crate) async fn routes(client: &Client, notes: &mut Vec<String>) -> Vec<SnmpRoute> {
    let new = |destination: Ipv4Addr| SnmpRoute {
        destination: destination.into(),
        prefix_len: None,
        next_hop: None,
        if_index: None,
    };
    rows(client, notes, ROUTE_COLUMNS, ipv4_index, new)
        .await
        .into_values()
        .collect()
}

/// Reads ifTable and ifXTable columns into interfaces by ifIndex.
pub(crate) async fn interfaces(client: &Client, notes: &mut Vec<String>) -> Vec<SnmpInterface> {
    let new = |index| SnmpInterface {
        index,
        ..SnmpInterface::default()
    };
    rows(client, notes, IF_COLUMNS, if_index, new)
        .await
        .into_values()
        .collect()
}

/// Reads ipAddrTable: address → ifIndex and netmask.
pub(crate) async fn addresses(client: &Client, notes: &mut Vec<String>) -> Vec<SnmpAddress> {
    let new = |ip: Ipv4Addr| SnmpAddress {
        ip: ip.into(),
        if_index: None,
        prefix_len: None,
    };
    rows(client, notes, IP_ADDR_COLUMNS, ipv4_index, new)
        .await
        .into_values()
        .collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_text_is_cleaned_and_capped() {
        let hostile = Value::OctetString(
            b"<script>\x1b[31m\x00=HYPERLINK(\"x\")\xff\r\n"
                .to_vec()
                .into(),
        );
        assert_eq!(
            text(&hostile).unwrap(),
            "<script>[31m=HYPERLINK(\"x\")\u{fffd}"
        );
        let huge = Value::OctetString(vec![b'a'; 100_000].into());
        assert_eq!(text(&huge).unwrap().len(), 1024);
        assert_eq!(text(&Value::Integer(5)), None);
    }

    #[test]
    fn table_indexes() {
        assert_eq!(if_index(&[7]), Some(7));
        assert_eq!(if_index(&[7, 1]), None);
        assert_eq!(
            ipv4_index(&[198, 18, 2, 30]),
            Some(Ipv4Addr::new(198, 18, 2, 30))
        );
        assert_eq!(ipv4_index(&[198, 18, 2]), None);
        assert_eq!(ipv4_index(&[198, 18, 2, 300]), None);
        assert_eq!(ipv4_index(&[1, 2, 3, 4, 5]), None);
        assert_eq!(
            if_and_ipv4_index(&[3, 198, 18, 2, 40]),
            Some((3, Ipv4Addr::new(198, 18, 2, 40)))
        );
        assert_eq!(if_and_ipv4_index(&[]), None);
    }
}
