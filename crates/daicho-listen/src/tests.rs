use std::net::Ipv4Addr;

use super::*;

const SERVER_MAC: [u8; 6] = [0x00, 0x1e, 0x42, 0x0a, 0x0b, 0x0c];
const CLIENT_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// A DHCPOFFER (option 53 = 2) from 198.18.5.1 to CLIENT_MAC, in an
/// Ethernet/IPv4/UDP broadcast frame. Checksums are left zero: nothing
/// here verifies them (the kernel already did for real frames).
fn dhcp_frame(message_type: u8) -> Vec<u8> {
    let mut dhcp = vec![0u8; 240];
    dhcp[0] = 2;
    dhcp[1] = 1;
    dhcp[2] = 6;
    dhcp[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    dhcp[16..20].copy_from_slice(&[198, 18, 5, 100]);
    dhcp[28..34].copy_from_slice(&CLIENT_MAC);
    dhcp[236..240].copy_from_slice(&[99, 130, 83, 99]);
    dhcp.extend_from_slice(&[
        53,
        1,
        message_type,
        54,
        4,
        198,
        18,
        5,
        1,
        3,
        4,
        198,
        18,
        5,
        1,
        255,
    ]);
    let mut udp = vec![0, 67, 0, 68];
    udp.extend_from_slice(&u16::try_from(8 + dhcp.len()).unwrap().to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&dhcp);
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&u16::try_from(20 + udp.len()).unwrap().to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 5, 1, 255, 255, 255, 255]);
    ip.extend_from_slice(&udp);
    ethernet([0xff; 6], 0x0800, &ip)
}

fn ethernet(to: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = to.to_vec();
    frame.extend_from_slice(&SERVER_MAC);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

fn advert_frame(from: Ipv6Addr, hop_limit: u8) -> Vec<u8> {
    let icmp = RouterAdvertRepr {
        router_lifetime: 1800,
        prefixes: vec![("2001:db8:5::".parse().unwrap(), 64)],
        ..RouterAdvertRepr::default()
    }
    .emit();
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&u16::try_from(icmp.len()).unwrap().to_be_bytes());
    ip.extend_from_slice(&[58, hop_limit]);
    ip.extend_from_slice(&from.octets());
    ip.extend_from_slice(&"ff02::1".parse::<Ipv6Addr>().unwrap().octets());
    ip.extend_from_slice(&icmp);
    ethernet([0x33, 0x33, 0, 0, 0, 1], 0x86dd, &ip)
}

#[test]
fn a_broadcast_offer_to_another_client_is_heard() {
    let Some(Heard::Dhcp { mac, reply }) = hear(&dhcp_frame(2)) else {
        panic!("offer not read")
    };
    assert_eq!(mac, SERVER_MAC);
    assert_eq!(reply.kind, daicho_dhcp::ReplyKind::Offer);
    assert_eq!(reply.client_mac, Some(CLIENT_MAC));
    assert_eq!(reply.offer.from, Ipv4Addr::new(198, 18, 5, 1));
    assert_eq!(reply.offer.offered, Ipv4Addr::new(198, 18, 5, 100));
    assert_eq!(reply.offer.routers, [Ipv4Addr::new(198, 18, 5, 1)]);
    let Some(Heard::Dhcp { reply, .. }) = hear(&dhcp_frame(5)) else {
        panic!("ack not read")
    };
    assert_eq!(reply.kind, daicho_dhcp::ReplyKind::Ack);
    assert_eq!(hear(&dhcp_frame(3)), None, "a DHCPREQUEST is a client's");
}

#[test]
fn a_router_advert_is_heard_only_from_a_link_local_sender_at_hop_limit_255() {
    let link_local: Ipv6Addr = "fe80::21e:42ff:fe0a:b0c".parse().unwrap();
    let Some(Heard::RouterAdvert { mac, from, advert }) = hear(&advert_frame(link_local, 255))
    else {
        panic!("advert not read")
    };
    assert_eq!((mac, from), (SERVER_MAC, link_local));
    assert_eq!(advert.router_lifetime, 1800);
    assert_eq!(
        hear(&advert_frame(link_local, 64)),
        None,
        "routed from elsewhere"
    );
    assert_eq!(
        hear(&advert_frame("2001:db8::1".parse().unwrap(), 255)),
        None
    );
}

#[test]
fn every_truncation_of_a_frame_is_read_without_panic() {
    let link_local: Ipv6Addr = "fe80::1".parse().unwrap();
    for frame in [dhcp_frame(2), advert_frame(link_local, 255)] {
        for end in 0..frame.len() {
            let _ = hear(&frame[..end]);
        }
    }
}

#[test]
fn each_sender_is_kept_once_with_its_newest_message_and_each_kind_is_capped() {
    let mut heard = Vec::new();
    keep(&mut heard, hear(&dhcp_frame(2)).unwrap());
    keep(&mut heard, hear(&dhcp_frame(5)).unwrap());
    assert_eq!(heard.len(), 1);
    assert!(
        matches!(&heard[0], Heard::Dhcp { reply, .. } if reply.kind == daicho_dhcp::ReplyKind::Ack)
    );
    // A flood of one kind is capped and crowds out no other kind: the DHCP
    // server stays.
    for n in 0..=u16::try_from(MAX_SENDERS).unwrap() {
        let from = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n + 1);
        keep(&mut heard, hear(&advert_frame(from, 255)).unwrap());
    }
    assert_eq!(heard.len(), MAX_SENDERS + 1);
    assert!(matches!(heard[0], Heard::Dhcp { .. }));
}

#[test]
fn the_router_solicitation_is_well_formed() {
    let frame = router_solicitation(CLIENT_MAC);
    let ethernet = EthernetPacket::new(&frame).unwrap();
    assert_eq!(
        ethernet.get_destination().octets(),
        [0x33, 0x33, 0, 0, 0, 2]
    );
    let ip = Ipv6Packet::new(ethernet.payload()).unwrap();
    assert_eq!((ip.get_hop_limit(), ip.get_payload_length()), (255, 8));
    assert_eq!(ip.get_source(), Ipv6Addr::UNSPECIFIED);
    let icmp = pnet_packet::icmpv6::Icmpv6Packet::new(ip.payload()).unwrap();
    assert_eq!(icmp.get_icmpv6_type().0, 133);
    let expected = pnet_packet::icmpv6::checksum(&icmp, &ip.get_source(), &ip.get_destination());
    assert_eq!(icmp.get_checksum(), expected);
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Recorded from Debian's lldpd 1.0.16 in a lab namespace (system name
/// sw-core, port eth0, management address 198.18.9.2): one LLDP frame and,
/// with `-cc`, one CDPv2 frame.
const LLDP_FRAME: &str = "0180c200000e001aeb12000288cc020704001aeb120002040703001aeb120002060200040a0773772d636f72650c5644
656269616e20474e552f4c696e75782031322028626f6f6b776f726d29204c696e757820362e31382e34342d66632d76
3132373220233120534d5020505245454d50545f44594e414d4943204030207838365f36340e04009c0080100c0501c6
12090202000000020010181102fe80000000000000021aebfffe120002020000000200080465746830fe0900120f0301
00000000fe0900120f0100800000360000";
const CDP_FRAME: &str = "01000ccccccc001aeb120002009baaaa0300000c200002042c750001000b73772d636f726500020011000000010101cc
0004c6120902000300086574683000040008000000100005005a44656269616e20474e552f4c696e7578203132202862
6f6f6b776f726d29204c696e757820362e31382e34342d66632d763132373220233120534d5020505245454d50545f44
594e414d4943204030207838365f3634000600094c696e7578";

#[test]
fn lldpd_s_lldp_and_cdp_frames_name_the_switch_and_its_port() {
    let Some(Heard::Link { mac, neighbour }) = hear(&unhex(LLDP_FRAME)) else {
        panic!("the LLDP frame was not heard");
    };
    assert_eq!(mac, [0x00, 0x1a, 0xeb, 0x12, 0x00, 0x02]);
    assert_eq!(neighbour.protocol, LinkProtocol::Lldp);
    assert_eq!(neighbour.chassis_id.as_deref(), Some("00:1a:eb:12:00:02"));
    assert_eq!(neighbour.system_name.as_deref(), Some("sw-core"));
    assert_eq!(neighbour.port_description.as_deref(), Some("eth0"));
    assert_eq!(neighbour.capabilities, Some(0x0080));
    assert_eq!(
        neighbour.management_address,
        Some(Ipv4Addr::new(198, 18, 9, 2).into())
    );
    assert!(
        neighbour
            .system_description
            .as_deref()
            .is_some_and(|d| d.starts_with("Debian GNU/Linux 12"))
    );

    let Some(Heard::Link { neighbour, .. }) = hear(&unhex(CDP_FRAME)) else {
        panic!("the CDP frame was not heard");
    };
    assert_eq!(neighbour.protocol, LinkProtocol::Cdp);
    assert_eq!(neighbour.chassis_id.as_deref(), Some("sw-core"));
    assert_eq!(neighbour.port_id.as_deref(), Some("eth0"));
    assert_eq!(neighbour.capabilities, Some(0x10));
    assert_eq!(
        neighbour.management_address,
        Some(Ipv4Addr::new(198, 18, 9, 2).into())
    );
    assert!(
        neighbour
            .system_description
            .as_deref()
            .is_some_and(|d| d.starts_with("Linux: Debian"))
    );
}

#[test]
fn a_truncated_or_bent_link_frame_is_refused_without_panic() {
    for frame in [unhex(LLDP_FRAME), unhex(CDP_FRAME)] {
        for end in 0..frame.len() {
            let _ = hear(&frame[..end]);
        }
        // Every length byte set to its largest value, one at a time.
        for at in 14..frame.len() {
            let mut bent = frame.clone();
            bent[at] = 0xff;
            let _ = hear(&bent);
        }
    }
    // An LLDPDU without its mandatory chassis ID is not a neighbour.
    let mut frame = unhex(LLDP_FRAME);
    frame.drain(14..23);
    assert_eq!(hear(&frame), None);
}

#[test]
fn one_port_speaking_lldp_and_cdp_is_kept_in_both() {
    let mut heard = Vec::new();
    for frame in [LLDP_FRAME, CDP_FRAME, LLDP_FRAME] {
        keep(&mut heard, hear(&unhex(frame)).unwrap());
    }
    assert_eq!(heard.len(), 2, "{heard:?}");
}
