use daicho_report::{Capability, SnmpFdbEntry, SnmpInterface, SnmpLldpNeighbour};

use super::*;

fn mac(n: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0, n])
}

const AGENT: u8 = 1;
const H1: u8 = 11;
const H2: u8 = 12;
const H3: u8 = 13;
const H4: u8 = 14;
const SW_A: u8 = 100;
const SW_B: u8 = 101;

/// A switch with its own MAC and, per bridge port (ifIndex = 100 + port),
/// the MACs learned there.
fn switch(name: &str, own: u8, ports: &[(u32, &[u8])]) -> SnmpFacts {
    let mut interfaces = vec![SnmpInterface {
        index: 1,
        name: Some("br0".into()),
        mac: Some(mac(own)),
        ..SnmpInterface::default()
    }];
    let mut fdb = Vec::new();
    for (port, macs) in ports {
        interfaces.push(SnmpInterface {
            index: 100 + port,
            name: Some(format!("ge-0/0/{port}")),
            alias: Some(format!("room {port}")),
            ..SnmpInterface::default()
        });
        fdb.extend(macs.iter().map(|m| SnmpFdbEntry {
            mac: mac(*m),
            bridge_port: *port,
            if_index: Some(100 + port),
            vlan: Some(1),
            configured: false,
        }));
    }
    SnmpFacts {
        sys_name: Some(name.into()),
        sys_location: Some(format!("{name} closet")),
        interfaces,
        fdb,
        ..SnmpFacts::default()
    }
}

fn placed(topology: &Topology, m: u8) -> (SwitchId, u32) {
    let placement = &topology.placements[&mac(m)];
    (placement.port.switch, placement.port.bridge_port)
}

#[test]
fn chained_switches_place_every_host_on_its_edge_port_and_none_on_the_uplink() {
    let a = switch(
        "sw-core",
        SW_A,
        &[(1, &[AGENT]), (2, &[H1]), (3, &[H2]), (4, &[H3, H4, SW_B])],
    );
    // B learned the agent (its ARP broadcasts) and A's own MAC on its uplink.
    let b = switch(
        "sw-ward",
        SW_B,
        &[(1, &[AGENT, SW_A, H1]), (2, &[H3]), (3, &[H4])],
    );
    let topology = place(&[(1, &a), (2, &b)], &Policy::default());
    assert_eq!(placed(&topology, AGENT), (1, 1));
    assert_eq!(placed(&topology, H1), (1, 2));
    assert_eq!(placed(&topology, H2), (1, 3));
    assert_eq!(placed(&topology, H3), (2, 2));
    assert_eq!(placed(&topology, H4), (2, 3));
    let h4 = &topology.placements[&mac(H4)];
    assert_eq!(h4.port.port_name.as_deref(), Some("ge-0/0/3"));
    assert_eq!(h4.port.port_alias.as_deref(), Some("room 3"));
    assert_eq!(h4.port.switch_location.as_deref(), Some("sw-ward closet"));
    assert!(h4.also_on.is_empty() && !h4.shared);
    let uplinks: Vec<_> = topology
        .uplinks
        .iter()
        .map(|u| (u.port.switch, u.port.bridge_port, u.to))
        .collect();
    assert_eq!(uplinks, [(1, 4, Some(2)), (2, 1, Some(1))]);
    // The switches' own MACs are the switches, not devices on a port.
    assert!(!topology.placements.contains_key(&mac(SW_B)));
}

#[test]
fn a_bridge_neighbour_or_a_trunk_makes_an_uplink_a_phone_does_not() {
    let mut a = switch("sw-a", SW_A, &[(1, &[H1]), (2, &[H2]), (3, &[H3])]);
    let neighbour = |port: u32, capability| SnmpLldpNeighbour {
        local_port: 100 + port,
        sys_name: Some("unmanaged-looking".into()),
        capabilities: vec![capability],
        ..SnmpLldpNeighbour::default()
    };
    a.lldp = vec![
        neighbour(1, Capability::Bridge),
        neighbour(2, Capability::Telephone),
    ];
    for (n, vlan) in [10, 20, 30].into_iter().enumerate() {
        a.fdb.push(SnmpFdbEntry {
            mac: mac(50 + n as u8),
            bridge_port: 3,
            if_index: Some(103),
            vlan: Some(vlan),
            configured: false,
        });
    }
    let topology = place(&[(1, &a)], &Policy::default());
    assert!(!topology.placements.contains_key(&mac(H1)));
    assert_eq!(placed(&topology, H2), (1, 2));
    assert!(!topology.placements.contains_key(&mac(H3)));
    let reasons: Vec<_> = topology.uplinks.iter().map(|u| &u.reason).collect();
    assert_eq!(
        reasons,
        [
            &UplinkReason::Neighbour {
                name: Some("unmanaged-looking".into())
            },
            &UplinkReason::Trunk { vlans: 4 }
        ]
    );
}

#[test]
fn a_crowded_port_is_shared_and_a_mac_on_two_edge_ports_is_said_so() {
    let crowd: Vec<u8> = (20..40).collect();
    let a = switch("sw-a", SW_A, &[(1, &[H1]), (2, &crowd), (3, &[H1, H2])]);
    let topology = place(&[(1, &a)], &Policy::default());
    let behind_hub = &topology.placements[&mac(25)];
    assert!(behind_hub.shared);
    assert_eq!(behind_hub.macs_on_port, 20);
    assert_eq!(
        topology.uplinks[0].reason,
        UplinkReason::Crowded { macs: 20 }
    );
    let twice = &topology.placements[&mac(H1)];
    assert_eq!((twice.port.bridge_port, twice.macs_on_port), (1, 1));
    assert_eq!(twice.also_on.len(), 1);
    assert_eq!(twice.also_on[0].bridge_port, 3);
}

#[test]
fn cdp_names_match_switches_without_their_domain() {
    let mut a = switch("SW-A", SW_A, &[(1, &[H1]), (2, &[H2])]);
    let b = switch("sw-b", SW_B, &[(1, &[H2])]);
    a.cdp = vec![daicho_report::SnmpCdpNeighbour {
        if_index: 102,
        device_id: Some("sw-b.hospital.example".into()),
        capabilities: vec![Capability::Bridge],
        ..Default::default()
    }];
    let topology = place(&[(1, &a), (2, &b)], &Policy::default());
    assert_eq!(placed(&topology, H2), (2, 1));
    assert_eq!(topology.uplinks[0].to, Some(2));
}

#[test]
fn a_placement_reads_as_switch_location_port_alias_and_vlan() {
    let a = switch("sw-ward", SW_A, &[(14, &[H1])]);
    let topology = place(&[(1, &a)], &Policy::default());
    assert_eq!(
        topology.placements[&mac(H1)].describe(),
        "sw-ward (sw-ward closet) · ge-0/0/14 「room 14」 · VLAN 1"
    );
}

#[test]
fn rooms_map_a_port_by_name_alias_or_number_and_a_whole_switch() {
    let rooms = Rooms::from_csv(
        "\u{feff}スイッチ,ポート,設置場所\n\
         sw-ward,ge-0/0/14,3階処置室\n\
         SW-WARD.hospital.local,room 15,3階処置室B\n\
         sw-ward,16,3階詰所\n\
         sw-ward,,3階病棟\n",
    )
    .unwrap();
    let a = switch(
        "sw-ward",
        SW_A,
        &[(14, &[H1]), (15, &[H2]), (16, &[H3]), (17, &[H4])],
    );
    let topology = place(&[(1, &a)], &Policy::default());
    let room = |m| rooms.room_of(&topology.placements[&mac(m)].port);
    assert_eq!(room(H1), Some("3階処置室"));
    assert_eq!(room(H2), Some("3階処置室B"));
    assert_eq!(room(H3), Some("3階詰所"));
    assert_eq!(room(H4), Some("3階病棟"));
    let other = switch("sw-core", SW_B, &[(1, &[AGENT])]);
    let topology = place(&[(2, &other)], &Policy::default());
    assert_eq!(rooms.room_of(&topology.placements[&mac(AGENT)].port), None);
}

#[test]
fn a_bad_rooms_file_names_the_line_to_fix() {
    let header = Rooms::from_csv("switch,where\nsw,1\n").unwrap_err();
    assert!(matches!(header, RoomsError::Header(_)), "{header}");
    let empty = Rooms::from_csv("switch,port,room\nsw-a,1,Room 1\nsw-a,2,\n").unwrap_err();
    assert!(empty.to_string().contains("line 3"), "{empty}");
    let twice = Rooms::from_csv("switch,port,room\nsw-a,1,Room 1\nsw-a,1,Room 2\n").unwrap_err();
    assert!(twice.to_string().contains("line 3"), "{twice}");
    let broken = Rooms::from_csv("switch,port,room\n\"sw-a,1,Room 1\n").unwrap_err();
    assert!(matches!(broken, RoomsError::Row { .. }), "{broken}");
}

#[test]
fn a_device_on_another_port_than_last_scan_is_marked_moved() {
    let before = switch("sw-ward", SW_A, &[(3, &[H1, H2]), (4, &[H3])]);
    let after = switch("sw-ward", SW_A, &[(3, &[H2]), (7, &[H1]), (4, &[H3])]);
    let previous = place(&[(1, &before)], &Policy::default());
    // The switch's id changed (it was merged): ports compare by name.
    let mut current = place(&[(5, &after)], &Policy::default());
    mark_moves(&mut current, &previous);
    let moved = current.placements[&mac(H1)].moved_from.as_ref().unwrap();
    assert_eq!(moved.bridge_port, 3);
    assert_eq!(current.placements[&mac(H2)].moved_from, None);
    assert_eq!(current.placements[&mac(H3)].moved_from, None);
}
