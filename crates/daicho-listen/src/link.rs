//! LLDP (IEEE 802.1AB) and CDP frames: what a switch port says about itself
//! to the device plugged into it (the switch's name and the port's), and
//! what IP phones and some medical devices announce. A zero-copy view over
//! each frame's TLVs, checked before use, and a plain [`LinkNeighbourRepr`]
//! of what the report keeps. Nothing here panics on hostile bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// LLDP's EtherType.
pub const LLDP_ETHERTYPE: u16 = 0x88cc;
/// CDP's multicast destination (sent in 802.3 frames with LLC/SNAP).
pub const CDP_DESTINATION: [u8; 6] = [0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc];
/// LLC/SNAP header of CDP: DSAP, SSAP, control, Cisco's OUI, protocol 0x2000.
const CDP_SNAP: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];

/// Why bytes are not an LLDPDU or CDP message we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("a TLV runs past the end of the frame")]
    Truncated,
    #[error("not a CDP message (no LLC/SNAP header for CDP)")]
    NotCdp,
    #[error("the mandatory chassis ID, port ID and TTL are missing")]
    MissingMandatory,
}

/// Which protocol a neighbour spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProtocol {
    Lldp,
    Cdp,
}

/// An LLDPDU (the payload of an 0x88cc frame): 7-bit type, 9-bit length.
#[derive(Debug, Clone, Copy)]
pub struct LldpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> LldpPacket<T> {
    /// Checks that every TLV up to the End TLV (or the end of the bytes)
    /// fits in the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let packet = LldpPacket { buffer };
        for tlv in packet.tlvs() {
            tlv?;
        }
        Ok(packet)
    }

    /// The TLVs as (type, value), up to the End TLV.
    pub fn tlvs(&self) -> impl Iterator<Item = Result<(u8, &[u8]), Malformed>> {
        let mut rest = self.buffer.as_ref();
        std::iter::from_fn(move || {
            let [high, low, tail @ ..] = rest else {
                rest = &[];
                return None;
            };
            let kind = high >> 1;
            let length = usize::from(u16::from_be_bytes([high & 1, *low]));
            if kind == 0 {
                rest = &[];
                return None;
            }
            let Some(value) = tail.get(..length) else {
                rest = &[];
                return Some(Err(Malformed::Truncated));
            };
            rest = &tail[length..];
            Some(Ok((kind, value)))
        })
    }
}

/// A CDP message: the 802.3 payload after the LLC/SNAP header is a version,
/// a TTL, a checksum, then TLVs with 16-bit type and 16-bit length (the
/// length counts the 4-byte TLV header).
#[derive(Debug, Clone, Copy)]
pub struct CdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> CdpPacket<T> {
    /// `buffer` is the 802.3 payload (from the LLC header on).
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let bytes = buffer.as_ref();
        if bytes.get(..CDP_SNAP.len()) != Some(&CDP_SNAP[..]) || bytes.len() < CDP_SNAP.len() + 4 {
            return Err(Malformed::NotCdp);
        }
        let packet = CdpPacket { buffer };
        for tlv in packet.tlvs() {
            tlv?;
        }
        Ok(packet)
    }

    pub fn tlvs(&self) -> impl Iterator<Item = Result<(u16, &[u8]), Malformed>> {
        let mut rest = &self.buffer.as_ref()[CDP_SNAP.len() + 4..];
        std::iter::from_fn(move || {
            let [t0, t1, l0, l1, tail @ ..] = rest else {
                rest = &[];
                return None;
            };
            let kind = u16::from_be_bytes([*t0, *t1]);
            let Some(length) = usize::from(u16::from_be_bytes([*l0, *l1])).checked_sub(4) else {
                rest = &[];
                return Some(Err(Malformed::Truncated));
            };
            let Some(value) = tail.get(..length) else {
                rest = &[];
                return Some(Err(Malformed::Truncated));
            };
            rest = &tail[length..];
            Some(Ok((kind, value)))
        })
    }
}

/// What a neighbour said about itself, as the report keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkNeighbourRepr {
    pub protocol: LinkProtocol,
    /// LLDP's chassis ID (a MAC, an address or a name); CDP's device ID.
    pub chassis_id: Option<String>,
    /// The port the frame left by: its name (`Gi1/0/14`, `p3`).
    pub port_id: Option<String>,
    pub port_description: Option<String>,
    pub system_name: Option<String>,
    /// LLDP's system description; CDP's software version and platform.
    pub system_description: Option<String>,
    /// Enabled capabilities: LLDP's 16 bits, or CDP's 32.
    pub capabilities: Option<u32>,
    pub management_address: Option<IpAddr>,
    /// CDP's native VLAN, or LLDP's port VLAN ID (802.1 TLV).
    pub vlan: Option<u16>,
}

impl LinkNeighbourRepr {
    fn empty(protocol: LinkProtocol) -> Self {
        LinkNeighbourRepr {
            protocol,
            chassis_id: None,
            port_id: None,
            port_description: None,
            system_name: None,
            system_description: None,
            capabilities: None,
            management_address: None,
            vlan: None,
        }
    }

    pub fn parse_lldp<T: AsRef<[u8]>>(packet: &LldpPacket<T>) -> Result<Self, Malformed> {
        let mut repr = Self::empty(LinkProtocol::Lldp);
        let mut ttl = false;
        for tlv in packet.tlvs() {
            let (kind, value) = tlv?;
            match (kind, value) {
                (1, [subtype, id @ ..]) => repr.chassis_id = id_text(*subtype, 4, 5, id),
                (2, [subtype, id @ ..]) => repr.port_id = id_text(*subtype, 3, 4, id),
                (3, [_, _, ..]) => ttl = true,
                (4, text) => repr.port_description = text_of(text),
                (5, text) => repr.system_name = text_of(text),
                (6, text) => repr.system_description = text_of(text),
                (7, [_, _, e0, e1, ..]) => {
                    repr.capabilities = Some(u32::from(u16::from_be_bytes([*e0, *e1])));
                }
                (8, [length, address @ ..]) => {
                    let address = address.get(..usize::from(*length)).unwrap_or_default();
                    repr.management_address = repr.management_address.or(address_of(address));
                }
                // 802.1 organisationally specific: Port VLAN ID.
                (127, [0x00, 0x80, 0xc2, 0x01, v0, v1, ..]) => {
                    repr.vlan = Some(u16::from_be_bytes([*v0, *v1])).filter(|v| *v != 0);
                }
                _ => {}
            }
        }
        if repr.chassis_id.is_none() || repr.port_id.is_none() || !ttl {
            return Err(Malformed::MissingMandatory);
        }
        Ok(repr)
    }

    pub fn parse_cdp<T: AsRef<[u8]>>(packet: &CdpPacket<T>) -> Result<Self, Malformed> {
        let mut repr = Self::empty(LinkProtocol::Cdp);
        let mut software = None;
        let mut platform = None;
        for tlv in packet.tlvs() {
            let (kind, value) = tlv?;
            match (kind, value) {
                (0x0001, text) => repr.chassis_id = text_of(text),
                (0x0002, addresses) => repr.management_address = cdp_address(addresses),
                (0x0003, text) => repr.port_id = text_of(text),
                (0x0004, [a, b, c, d]) => {
                    repr.capabilities = Some(u32::from_be_bytes([*a, *b, *c, *d]))
                }
                (0x0005, text) => software = text_of(text),
                (0x0006, text) => platform = text_of(text),
                (0x000a, [v0, v1]) => repr.vlan = Some(u16::from_be_bytes([*v0, *v1])),
                _ => {}
            }
        }
        repr.system_name = repr.chassis_id.clone();
        repr.system_description = match (platform, software) {
            (Some(p), Some(s)) => Some(format!("{p}: {s}")),
            (p, s) => p.or(s),
        };
        if repr.chassis_id.is_none() || repr.port_id.is_none() {
            return Err(Malformed::MissingMandatory);
        }
        Ok(repr)
    }
}

/// Text as sent (lossy UTF-8); the report's cleaner trims it later.
fn text_of(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    (!text.trim().is_empty()).then_some(text)
}

/// A chassis or port ID: a MAC (subtype `mac`), a network address
/// (subtype `network`: family, then the address) or text.
fn id_text(subtype: u8, mac: u8, network: u8, id: &[u8]) -> Option<String> {
    if subtype == mac
        && let Ok(octets) = <[u8; 6]>::try_from(id)
    {
        let parts: Vec<String> = octets.iter().map(|b| format!("{b:02x}")).collect();
        return Some(parts.join(":"));
    }
    if subtype == network {
        return address_of(id).map(|a| a.to_string());
    }
    text_of(id)
}

/// An IANA address family byte and the address.
fn address_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes {
        [1, a, b, c, d] => Some(Ipv4Addr::new(*a, *b, *c, *d).into()),
        [2, rest @ ..] => <[u8; 16]>::try_from(rest)
            .ok()
            .map(|o| Ipv6Addr::from(o).into()),
        _ => None,
    }
}

/// The first IPv4 address of CDP's address TLV: a count, then entries of
/// protocol type, protocol length, protocol, address length, address.
fn cdp_address(bytes: &[u8]) -> Option<IpAddr> {
    let mut rest = bytes.get(4..)?;
    while let [_kind, length, tail @ ..] = rest {
        let protocol = tail.get(..usize::from(*length))?;
        let tail = &tail[usize::from(*length)..];
        let [a0, a1, tail @ ..] = tail else {
            return None;
        };
        let length = usize::from(u16::from_be_bytes([*a0, *a1]));
        let address = tail.get(..length)?;
        if protocol == [0xcc]
            && let Ok(octets) = <[u8; 4]>::try_from(address)
        {
            return Some(Ipv4Addr::from(octets).into());
        }
        rest = &tail[length..];
    }
    None
}
