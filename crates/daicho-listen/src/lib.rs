//! Listening on a segment without sending anything: the DHCP offers and
//! acknowledgements servers broadcast to any client, the DISCOVERs and
//! REQUESTs clients broadcast (their option lists fingerprint them), the
//! IPv6 router advertisements routers multicast to all nodes, and the LLDP
//! and CDP frames a switch port sends to what is plugged into it (the
//! switch's name and the port's: where the agent itself is). A rogue DHCP
//! server or an LTE router announcing itself as IPv6 default router shows
//! up here even when the agent probes nothing.
//!
//! [`hear`] reads one Ethernet frame (pure, for tests and fuzzing);
//! [`listen`] opens a filtered AF_PACKET socket through pnet and collects
//! what it hears for a fixed time. Reading never panics on hostile bytes.

pub mod link;
pub mod ra;

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use daicho_dhcp::{ClientRequest, ServerReply};
pub use link::{CdpPacket, LinkNeighbourRepr, LinkProtocol, LldpPacket};
use pnet_datalink::Channel;
use pnet_packet::Packet;
use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::udp::UdpPacket;
pub use ra::{RouterAdvertPacket, RouterAdvertRepr};

/// One thing a server or router said on the segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Dhcp {
        /// The sender's Ethernet address.
        mac: [u8; 6],
        reply: ServerReply,
    },
    RouterAdvert {
        mac: [u8; 6],
        /// The sender's (link-local) address.
        from: Ipv6Addr,
        advert: RouterAdvertRepr,
    },
    /// A client asking for an address.
    DhcpClient {
        mac: [u8; 6],
        request: ClientRequest,
    },
    /// An LLDP or CDP announcement.
    Link {
        mac: [u8; 6],
        neighbour: LinkNeighbourRepr,
    },
}

impl Heard {
    /// Who said it: one entry per sender is kept.
    pub fn sender(&self) -> (IpAddr, [u8; 6]) {
        match self {
            Heard::Dhcp { mac, reply } => (reply.offer.from.into(), *mac),
            Heard::RouterAdvert { mac, from, .. } => ((*from).into(), *mac),
            // A client by its MAC: its DISCOVER and REQUEST are one client.
            Heard::DhcpClient { mac, .. } => (std::net::Ipv4Addr::UNSPECIFIED.into(), *mac),
            // A neighbour by its MAC: the address it gives may be anywhere.
            Heard::Link { mac, .. } => (std::net::Ipv4Addr::UNSPECIFIED.into(), *mac),
        }
    }
}

/// The DHCP message, router advertisement or LLDP/CDP announcement in one
/// Ethernet frame; `None` for anything else, including malformed frames.
pub fn hear(frame: &[u8]) -> Option<Heard> {
    let ethernet = EthernetPacket::new(frame)?;
    let mac = ethernet.get_source().octets();
    // CDP rides in 802.3 frames: the EtherType field holds a length.
    if ethernet.get_destination().octets() == link::CDP_DESTINATION
        && ethernet.get_ethertype().0 < 0x0600
    {
        let packet = CdpPacket::new_checked(ethernet.payload()).ok()?;
        let neighbour = LinkNeighbourRepr::parse_cdp(&packet).ok()?;
        return Some(Heard::Link { mac, neighbour });
    }
    match ethernet.get_ethertype() {
        EtherTypes::Lldp => {
            let packet = LldpPacket::new_checked(ethernet.payload()).ok()?;
            let neighbour = LinkNeighbourRepr::parse_lldp(&packet).ok()?;
            Some(Heard::Link { mac, neighbour })
        }
        EtherTypes::Ipv4 => {
            let ip = Ipv4Packet::new(ethernet.payload())?;
            let udp_at = usize::from(ip.get_header_length()) * 4;
            if ip.get_next_level_protocol() != IpNextHeaderProtocols::Udp
                || ip.get_fragment_offset() != 0
                || udp_at < 20
            {
                return None;
            }
            let udp = UdpPacket::new(ethernet.payload().get(udp_at..)?)?;
            match (udp.get_source(), udp.get_destination()) {
                (67, 68) => {
                    let reply = daicho_dhcp::parse_server_reply(udp.payload(), ip.get_source())?;
                    Some(Heard::Dhcp { mac, reply })
                }
                (68, 67) => {
                    let request = daicho_dhcp::parse_client_request(udp.payload())?;
                    Some(Heard::DhcpClient { mac, request })
                }
                _ => None,
            }
        }
        EtherTypes::Ipv6 => {
            let ip = Ipv6Packet::new(ethernet.payload())?;
            // RFC 4861 §6.1.2: only link-local senders with hop limit 255
            // (so the advert cannot have been routed here).
            let from = ip.get_source();
            if ip.get_next_header() != IpNextHeaderProtocols::Icmpv6
                || ip.get_hop_limit() != 255
                || (from.segments()[0] & 0xffc0) != 0xfe80
            {
                return None;
            }
            let packet = RouterAdvertPacket::new_checked(ethernet.payload().get(40..)?).ok()?;
            let advert = RouterAdvertRepr::parse(&packet).ok()?;
            Some(Heard::RouterAdvert { mac, from, advert })
        }
        _ => None,
    }
}

/// `(ip and udp and ((src port 67 and dst port 68) or (src port 68 and
/// dst port 67))) or (ip6 and ip6[6] = 58 and ip6[7] = 255 and ip6[40] =
/// 134) or ether proto 0x88cc or ether dst 01:00:0c:cc:cc:cc`, from
/// `tcpdump -dd -y EN10MB`: DHCP server replies, client requests, router
/// advertisements, LLDP and CDP; nothing else reaches us.
const LISTENED: [libc::sock_filter; 28] = {
    const fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter { code, jt, jf, k }
    }
    [
        op(0x28, 0, 0, 0x0000000c),
        op(0x15, 0, 12, 0x00000800),
        op(0x30, 0, 0, 0x00000017),
        op(0x15, 0, 18, 0x00000011),
        op(0x28, 0, 0, 0x00000014),
        op(0x45, 16, 0, 0x00001fff),
        op(0xb1, 0, 0, 0x0000000e),
        op(0x48, 0, 0, 0x0000000e),
        op(0x15, 0, 2, 0x00000043),
        op(0x48, 0, 0, 0x00000010),
        op(0x15, 15, 11, 0x00000044),
        op(0x15, 0, 10, 0x00000044),
        op(0x48, 0, 0, 0x00000010),
        op(0x15, 12, 8, 0x00000043),
        op(0x15, 0, 6, 0x000086dd),
        op(0x30, 0, 0, 0x00000014),
        op(0x15, 0, 5, 0x0000003a),
        op(0x30, 0, 0, 0x00000015),
        op(0x15, 0, 3, 0x000000ff),
        op(0x30, 0, 0, 0x00000036),
        op(0x15, 5, 1, 0x00000086),
        op(0x15, 4, 0, 0x000088cc),
        op(0x20, 0, 0, 0x00000002),
        op(0x15, 0, 3, 0x0ccccccc),
        op(0x28, 0, 0, 0x00000000),
        op(0x15, 0, 1, 0x00000100),
        op(0x6, 0, 0, 0x00040000),
        op(0x6, 0, 0, 0x00000000),
    ]
};

/// The link-local groups LLDP and CDP are sent to. A NIC drops multicast
/// it was not asked for; these are joined on the listening socket only.
const LINK_GROUPS: [[u8; 6]; 2] = [[0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e], link::CDP_DESTINATION];

/// Joins `group` on interface `index` for socket `fd` (left when it closes).
fn join_group(fd: i32, index: u32, group: [u8; 6]) -> std::io::Result<()> {
    let mut address = [0u8; 8];
    address[..6].copy_from_slice(&group);
    let request = libc::packet_mreq {
        mr_ifindex: i32::try_from(index).map_err(std::io::Error::other)?,
        mr_type: libc::PACKET_MR_MULTICAST as u16,
        mr_alen: 6,
        mr_address: address,
    };
    // SAFETY: setsockopt(2) with a packet_mreq that lives across the call.
    let status = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            std::ptr::from_ref(&request).cast(),
            std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Most distinct senders of each kind kept per listening window: a flood
/// of forged senders cannot grow the report without bound.
pub const MAX_SENDERS: usize = 256;

/// Why listening did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("interface {0} does not exist / インターフェース {0} がありません")]
    NoInterface(String),
    #[error(
        "cannot listen on {interface}: {source} (needs root or CAP_NET_RAW) / {interface} で受信できません"
    )]
    Io {
        interface: String,
        source: std::io::Error,
    },
}

/// One ICMPv6 Router Solicitation from the unspecified address to all
/// routers (ff02::2), so that every router on the link answers at once to
/// all nodes instead of after its next periodic interval (up to 10 minutes
/// with radvd's defaults). Sent from `::`, it carries no link-layer option
/// (RFC 4861 §4.1) and leaves no neighbour entry behind.
pub fn router_solicitation(own_mac: [u8; 6]) -> Vec<u8> {
    let all_routers: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    let mut icmp = vec![133, 0, 0, 0, 0, 0, 0, 0];
    if let Some(packet) = pnet_packet::icmpv6::Icmpv6Packet::new(&icmp) {
        let sum = pnet_packet::icmpv6::checksum(&packet, &Ipv6Addr::UNSPECIFIED, &all_routers);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    let mut frame = vec![0x33, 0x33, 0, 0, 0, 2];
    frame.extend_from_slice(&own_mac);
    frame.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 58, 255]);
    frame.extend_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
    frame.extend_from_slice(&all_routers.octets());
    frame.extend_from_slice(&icmp);
    frame
}

/// Listens on `interface` for `duration`. The newest message of each
/// sender is kept (at most [`MAX_SENDERS`]), in the order first heard.
/// Sends nothing, unless `solicit_routers`: then one
/// [`router_solicitation`] at the start. Blocks; run it with
/// `spawn_blocking`.
pub fn listen(
    interface: &str,
    duration: Duration,
    solicit_routers: bool,
) -> Result<Vec<Heard>, ListenError> {
    let io = |source| ListenError::Io {
        interface: interface.to_owned(),
        source,
    };
    let device = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == interface)
        .ok_or_else(|| ListenError::NoInterface(interface.to_owned()))?;
    let fd = daicho_arp::open_filtered_socket(&LISTENED).map_err(io)?;
    for group in LINK_GROUPS {
        // A NIC that filters multicast would drop only LLDP/CDP without
        // it; a veth or a bridge port passes them anyway.
        let _ = join_group(fd, device.index, group);
    }
    let config = pnet_datalink::Config {
        read_timeout: Some(Duration::from_millis(100)),
        socket_fd: Some(fd),
        ..Default::default()
    };
    let (mut sender, mut receiver) = match pnet_datalink::channel(&device, config).map_err(io)? {
        Channel::Ethernet(sender, receiver) => (sender, receiver),
        _ => {
            return Err(io(std::io::Error::other(
                "pnet returned a non-Ethernet channel",
            )));
        }
    };
    if solicit_routers {
        let own_mac = device.mac.map(|m| m.octets()).unwrap_or_default();
        if let Some(sent) = sender.send_to(&router_solicitation(own_mac), None) {
            sent.map_err(io)?;
        }
    }
    let deadline = Instant::now() + duration;
    let mut heard: Vec<Heard> = Vec::new();
    while Instant::now() < deadline {
        match receiver.next() {
            Ok(frame) => {
                if let Some(message) = hear(frame) {
                    keep(&mut heard, message);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(heard)
}

/// Replaces the sender's earlier message of the same kind, or adds it. Each
/// kind has its own bound: a flood of forged clients cannot crowd out the
/// rogue DHCP server being looked for.
fn keep(heard: &mut Vec<Heard>, message: Heard) {
    let kind = std::mem::discriminant(&message);
    // A switch port speaking LLDP and CDP is heard in both.
    let protocol = |h: &Heard| match h {
        Heard::Link { neighbour, .. } => Some(neighbour.protocol),
        _ => None,
    };
    let same = |h: &Heard| {
        h.sender() == message.sender()
            && std::mem::discriminant(h) == kind
            && protocol(h) == protocol(&message)
    };
    if let Some(earlier) = heard.iter_mut().find(|h| same(h)) {
        *earlier = message;
    } else if heard
        .iter()
        .filter(|h| std::mem::discriminant(*h) == kind)
        .count()
        < MAX_SENDERS
    {
        heard.push(message);
    }
}

#[cfg(test)]
mod tests;
