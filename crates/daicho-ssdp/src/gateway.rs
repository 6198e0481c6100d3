//! A gateway's own uplink: the external address it reports over UPnP
//! (WANIPConnection/WANPPPConnection `GetExternalIPAddress`) or NAT-PMP
//! (RFC 6886), and what kind of address that is. A router in a hospital LAN
//! with a public or carrier-NAT address of its own has an Internet path that
//! bypasses the hospital's firewall.

use std::net::{IpAddr, Ipv4Addr};

/// What kind of address a gateway's uplink has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UplinkKind {
    /// Globally routable: a direct Internet uplink.
    Public,
    /// 100.64.0.0/10 (RFC 6598): a mobile or carrier uplink behind the
    /// carrier's NAT — typical of LTE/5G routers.
    CarrierNat,
    /// Private, link-local or reserved: another NAT in front of it.
    Private,
    /// 0.0.0.0 or nothing: the gateway has no uplink address now.
    None,
}

impl UplinkKind {
    pub fn of(ip: Option<IpAddr>) -> UplinkKind {
        let Some(ip) = ip else {
            return UplinkKind::None;
        };
        let IpAddr::V4(v4) = ip else {
            return if ip.is_unspecified() {
                UplinkKind::None
            } else {
                UplinkKind::Public
            };
        };
        let [a, b, ..] = v4.octets();
        if v4.is_unspecified() {
            UplinkKind::None
        } else if a == 100 && (64..128).contains(&b) {
            UplinkKind::CarrierNat
        } else if v4.is_private()
            || v4.is_link_local()
            || v4.is_loopback()
            || v4.is_documentation()
            || (a == 198 && (b == 18 || b == 19))
            || a >= 240
        {
            UplinkKind::Private
        } else {
            UplinkKind::Public
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UplinkKind::Public => "public",
            UplinkKind::CarrierNat => "carrier_nat",
            UplinkKind::Private => "private",
            UplinkKind::None => "none",
        }
    }
}

/// The SOAPAction header and body asking `service_type` for its external
/// address.
pub fn external_ip_request(service_type: &str) -> (String, String) {
    let action = format!("\"{service_type}#GetExternalIPAddress\"");
    let body = format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
         <u:GetExternalIPAddress xmlns:u=\"{service_type}\"></u:GetExternalIPAddress>\
         </s:Body></s:Envelope>\r\n"
    );
    (action, body)
}

/// The address in a `GetExternalIPAddressResponse`; empty means none.
pub fn parse_external_ip(body: &[u8]) -> Option<IpAddr> {
    let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    let start = text.find("NewExternalIPAddress>")? + "NewExternalIPAddress>".len();
    let end = text[start..].find('<')? + start;
    text[start..end].trim().parse().ok()
}

/// A NAT-PMP "external address" request (version 0, opcode 0).
pub const NATPMP_REQUEST: [u8; 2] = [0, 0];
pub const NATPMP_PORT: u16 = 5351;

/// A NAT-PMP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatPmp {
    /// 0 success; 3 network failure (no uplink address), ...
    pub result: u16,
    pub external: Option<Ipv4Addr>,
}

pub fn parse_natpmp(bytes: &[u8]) -> Option<NatPmp> {
    match bytes {
        [0, 128, r0, r1, _, _, _, _, a, b, c, d, ..] => {
            let result = u16::from_be_bytes([*r0, *r1]);
            let external = Some(Ipv4Addr::new(*a, *b, *c, *d))
                .filter(|ip| result == 0 && !ip.is_unspecified());
            Some(NatPmp { result, external })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uplink_kinds() {
        let kind = |s: &str| UplinkKind::of(Some(s.parse().unwrap()));
        assert_eq!(kind("100.64.12.34"), UplinkKind::CarrierNat);
        assert_eq!(kind("100.127.255.1"), UplinkKind::CarrierNat);
        assert_eq!(kind("100.128.0.1"), UplinkKind::Public);
        assert_eq!(kind("203.0.113.9"), UplinkKind::Private);
        assert_eq!(kind("192.168.1.1"), UplinkKind::Private);
        assert_eq!(kind("198.18.3.2"), UplinkKind::Private);
        assert_eq!(kind("0.0.0.0"), UplinkKind::None);
        assert_eq!(kind("8.8.8.8"), UplinkKind::Public);
        assert_eq!(UplinkKind::of(None), UplinkKind::None);
    }

    #[test]
    fn answers_of_the_gateway() {
        let soap = b"<s:Envelope><s:Body><u:GetExternalIPAddressResponse><NewExternalIPAddress>100.64.12.34</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>";
        assert_eq!(
            parse_external_ip(soap),
            Some("100.64.12.34".parse().unwrap())
        );
        let empty = b"<NewExternalIPAddress></NewExternalIPAddress>";
        assert_eq!(parse_external_ip(empty), None);
        assert_eq!(parse_external_ip(b"<x>"), None);
        // miniupnpd with a reserved uplink address: result 3, network failure.
        let failure = [0x00, 0x80, 0x00, 0x03, 0x00, 0x00, 0x34, 0x5b, 0, 0, 0, 0];
        assert_eq!(
            parse_natpmp(&failure),
            Some(NatPmp {
                result: 3,
                external: None
            })
        );
        let ok = [0, 128, 0, 0, 0, 0, 0, 1, 100, 64, 1, 2];
        assert_eq!(
            parse_natpmp(&ok).unwrap().external,
            Some(Ipv4Addr::new(100, 64, 1, 2))
        );
        assert_eq!(parse_natpmp(&[0, 128, 0]), None);
        let (action, body) = external_ip_request("urn:schemas-upnp-org:service:WANIPConnection:2");
        assert_eq!(
            action,
            "\"urn:schemas-upnp-org:service:WANIPConnection:2#GetExternalIPAddress\""
        );
        assert!(body.contains(
            "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_external_ip(&bytes);
            let _ = parse_natpmp(&bytes);
        }
    }
}
