//! Where each device is plugged in (issue #17): the switch port a MAC is
//! learned on, read from the switches' own forwarding tables (SNMP
//! BRIDGE-MIB / Q-BRIDGE-MIB) and told apart from uplinks.
//!
//! A switch learns every MAC behind a port, so a MAC shows on its own edge
//! port *and* on every uplink between that switch and the one asked. A port
//! is an uplink when its LLDP/CDP neighbour forwards frames (a bridge or a
//! router), when another managed switch's own MAC is learned on it, or when
//! it carries more VLANs than a phone-and-PC port does (a trunk). Each MAC is
//! placed on an edge port; one seen only on a port crowded with MACs but with
//! no managed switch behind it is placed there and said to share it (an
//! unmanaged switch or an access point is in between). Pure functions over
//! the report's types: no I/O, testable without a network.

use std::collections::{BTreeMap, BTreeSet};

use daicho_report::{MacAddr, SnmpFacts};
use serde::{Deserialize, Serialize};

mod rooms;
use rooms::short_name;
pub use rooms::{Rooms, RoomsError};

/// How a caller names a switch (the collector's device id).
pub type SwitchId = i64;

/// Limits a site may tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A port with more MACs than this is not one device's port.
    pub crowded_port: usize,
    /// A port with more VLANs than this is a trunk (a phone with a PC behind
    /// it has two: voice and data).
    pub trunk_vlans: usize,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            crowded_port: 16,
            trunk_vlans: 2,
        }
    }
}

/// One port of one switch, as a person finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRef {
    pub switch: SwitchId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_name: Option<String>,
    /// sysLocation of the switch: often the room or the wiring closet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_location: Option<String>,
    pub bridge_port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_index: Option<u32>,
    /// ifName (`Gi1/0/14`), else ifDescr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_name: Option<String>,
    /// ifAlias: what the network team wrote on the port, often the room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_alias: Option<String>,
}

/// Where one MAC is plugged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub port: PortRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u32>,
    /// How many MACs the port carries, this one included.
    pub macs_on_port: usize,
    /// The port is crowded and no managed switch is behind it: the device
    /// sits behind an unmanaged switch, a hub or an access point there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    /// Other edge ports the same MAC was learned on (a moved device, a
    /// duplicated MAC, or a loop): said, not hidden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_on: Vec<PortRef>,
    /// The edge port the previous scan placed it on, when that was
    /// another: the device moved (or was moved) between scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<PortRef>,
}

impl PortRef {
    /// The port as a person finds it, in any language (names and numbers
    /// only): `sw-ward (3F 病棟) · Gi1/0/14 「3階処置室」`.
    pub fn describe(&self) -> String {
        let mut text = self
            .switch_name
            .clone()
            .unwrap_or_else(|| format!("#{}", self.switch));
        if let Some(location) = &self.switch_location {
            text.push_str(&format!(" ({location})"));
        }
        match &self.port_name {
            Some(name) => text.push_str(&format!(" · {name}")),
            None => text.push_str(&format!(" · port {}", self.bridge_port)),
        }
        if let Some(alias) = self.port_alias.as_deref().filter(|a| !a.trim().is_empty()) {
            text.push_str(&format!(" 「{alias}」"));
        }
        text
    }
}

impl Placement {
    /// The suggested 設置場所: the port, and the VLAN it is learned in.
    pub fn describe(&self) -> String {
        match self.vlan {
            Some(vlan) => format!("{} · VLAN {vlan}", self.port.describe()),
            None => self.port.describe(),
        }
    }
}

/// Why a port is an uplink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UplinkReason {
    /// Its LLDP or CDP neighbour is a bridge or a router.
    Neighbour { name: Option<String> },
    /// Another managed switch's own MAC is learned on it.
    SwitchBehind { switch: SwitchId },
    /// It carries this many VLANs.
    Trunk { vlans: usize },
    /// It carries this many MACs.
    Crowded { macs: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uplink {
    pub port: PortRef,
    pub reason: UplinkReason,
    /// The managed switch on the other end, when known: a link of the
    /// network diagram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<SwitchId>,
}

/// Everything worked out from the switches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub placements: BTreeMap<MacAddr, Placement>,
    pub uplinks: Vec<Uplink>,
}

/// What one switch's tables say about one of its ports.
#[derive(Default)]
struct PortSeen {
    if_index: Option<u32>,
    macs: BTreeMap<MacAddr, Option<u32>>,
    vlans: BTreeSet<u32>,
}

/// A MAC learned on an edge port.
struct Sighting {
    port: PortRef,
    vlan: Option<u32>,
    macs_on_port: usize,
    shared: bool,
}

/// Places every MAC the `switches` learned. Each switch is given with the
/// SNMP facts it answered (its forwarding table, neighbours and interfaces).
pub fn place(switches: &[(SwitchId, &SnmpFacts)], policy: &Policy) -> Topology {
    let own_macs: BTreeMap<MacAddr, SwitchId> = switches
        .iter()
        .flat_map(|(id, facts)| {
            facts
                .interfaces
                .iter()
                .filter_map(|i| i.mac)
                .map(|m| (m, *id))
        })
        .collect();
    let by_name: BTreeMap<String, SwitchId> = switches
        .iter()
        .filter_map(|(id, facts)| Some((short_name(facts.sys_name.as_deref()?), *id)))
        .collect();
    let mut topology = Topology::default();
    let mut edge: BTreeMap<MacAddr, Vec<Sighting>> = BTreeMap::new();
    for (id, facts) in switches {
        let mut ports: BTreeMap<u32, PortSeen> = BTreeMap::new();
        for entry in &facts.fdb {
            let port = ports.entry(entry.bridge_port).or_default();
            port.if_index = port.if_index.or(entry.if_index);
            port.macs.insert(entry.mac, entry.vlan);
            port.vlans.extend(entry.vlan);
        }
        let neighbours = forwarding_neighbours(facts, &by_name);
        for (bridge_port, seen) in &ports {
            let port = port_ref(*id, facts, *bridge_port, seen.if_index);
            let behind = seen
                .macs
                .keys()
                .filter_map(|m| own_macs.get(m))
                .find(|s| *s != id)
                .copied();
            let neighbour = seen.if_index.and_then(|i| neighbours.get(&i));
            let reason = match (neighbour, behind) {
                (Some((name, _)), _) => Some(UplinkReason::Neighbour { name: name.clone() }),
                (None, Some(switch)) => Some(UplinkReason::SwitchBehind { switch }),
                _ if seen.vlans.len() > policy.trunk_vlans => Some(UplinkReason::Trunk {
                    vlans: seen.vlans.len(),
                }),
                _ => None,
            };
            let crowded = seen.macs.len() > policy.crowded_port;
            match reason {
                Some(reason) => topology.uplinks.push(Uplink {
                    port,
                    to: behind.or_else(|| neighbour.and_then(|(_, to)| *to)),
                    reason,
                }),
                None => {
                    if crowded {
                        topology.uplinks.push(Uplink {
                            port: port.clone(),
                            reason: UplinkReason::Crowded {
                                macs: seen.macs.len(),
                            },
                            to: None,
                        });
                    }
                    for (mac, vlan) in &seen.macs {
                        edge.entry(*mac).or_default().push(Sighting {
                            port: port.clone(),
                            vlan: *vlan,
                            macs_on_port: seen.macs.len(),
                            shared: crowded,
                        });
                    }
                }
            }
        }
    }
    for (mac, mut sightings) in edge {
        // A port of its own before a shared one; then the quieter port.
        sightings.sort_by_key(|s| (s.shared, s.macs_on_port, s.port.switch, s.port.bridge_port));
        let mut sightings = sightings.into_iter();
        let Some(best) = sightings.next() else {
            continue;
        };
        let also_on = sightings
            .filter(|other| best.shared || !other.shared)
            .map(|other| other.port)
            .collect();
        topology.placements.insert(
            mac,
            Placement {
                port: best.port,
                vlan: best.vlan,
                macs_on_port: best.macs_on_port,
                shared: best.shared,
                also_on,
                moved_from: None,
            },
        );
    }
    topology
}

/// Marks each placement of `current` whose MAC the `previous` scan placed
/// on another edge port. Ports are compared by switch name and port (the
/// ids a caller gives may change between scans).
pub fn mark_moves(current: &mut Topology, previous: &Topology) {
    let at = |p: &PortRef| {
        (
            p.switch_name.as_deref().map(short_name),
            p.bridge_port,
            p.port_name.clone(),
        )
    };
    for (mac, placement) in &mut current.placements {
        if let Some(before) = previous.placements.get(mac)
            && at(&before.port) != at(&placement.port)
        {
            placement.moved_from = Some(before.port.clone());
        }
    }
}

/// The interfaces whose LLDP or CDP neighbour forwards frames, with the
/// neighbour's name and, when it is one of the managed switches, its id.
fn forwarding_neighbours(
    facts: &SnmpFacts,
    by_name: &BTreeMap<String, SwitchId>,
) -> BTreeMap<u32, (Option<String>, Option<SwitchId>)> {
    let known = |name: Option<&str>| name.and_then(|n| by_name.get(&short_name(n)).copied());
    let lldp = facts
        .lldp
        .iter()
        .filter(|n| n.capabilities.iter().any(|c| c.forwards()))
        .map(|n| (n.local_port, n.sys_name.clone()));
    let cdp = facts
        .cdp
        .iter()
        .filter(|n| n.capabilities.iter().any(|c| c.forwards()))
        .map(|n| (n.if_index, n.device_id.clone()));
    lldp.chain(cdp)
        .map(|(port, name)| {
            let to = known(name.as_deref());
            (port, (name, to))
        })
        .collect()
}

fn port_ref(
    switch: SwitchId,
    facts: &SnmpFacts,
    bridge_port: u32,
    if_index: Option<u32>,
) -> PortRef {
    let interface = if_index.and_then(|i| facts.interfaces.iter().find(|f| f.index == i));
    PortRef {
        switch,
        switch_name: facts.sys_name.clone(),
        switch_location: facts.sys_location.clone(),
        bridge_port,
        if_index,
        port_name: interface.and_then(|i| i.name.clone().or_else(|| i.descr.clone())),
        port_alias: interface.and_then(|i| i.alias.clone()),
    }
}

#[cfg(test)]
mod tests;
