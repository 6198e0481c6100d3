//! Who answers DHCP on a segment: one DHCPDISCOVER per segment, broadcast
//! from a fixed, locally administered client MAC ([`PROBE_MAC`]: staff can
//! recognise it in a server's log), and every DHCPOFFER collected until the
//! timeout — like nmap's `broadcast-dhcp-discover`. The agent never sends a
//! DHCPREQUEST, so no server ever commits a lease to it.
//!
//! Message encoding and decoding are `dhcproto`'s; this crate builds the one
//! message it sends, reads offers meant for it (and ignores everything else),
//! and does the socket work.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use dhcproto::Encodable;
use dhcproto::v4::borrowed::DhcpOptionIterator;
use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, OptionCode};

/// The client MAC of every DISCOVER daicho sends: locally administered
/// (02:…), "da1c" for daicho, the same on every agent.
pub const PROBE_MAC: [u8; 6] = [0x02, 0xda, 0x1c, 0xd4, 0xc9, 0x01];

/// What one server offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The address the offer came from.
    pub from: Ipv4Addr,
    pub server_id: Option<Ipv4Addr>,
    pub offered: Ipv4Addr,
    pub subnet_mask: Option<Ipv4Addr>,
    pub routers: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub lease_seconds: Option<u32>,
}

/// The DISCOVER with transaction id `xid`: broadcast reply requested (we
/// have no address to be unicast to), no requested address, a parameter
/// request list for what the ledger wants to know.
pub fn discover(xid: u32) -> Vec<u8> {
    let mut message = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &PROBE_MAC,
    );
    message.set_flags(Flags::default().set_broadcast());
    let options = message.opts_mut();
    options.insert(DhcpOption::MessageType(MessageType::Discover));
    options.insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::AddressLeaseTime,
        OptionCode::ServerIdentifier,
    ]));
    message.to_vec().expect("a DISCOVER always encodes")
}

/// Which server message a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Offer,
    Ack,
}

/// A DHCPOFFER or DHCPACK a server sent to some client, as heard on the
/// wire: the transaction, the client it was for, and what was offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReply {
    pub xid: u32,
    pub kind: ReplyKind,
    /// The client's hardware address (chaddr), when it is an Ethernet one.
    pub client_mac: Option<[u8; 6]>,
    pub offer: Offer,
}

/// The offer in `bytes`, if it is a DHCPOFFER answering `xid` for
/// [`PROBE_MAC`]; anything else (other clients' traffic, malformed bytes)
/// is `None`.
pub fn parse_offer(bytes: &[u8], xid: u32, from: Ipv4Addr) -> Option<Offer> {
    parse_server_reply(bytes, from)
        .filter(|r| r.kind == ReplyKind::Offer && r.xid == xid && r.client_mac == Some(PROBE_MAC))
        .map(|r| r.offer)
}

/// Any DHCPOFFER or DHCPACK in `bytes` (sent from `from`); `None` for
/// requests, other message types and malformed bytes.
///
/// The fixed header is read here with checked slicing, and each option's
/// bytes by hand: dhcproto's full decoder asserts on some malformed options
/// (a ClientFQDN shorter than 3 bytes panics under debug assertions — found
/// by the fuzz target), so only its option iterator, which bounds every
/// read, is used on untrusted bytes.
pub fn parse_server_reply(bytes: &[u8], from: Ipv4Addr) -> Option<ServerReply> {
    const BOOTREPLY: u8 = 2;
    const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
    const ETHERNET: (u8, u8) = (1, 6);
    const OFFER: u8 = 2;
    const ACK: u8 = 5;
    let ipv4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from);
    if bytes.first() != Some(&BOOTREPLY) || bytes.get(236..240)? != MAGIC_COOKIE {
        return None;
    }
    let xid = u32::from_be_bytes(bytes.get(4..8)?.try_into().ok()?);
    let client_mac = ((*bytes.get(1)?, *bytes.get(2)?) == ETHERNET)
        .then(|| <[u8; 6]>::try_from(bytes.get(28..34)?).ok())
        .flatten();
    let mut offer = Offer {
        from,
        server_id: None,
        offered: ipv4(bytes.get(16..20)?)?,
        subnet_mask: None,
        routers: Vec::new(),
        dns: Vec::new(),
        lease_seconds: None,
    };
    let mut kind = None;
    for option in DhcpOptionIterator::new(bytes.get(240..)?) {
        let data = option.data();
        match option.code() {
            OptionCode::MessageType => {
                kind = match data {
                    [OFFER] => Some(ReplyKind::Offer),
                    [ACK] => Some(ReplyKind::Ack),
                    _ => None,
                }
            }
            OptionCode::ServerIdentifier => offer.server_id = ipv4(data),
            OptionCode::SubnetMask => offer.subnet_mask = ipv4(data),
            OptionCode::Router => offer.routers = data.chunks_exact(4).filter_map(ipv4).collect(),
            OptionCode::DomainNameServer => {
                offer.dns = data.chunks_exact(4).filter_map(ipv4).collect()
            }
            OptionCode::AddressLeaseTime => {
                offer.lease_seconds = <[u8; 4]>::try_from(data).ok().map(u32::from_be_bytes)
            }
            _ => {}
        }
    }
    Some(ServerReply {
        xid,
        kind: kind?,
        client_mac,
        offer,
    })
}

/// What a client's DISCOVER or REQUEST says about the client — the classic
/// fingerprint of a device that answers nothing else: the options it asks
/// for (55, in its order), its vendor class (60), host name (12) and client
/// identifier (61).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    pub client_mac: [u8; 6],
    /// DHCPDISCOVER 1, DHCPREQUEST 3, DHCPINFORM 8.
    pub message_type: u8,
    pub parameter_list: Vec<u8>,
    pub vendor_class: Option<String>,
    pub host_name: Option<String>,
    /// Hex.
    pub client_id: Option<String>,
    /// The address it asks for (50) or already has (ciaddr).
    pub requested: Option<Ipv4Addr>,
}

/// The client request in a DHCP message (BOOTREQUEST, Ethernet, with a
/// message type), or None for anything else. Never panics on any bytes.
pub fn parse_client_request(bytes: &[u8]) -> Option<ClientRequest> {
    const BOOTREQUEST: u8 = 1;
    const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
    const ETHERNET: (u8, u8) = (1, 6);
    if bytes.first() != Some(&BOOTREQUEST)
        || (*bytes.get(1)?, *bytes.get(2)?) != ETHERNET
        || bytes.get(236..240)? != MAGIC_COOKIE
    {
        return None;
    }
    let ipv4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from);
    let text = |b: &[u8]| {
        let text: String = String::from_utf8_lossy(b)
            .chars()
            .filter(|c| !c.is_control())
            .take(128)
            .collect();
        (!text.is_empty()).then_some(text)
    };
    let ciaddr = ipv4(bytes.get(12..16)?).filter(|a| !a.is_unspecified());
    let mut request = ClientRequest {
        client_mac: <[u8; 6]>::try_from(bytes.get(28..34)?).ok()?,
        message_type: 0,
        parameter_list: Vec::new(),
        vendor_class: None,
        host_name: None,
        client_id: None,
        requested: ciaddr,
    };
    for option in DhcpOptionIterator::new(bytes.get(240..)?) {
        let data = option.data();
        match option.code() {
            OptionCode::MessageType => request.message_type = *data.first()?,
            OptionCode::ParameterRequestList => request.parameter_list = data.to_vec(),
            OptionCode::ClassIdentifier => request.vendor_class = text(data),
            OptionCode::Hostname => request.host_name = text(data),
            OptionCode::ClientIdentifier => {
                request.client_id = Some(data.iter().take(64).map(|b| format!("{b:02x}")).collect())
            }
            OptionCode::RequestedIpAddress => request.requested = ipv4(data).or(request.requested),
            _ => {}
        }
    }
    matches!(request.message_type, 1 | 3 | 8).then_some(request)
}

/// Sends one DISCOVER out of `interface` and collects the offers that
/// arrive within `wait`. Needs CAP_NET_RAW-level rights only for binding
/// port 68 (root or CAP_NET_BIND_SERVICE).
pub async fn probe(interface: &str, xid: u32, wait: Duration) -> std::io::Result<Vec<Offer>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_broadcast(true)?;
    // Only this segment: the DISCOVER leaves and offers arrive on this NIC.
    socket.bind_device(Some(interface.as_bytes()))?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68)).into())?;
    socket.set_nonblocking(true)?;
    let socket = tokio::net::UdpSocket::from_std(socket.into())?;
    socket
        .send_to(&discover(xid), SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
        .await?;
    let mut offers = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = vec![0u8; 1500];
    while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer)).await
    {
        let (len, SocketAddr::V4(from)) = received? else {
            continue;
        };
        if let Some(offer) = parse_offer(&buffer[..len], xid, *from.ip())
            && !offers
                .iter()
                .any(|o: &Offer| o.from == offer.from && o.server_id == offer.server_id)
        {
            offers.push(offer);
        }
    }
    Ok(offers)
}

#[cfg(test)]
mod tests {
    use dhcproto::v4::Opcode;
    use dhcproto::{Decodable, Decoder};

    use super::*;

    /// An OFFER as a DHCP server would send it, built with dhcproto.
    fn offer(xid: u32, chaddr: &[u8]) -> Vec<u8> {
        let mut m = Message::new_with_id(
            xid,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(198, 18, 1, 150),
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            chaddr,
        );
        m.set_opcode(Opcode::BootReply);
        let o = m.opts_mut();
        o.insert(DhcpOption::MessageType(MessageType::Offer));
        o.insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(198, 18, 1, 254)));
        o.insert(DhcpOption::Router(vec![Ipv4Addr::new(198, 18, 1, 254)]));
        o.insert(DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)));
        o.insert(DhcpOption::AddressLeaseTime(3600));
        m.to_vec().unwrap()
    }

    #[test]
    fn the_discover_is_a_broadcast_discover_from_the_probe_mac() {
        let bytes = discover(0x1234_5678);
        let m = Message::decode(&mut Decoder::new(&bytes)).unwrap();
        assert_eq!(m.opcode(), Opcode::BootRequest);
        assert_eq!(m.opts().msg_type(), Some(MessageType::Discover));
        assert_eq!(&m.chaddr()[..6], &PROBE_MAC);
        assert!(m.flags().broadcast());
        assert!(m.opts().get(OptionCode::RequestedIpAddress).is_none());
    }

    #[test]
    fn only_offers_for_our_transaction_and_mac_are_read() {
        let from = Ipv4Addr::new(198, 18, 1, 254);
        let read = parse_offer(&offer(7, &PROBE_MAC), 7, from).unwrap();
        assert_eq!(read.offered, Ipv4Addr::new(198, 18, 1, 150));
        assert_eq!(read.routers, [from]);
        assert_eq!(read.server_id, Some(from));
        assert_eq!(read.lease_seconds, Some(3600));
        assert_eq!(
            parse_offer(&offer(8, &PROBE_MAC), 7, from),
            None,
            "another transaction"
        );
        assert_eq!(
            parse_offer(&offer(7, &[0, 1, 2, 3, 4, 5]), 7, from),
            None,
            "another client"
        );
        assert_eq!(
            parse_offer(&discover(7), 7, from),
            None,
            "a request, not an offer"
        );
        let bytes = offer(7, &PROBE_MAC);
        for len in 0..bytes.len() {
            let _ = parse_offer(&bytes[..len], 7, from);
        }
        // The fuzz target's find: a ClientFQDN option of one byte.
        let mut short_fqdn = bytes.clone();
        let end = short_fqdn.len() - 1;
        short_fqdn.splice(end..end, [81u8, 1, 0]);
        assert_eq!(
            parse_offer(&short_fqdn, 7, from).map(|o| o.offered),
            Some(read.offered)
        );
    }
}
