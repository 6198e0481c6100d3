//! ARP over Ethernet (RFC 826), IPv4 only: a plain [`ArpRepr`] with `parse` and
//! `emit`, over pnet's checked packet views. Parsing never panics and never
//! allocates; anything that is not a well-formed Ethernet/IPv4 ARP frame is an
//! error value.

use std::net::Ipv4Addr;

use daicho_report::MacAddr;
use pnet_base::MacAddr as PnetMac;
use pnet_packet::arp::{
    ArpHardwareTypes, ArpOperation, ArpOperations, ArpPacket, MutableArpPacket,
};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::{MutablePacket, Packet};

/// Length of an ARP frame on Ethernet without padding: 14 + 28 bytes.
pub const FRAME_LEN: usize = 42;

/// Why a frame is not an ARP frame we can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame shorter than an Ethernet ARP frame")]
    Truncated,
    #[error("not an ARP frame")]
    NotArp,
    #[error("ARP for another hardware or protocol type")]
    Unsupported,
}

/// Request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Request,
    Reply,
}

/// One ARP message with the Ethernet source it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    pub eth_source: MacAddr,
    pub eth_destination: MacAddr,
    pub operation: Operation,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

fn to_pnet(mac: MacAddr) -> PnetMac {
    let [a, b, c, d, e, f] = mac.0;
    PnetMac::new(a, b, c, d, e, f)
}

fn from_pnet(mac: PnetMac) -> MacAddr {
    MacAddr(mac.octets())
}

impl ArpRepr {
    /// A who-has request for `target_ip`, broadcast from `sender`.
    pub fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            eth_source: sender_mac,
            eth_destination: MacAddr::BROADCAST,
            operation: Operation::Request,
            sender_mac,
            sender_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        }
    }

    /// Reads an Ethernet frame.
    pub fn parse(frame: &[u8]) -> Result<ArpRepr, FrameError> {
        let eth = EthernetPacket::new(frame).ok_or(FrameError::Truncated)?;
        if eth.get_ethertype() != EtherTypes::Arp {
            return Err(FrameError::NotArp);
        }
        let arp = ArpPacket::new(eth.payload()).ok_or(FrameError::Truncated)?;
        if arp.get_hardware_type() != ArpHardwareTypes::Ethernet
            || arp.get_protocol_type() != EtherTypes::Ipv4
            || arp.get_hw_addr_len() != 6
            || arp.get_proto_addr_len() != 4
        {
            return Err(FrameError::Unsupported);
        }
        let operation = match arp.get_operation() {
            ArpOperations::Request => Operation::Request,
            ArpOperations::Reply => Operation::Reply,
            _ => return Err(FrameError::Unsupported),
        };
        Ok(ArpRepr {
            eth_source: from_pnet(eth.get_source()),
            eth_destination: from_pnet(eth.get_destination()),
            operation,
            sender_mac: from_pnet(arp.get_sender_hw_addr()),
            sender_ip: arp.get_sender_proto_addr(),
            target_mac: from_pnet(arp.get_target_hw_addr()),
            target_ip: arp.get_target_proto_addr(),
        })
    }

    /// Writes the frame into `buf`, which must hold at least [`FRAME_LEN`] bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut eth = MutableEthernetPacket::new(&mut buf[..FRAME_LEN])
            .expect("buffer holds an Ethernet header");
        eth.set_destination(to_pnet(self.eth_destination));
        eth.set_source(to_pnet(self.eth_source));
        eth.set_ethertype(EtherTypes::Arp);
        let mut arp =
            MutableArpPacket::new(eth.payload_mut()).expect("buffer holds an ARP payload");
        arp.set_hardware_type(ArpHardwareTypes::Ethernet);
        arp.set_protocol_type(EtherTypes::Ipv4);
        arp.set_hw_addr_len(6);
        arp.set_proto_addr_len(4);
        arp.set_operation(match self.operation {
            Operation::Request => ArpOperations::Request,
            Operation::Reply => ArpOperation::new(2),
        });
        arp.set_sender_hw_addr(to_pnet(self.sender_mac));
        arp.set_sender_proto_addr(self.sender_ip);
        arp.set_target_hw_addr(to_pnet(self.target_mac));
        arp.set_target_proto_addr(self.target_ip);
    }

    /// An announcement: the sender states its own address (gratuitous ARP).
    pub fn is_announcement(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    /// An RFC 5227 probe: a host checking an address before it takes it; the
    /// sender address is 0.0.0.0, so it tells us nothing about who has what.
    pub fn is_probe(&self) -> bool {
        self.sender_ip.is_unspecified()
    }
}

/// Offset of the target protocol address in an Ethernet ARP frame. The sweep
/// emits one template and patches only these four bytes per target.
pub const TARGET_IP_OFFSET: usize = 38;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reply captured on a lab veth (`tcpdump -xx`): 198.18.1.10 is-at 00:1b:21:0a:0b:0c.
    const CAPTURED_REPLY: [u8; 42] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c, 0xc6, 0x12,
        0x01, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x01, 0x02,
    ];

    #[test]
    fn parses_a_captured_reply() {
        let repr = ArpRepr::parse(&CAPTURED_REPLY).unwrap();
        assert_eq!(repr.operation, Operation::Reply);
        assert_eq!(repr.sender_ip, Ipv4Addr::new(198, 18, 1, 10));
        assert_eq!(repr.sender_mac.to_string(), "00:1b:21:0a:0b:0c");
        assert_eq!(repr.target_ip, Ipv4Addr::new(198, 18, 1, 2));
        assert!(!repr.is_announcement());
    }

    #[test]
    fn request_emits_and_parses_back() {
        let mac: MacAddr = "02:00:00:00:00:01".parse().unwrap();
        let request = ArpRepr::request(
            mac,
            Ipv4Addr::new(198, 18, 1, 2),
            Ipv4Addr::new(198, 18, 1, 77),
        );
        let mut buf = [0u8; FRAME_LEN];
        request.emit(&mut buf);
        assert_eq!(&buf[..6], &[0xff; 6]);
        assert_eq!(
            &buf[TARGET_IP_OFFSET..TARGET_IP_OFFSET + 4],
            &[198, 18, 1, 77]
        );
        assert_eq!(ArpRepr::parse(&buf).unwrap(), request);
        // Padded to the Ethernet minimum, as it arrives from a NIC.
        let mut padded = buf.to_vec();
        padded.resize(60, 0);
        assert_eq!(ArpRepr::parse(&padded).unwrap(), request);
    }

    #[test]
    fn rejects_what_is_not_ipv4_arp() {
        assert_eq!(ArpRepr::parse(&[]), Err(FrameError::Truncated));
        assert_eq!(
            ArpRepr::parse(&CAPTURED_REPLY[..41]),
            Err(FrameError::Truncated)
        );
        let mut ipv4 = CAPTURED_REPLY;
        ipv4[13] = 0x00; // EtherType 0x0800
        assert_eq!(ArpRepr::parse(&ipv4), Err(FrameError::NotArp));
        let mut long_hw = CAPTURED_REPLY;
        long_hw[18] = 8;
        assert_eq!(ArpRepr::parse(&long_hw), Err(FrameError::Unsupported));
        let mut rarp = CAPTURED_REPLY;
        rarp[21] = 3;
        assert_eq!(ArpRepr::parse(&rarp), Err(FrameError::Unsupported));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = ArpRepr::parse(&bytes);
        }
    }
}
