//! Frames addressed by hand to the MAC a host answered ARP from: IPv4 over
//! Ethernet, sent on the agent's raw socket. The kernel's own sockets need
//! a neighbour entry per host, and Linux keeps at most `gc_thresh3` of them
//! (1,024 by default, for the whole machine): on a segment of thousands of
//! hosts, packets past that wait in vain for an entry or are dropped. A
//! frame to a known MAC needs none; answers still reach the kernel's
//! sockets as usual.

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::Duration;

use pnet_datalink::{Channel, DataLinkReceiver, DataLinkSender};
use pnet_packet::MutablePacket;
use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::ip::{IpNextHeaderProtocol, IpNextHeaderProtocols};
use pnet_packet::ipv4::MutableIpv4Packet;
use pnet_packet::udp::MutableUdpPacket;

/// The segment's side of the link: where frames leave from.
#[derive(Debug, Clone)]
pub struct Link {
    pub interface: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
}

/// Ethernet and IPv4 headers.
pub(crate) const HEADERS: usize = 14 + 20;

/// Writes the Ethernet and IPv4 headers of a frame from `link` to
/// `to` (`mac`, `ip`) carrying `payload_len` bytes of `protocol`; the
/// payload goes at [`HEADERS`].
pub(crate) fn write_headers(
    frame: &mut [u8],
    link: &Link,
    to: ([u8; 6], Ipv4Addr),
    protocol: IpNextHeaderProtocol,
    payload_len: usize,
    identification: u16,
) {
    let mut ethernet = MutableEthernetPacket::new(frame).expect("the frame holds its headers");
    ethernet.set_destination(to.0.into());
    ethernet.set_source(link.mac.into());
    ethernet.set_ethertype(EtherTypes::Ipv4);
    let mut ip = MutableIpv4Packet::new(ethernet.payload_mut()).expect("the frame holds IPv4");
    ip.set_version(4);
    ip.set_header_length(5);
    ip.set_total_length((20 + payload_len) as u16);
    ip.set_identification(identification);
    ip.set_ttl(64);
    ip.set_next_level_protocol(protocol);
    ip.set_source(link.ip);
    ip.set_destination(to.1);
    ip.set_checksum(pnet_packet::ipv4::checksum(&ip.to_immutable()));
}

/// A link's raw sender, and the MACs of the hosts it may address.
pub struct LinkSender {
    link: Link,
    neighbours: HashMap<Ipv4Addr, [u8; 6]>,
    /// Taken out only when dropped.
    tx: Mutex<Option<Box<dyn DataLinkSender>>>,
}

impl Drop for LinkSender {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.get_mut().ok().and_then(Option::take) {
            daicho_arp::close_in_background(tx);
        }
    }
}

impl std::fmt::Debug for LinkSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSender")
            .field("link", &self.link)
            .field("neighbours", &self.neighbours.len())
            .finish()
    }
}

impl LinkSender {
    /// Opens a send-only raw socket on `link` (it receives nothing). Fails
    /// without CAP_NET_RAW.
    pub fn open(link: Link, neighbours: HashMap<Ipv4Addr, [u8; 6]>) -> io::Result<LinkSender> {
        const NOTHING: [libc::sock_filter; 1] = [libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0,
        }];
        let (tx, rx) = open_channel(&link.interface, &NOTHING)?;
        daicho_arp::close_in_background(rx);
        Ok(LinkSender {
            link,
            neighbours,
            tx: Mutex::new(Some(tx)),
        })
    }

    /// A UDP datagram from our `source_port` to `to`:`port`; `None` when
    /// `to`'s MAC is not known (send it through the kernel then).
    pub fn send_udp(
        &self,
        to: Ipv4Addr,
        source_port: u16,
        port: u16,
        payload: &[u8],
    ) -> Option<io::Result<()>> {
        let mac = *self.neighbours.get(&to)?;
        let frame = udp_frame(&self.link, (mac, to), source_port, port, payload);
        let mut tx = self.tx.lock().expect("never poisoned");
        let sent = tx.as_mut().and_then(|tx| tx.send_to(&frame, None));
        Some(sent.unwrap_or_else(|| Err(io::Error::other("the link took no frame"))))
    }
}

/// Ethernet, IPv4 and UDP from `link`:`source_port` to `to`:`port`.
fn udp_frame(
    link: &Link,
    to: ([u8; 6], Ipv4Addr),
    source_port: u16,
    port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut frame = vec![0u8; HEADERS + udp_len];
    write_headers(
        &mut frame,
        link,
        to,
        IpNextHeaderProtocols::Udp,
        udp_len,
        source_port ^ port,
    );
    let mut udp = MutableUdpPacket::new(&mut frame[HEADERS..]).expect("sized for it");
    udp.set_source(source_port);
    udp.set_destination(port);
    udp.set_length(udp_len as u16);
    udp.set_payload(payload);
    udp.set_checksum(pnet_packet::udp::ipv4_checksum(
        &udp.to_immutable(),
        &link.ip,
        &to.1,
    ));
    frame
}

/// A raw channel on `interface` whose receiving side sees only what
/// `filter` (classic BPF) accepts.
pub(crate) fn open_channel(
    interface: &str,
    filter: &[libc::sock_filter],
) -> io::Result<(Box<dyn DataLinkSender>, Box<dyn DataLinkReceiver>)> {
    let found = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == interface)
        .ok_or_else(|| io::Error::other(format!("no interface {interface}")))?;
    let fd = daicho_arp::open_filtered_socket(filter)?;
    let config = pnet_datalink::Config {
        // How often a blocked receive wakes to see whether the check is over.
        read_timeout: Some(Duration::from_millis(5)),
        write_timeout: Some(Duration::from_secs(1)),
        socket_fd: Some(fd),
        ..Default::default()
    };
    match pnet_datalink::channel(&found, config)? {
        Channel::Ethernet(tx, rx) => Ok((tx, rx)),
        _ => Err(io::Error::other("pnet returned a non-Ethernet channel")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::Packet;
    use pnet_packet::ethernet::EthernetPacket;
    use pnet_packet::ipv4::Ipv4Packet;
    use pnet_packet::udp::UdpPacket;

    #[test]
    fn a_udp_frame_reads_back_with_valid_checksums() {
        let link = Link {
            interface: "eth0".into(),
            mac: [2, 0, 0, 0, 0, 2],
            ip: Ipv4Addr::new(198, 18, 1, 2),
        };
        let to = ([2, 0, 0, 0, 0, 0x28], Ipv4Addr::new(198, 18, 1, 40));
        let frame = udp_frame(&link, to, 40_000, 137, b"query");
        let ethernet = EthernetPacket::new(&frame).unwrap();
        assert_eq!(ethernet.get_destination().octets(), to.0);
        assert_eq!(ethernet.get_source().octets(), link.mac);
        let ip = Ipv4Packet::new(ethernet.payload()).unwrap();
        assert_eq!((ip.get_source(), ip.get_destination()), (link.ip, to.1));
        assert_eq!(ip.get_checksum(), pnet_packet::ipv4::checksum(&ip));
        assert_eq!(usize::from(ip.get_total_length()), frame.len() - 14);
        let udp = UdpPacket::new(ip.payload()).unwrap();
        assert_eq!((udp.get_source(), udp.get_destination()), (40_000, 137));
        assert_eq!(udp.payload(), b"query");
        assert_eq!(
            udp.get_checksum(),
            pnet_packet::udp::ipv4_checksum(&udp, &link.ip, &to.1)
        );
    }
}
