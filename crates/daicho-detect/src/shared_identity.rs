//! 2枚挿し from one identity (SSH key, certificate, engine ID, UDN, serial)
//! or two weak signs answering on two segments, also across agents' reports.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use daicho_merge::{Key, KeyKind};
use daicho_report::{Evidence, Finding, FindingKind, MacAddr, Report, Says, Source, Text};

use crate::*;

/// Where a device was seen: which agent, which segment, which address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Place {
    agent: String,
    interface: String,
    ip: Option<IpAddr>,
}

impl Place {
    fn says(&self) -> Says {
        Says::of(Text::Place)
            .with("ip", display(self.ip))
            .with("agent", self.agent.as_str())
            .with("interface", self.interface.as_str())
    }
}

/// An identity seen at more places than this is a model's or an image's,
/// not one host's: vendors ship one default key or certificate to a whole
/// fleet, cloned VMs share their SSH host keys.
pub const SHARED_IDENTITY_PLACES: usize = 8;

/// One identity answering on two segments is one host on both; two weak
/// signs pointing at the same pair of places say the same, more softly.
/// An identity that two different MACs of one segment share, or that more
/// than [`SHARED_IDENTITY_PLACES`] places show, is shared (a vendor default,
/// a cloned image): it says nothing about any one host. Linear in the
/// observations: places are grouped per identity, hosts joined by
/// union-find, and each host with legs on two segments is one finding.
pub(crate) fn shared_identities(reports: &[&Report]) -> Vec<Finding> {
    let mut by_key: BTreeMap<Key, Vec<(Place, BTreeSet<String>)>> = BTreeMap::new();
    let mut forwarding: BTreeSet<Place> = BTreeSet::new();
    let mut macs: Vec<(Place, MacAddr)> = Vec::new();
    let mut eui64: Vec<(Place, std::net::Ipv6Addr, MacAddr)> = Vec::new();
    for report in reports {
        for candidate in daicho_merge::candidates(report) {
            let place = Place {
                agent: report.agent.id.clone(),
                interface: candidate.interface.clone(),
                ip: candidate.ip,
            };
            let own_macs: BTreeSet<String> = candidate
                .keys
                .iter()
                .filter(|k| k.kind == KeyKind::Mac)
                .map(|k| k.value.clone())
                .collect();
            for key in candidate.keys {
                by_key
                    .entry(key)
                    .or_default()
                    .push((place.clone(), own_macs.clone()));
            }
        }
        for o in &report.observations {
            let place = Place {
                agent: report.agent.id.clone(),
                interface: o.interface.to_string(),
                ip: o.ip,
            };
            if o.snmp.as_deref().and_then(|s| s.ip_forwarding) == Some(true) {
                forwarding.insert(place.clone());
            }
            let own_addresses = o
                .mdns
                .iter()
                .flat_map(|m| m.addresses.iter().copied())
                .chain(o.snmp.iter().flat_map(|s| s.addresses.iter().map(|a| a.ip)));
            for ip in own_addresses {
                if let IpAddr::V6(v6) = ip
                    && is_link_local(&ip)
                    && let Some(mac) = embedded_mac(v6)
                {
                    eui64.push((place.clone(), v6, mac));
                }
            }
            if o.source == Source::Arp
                && let Some(mac) = o.mac.filter(|m| !m.is_locally_administered())
            {
                macs.push((place, mac));
            }
        }
    }
    let mut hosts = Hosts::default();
    // Weak signs per pair of places on different segments.
    let mut weak: BTreeMap<(Place, Place), Vec<Evidence>> = BTreeMap::new();
    for (key, seen) in &by_key {
        let mut places: Vec<&Place> = seen.iter().map(|(p, _)| p).collect();
        places.sort();
        places.dedup();
        let segments: BTreeSet<(&str, &str)> = places
            .iter()
            .map(|p| (p.agent.as_str(), p.interface.as_str()))
            .collect();
        if segments.len() < 2 || is_shared(key, seen, places.len()) {
            continue;
        }
        if key.kind.is_strong() {
            let listed: Vec<Says> = places.iter().map(|p| p.says()).collect();
            let ids: Vec<usize> = places.iter().map(|p| hosts.place((*p).clone())).collect();
            for pair in ids.windows(2) {
                hosts.join(pair[0], pair[1]);
            }
            hosts.evidence(
                ids[0],
                evidence(
                    source_of(key.kind),
                    Says::of(Text::IdentityAnsweredAt)
                        .with("key", key.says())
                        .with("places", listed),
                ),
            );
        } else {
            for (i, a) in places.iter().enumerate() {
                for b in &places[i + 1..] {
                    if (&a.agent, &a.interface) != (&b.agent, &b.interface) {
                        weak.entry(((*a).clone(), (*b).clone()))
                            .or_default()
                            .push(evidence(
                                source_of(key.kind),
                                Says::of(Text::IdentityAnsweredAt)
                                    .with("key", key.says())
                                    .with("places", vec![a.says(), b.says()]),
                            ));
                    }
                }
            }
        }
    }
    // Sorted by MAC, each one's adjacent MACs follow it closely: a window
    // instead of every pair (100,000 MACs made every pair 17 s).
    let mut by_mac: Vec<usize> = (0..macs.len()).collect();
    by_mac.sort_by_key(|&i| (macs[i].1.0, i));
    for (n, &i) in by_mac.iter().enumerate() {
        let (a, mac_a) = &macs[i];
        for &j in &by_mac[n + 1..] {
            let (b, mac_b) = &macs[j];
            let (x, y) = (mac_a.0, mac_b.0);
            if x[..5] != y[..5] || y[5] - x[5] > 2 {
                break;
            }
            if x != y && (&a.agent, &a.interface) != (&b.agent, &b.interface) {
                weak.entry(ordered(a, b)).or_default().push(evidence(
                    Source::Arp,
                    Says::of(Text::AdjacentMacs)
                        .value("mac_a", mac_a)
                        .with("a", a.says())
                        .value("mac_b", mac_b)
                        .with("b", b.says()),
                ));
            }
        }
    }
    // An IPv6 link-local address built from another NIC's MAC (EUI-64):
    // the host has that NIC too, seen elsewhere.
    let mut places_of: BTreeMap<[u8; 6], Vec<&Place>> = BTreeMap::new();
    for (place, mac) in &macs {
        places_of.entry(mac.0).or_default().push(place);
    }
    for (a, v6, embedded) in &eui64 {
        for &b in places_of.get(&embedded.0).into_iter().flatten() {
            if (&a.agent, &a.interface) != (&b.agent, &b.interface) {
                weak.entry(ordered(a, b)).or_default().push(evidence(
                    Source::Mdns,
                    Says::of(Text::Eui64LinkLocal)
                        .value("v6", v6)
                        .with("a", a.says())
                        .value("mac", embedded)
                        .with("b", b.says()),
                ));
            }
        }
    }
    let mut findings = hosts.findings(&forwarding, 0.9);
    // Weak signs only where two agree, and only for places no strong
    // identity already joined.
    let mut soft = Hosts::default();
    for ((a, b), signs) in weak {
        if signs.len() < 2 || hosts.same(&a, &b) {
            continue;
        }
        let (a, b) = (soft.place(a), soft.place(b));
        soft.join(a, b);
        for sign in signs {
            soft.evidence(a, sign);
        }
    }
    findings.extend(soft.findings(&forwarding, 0.6));
    findings
}

/// Whether `key`, seen at these places, is shared by several devices: two
/// different MACs in one segment carry it, or it is everywhere.
pub(crate) fn is_shared(key: &Key, seen: &[(Place, BTreeSet<String>)], places: usize) -> bool {
    if key.kind == KeyKind::Mac {
        return false;
    }
    if places > SHARED_IDENTITY_PLACES {
        return true;
    }
    let mut macs_by_segment: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for (place, own) in seen {
        macs_by_segment
            .entry((&place.agent, &place.interface))
            .or_default()
            .extend(own.iter().map(String::as_str));
    }
    macs_by_segment.values().any(|m| m.len() >= 2)
}

pub(crate) fn ordered(a: &Place, b: &Place) -> (Place, Place) {
    if a < b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

/// Places joined into hosts (union-find), with the evidence that joined
/// them.
#[derive(Default)]
pub(crate) struct Hosts {
    index: BTreeMap<Place, usize>,
    places: Vec<Place>,
    parent: Vec<usize>,
    evidence: Vec<Vec<Evidence>>,
}

impl Hosts {
    pub(crate) fn place(&mut self, place: Place) -> usize {
        if let Some(&id) = self.index.get(&place) {
            return id;
        }
        let id = self.places.len();
        self.index.insert(place.clone(), id);
        self.places.push(place);
        self.parent.push(id);
        self.evidence.push(Vec::new());
        id
    }

    pub(crate) fn root(&mut self, mut id: usize) -> usize {
        while self.parent[id] != id {
            self.parent[id] = self.parent[self.parent[id]];
            id = self.parent[id];
        }
        id
    }

    pub(crate) fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.parent[b] = a;
        }
    }

    pub(crate) fn evidence(&mut self, at: usize, evidence: Evidence) {
        self.evidence[at].push(evidence);
    }

    pub(crate) fn same(&self, a: &Place, b: &Place) -> bool {
        let root = |mut id: usize| {
            while self.parent[id] != id {
                id = self.parent[id];
            }
            id
        };
        match (self.index.get(a), self.index.get(b)) {
            (Some(&a), Some(&b)) => root(a) == root(b),
            _ => false,
        }
    }

    /// One finding per host with places on two or more segments, none of
    /// them known to forward IP (a router is multi-homed by design).
    pub(crate) fn findings(
        &mut self,
        forwarding: &BTreeSet<Place>,
        confidence: f32,
    ) -> Vec<Finding> {
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for id in 0..self.places.len() {
            let root = self.root(id);
            groups.entry(root).or_default().push(id);
        }
        let mut findings = Vec::new();
        for members in groups.into_values() {
            let places: Vec<&Place> = members.iter().map(|&m| &self.places[m]).collect();
            let segments: BTreeSet<(&str, &str)> = places
                .iter()
                .map(|p| (p.agent.as_str(), p.interface.as_str()))
                .collect();
            if segments.len() < 2 || places.iter().any(|p| forwarding.contains(*p)) {
                continue;
            }
            let listed: Vec<Says> = places.iter().map(|p| p.says()).collect();
            let evidence: Vec<Evidence> = members
                .iter()
                .flat_map(|&m| self.evidence[m].iter().cloned())
                .collect();
            findings.push(Finding {
                kind: FindingKind::DualHomed,
                confidence,
                summary: Says::of(Text::DualHomedSharedIdentity).with("places", listed),
                subjects: places.iter().map(|p| subject(p.ip)).collect(),
                evidence: capped(evidence),
            });
        }
        findings
    }
}

/// The probe a key comes from, for the evidence.
pub(crate) fn source_of(kind: KeyKind) -> Source {
    match kind {
        KeyKind::SshHostKey => Source::Ssh,
        KeyKind::TlsCertificate => Source::Http,
        KeyKind::SnmpEngineId | KeyKind::SerialNumber | KeyKind::SnmpSysName => Source::Snmp,
        KeyKind::UpnpUdn => Source::Ssdp,
        KeyKind::Mac => Source::Arp,
        KeyKind::NetbiosName => Source::Netbios,
        KeyKind::MdnsHost => Source::Mdns,
    }
}
