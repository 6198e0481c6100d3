//! The tables that show a device's interfaces and addresses: IF-MIB ifTable
//! and ifXTable (names, types, MACs, states) and IP-MIB ipAddrTable (every
//! IPv4 address with its interface and mask — how a host shows that it also
//! sits on another network).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use async_snmp::{Client, Oid, Value};

/// Rows read per column at most; a larger table is cut and said so.
pub const MAX_ROWS: usize = 10_000;

/// One interface as IF-MIB describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    pub descr: Option<String>,
    pub name: Option<String>,
    pub alias: Option<String>,
    /// IANAifType: 6 ethernet, 71 802.11, 243/244 3GPP/3GPP2 cellular (WWAN), ...
    pub if_type: Option<i32>,
    pub mac: Option<[u8; 6]>,
    pub admin_up: Option<bool>,
    pub oper_up: Option<bool>,
    pub speed_mbps: Option<u64>,
}

/// One IPv4 address of the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressEntry {
    pub ip: Ipv4Addr,
    pub if_index: Option<u32>,
    pub prefix_len: Option<u8>,
}

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

fn single_index(rows: Vec<(Vec<u32>, Value)>) -> impl Iterator<Item = (u32, Value)> {
    rows.into_iter()
        .filter_map(|(index, value)| match index[..] {
            [i] => Some((i, value)),
            _ => None,
        })
}

/// Reads ifTable and ifXTable columns into interfaces by ifIndex.
pub(crate) async fn interfaces(
    client: &Client,
    notes: &mut Vec<String>,
    text: fn(&Value) -> Option<String>,
) -> Vec<Interface> {
    let mut by_index: BTreeMap<u32, Interface> = BTreeMap::new();
    fn row(rows: &mut BTreeMap<u32, Interface>, i: u32) -> &mut Interface {
        rows.entry(i).or_insert_with(|| Interface {
            index: i,
            ..Interface::default()
        })
    }
    const IF_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 2, 2, 1];
    const IFX_ENTRY: [u32; 10] = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
    let col = |entry: &[u32], c: u32| [entry, &[c]].concat();

    for (i, v) in single_index(column(client, &col(&IF_ENTRY, 2), "ifDescr", notes).await) {
        row(&mut by_index, i).descr = text(&v);
    }
    for (i, v) in single_index(column(client, &col(&IF_ENTRY, 3), "ifType", notes).await) {
        row(&mut by_index, i).if_type = v.as_i32();
    }
    for (i, v) in single_index(column(client, &col(&IF_ENTRY, 6), "ifPhysAddress", notes).await) {
        row(&mut by_index, i).mac = v.as_bytes().and_then(|b| <[u8; 6]>::try_from(b).ok());
    }
    for (i, v) in single_index(column(client, &col(&IF_ENTRY, 7), "ifAdminStatus", notes).await) {
        row(&mut by_index, i).admin_up = v.as_i32().map(|s| s == 1);
    }
    for (i, v) in single_index(column(client, &col(&IF_ENTRY, 8), "ifOperStatus", notes).await) {
        row(&mut by_index, i).oper_up = v.as_i32().map(|s| s == 1);
    }
    for (i, v) in single_index(column(client, &col(&IFX_ENTRY, 1), "ifName", notes).await) {
        row(&mut by_index, i).name = text(&v);
    }
    for (i, v) in single_index(column(client, &col(&IFX_ENTRY, 15), "ifHighSpeed", notes).await) {
        row(&mut by_index, i).speed_mbps = v.as_u32().map(u64::from);
    }
    for (i, v) in single_index(column(client, &col(&IFX_ENTRY, 18), "ifAlias", notes).await) {
        row(&mut by_index, i).alias = text(&v).filter(|a| !a.is_empty());
    }
    by_index.into_values().collect()
}

/// Reads ipAddrTable: address → ifIndex and netmask.
pub(crate) async fn addresses(client: &Client, notes: &mut Vec<String>) -> Vec<AddressEntry> {
    const IP_ADDR_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 4, 20, 1];
    let col = |c: u32| [&IP_ADDR_ENTRY[..], &[c]].concat();
    let ip_of = |index: &[u32]| -> Option<Ipv4Addr> {
        let [a, b, c, d] = index else { return None };
        Some(Ipv4Addr::new(
            u8::try_from(*a).ok()?,
            u8::try_from(*b).ok()?,
            u8::try_from(*c).ok()?,
            u8::try_from(*d).ok()?,
        ))
    };
    let mut by_ip: BTreeMap<Ipv4Addr, AddressEntry> = BTreeMap::new();
    for (index, v) in column(client, &col(2), "ipAdEntIfIndex", notes).await {
        if let Some(ip) = ip_of(&index) {
            by_ip
                .entry(ip)
                .or_insert(AddressEntry {
                    ip,
                    if_index: None,
                    prefix_len: None,
                })
                .if_index = v.as_i32().and_then(|i| u32::try_from(i).ok());
        }
    }
    for (index, v) in column(client, &col(3), "ipAdEntNetMask", notes).await {
        if let (Some(ip), Some(mask)) = (ip_of(&index), v.as_ip()) {
            let prefix = u32::from(mask).leading_ones() as u8;
            by_ip
                .entry(ip)
                .or_insert(AddressEntry {
                    ip,
                    if_index: None,
                    prefix_len: None,
                })
                .prefix_len = Some(prefix);
        }
    }
    by_ip.into_values().collect()
}
