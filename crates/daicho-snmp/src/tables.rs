//! The tables a ledger needs, each a list of columns filled straight into the
//! report's types: IF-MIB interfaces; IP-MIB addresses (ipAddrTable and the
//! IPv6-capable ipAddressTable — how a host shows that it also sits on another
//! network), ARP/neighbour caches and routes; ENTITY-MIB chassis; HOST-RESOURCES
//! software and devices; LLDP and CDP neighbours; a switch's forwarding
//! table (BRIDGE-MIB, Q-BRIDGE-MIB).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_snmp::transport::Transport;
use async_snmp::{Client, Value};
use daicho_report::text::Charset;
use daicho_report::{
    Capability, MacAddr, RawText, SnmpAddress, SnmpCdpNeighbour, SnmpDevice, SnmpEntity,
    SnmpFdbEntry, SnmpInterface, SnmpLldpNeighbour, SnmpNeighbour, SnmpPrinter, SnmpRoute,
    SnmpSoftware, SnmpUps,
};

use crate::walk::walk_table;
use daicho_report::text::{MAX_DESCRIPTION, MAX_NAME, clean_text};

/// How a profile reads device strings: the charset after UTF-8, and the
/// raw bytes of every string that was not UTF-8 (see `daicho_report::text`).
#[derive(Debug, Default)]
pub(crate) struct Texts {
    pub charset: Charset,
    pub raw: RefCell<Vec<RawText>>,
}

/// Where a value sits: for the raw-text record of a string that was not
/// UTF-8.
pub(crate) struct At<'a> {
    pub texts: &'a Texts,
    pub label: &'a str,
    pub index: &'a [u32],
}

impl At<'_> {
    /// A device string, decoded by the documented order (UTF-8, else the
    /// charset), control characters dropped, length capped.
    pub(crate) fn text(&self, value: &Value) -> Option<String> {
        let bytes = value.as_bytes()?;
        // Decoded whole (an SNMP message is bounded), cut after: a cut in
        // the middle of a CP932 character would make it unreadable.
        let bytes = &bytes[..bytes.len().min(MAX_DESCRIPTION * 4)];
        let decoded = daicho_report::text::decode(bytes, self.texts.charset);
        let field = || {
            let index: Vec<String> = self.index.iter().map(u32::to_string).collect();
            format!("{}.{}", self.label, index.join("."))
        };
        if let Some(raw) = daicho_report::text::raw_record(field, bytes, &decoded) {
            self.texts.raw.borrow_mut().push(raw);
        }
        Some(clean_text(&decoded.text, MAX_DESCRIPTION))
    }

    fn non_empty(&self, value: &Value) -> Option<String> {
        self.text(value).filter(|t| !t.is_empty())
    }
}

/// One column of a table: its OID, a label for notes, and where its value goes.
struct Column<R> {
    oid: &'static [u32],
    label: &'static str,
    set: fn(&mut R, &Value, &At),
}

/// A profile's open conversation with one host.
pub(crate) struct Reader<T: Transport> {
    pub client: Client<T>,
    pub v1: bool,
    /// Values asked for per request; shrinks when the device says too big.
    pub budget: u32,
    /// Tables that failed or were cut; the system group still counts.
    pub notes: Vec<String>,
    pub texts: Texts,
}

impl<T: Transport + 'static> Reader<T> {
    /// Reads `columns` and gathers their values into rows keyed by
    /// `key(index)`; `new` makes a row the first time a key is seen.
    async fn rows<K: Ord + Clone, R>(
        &mut self,
        columns: &[Column<R>],
        key: fn(&[u32]) -> Option<K>,
        new: fn(K) -> R,
    ) -> BTreeMap<K, R> {
        let bases: Vec<&[u32]> = columns.iter().map(|c| c.oid).collect();
        let labels: Vec<&str> = columns.iter().map(|c| c.label).collect();
        let walked = walk_table(
            &self.client,
            self.v1,
            &mut self.budget,
            &bases,
            &labels,
            &mut self.notes,
        )
        .await;
        let mut rows = BTreeMap::new();
        for (column, values) in columns.iter().zip(walked) {
            for (index, value) in values {
                if let Some(k) = key(&index) {
                    let at = At {
                        texts: &self.texts,
                        label: column.label,
                        index: &index,
                    };
                    let row = rows.entry(k.clone()).or_insert_with(|| new(k));
                    (column.set)(row, &value, &at);
                }
            }
        }
        rows
    }
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
        set: |r, v, a| r.descr = a.text(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3],
        label: "ifType",
        set: |r, v, _| r.if_type = v.as_i32(),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 6],
        label: "ifPhysAddress",
        set: |r, v, _| r.mac = mac(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7],
        label: "ifAdminStatus",
        set: |r, v, _| r.admin_up = v.as_i32().map(|s| s == 1),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8],
        label: "ifOperStatus",
        set: |r, v, _| r.oper_up = v.as_i32().map(|s| s == 1),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1],
        label: "ifName",
        set: |r, v, a| r.name = a.text(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15],
        label: "ifHighSpeed",
        set: |r, v, _| r.speed_mbps = v.as_u32().map(u64::from),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18],
        label: "ifAlias",
        set: |r, v, a| r.alias = a.non_empty(v),
    },
];

/// An address row before its address is known: ipAddrTable's index is the
/// address on most devices, but some (a FortiGate's VDOM suffix, UPS cards)
/// index otherwise, and ipAdEntAddr holds it.
#[derive(Default)]
struct AddressRow {
    ip: Option<IpAddr>,
    if_index: Option<u32>,
    prefix_len: Option<u8>,
    /// ipAddressType: 1 unicast, 2 anycast, 3 broadcast.
    kind: Option<i32>,
}

const IP_ADDR_COLUMNS: &[Column<AddressRow>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 20, 1, 1],
        label: "ipAdEntAddr",
        set: |r, v, _| r.ip = v.as_ip().map(Into::into),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 20, 1, 2],
        label: "ipAdEntIfIndex",
        set: |r, v, _| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 20, 1, 3],
        label: "ipAdEntNetMask",
        set: |r, v, _| r.prefix_len = v.as_ip().map(|mask| u32::from(mask).leading_ones() as u8),
    },
];

const NET_TO_MEDIA_COLUMNS: &[Column<(SnmpNeighbour, Option<i32>)>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 22, 1, 2],
        label: "ipNetToMediaPhysAddress",
        set: |r, v, _| r.0.mac = mac(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 22, 1, 4],
        label: "ipNetToMediaType",
        set: |r, v, _| r.1 = v.as_i32(),
    },
];

const ROUTE_COLUMNS: &[Column<SnmpRoute>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 21, 1, 2],
        label: "ipRouteIfIndex",
        set: |r, v, _| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 21, 1, 7],
        label: "ipRouteNextHop",
        set: |r, v, _| r.next_hop = v.as_ip().map(Into::into),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 21, 1, 11],
        label: "ipRouteMask",
        set: |r, v, _| r.prefix_len = v.as_ip().map(|mask| u32::from(mask).leading_ones() as u8),
    },
];

const ENTITY_COLUMNS: &[Column<SnmpEntity>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 2],
        label: "entPhysicalDescr",
        set: |r, v, a| r.descr = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 5],
        label: "entPhysicalClass",
        set: |r, v, _| r.class = v.as_i32(),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7],
        label: "entPhysicalName",
        set: |r, v, a| r.name = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 8],
        label: "entPhysicalHardwareRev",
        set: |r, v, a| r.hardware_rev = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 9],
        label: "entPhysicalFirmwareRev",
        set: |r, v, a| r.firmware_rev = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 10],
        label: "entPhysicalSoftwareRev",
        set: |r, v, a| r.software_rev = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 11],
        label: "entPhysicalSerialNum",
        set: |r, v, a| r.serial = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 12],
        label: "entPhysicalMfgName",
        set: |r, v, a| r.maker = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 13],
        label: "entPhysicalModelName",
        set: |r, v, a| r.model = a.non_empty(v),
    },
];

/// A MAC from an octet string; all-zero means "none" (loopback, tunnels).
fn mac(value: &Value) -> Option<MacAddr> {
    let octets = <[u8; 6]>::try_from(value.as_bytes()?).ok()?;
    Some(MacAddr(octets)).filter(|m| *m != MacAddr::ZERO)
}

/// An InetAddressType + InetAddress pair in an index (RFC 4001: the address
/// is length-prefixed); returns the address and the arcs after it. Zoned
/// addresses (types 3 and 4) drop their zone.
fn inet_address(arcs: &[u32]) -> Option<(IpAddr, &[u32])> {
    let (&kind, rest) = arcs.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::try_from(len).ok()?;
    if rest.len() < len {
        return None;
    }
    let (bytes, rest) = rest.split_at(len);
    let bytes: Vec<u8> = bytes
        .iter()
        .map(|a| u8::try_from(*a).ok())
        .collect::<Option<_>>()?;
    let ip = match (kind, len) {
        (1, 4) | (3, 8) => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        (2, 16) | (4, 20) => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&bytes[..16]).ok()?)),
        _ => return None,
    };
    Some((ip, rest))
}

fn inet_index(index: &[u32]) -> Option<IpAddr> {
    match inet_address(index)? {
        (ip, []) => Some(ip),
        _ => None,
    }
}

/// ipNetToPhysicalTable index: ifIndex, then the address.
fn if_and_inet_index(index: &[u32]) -> Option<(u32, IpAddr)> {
    let (first, rest) = index.split_first()?;
    Some((*first, inet_index(rest)?))
}

/// inetCidrRouteTable index: destination, prefix length, policy (an OID,
/// length-prefixed), next hop (type 0 with no address for a direct route).
fn inet_cidr_route_index(index: &[u32]) -> Option<(IpAddr, u8, Option<IpAddr>)> {
    let (destination, rest) = inet_address(index)?;
    let (&prefix_len, rest) = rest.split_first()?;
    let (&policy_len, rest) = rest.split_first()?;
    let rest = rest.get(usize::try_from(policy_len).ok()?..)?;
    let next_hop = match rest {
        [0, 0] => None,
        _ => Some(inet_index(rest)?),
    };
    Some((destination, u8::try_from(prefix_len).ok()?, next_hop))
}

/// ipCidrRouteTable index: destination, mask, TOS, next hop.
fn ip_cidr_route_index(index: &[u32]) -> Option<(Ipv4Addr, u8, Ipv4Addr)> {
    let (destination, rest) = index.split_at_checked(4)?;
    let (mask, rest) = rest.split_at_checked(4)?;
    let next_hop = rest.get(1..)?;
    let mask = u32::from(ipv4_index(mask)?);
    Some((
        ipv4_index(destination)?,
        mask.leading_ones() as u8,
        ipv4_index(next_hop)?,
    ))
}

/// A prefix length from an ipAddressPrefix pointer: the row of
/// ipAddressPrefixTable it names ends with the length.
fn prefix_from_pointer(value: &Value) -> Option<u8> {
    let oid = value.as_oid()?;
    let (&last, _) = oid.arcs().split_last()?;
    u8::try_from(last)
        .ok()
        .filter(|len| *len <= 128 && oid.len() > 2)
}

const IP_ADDRESS_COLUMNS: &[Column<AddressRow>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 34, 1, 3],
        label: "ipAddressIfIndex",
        set: |r, v, _| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 34, 1, 4],
        label: "ipAddressType",
        set: |r, v, _| r.kind = v.as_i32(),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 34, 1, 5],
        label: "ipAddressPrefix",
        set: |r, v, _| r.prefix_len = prefix_from_pointer(v),
    },
];

const NET_TO_PHYSICAL_COLUMNS: &[Column<(SnmpNeighbour, Option<i32>)>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 35, 1, 4],
        label: "ipNetToPhysicalPhysAddress",
        set: |r, v, _| r.0.mac = mac(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 4, 35, 1, 6],
        label: "ipNetToPhysicalType",
        set: |r, v, _| r.1 = v.as_i32(),
    },
];

const INET_CIDR_ROUTE_COLUMNS: &[Column<SnmpRoute>] = &[Column {
    oid: &[1, 3, 6, 1, 2, 1, 4, 24, 7, 1, 7],
    label: "inetCidrRouteIfIndex",
    set: |r, v, _| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
}];

const IP_CIDR_ROUTE_COLUMNS: &[Column<SnmpRoute>] = &[Column {
    oid: &[1, 3, 6, 1, 2, 1, 4, 24, 4, 1, 5],
    label: "ipCidrRouteIfIndex",
    set: |r, v, _| r.if_index = v.as_i32().and_then(|i| u32::try_from(i).ok()),
}];

const SOFTWARE_COLUMNS: &[Column<SnmpSoftware>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 25, 6, 3, 1, 2],
        label: "hrSWInstalledName",
        set: |r, v, a| r.name = a.text(v).unwrap_or_default(),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 25, 6, 3, 1, 4],
        label: "hrSWInstalledType",
        set: |r, v, _| r.kind = v.as_i32().and_then(software_kind).map(str::to_owned),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 25, 6, 3, 1, 5],
        label: "hrSWInstalledDate",
        set: |r, v, _| r.installed = v.as_bytes().and_then(date_and_time),
    },
];

const DEVICE_COLUMNS: &[Column<SnmpDevice>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 2],
        label: "hrDeviceType",
        set: |r, v, _| r.kind = v.as_oid().and_then(device_kind).map(str::to_owned),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3],
        label: "hrDeviceDescr",
        set: |r, v, a| r.descr = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5],
        label: "hrDeviceStatus",
        set: |r, v, _| r.status = v.as_i32().and_then(device_status).map(str::to_owned),
    },
];

const PRINTER_COLUMNS: &[Column<SnmpPrinter>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 16],
        label: "prtGeneralPrinterName",
        set: |r, v, a| r.name = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17],
        label: "prtGeneralSerialNumber",
        set: |r, v, a| r.serial = a.non_empty(v),
    },
];

/// UPS-MIB upsIdent scalars: (arc under upsIdent, label).
const UPS_IDENT: &[u32] = &[1, 3, 6, 1, 2, 1, 33, 1, 1];
const UPS_IDENT_LABELS: [&str; 5] = [
    "upsIdentManufacturer",
    "upsIdentModel",
    "upsIdentUPSSoftwareVersion",
    "upsIdentAgentSoftwareVersion",
    "upsIdentName",
];

/// An LLDP remote row before its ids are formatted by their subtypes.
#[derive(Default)]
struct LldpRow {
    local_port: u32,
    chassis_subtype: Option<i32>,
    chassis_id: Vec<u8>,
    port_subtype: Option<i32>,
    port_id: Vec<u8>,
    port_descr: Option<String>,
    sys_name: Option<String>,
    sys_descr: Option<String>,
    capabilities: Vec<Capability>,
}

fn octets(value: &Value) -> Vec<u8> {
    value.as_bytes().map(<[u8]>::to_vec).unwrap_or_default()
}

const LLDP_REMOTE_COLUMNS: &[Column<LldpRow>] = &[
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 4],
        label: "lldpRemChassisIdSubtype",
        set: |r, v, _| r.chassis_subtype = v.as_i32(),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 5],
        label: "lldpRemChassisId",
        set: |r, v, _| r.chassis_id = octets(v),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 6],
        label: "lldpRemPortIdSubtype",
        set: |r, v, _| r.port_subtype = v.as_i32(),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 7],
        label: "lldpRemPortId",
        set: |r, v, _| r.port_id = octets(v),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 8],
        label: "lldpRemPortDesc",
        set: |r, v, a| r.port_descr = a.non_empty(v),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9],
        label: "lldpRemSysName",
        set: |r, v, a| r.sys_name = a.non_empty(v),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 10],
        label: "lldpRemSysDesc",
        set: |r, v, a| r.sys_descr = a.non_empty(v),
    },
    Column {
        oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 12],
        label: "lldpRemSysCapEnabled",
        set: |r, v, _| r.capabilities = Capability::from_lldp_bits(snmp_bits(v)),
    },
];

/// An SNMP BITS value (RFC 2578 7.1.4: bit 0 is the first octet's high
/// bit) as the 16-bit field LLDP sends on the wire (bit 0 its low bit).
fn snmp_bits(value: &Value) -> u16 {
    let octets = value.as_bytes().unwrap_or_default();
    let octet = |n: usize| u16::from(octets.get(n).copied().unwrap_or(0).reverse_bits());
    octet(0) | octet(1) << 8
}

/// A CDP neighbour row before its address is decoded.
#[derive(Default)]
struct CdpRow {
    address_type: Option<i32>,
    address: Vec<u8>,
    device_id: Option<String>,
    device_port: Option<String>,
    platform: Option<String>,
    capabilities: u32,
}

const CDP_COLUMNS: &[Column<CdpRow>] = &[
    Column {
        oid: &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 3],
        label: "cdpCacheAddressType",
        set: |r, v, _| r.address_type = v.as_i32(),
    },
    Column {
        oid: &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 4],
        label: "cdpCacheAddress",
        set: |r, v, _| r.address = octets(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 6],
        label: "cdpCacheDeviceId",
        set: |r, v, a| r.device_id = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 7],
        label: "cdpCacheDevicePort",
        set: |r, v, a| r.device_port = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 8],
        label: "cdpCachePlatform",
        set: |r, v, a| r.platform = a.non_empty(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 9],
        label: "cdpCacheCapabilities",
        set: |r, v, _| {
            let octets = v.as_bytes().unwrap_or_default();
            r.capabilities = octets
                .iter()
                .take(4)
                .fold(0, |bits, octet| bits << 8 | u32::from(*octet));
        },
    },
];

/// cdpCacheTable index: the local ifIndex, then the neighbour's number.
fn cdp_index(index: &[u32]) -> Option<(u32, u32)> {
    match index {
        [port, neighbour] => Some((*port, *neighbour)),
        _ => None,
    }
}

/// A forwarding-table row: the bridge port and how the entry got there
/// (dot1dTpFdbStatus and dot1qTpFdbStatus share the values).
#[derive(Default)]
struct FdbRow {
    port: Option<u32>,
    status: Option<i32>,
}

/// Entry status: invalid(2) is being removed, self(4) is one of the
/// switch's own MACs; learned(3), mgmt(5) and other(1) are devices.
const FDB_INVALID: i32 = 2;
const FDB_SELF: i32 = 4;
const FDB_MGMT: i32 = 5;

fn fdb_port(value: &Value) -> Option<u32> {
    value.as_i32().and_then(|p| u32::try_from(p).ok())
}

/// Q-BRIDGE-MIB dot1qTpFdbTable, indexed by filtering database and MAC.
const Q_FDB_COLUMNS: &[Column<FdbRow>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2],
        label: "dot1qTpFdbPort",
        set: |r, v, _| r.port = fdb_port(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 3],
        label: "dot1qTpFdbStatus",
        set: |r, v, _| r.status = v.as_i32(),
    },
];

/// BRIDGE-MIB dot1dTpFdbTable, indexed by MAC: one VLAN, or all of them
/// folded together.
const FDB_COLUMNS: &[Column<FdbRow>] = &[
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2],
        label: "dot1dTpFdbPort",
        set: |r, v, _| r.port = fdb_port(v),
    },
    Column {
        oid: &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 3],
        label: "dot1dTpFdbStatus",
        set: |r, v, _| r.status = v.as_i32(),
    },
];

/// dot1dBasePortIfIndex: the ifIndex of each bridge port.
const BASE_PORT_COLUMNS: &[Column<Option<u32>>] = &[Column {
    oid: &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2],
    label: "dot1dBasePortIfIndex",
    set: |r, v, _| *r = fdb_port(v).filter(|i| *i != 0),
}];

/// CISCO-VTP-MIB vtpVlanState, indexed by management domain and VLAN: the
/// VLANs whose bridge tables `community@vlan` reads.
const VTP_VLAN_COLUMNS: &[Column<Option<i64>>] = &[Column {
    oid: &[1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 2],
    label: "vtpVlanState",
    set: |r, v, _| *r = v.as_i32().map(i64::from),
}];

/// vtpVlanState operational(1).
const VLAN_OPERATIONAL: i64 = 1;

/// The FDDI and Token Ring VLANs every Cisco switch lists (1002-1005) carry
/// no Ethernet bridge table.
fn ethernet_vlan(vlan: u32) -> Option<u16> {
    u16::try_from(vlan)
        .ok()
        .filter(|v| (1..=4094).contains(v) && !(1002..=1005).contains(v))
}

fn mac_index(arcs: &[u32]) -> Option<MacAddr> {
    let octets: Vec<u8> = arcs
        .iter()
        .map(|a| u8::try_from(*a).ok())
        .collect::<Option<_>>()?;
    Some(MacAddr(octets.try_into().ok()?))
}

fn q_fdb_index(index: &[u32]) -> Option<(Option<u32>, MacAddr)> {
    let (fdb, mac) = index.split_first()?;
    Some((Some(*fdb), mac_index(mac)?))
}

fn fdb_index(index: &[u32]) -> Option<(Option<u32>, MacAddr)> {
    Some((None, mac_index(index)?))
}

/// The forwarding-table entries that name a device on a port: not the
/// switch's own MACs, not ones being removed, not port 0 (unknown).
fn fdb_entries(
    learned: BTreeMap<(Option<u32>, MacAddr), FdbRow>,
    ports: &BTreeMap<u32, Option<u32>>,
) -> Vec<SnmpFdbEntry> {
    learned
        .into_iter()
        .filter(|(_, row)| !matches!(row.status, Some(FDB_INVALID | FDB_SELF)))
        .filter_map(|((vlan, mac), row)| {
            let bridge_port = row.port.filter(|p| *p != 0)?;
            Some(SnmpFdbEntry {
                mac,
                bridge_port,
                if_index: ports.get(&bridge_port).copied().flatten(),
                vlan,
                configured: row.status == Some(FDB_MGMT),
            })
        })
        .collect()
}

/// lldpRemManAddrIfSubtype: read only for its index, which holds the address.
const LLDP_MANAGEMENT_COLUMNS: &[Column<()>] = &[Column {
    oid: &[1, 0, 8802, 1, 1, 2, 1, 4, 2, 1, 3],
    label: "lldpRemManAddrIfSubtype",
    set: |_, _, _| {},
}];

/// lldpRemTable index: time mark, local port, remote index.
fn lldp_index(index: &[u32]) -> Option<(u32, u32, u32)> {
    match index {
        [time, port, remote] => Some((*time, *port, *remote)),
        _ => None,
    }
}

/// lldpRemManAddrTable index: the lldpRemTable index, then the address
/// (IANA address family 1 IPv4, 2 IPv6; length-prefixed).
fn lldp_management_index(index: &[u32]) -> Option<((u32, u32, u32), IpAddr)> {
    let (remote, address) = index.split_at_checked(3)?;
    Some((lldp_index(remote)?, inet_index(address)?))
}

/// An LLDP chassis or port id as a person reads it: a MAC for the MAC
/// subtypes (chassis 4, port 3), an address for networkAddress (chassis 5,
/// port 4), text when printable, else hex.
fn lldp_id(subtype: Option<i32>, is_chassis: bool, bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let (mac_subtype, address_subtype) = if is_chassis { (4, 5) } else { (3, 4) };
    if subtype == Some(mac_subtype)
        && let Ok(octets) = <[u8; 6]>::try_from(bytes)
    {
        return Some(MacAddr(octets).to_string());
    }
    if subtype == Some(address_subtype) {
        match bytes {
            [1, a, b, c, d] => return Some(Ipv4Addr::new(*a, *b, *c, *d).to_string()),
            [2, rest @ ..] if rest.len() == 16 => {
                let octets = <[u8; 16]>::try_from(rest).ok()?;
                return Some(Ipv6Addr::from(octets).to_string());
            }
            _ => {}
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => Some(clean_text(s, MAX_NAME)),
        _ => Some(daicho_report::text::hex(&bytes[..bytes.len().min(64)])),
    }
}

/// hrSWInstalledType.
fn software_kind(value: i32) -> Option<&'static str> {
    match value {
        2 => Some("operating_system"),
        3 => Some("device_driver"),
        4 => Some("application"),
        _ => None,
    }
}

/// hrDeviceType: the arc under hrDeviceTypes (1.3.6.1.2.1.25.3.1), RFC 2790.
fn device_kind(oid: &async_snmp::Oid) -> Option<&'static str> {
    const KINDS: [&str; 21] = [
        "other",
        "unknown",
        "processor",
        "network",
        "printer",
        "disk_storage",
        "",
        "",
        "",
        "video",
        "audio",
        "coprocessor",
        "keyboard",
        "modem",
        "parallel_port",
        "pointing",
        "serial_port",
        "tape",
        "clock",
        "volatile_memory",
        "non_volatile_memory",
    ];
    match oid.arcs() {
        [1, 3, 6, 1, 2, 1, 25, 3, 1, n] => KINDS
            .get(usize::try_from(*n).ok()?.checked_sub(1)?)
            .copied()
            .filter(|k| !k.is_empty()),
        _ => None,
    }
}

/// hrDeviceStatus.
fn device_status(value: i32) -> Option<&'static str> {
    match value {
        2 => Some("running"),
        3 => Some("warning"),
        4 => Some("testing"),
        5 => Some("down"),
        _ => None,
    }
}

/// SNMPv2-TC DateAndTime (8 or 11 octets) as `YYYY-MM-DD HH:MM:SS`, with the
/// UTC offset when given. Zeroed or impossible values give nothing.
fn date_and_time(bytes: &[u8]) -> Option<String> {
    let (date, zone) = match bytes.len() {
        8 => (bytes, None),
        11 => (&bytes[..8], Some(&bytes[8..])),
        _ => return None,
    };
    let year = u16::from_be_bytes([date[0], date[1]]);
    let (month, day, hour, minute, second) = (date[2], date[3], date[4], date[5], date[6]);
    if year == 0
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut text = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
    if let Some([sign @ (b'+' | b'-'), h, m]) = zone.map(|z| [z[0], z[1], z[2]]) {
        text.push_str(&format!(" {}{h:02}:{m:02}", sign as char));
    }
    Some(text)
}

/// ipNetToMediaTable index: ifIndex then the IPv4 address.
fn if_and_ipv4_index(index: &[u32]) -> Option<(u32, Ipv4Addr)> {
    let (first, rest) = index.split_first()?;
    Some((*first, ipv4_index(rest)?))
}

/// A neighbour-cache row by its type: invalid (2) entries are dropped, 3 is
/// learned, 4 static (5 "local", ipNetToPhysical's own addresses, too).
fn neighbour_of((neighbour, kind): (SnmpNeighbour, Option<i32>)) -> Option<SnmpNeighbour> {
    let is_static = match kind {
        Some(2) => return None,
        Some(3) => Some(false),
        Some(4 | 5) => Some(true),
        _ => None,
    };
    Some(SnmpNeighbour {
        is_static,
        ..neighbour
    })
}

fn new_neighbour<I: Into<IpAddr>>((if_index, ip): (u32, I)) -> (SnmpNeighbour, Option<i32>) {
    let neighbour = SnmpNeighbour {
        ip: ip.into(),
        mac: None,
        if_index,
        is_static: None,
    };
    (neighbour, None)
}

fn new_route(destination: IpAddr, prefix_len: Option<u8>, next_hop: Option<IpAddr>) -> SnmpRoute {
    SnmpRoute {
        destination,
        prefix_len,
        next_hop,
        if_index: None,
    }
}

fn new_address(ip: IpAddr) -> SnmpAddress {
    SnmpAddress {
        ip,
        if_index: None,
        prefix_len: None,
    }
}

impl<T: Transport + 'static> Reader<T> {
    /// ENTITY-MIB's physical table, keeping the entities a ledger cares
    /// about: those with a model or serial number (a switch also lists every port).
    pub(crate) async fn entities(&mut self) -> Vec<SnmpEntity> {
        let new = |index| SnmpEntity {
            index,
            ..SnmpEntity::default()
        };
        self.rows(ENTITY_COLUMNS, if_index, new)
            .await
            .into_values()
            .filter(|e| e.model.is_some() || e.serial.is_some())
            .collect()
    }

    /// The device's ARP and neighbour caches: ipNetToMediaTable (IPv4), then
    /// ipNetToPhysicalTable (IPv4 and IPv6) for entries the first lacks.
    pub(crate) async fn neighbours(&mut self) -> Vec<SnmpNeighbour> {
        let mut neighbours: Vec<SnmpNeighbour> = self
            .rows(NET_TO_MEDIA_COLUMNS, if_and_ipv4_index, new_neighbour)
            .await
            .into_values()
            .filter_map(neighbour_of)
            .collect();
        let physical = self
            .rows(NET_TO_PHYSICAL_COLUMNS, if_and_inet_index, new_neighbour)
            .await;
        for neighbour in physical.into_values().filter_map(neighbour_of) {
            let known =
                |n: &SnmpNeighbour| n.ip == neighbour.ip && n.if_index == neighbour.if_index;
            if !neighbours.iter().any(known) {
                neighbours.push(neighbour);
            }
        }
        neighbours
    }

    /// Routes, from the first table the device has: inetCidrRouteTable (RFC
    /// 4292, IPv4 and IPv6), ipCidrRouteTable, then the old ipRouteTable. The
    /// default route has destination 0.0.0.0/0 (or ::/0). Rows are kept by
    /// the table's own index: the same network on two interfaces, or two
    /// equal-cost next hops, are two routes.
    pub(crate) async fn routes(&mut self) -> Vec<SnmpRoute> {
        let inet = self
            .rows(
                INET_CIDR_ROUTE_COLUMNS,
                |i| Some((i.to_vec(), inet_cidr_route_index(i)?)),
                |(_, (d, p, n))| new_route(d, Some(p), n),
            )
            .await;
        if !inet.is_empty() {
            return inet.into_values().collect();
        }
        let cidr = self
            .rows(
                IP_CIDR_ROUTE_COLUMNS,
                |i| Some((i.to_vec(), ip_cidr_route_index(i)?)),
                |(_, (d, p, n))| new_route(d.into(), Some(p), Some(n.into())),
            )
            .await;
        if !cidr.is_empty() {
            return cidr.into_values().collect();
        }
        self.rows(ROUTE_COLUMNS, ipv4_index, |d| {
            new_route(d.into(), None, None)
        })
        .await
        .into_values()
        .collect()
    }

    /// IF-MIB ifTable and ifXTable columns, by ifIndex.
    pub(crate) async fn interfaces(&mut self) -> Vec<SnmpInterface> {
        let new = |index| SnmpInterface {
            index,
            ..SnmpInterface::default()
        };
        self.rows(IF_COLUMNS, if_index, new)
            .await
            .into_values()
            .collect()
    }

    /// Every address of the device: ipAddrTable (IPv4), then ipAddressTable
    /// (RFC 4293, IPv4 and IPv6) filling in what the first lacks. Broadcast
    /// rows are not the device's addresses, nor is 0.0.0.0 (a disconnected
    /// adapter, a printer's idle ppp0).
    pub(crate) async fn addresses(&mut self) -> Vec<SnmpAddress> {
        let mut addresses: BTreeMap<IpAddr, SnmpAddress> = BTreeMap::new();
        let legacy = self
            .rows(
                IP_ADDR_COLUMNS,
                |i| Some(i.to_vec()),
                |_| AddressRow::default(),
            )
            .await;
        for (index, row) in legacy {
            let Some(ip) = row.ip.or_else(|| ipv4_index(&index).map(Into::into)) else {
                continue;
            };
            addresses.entry(ip).or_insert(SnmpAddress {
                ip,
                if_index: row.if_index,
                prefix_len: row.prefix_len,
            });
        }
        let current = self
            .rows(IP_ADDRESS_COLUMNS, inet_index, |_| AddressRow::default())
            .await;
        for (ip, row) in current {
            if row.kind == Some(3) {
                addresses.remove(&ip);
                continue;
            }
            let known = addresses.entry(ip).or_insert_with(|| new_address(ip));
            known.if_index = known.if_index.or(row.if_index);
            known.prefix_len = known.prefix_len.or(row.prefix_len);
        }
        addresses.retain(|ip, _| !ip.is_unspecified());
        addresses.into_values().collect()
    }

    /// HOST-RESOURCES-MIB hrSWInstalledTable: installed software (the
    /// ledger's ソフトウェア and version; a Debian host names packages
    /// `name_version_arch`).
    pub(crate) async fn software(&mut self) -> Vec<SnmpSoftware> {
        self.rows(SOFTWARE_COLUMNS, if_index, |_| SnmpSoftware::default())
            .await
            .into_values()
            .filter(|s| !s.name.is_empty())
            .collect()
    }

    /// HOST-RESOURCES-MIB hrDeviceTable: processors, disks, printers, NICs.
    pub(crate) async fn devices(&mut self) -> Vec<SnmpDevice> {
        let new = |index| SnmpDevice {
            index,
            ..SnmpDevice::default()
        };
        self.rows(DEVICE_COLUMNS, if_index, new)
            .await
            .into_values()
            .collect()
    }

    /// Printer-MIB: the first printer's name and serial number.
    pub(crate) async fn printer(&mut self) -> Option<SnmpPrinter> {
        self.rows(
            PRINTER_COLUMNS,
            |i| Some(i.to_vec()),
            |_| SnmpPrinter::default(),
        )
        .await
        .into_values()
        .find(|p| p.name.is_some() || p.serial.is_some())
    }

    /// UPS-MIB identification, read as a walk of upsIdent (SNMPv1 agents
    /// of UPS cards lack some of the scalars).
    pub(crate) async fn ups(&mut self) -> Option<SnmpUps> {
        let walked = walk_table(
            &self.client,
            self.v1,
            &mut self.budget,
            &[UPS_IDENT],
            &["upsIdent"],
            &mut self.notes,
        )
        .await;
        let mut ups = SnmpUps::default();
        for (index, value) in walked.into_iter().flatten() {
            let [arc, 0] = index[..] else { continue };
            let Some(label) = usize::try_from(arc)
                .ok()
                .and_then(|a| a.checked_sub(1))
                .and_then(|a| UPS_IDENT_LABELS.get(a))
            else {
                continue;
            };
            let at = At {
                texts: &self.texts,
                label,
                index: &[0],
            };
            let slot = match arc {
                1 => &mut ups.maker,
                2 => &mut ups.model,
                3 => &mut ups.software,
                4 => &mut ups.agent_software,
                _ => &mut ups.name,
            };
            *slot = at.non_empty(&value);
        }
        (ups != SnmpUps::default()).then_some(ups)
    }

    /// LLDP-MIB remote systems (the switch ports' neighbours) with their
    /// management addresses.
    pub(crate) async fn lldp(&mut self) -> Vec<SnmpLldpNeighbour> {
        let remote = self
            .rows(LLDP_REMOTE_COLUMNS, lldp_index, |(_, port, _)| LldpRow {
                local_port: port,
                ..LldpRow::default()
            })
            .await;
        if remote.is_empty() {
            return Vec::new();
        }
        let managed = self
            .rows(LLDP_MANAGEMENT_COLUMNS, lldp_management_index, |_| ())
            .await;
        remote
            .into_iter()
            .map(|(key, row)| SnmpLldpNeighbour {
                local_port: row.local_port,
                chassis_id: lldp_id(row.chassis_subtype, true, &row.chassis_id),
                port_id: lldp_id(row.port_subtype, false, &row.port_id),
                port_descr: row.port_descr,
                sys_name: row.sys_name,
                sys_descr: row.sys_descr,
                addresses: managed
                    .keys()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, ip)| *ip)
                    .collect(),
                capabilities: row.capabilities,
            })
            .collect()
    }

    /// CISCO-CDP-MIB's cache: the CDP neighbours on each port.
    pub(crate) async fn cdp(&mut self) -> Vec<SnmpCdpNeighbour> {
        self.rows(CDP_COLUMNS, cdp_index, |_| CdpRow::default())
            .await
            .into_iter()
            .map(|((if_index, _), row)| SnmpCdpNeighbour {
                if_index,
                device_id: row.device_id,
                device_port: row.device_port,
                platform: row.platform,
                // cdpCacheAddressType 1: IPv4, four octets.
                address: match (row.address_type, row.address.as_slice()) {
                    (Some(1), [a, b, c, d]) => Some(Ipv4Addr::new(*a, *b, *c, *d).into()),
                    _ => None,
                },
                capabilities: Capability::from_cdp_bits(row.capabilities),
            })
            .collect()
    }

    /// The operational Ethernet VLANs CISCO-VTP-MIB lists.
    pub(crate) async fn vtp_vlans(&mut self) -> Vec<u16> {
        let rows = self
            .rows(VTP_VLAN_COLUMNS, |i| i.last().copied(), |_| None)
            .await;
        rows.into_iter()
            .filter(|(_, state)| *state == Some(VLAN_OPERATIONAL))
            .filter_map(|(vlan, _)| ethernet_vlan(vlan))
            .collect()
    }

    /// The forwarding table: Q-BRIDGE-MIB's per-VLAN table where the switch
    /// has one, else BRIDGE-MIB's; bridge ports mapped to interfaces.
    pub(crate) async fn fdb(&mut self) -> Vec<SnmpFdbEntry> {
        let mut learned = self
            .rows(Q_FDB_COLUMNS, q_fdb_index, |_| FdbRow::default())
            .await;
        if learned.is_empty() {
            learned = self
                .rows(FDB_COLUMNS, fdb_index, |_| FdbRow::default())
                .await;
        }
        if learned.is_empty() {
            return Vec::new();
        }
        let ports = self.rows(BASE_PORT_COLUMNS, if_index, |_| None).await;
        fdb_entries(learned, &ports)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn read(texts: &Texts, value: &Value) -> Option<String> {
        At {
            texts,
            label: "sysLocation",
            index: &[0],
        }
        .text(value)
    }

    #[test]
    fn device_text_is_cleaned_and_capped() {
        let texts = Texts::default();
        let hostile =
            Value::OctetString(b"<script>\x1b[31m\x00=HYPERLINK(\"x\")\r\n".to_vec().into());
        assert_eq!(
            read(&texts, &hostile).unwrap(),
            "<script>[31m=HYPERLINK(\"x\")"
        );
        let huge = Value::OctetString(vec![b'a'; 100_000].into());
        assert_eq!(read(&texts, &huge).unwrap().len(), 1024);
        assert_eq!(read(&texts, &Value::Integer(5)), None);
        assert!(texts.raw.borrow().is_empty(), "ASCII needs no raw record");
    }

    #[test]
    fn strings_in_other_code_pages_are_read_and_their_bytes_kept() {
        let texts = Texts::default();
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("３階 ナースステーション");
        let location = Value::OctetString(sjis.to_vec().into());
        assert_eq!(read(&texts, &location).unwrap(), "３階 ナースステーション");
        let raw = texts.raw.borrow();
        assert_eq!(raw[0].field, "sysLocation.0");
        assert_eq!(raw[0].charset, "Shift_JIS");
        assert!(!raw[0].lossy);
        drop(raw);
        let gbk = Texts {
            charset: daicho_report::text::Charset::from_label("gbk").unwrap(),
            ..Texts::default()
        };
        let (bytes, _, _) = encoding_rs::GBK.encode("病房三楼护士站");
        assert_eq!(
            read(&gbk, &Value::OctetString(bytes.to_vec().into())).unwrap(),
            "病房三楼护士站"
        );
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

    #[test]
    fn inet_address_indexes() {
        // ipAddressTable: ipv4(1).len 4.198.18.2.40 and ipv6(2).len 16...
        assert_eq!(
            inet_index(&[1, 4, 198, 18, 2, 40]),
            Some(IpAddr::from([198, 18, 2, 40]))
        );
        let v6: Vec<u32> = [
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40,
        ]
        .into_iter()
        .collect();
        let mut index = vec![2, 16];
        index.extend(&v6);
        assert_eq!(inet_index(&index), Some("2001:db8::40".parse().unwrap()));
        // ipv6z: 16 address bytes then a 4-byte zone, dropped.
        let mut zoned = vec![4, 20, 0xfe, 0x80];
        zoned.extend([0; 13]);
        zoned.extend([1, 0, 0, 0, 2]);
        assert_eq!(inet_index(&zoned), Some("fe80::1".parse().unwrap()));
        assert_eq!(inet_index(&[1, 4, 198, 18, 2]), None);
        assert_eq!(inet_index(&[1, 4, 198, 18, 2, 400]), None);
        assert_eq!(inet_index(&[9, 4, 1, 2, 3, 4]), None);
        assert_eq!(inet_index(&[1, 4, 1, 2, 3, 4, 5]), None);
        assert_eq!(inet_index(&[1, u32::MAX]), None);
        assert_eq!(
            if_and_inet_index(&[3, 1, 4, 198, 18, 9, 9]),
            Some((3, IpAddr::from([198, 18, 9, 9])))
        );
    }

    #[test]
    fn route_indexes() {
        // net-snmp's default route: 0.0.0.0/0, policy 0.0 (len 2), via 198.18.1.1.
        assert_eq!(
            inet_cidr_route_index(&[1, 4, 0, 0, 0, 0, 0, 2, 0, 0, 1, 4, 198, 18, 1, 1]),
            Some((
                IpAddr::from([0, 0, 0, 0]),
                0,
                Some(IpAddr::from([198, 18, 1, 1]))
            ))
        );
        // A connected route: next hop type unknown(0), no address.
        assert_eq!(
            inet_cidr_route_index(&[1, 4, 198, 18, 1, 0, 24, 2, 0, 0, 0, 0]),
            Some((IpAddr::from([198, 18, 1, 0]), 24, None))
        );
        assert_eq!(inet_cidr_route_index(&[1, 4, 198, 18, 1, 0, 24, 9]), None);
        assert_eq!(
            ip_cidr_route_index(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 1, 1]),
            Some((Ipv4Addr::UNSPECIFIED, 0, Ipv4Addr::new(198, 18, 1, 1)))
        );
        assert_eq!(ip_cidr_route_index(&[0, 0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn prefix_pointers_and_dates() {
        let pointer = Value::ObjectIdentifier(async_snmp::Oid::from_slice(&[
            1, 3, 6, 1, 2, 1, 4, 32, 1, 5, 2, 1, 4, 198, 18, 2, 0, 24,
        ]));
        assert_eq!(prefix_from_pointer(&pointer), Some(24));
        let null = Value::ObjectIdentifier(async_snmp::Oid::from_slice(&[0, 0]));
        assert_eq!(prefix_from_pointer(&null), None);
        assert_eq!(
            date_and_time(&[0x07, 0xea, 11, 28, 9, 5, 7, 0, b'+', 9, 0]).as_deref(),
            Some("2026-11-28 09:05:07 +09:00")
        );
        assert_eq!(
            date_and_time(&[0x07, 0xea, 1, 2, 3, 4, 5, 0]).as_deref(),
            Some("2026-01-02 03:04:05")
        );
        assert_eq!(date_and_time(&[0; 8]), None);
        assert_eq!(date_and_time(&[0x07, 0xea, 13, 2, 3, 4, 5, 0]), None);
        assert_eq!(date_and_time(&[1, 2, 3]), None);
    }

    proptest::proptest! {
        /// Indexes and values come from devices: whatever they hold, the
        /// parsers return something or nothing, never panic.
        #[test]
        fn untrusted_indexes_and_values_never_panic(
            arcs in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..40),
            small in proptest::collection::vec(0u32..260, 0..40),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            subtype in proptest::prelude::any::<Option<i32>>(),
        ) {
            for index in [&arcs, &small] {
                let _ = inet_index(index);
                let _ = if_and_inet_index(index);
                let _ = inet_cidr_route_index(index);
                let _ = ip_cidr_route_index(index);
                let _ = lldp_management_index(index);
                let _ = if_and_ipv4_index(index);
            }
            let _ = date_and_time(&bytes);
            let _ = lldp_id(subtype, true, &bytes);
            let _ = lldp_id(subtype, false, &bytes);
            let _ = prefix_from_pointer(&Value::ObjectIdentifier(async_snmp::Oid::from_slice(&arcs)));
        }
    }

    #[test]
    fn forwarding_entries_keep_devices_and_drop_the_switch_itself() {
        let mac = |last| MacAddr([0, 0x1b, 0x21, 0, 0, last]);
        let row = |port, status| FdbRow {
            port: Some(port),
            status: Some(status),
        };
        let learned = BTreeMap::from([
            ((Some(10), mac(1)), row(3, 3)),
            ((Some(10), mac(2)), row(1, FDB_SELF)),
            ((Some(10), mac(3)), row(3, FDB_INVALID)),
            ((Some(20), mac(4)), row(0, 3)),
            ((Some(20), mac(5)), row(7, FDB_MGMT)),
        ]);
        let ports = BTreeMap::from([(3, Some(1003)), (7, None)]);
        let entries = fdb_entries(learned, &ports);
        assert_eq!(
            entries,
            [
                SnmpFdbEntry {
                    mac: mac(1),
                    bridge_port: 3,
                    if_index: Some(1003),
                    vlan: Some(10),
                    configured: false,
                },
                SnmpFdbEntry {
                    mac: mac(5),
                    bridge_port: 7,
                    if_index: None,
                    vlan: Some(20),
                    configured: true,
                },
            ]
        );
        assert_eq!(
            q_fdb_index(&[10, 0, 27, 33, 0, 0, 1]),
            Some((Some(10), mac(1)))
        );
        assert_eq!(fdb_index(&[0, 27, 33, 0, 0, 256]), None);
        // community@vlan: Ethernet VLANs only.
        assert_eq!(ethernet_vlan(30), Some(30));
        assert_eq!(ethernet_vlan(1003), None);
        assert_eq!(ethernet_vlan(0), None);
        assert_eq!(ethernet_vlan(70_000), None);
        assert_eq!(fdb_index(&[0, 27, 33, 0, 0]), None);
    }

    #[test]
    fn capabilities_read_from_snmp_bits_and_cdp() {
        // lldpRemSysCapEnabled of a switch-router: bridge(2) and router(4),
        // bits counted from the first octet's high bit.
        let bits = Value::OctetString(vec![0b0010_1000].into());
        assert_eq!(
            Capability::from_lldp_bits(snmp_bits(&bits)),
            [Capability::Bridge, Capability::Router]
        );
        // An IP phone's telephone(5); the second octet (bits 8–15) names
        // nothing LLDP defines.
        let phone = Value::OctetString(vec![0b0000_0100, 0xff].into());
        assert_eq!(
            Capability::from_lldp_bits(snmp_bits(&phone)),
            [Capability::Telephone]
        );
        assert_eq!(snmp_bits(&Value::Integer(3)), 0);
        assert_eq!(
            Capability::from_cdp_bits(0x29),
            [Capability::Router, Capability::Bridge]
        );
        assert_eq!(
            Capability::from_cdp_bits(0x90),
            [Capability::Host, Capability::Telephone]
        );
        assert!(Capability::Bridge.forwards() && !Capability::Telephone.forwards());
    }

    #[test]
    fn lldp_ids_read_as_people_write_them() {
        let mac = [0x02, 0, 0x5e, 0x10, 0, 1];
        assert_eq!(
            lldp_id(Some(4), true, &mac).as_deref(),
            Some("02:00:5e:10:00:01")
        );
        assert_eq!(
            lldp_id(Some(3), false, &mac).as_deref(),
            Some("02:00:5e:10:00:01")
        );
        assert_eq!(
            lldp_id(Some(5), true, &[1, 198, 18, 1, 2]).as_deref(),
            Some("198.18.1.2")
        );
        assert_eq!(lldp_id(Some(5), false, b"eth0").as_deref(), Some("eth0"));
        assert_eq!(lldp_id(Some(7), true, b"\x00\x01").as_deref(), Some("0001"));
        assert_eq!(lldp_id(Some(7), true, b""), None);
        assert_eq!(
            lldp_management_index(&[0, 3, 1, 1, 4, 198, 18, 1, 2]),
            Some(((0, 3, 1), IpAddr::from([198, 18, 1, 2])))
        );
        let device = async_snmp::Oid::from_slice(&[1, 3, 6, 1, 2, 1, 25, 3, 1, 5]);
        assert_eq!(device_kind(&device), Some("printer"));
        let odd = async_snmp::Oid::from_slice(&[1, 3, 6, 1, 2, 1, 25, 3, 1, 7]);
        assert_eq!(device_kind(&odd), None);
    }
}
