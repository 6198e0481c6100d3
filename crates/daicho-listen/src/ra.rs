//! ICMPv6 Router Advertisement (RFC 4861 §4.2): a zero-copy view over the
//! ICMPv6 message and a plain [`RouterAdvertRepr`] of what the ledger keeps.
//!
//! Written here rather than taken from `pnet_packet`'s NDP module: its
//! option length is computed as `u8 * 8`, which overflows (a panic under
//! debug assertions) for any option longer than 31 units — and these bytes
//! come from whoever is on the segment.

use std::net::Ipv6Addr;

/// ICMPv6 type of a Router Advertisement.
pub const ROUTER_ADVERT: u8 = 134;
const HEADER_LEN: usize = 16;

/// Why bytes are not a router advertisement we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("shorter than a router advertisement header")]
    Truncated,
    #[error("not an ICMPv6 router advertisement (type {0}, code {1})")]
    NotRouterAdvert(u8, u8),
    #[error("an option runs past the end of the message or has length zero")]
    BadOption,
}

/// A router advertisement's bytes, checked to hold the fixed header.
#[derive(Debug, Clone, Copy)]
pub struct RouterAdvertPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RouterAdvertPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(Malformed::Truncated);
        }
        if bytes[0] != ROUTER_ADVERT || bytes[1] != 0 {
            return Err(Malformed::NotRouterAdvert(bytes[0], bytes[1]));
        }
        Ok(RouterAdvertPacket { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The M ("managed": addresses from DHCPv6) and O ("other
    /// configuration") bits.
    pub fn managed(&self) -> bool {
        self.bytes()[5] & 0x80 != 0
    }

    pub fn other_config(&self) -> bool {
        self.bytes()[5] & 0x40 != 0
    }

    /// Seconds hosts may use the sender as default router; 0 = not one.
    pub fn router_lifetime(&self) -> u16 {
        u16::from_be_bytes([self.bytes()[6], self.bytes()[7]])
    }

    /// The options as (type, body without type and length); an error ends
    /// the message as RFC 4861 §4.6 says a malformed option does.
    pub fn options(&self) -> impl Iterator<Item = Result<(u8, &[u8]), Malformed>> {
        let mut rest = &self.bytes()[HEADER_LEN..];
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let (kind, units) = match rest {
                [kind, units, ..] if *units > 0 => (*kind, usize::from(*units)),
                _ => {
                    rest = &[];
                    return Some(Err(Malformed::BadOption));
                }
            };
            let Some(option) = rest.get(..units * 8) else {
                rest = &[];
                return Some(Err(Malformed::BadOption));
            };
            rest = &rest[units * 8..];
            Some(Ok((kind, &option[2..])))
        })
    }
}

/// What a router advertisement says about its sender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterAdvertRepr {
    pub managed: bool,
    pub other_config: bool,
    pub router_lifetime: u16,
    /// Source link-layer address option, when sent.
    pub source_mac: Option<[u8; 6]>,
    /// Prefix information options: prefix and length.
    pub prefixes: Vec<(Ipv6Addr, u8)>,
    /// Recursive DNS servers (RFC 8106).
    pub dns: Vec<Ipv6Addr>,
    pub mtu: Option<u32>,
    /// NAT64 prefixes (PREF64, RFC 8781): prefix and length. Mobile
    /// carriers' IPv6-only networks send them; hospital LANs do not.
    pub pref64: Vec<(Ipv6Addr, u8)>,
}

impl RouterAdvertRepr {
    const SOURCE_LINK_LAYER: u8 = 1;
    const PREFIX_INFORMATION: u8 = 3;
    const MTU: u8 = 5;
    const RDNSS: u8 = 25;
    const PREF64: u8 = 38;
    /// PREF64's prefix length code (RFC 8781 §4): 0 → /96, 1 → /64, …
    const PREF64_LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];

    pub fn parse<T: AsRef<[u8]>>(packet: &RouterAdvertPacket<T>) -> Result<Self, Malformed> {
        let mut repr = RouterAdvertRepr {
            managed: packet.managed(),
            other_config: packet.other_config(),
            router_lifetime: packet.router_lifetime(),
            ..RouterAdvertRepr::default()
        };
        let ipv6 = |b: &[u8]| <[u8; 16]>::try_from(b).ok().map(Ipv6Addr::from);
        for option in packet.options() {
            let (kind, body) = option?;
            match kind {
                Self::SOURCE_LINK_LAYER => {
                    repr.source_mac = body.get(..6).and_then(|m| m.try_into().ok())
                }
                Self::PREFIX_INFORMATION => {
                    if let (Some(&length), Some(prefix)) =
                        (body.first(), body.get(14..30).and_then(ipv6))
                    {
                        repr.prefixes.push((prefix, length.min(128)));
                    }
                }
                Self::MTU => {
                    repr.mtu = body
                        .get(2..6)
                        .and_then(|m| m.try_into().ok())
                        .map(u32::from_be_bytes)
                }
                Self::RDNSS => repr.dns.extend(
                    body.get(6..)
                        .unwrap_or_default()
                        .chunks_exact(16)
                        .filter_map(ipv6),
                ),
                Self::PREF64 => {
                    // Scaled lifetime (13 bits) and length code (3 bits),
                    // then the prefix's first 96 bits.
                    if let (Some(field), Some(high)) = (body.get(..2), body.get(2..14)) {
                        let code = usize::from(u16::from_be_bytes([field[0], field[1]]) & 0x7);
                        let mut octets = [0u8; 16];
                        octets[..12].copy_from_slice(high);
                        if let Some(&length) = Self::PREF64_LENGTHS.get(code) {
                            repr.pref64.push((Ipv6Addr::from(octets), length));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(repr)
    }

    /// The message bytes (checksum left zero: the caller's IPv6 layer fills
    /// it). For tests and fuzz seeds.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![ROUTER_ADVERT, 0, 0, 0, 64];
        out.push(u8::from(self.managed) << 7 | u8::from(self.other_config) << 6);
        out.extend_from_slice(&self.router_lifetime.to_be_bytes());
        out.extend_from_slice(&[0; 8]);
        if let Some(mac) = self.source_mac {
            out.extend_from_slice(&[Self::SOURCE_LINK_LAYER, 1]);
            out.extend_from_slice(&mac);
        }
        if let Some(mtu) = self.mtu {
            out.extend_from_slice(&[Self::MTU, 1, 0, 0]);
            out.extend_from_slice(&mtu.to_be_bytes());
        }
        for (prefix, length) in &self.prefixes {
            out.extend_from_slice(&[Self::PREFIX_INFORMATION, 4, *length, 0xc0]);
            out.extend_from_slice(&86_400u32.to_be_bytes());
            out.extend_from_slice(&14_400u32.to_be_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&prefix.octets());
        }
        for (prefix, length) in &self.pref64 {
            let code = Self::PREF64_LENGTHS
                .iter()
                .position(|l| l == length)
                .unwrap_or(0) as u16;
            out.extend_from_slice(&[Self::PREF64, 2]);
            out.extend_from_slice(&((600u16 / 8) << 3 | code).to_be_bytes());
            out.extend_from_slice(&prefix.octets()[..12]);
        }
        if !self.dns.is_empty() {
            let units = 1 + 2 * self.dns.len();
            out.extend_from_slice(&[Self::RDNSS, u8::try_from(units).unwrap_or(u8::MAX), 0, 0]);
            out.extend_from_slice(&600u32.to_be_bytes());
            for server in &self.dns {
                out.extend_from_slice(&server.octets());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RouterAdvertRepr {
        RouterAdvertRepr {
            managed: false,
            other_config: true,
            router_lifetime: 1800,
            source_mac: Some([0x00, 0x1e, 0x42, 0x01, 0x02, 0x03]),
            prefixes: vec![("2001:db8:1::".parse().unwrap(), 64)],
            dns: vec!["2001:db8:1::53".parse().unwrap()],
            mtu: Some(1500),
            pref64: vec![("64:ff9b::".parse().unwrap(), 96)],
        }
    }

    #[test]
    fn emit_then_parse_gives_the_same_advert() {
        let bytes = sample().emit();
        let packet = RouterAdvertPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(RouterAdvertRepr::parse(&packet).unwrap(), sample());
    }

    /// radvd 2.19's advertisement (`AdvDefaultLifetime 12; prefix
    /// 2001:db8:7::/64; RDNSS 2001:db8:7::1`) from a veth with MAC
    /// 00:1e:42:0a:0b:0c, captured with `tcpdump -x` between two lab
    /// namespaces (ICMPv6 part only).
    #[test]
    fn a_recorded_radvd_advertisement_reads() {
        let bytes = [
            0x86, 0x00, 0x5d, 0x6c, 0x40, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40,
            0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x01, 0x01, 0x01, 0x00, 0x1e, 0x42, 0x0a, 0x0b, 0x0c,
        ];
        let packet = RouterAdvertPacket::new_checked(&bytes[..]).unwrap();
        let repr = RouterAdvertRepr::parse(&packet).unwrap();
        assert_eq!(repr.router_lifetime, 12);
        assert_eq!(repr.prefixes, [("2001:db8:7::".parse().unwrap(), 64)]);
        assert_eq!(repr.dns, ["2001:db8:7::1".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(repr.source_mac, Some([0x00, 0x1e, 0x42, 0x0a, 0x0b, 0x0c]));
    }

    #[test]
    fn malformed_adverts_are_refused_not_panicked_on() {
        let mut bytes = sample().emit();
        assert_eq!(
            RouterAdvertPacket::new_checked(&bytes[..10]).unwrap_err(),
            Malformed::Truncated
        );
        assert_eq!(
            RouterAdvertPacket::new_checked(&[135u8; 16][..]).unwrap_err(),
            Malformed::NotRouterAdvert(135, 135)
        );
        // An option claiming 255 units (2040 bytes) in a short message: the
        // length pnet's parser overflows on.
        bytes[17] = 255;
        let packet = RouterAdvertPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            RouterAdvertRepr::parse(&packet).unwrap_err(),
            Malformed::BadOption
        );
        bytes[17] = 0;
        let packet = RouterAdvertPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            RouterAdvertRepr::parse(&packet).unwrap_err(),
            Malformed::BadOption
        );
    }
}
