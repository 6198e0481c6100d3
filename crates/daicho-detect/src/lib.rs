//! Detection for checklist item 2-(2), as plain functions over reports (no
//! I/O): hosts with a leg in two networks (2枚挿し) and cellular routers,
//! each finding with evidence a person can check. The agent runs it on its
//! own report; the collector will run it across many agents' reports — the
//! functions take a slice for that.
//!
//! Scoring is explicit: a strong sign makes a finding on its own (an address
//! table listing two networks, one identity answering on two segments, a
//! WWAN interface, a gateway's own carrier-NAT or public uplink, a VPN
//! portal's banner); weak signs (a name seen on two segments, adjacent MACs
//! of one maker, a cellular or VPN maker's enterprise number) only together.
//! The weights of mobile-router and remote-access signs and the threshold
//! are data (config/fingerprints/scoring.toml), which a site file may
//! override. Routers are multi-homed by design: a device forwarding IP is
//! not called 2枚挿し.

mod fingerprints;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use daicho_merge::{Key, KeyKind};
use daicho_report::{
    Evidence, Finding, FindingKind, MacAddr, Observation, Report, SnmpFacts, Source, Subject,
};
use ipnet::IpNet;

pub use fingerprints::{FingerprintError, Fingerprints, LinkKind, Scores};

/// IANAifType 3GPP (243) and 3GPP2 (244): cellular WWAN interfaces.
const WWAN_IF_TYPES: [i32; 2] = [243, 244];

/// Every finding the reports support.
pub fn detect(reports: &[&Report], fingerprints: &Fingerprints) -> Vec<Finding> {
    let mobile: Vec<Finding> = reports
        .iter()
        .flat_map(|report| mobile_routers(report, fingerprints))
        .collect();
    // A second leg that is a cellular WWAN makes a mobile router (or a PC
    // with an LTE modem): said once, as that.
    let is_mobile = |f: &Finding| {
        f.subjects
            .iter()
            .any(|s| mobile.iter().any(|m| m.subjects.contains(s)))
    };
    let mut findings: Vec<Finding> = reports
        .iter()
        .flat_map(|report| address_tables(report))
        .filter(|f| !is_mobile(f))
        .collect();
    findings.extend(shared_identities(reports));
    findings.extend(reports.iter().flat_map(|report| arp_flux(report)));
    findings.extend(mobile);
    findings.extend(
        reports
            .iter()
            .flat_map(|report| remote_access(report, fingerprints)),
    );
    findings.extend(reports.iter().flat_map(|report| rogue_dhcp(report)));
    findings.extend(reports.iter().flat_map(|report| rogue_ipv6_routers(report)));
    one_per_device(findings)
}

fn subject(ip: Option<IpAddr>) -> Subject {
    Subject { ip, mac: None }
}

fn evidence(source: Source, text: String) -> Evidence {
    Evidence { source, text }
}

/// A host whose own address table lists IPv4 addresses in two or more
/// networks, and which does not forward IP. IPv6 addresses do not count as
/// legs (a one-subnet host has them on tunnels and other interfaces; a
/// hospital's second network is IPv4); nor do 0.0.0.0 (a disconnected
/// adapter), loopback and link-local ones. When ipForwarding could not be
/// read, a device that shows routing — next hops on two interfaces, or
/// sysServices' layer 3 — cannot be told from a router: no finding.
fn address_tables(report: &Report) -> Vec<Finding> {
    let mut findings = Vec::new();
    for o in &report.observations {
        let Some(snmp) = o.snmp.as_deref() else {
            continue;
        };
        let counted = |a: &&daicho_report::SnmpAddress| {
            a.ip.is_ipv4() && !a.ip.is_loopback() && !a.ip.is_unspecified() && !is_link_local(&a.ip)
        };
        let networks: BTreeSet<IpNet> = snmp
            .addresses
            .iter()
            .filter(counted)
            .filter_map(|a| IpNet::new(a.ip, a.prefix_len?).ok().map(|n| n.trunc()))
            .collect();
        if networks.len() < 2 || snmp.ip_forwarding == Some(true) {
            continue;
        }
        if snmp.ip_forwarding.is_none() && routes_like_a_router(snmp) {
            continue;
        }
        let mut legs: Vec<Evidence> = snmp
            .addresses
            .iter()
            .filter(counted)
            .filter(|a| Some(a.ip) != o.ip)
            .map(|a| {
                evidence(
                    Source::Snmp,
                    format!(
                        "the address table of {} lists {}/{} on {} — an interface on another network",
                        display(o.ip),
                        a.ip,
                        a.prefix_len.map_or("?".into(), |p| p.to_string()),
                        interface_name(snmp, a.if_index)
                    ),
                )
            })
            .collect();
        if snmp.ip_forwarding.is_none() {
            legs.push(evidence(
                Source::Snmp,
                format!(
                    "{} did not say whether it forwards IP (ipForwarding unreadable) and shows no routing; \
                     if it is a router or an L3 switch, declare it as network equipment",
                    display(o.ip)
                ),
            ));
        }
        findings.push(Finding {
            kind: FindingKind::DualHomed,
            confidence: if snmp.ip_forwarding.is_some() { 0.9 } else { 0.6 },
            summary: format!(
                "{} has addresses in {} networks and does not route: a host with a leg in another network (2枚挿し)",
                display(o.ip),
                networks.len()
            ),
            subjects: vec![subject(o.ip)],
            evidence: legs,
        });
    }
    findings
}

/// Whether a device whose ipForwarding is unknown shows routing: sysServices
/// says it serves layer 3 (IP gateways), or it has routes with next hops
/// out of two or more interfaces.
fn routes_like_a_router(snmp: &SnmpFacts) -> bool {
    const LAYER_3: u8 = 1 << 2;
    let gateway_interfaces: BTreeSet<u32> = snmp
        .routes
        .iter()
        .filter(|r| r.next_hop.is_some_and(|h| !h.is_unspecified()))
        .filter_map(|r| r.if_index)
        .collect();
    snmp.sys_services.is_some_and(|s| s & LAYER_3 != 0) || gateway_interfaces.len() >= 2
}

/// The MAC an EUI-64 interface identifier was made from (…:xxff:fexx:…),
/// if it was.
fn embedded_mac(ip: std::net::Ipv6Addr) -> Option<MacAddr> {
    let b = ip.octets();
    (b[11] == 0xff && b[12] == 0xfe)
        .then(|| MacAddr([b[8] ^ 0x02, b[9], b[10], b[13], b[14], b[15]]))
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn display(ip: Option<IpAddr>) -> String {
    ip.map_or("a device".into(), |ip| ip.to_string())
}

fn interface_name(snmp: &SnmpFacts, index: Option<u32>) -> String {
    let name = index.and_then(|i| snmp.interfaces.iter().find(|f| f.index == i));
    match (name.and_then(|f| f.name.clone().or(f.descr.clone())), index) {
        (Some(name), Some(i)) => format!("{name} (ifIndex {i})"),
        (None, Some(i)) => format!("ifIndex {i}"),
        _ => "an interface".into(),
    }
}

/// Where a device was seen: which agent, which segment, which address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    agent: String,
    interface: String,
    ip: Option<IpAddr>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {}/{}",
            display(self.ip),
            self.agent,
            self.interface
        )
    }
}

/// An identity seen at more places than this is a model's or an image's,
/// not one host's: vendors ship one default key or certificate to a whole
/// fleet, cloned VMs share their SSH host keys.
pub const SHARED_IDENTITY_PLACES: usize = 8;

/// Evidence lines kept per finding; the rest are counted.
const MAX_EVIDENCE: usize = 40;

/// One identity answering on two segments is one host on both; two weak
/// signs pointing at the same pair of places say the same, more softly.
/// An identity that two different MACs of one segment share, or that more
/// than [`SHARED_IDENTITY_PLACES`] places show, is shared (a vendor default,
/// a cloned image): it says nothing about any one host. Linear in the
/// observations: places are grouped per identity, hosts joined by
/// union-find, and each host with legs on two segments is one finding.
fn shared_identities(reports: &[&Report]) -> Vec<Finding> {
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
            let listed: Vec<String> = places.iter().map(ToString::to_string).collect();
            let ids: Vec<usize> = places.iter().map(|p| hosts.place((*p).clone())).collect();
            for pair in ids.windows(2) {
                hosts.join(pair[0], pair[1]);
            }
            hosts.evidence(
                ids[0],
                evidence(
                    source_of(key.kind),
                    format!("{key} answered at {}", listed.join(" and at ")),
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
                                format!("{key} answered at {a} and at {b}"),
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
                    format!(
                        "adjacent MACs of one maker: {mac_a} at {a} and {mac_b} at {b} (two NICs of one PC?)"
                    ),
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
                    format!(
                        "the IPv6 link-local address {v6} of {a} is made from MAC {embedded} (EUI-64), the MAC seen at {b}"
                    ),
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
fn is_shared(key: &Key, seen: &[(Place, BTreeSet<String>)], places: usize) -> bool {
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

fn ordered(a: &Place, b: &Place) -> (Place, Place) {
    if a < b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

/// Places joined into hosts (union-find), with the evidence that joined
/// them.
#[derive(Default)]
struct Hosts {
    index: BTreeMap<Place, usize>,
    places: Vec<Place>,
    parent: Vec<usize>,
    evidence: Vec<Vec<Evidence>>,
}

impl Hosts {
    fn place(&mut self, place: Place) -> usize {
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

    fn root(&mut self, mut id: usize) -> usize {
        while self.parent[id] != id {
            self.parent[id] = self.parent[self.parent[id]];
            id = self.parent[id];
        }
        id
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.parent[b] = a;
        }
    }

    fn evidence(&mut self, at: usize, evidence: Evidence) {
        self.evidence[at].push(evidence);
    }

    fn same(&self, a: &Place, b: &Place) -> bool {
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
    fn findings(&mut self, forwarding: &BTreeSet<Place>, confidence: f32) -> Vec<Finding> {
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
            let listed: Vec<String> = places.iter().map(ToString::to_string).collect();
            let evidence: Vec<Evidence> = members
                .iter()
                .flat_map(|&m| self.evidence[m].iter().cloned())
                .collect();
            findings.push(Finding {
                kind: FindingKind::DualHomed,
                confidence,
                summary: format!(
                    "one host answers at {}: a leg in each network (2枚挿し)",
                    listed.join(" and at ")
                ),
                subjects: places.iter().map(|p| subject(p.ip)).collect(),
                evidence: capped(evidence),
            });
        }
        findings
    }
}

/// At most [`MAX_EVIDENCE`] lines, the rest counted in a last one.
fn capped(mut evidence: Vec<Evidence>) -> Vec<Evidence> {
    if evidence.len() > MAX_EVIDENCE {
        let more = evidence.len() - (MAX_EVIDENCE - 1);
        let source = evidence[MAX_EVIDENCE - 1].source;
        evidence.truncate(MAX_EVIDENCE - 1);
        evidence.push(Evidence {
            source,
            text: format!("… and {more} more signs of the same kind"),
        });
    }
    evidence
}

/// Findings of one kind about one device are one finding: the subjects of
/// all, the evidence of all (each once), the highest confidence. Devices
/// are told apart by address and MAC: two findings sharing either are
/// about one device.
fn one_per_device(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::new();
    #[derive(PartialEq, Eq, Hash)]
    enum Who {
        Ip(IpAddr),
        Mac([u8; 6]),
    }
    let mut owner: std::collections::HashMap<(FindingKind, Who), usize> =
        std::collections::HashMap::new();
    let mut redirect: Vec<usize> = Vec::new();
    let resolve = |redirect: &Vec<usize>, mut at: usize| {
        while redirect[at] != at {
            at = redirect[at];
        }
        at
    };
    for finding in findings {
        let keys: Vec<(FindingKind, Who)> = finding
            .subjects
            .iter()
            .flat_map(|s| [s.ip.map(Who::Ip), s.mac.map(|m| Who::Mac(m.0))])
            .flatten()
            .map(|who| (finding.kind, who))
            .collect();
        let mut targets: Vec<usize> = keys
            .iter()
            .filter_map(|k| owner.get(k).map(|&at| resolve(&redirect, at)))
            .collect();
        targets.sort_unstable();
        targets.dedup();
        let at = match targets.first() {
            Some(&first) => {
                for &other in &targets[1..] {
                    let taken = std::mem::take(&mut merged[other].evidence);
                    let subjects = std::mem::take(&mut merged[other].subjects);
                    let confidence = merged[other].confidence;
                    absorb(&mut merged[first], subjects, taken, confidence);
                    redirect[other] = first;
                }
                absorb(
                    &mut merged[first],
                    finding.subjects,
                    finding.evidence,
                    finding.confidence,
                );
                first
            }
            None => {
                merged.push(finding);
                redirect.push(merged.len() - 1);
                merged.len() - 1
            }
        };
        for key in keys {
            owner.entry(key).or_insert(at);
        }
    }
    merged
        .into_iter()
        .enumerate()
        .filter(|(i, _)| redirect[*i] == *i)
        .map(|(_, mut f)| {
            f.evidence = capped(std::mem::take(&mut f.evidence));
            f
        })
        .collect()
}

fn absorb(into: &mut Finding, subjects: Vec<Subject>, evidence: Vec<Evidence>, confidence: f32) {
    for subject in subjects {
        if !into.subjects.contains(&subject) {
            into.subjects.push(subject);
        }
    }
    for e in evidence {
        if !into.evidence.contains(&e) {
            into.evidence.push(e);
        }
    }
    into.confidence = into.confidence.max(confidence);
}

/// The probe a key comes from, for the evidence.
fn source_of(kind: KeyKind) -> Source {
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

/// Cellular routers: a WWAN interface, a cellular modem module, a
/// gateway's own carrier-NAT or public uplink (strong); a cellular maker's
/// enterprise number or MAC, a cellular router's admin page or description,
/// a link named like a cellular one, an unsanctioned IPv6 router or a NAT64
/// prefix (weaker: a finding needs two kinds of them, or enough weight).
fn mobile_routers(report: &Report, fingerprints: &Fingerprints) -> Vec<Finding> {
    let scores = &fingerprints.scores;
    let mut signs = Signs::default();
    for o in &report.observations {
        if o.source == Source::Arp
            && let Some(mac) = o.mac
            && let Some(maker) = fingerprints.cellular_oui_maker(mac.0, o.vendor.as_deref())
        {
            signs.add(
                o,
                Sign::CellularMac,
                scores.cellular_oui,
                Source::Arp,
                format!(
                    "the MAC {mac} of {} belongs to {maker}, a maker of cellular routers or modules",
                    display(o.ip)
                ),
            );
        }
        for banner in o.http.as_deref().into_iter().flat_map(|h| &h.banners) {
            if let Some((what, text, product)) =
                banner_match(banner, |text| fingerprints.cellular_product(text))
            {
                signs.add(
                    o,
                    Sign::CellularBanner,
                    scores.cellular_banner,
                    Source::Http,
                    format!(
                        "the {what} {text:?} on port {} of {} is that of a {product}",
                        banner.port,
                        display(o.ip)
                    ),
                );
            }
        }
        if let Some(snmp) = o.snmp.as_deref() {
            cellular_snmp_signs(o, snmp, fingerprints, &mut signs);
        }
        if let Some(advert) = unsanctioned_ipv6_router(o) {
            let ip = ipv4_of(report, o).or(o.ip);
            signs.add_at(
                &o.interface,
                ip,
                Sign::Ipv6Router,
                scores.unsanctioned_ipv6_router,
                Source::Listen,
                describe_advert(o, advert),
            );
            if !advert.pref64.is_empty() {
                signs.add_at(
                    &o.interface,
                    ip,
                    Sign::Pref64,
                    scores.pref64,
                    Source::Listen,
                    format!(
                        "its router advertisement announces the NAT64 prefix {} (PREF64), as mobile carriers' IPv6-only networks do",
                        advert.pref64.join(", ")
                    ),
                );
            }
        }
        if let Some(uplink) = o.ssdp.as_deref().and_then(|s| s.uplink.as_ref())
            && matches!(uplink.kind.as_str(), "carrier_nat" | "public")
        {
            signs.add(
                o,
                Sign::GatewayUplink,
                scores.gateway_uplink,
                Source::Ssdp,
                format!(
                    "{} is an Internet gateway (UPnP) whose own uplink address is {} ({})",
                    display(o.ip),
                    uplink
                        .external_ip
                        .map_or("unknown".into(), |ip| ip.to_string()),
                    if uplink.kind == "public" {
                        "public"
                    } else {
                        "carrier-grade NAT, as mobile networks give"
                    }
                ),
            );
        }
    }
    signs.findings(FindingKind::MobileRouter, scores, |ip| {
        format!(
            "{} is a mobile (LTE/5G) router: an Internet path that bypasses the hospital's firewall",
            display(ip)
        )
    })
}

/// What a device's SNMP answers say about a cellular uplink.
fn cellular_snmp_signs(
    o: &Observation,
    snmp: &SnmpFacts,
    fingerprints: &Fingerprints,
    signs: &mut Signs,
) {
    let scores = &fingerprints.scores;
    let holds_default = |index: u32| {
        snmp.routes
            .iter()
            .any(|r| r.destination.is_unspecified() && r.if_index == Some(index))
    };
    let via = |index: u32| {
        if holds_default(index) {
            ", and the default route goes out through it"
        } else {
            ""
        }
    };
    for interface in &snmp.interfaces {
        let names: Vec<&str> = [interface.name.as_deref(), interface.descr.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let wwan = interface
            .if_type
            .is_some_and(|t| WWAN_IF_TYPES.contains(&t))
            && !names.iter().any(|n| fingerprints.not_cellular(n));
        if wwan {
            signs.add(
                o,
                Sign::WwanInterface,
                scores.wwan_interface,
                Source::Snmp,
                format!(
                    "the interface table of {} has {} of ifType {} (3GPP cellular WWAN){}",
                    display(o.ip),
                    interface_name(snmp, Some(interface.index)),
                    interface.if_type.unwrap_or_default(),
                    via(interface.index)
                ),
            );
            continue;
        }
        let Some(kind) = names.iter().find_map(|n| fingerprints.link_kind(n)) else {
            continue;
        };
        // A modem link holding the default route is how a PC with a USB
        // "HiLink" dongle becomes a router to the Internet.
        let (sign, weight, like) = match kind {
            LinkKind::Cellular => (
                Sign::CellularLinkName,
                scores.cellular_interface_name,
                "a cellular link",
            ),
            LinkKind::Usb => (
                Sign::UsbLinkName,
                scores.usb_interface_name,
                "a USB network link",
            ),
        };
        let weight = if holds_default(interface.index) {
            weight * 2.0
        } else {
            weight
        };
        signs.add(
            o,
            sign,
            weight,
            Source::Snmp,
            format!(
                "the interface table of {} has {}, named like {like}{}",
                display(o.ip),
                interface_name(snmp, Some(interface.index)),
                via(interface.index)
            ),
        );
    }
    for entity in &snmp.entities {
        let texts = [
            entity.model.as_deref(),
            entity.descr.as_deref(),
            entity.name.as_deref(),
        ];
        if let Some((text, product)) = texts
            .into_iter()
            .flatten()
            .find_map(|t| Some((t, fingerprints.cellular_text(t)?)))
        {
            signs.add(
                o,
                Sign::ModemModule,
                scores.modem_entity,
                Source::Snmp,
                format!(
                    "the hardware inventory (ENTITY-MIB) of {} lists {text:?}: {product}, a cellular modem inside",
                    display(o.ip)
                ),
            );
        }
    }
    if let Some(descr) = snmp.sys_descr.as_deref()
        && let Some(product) = fingerprints.cellular_text(descr)
    {
        signs.add(
            o,
            Sign::CellularText,
            scores.cellular_text,
            Source::Snmp,
            format!(
                "the sysDescr of {} ({:?}) is that of {product}",
                display(o.ip),
                descr.chars().take(120).collect::<String>()
            ),
        );
    }
    if let Some((number, maker)) = snmp
        .enterprise
        .and_then(|n| fingerprints.cellular_maker(n).map(|m| (n, m)))
    {
        signs.add(
            o,
            Sign::CellularEnterprise,
            scores.cellular_enterprise,
            Source::Snmp,
            format!(
                "sysObjectID of {} is under enterprise {number} ({maker}), a maker of cellular routers",
                display(o.ip)
            ),
        );
    }
}

/// VPN and remote-maintenance equipment: a banner (page title, Server
/// header, realm, certificate name) of a VPN or remote-support product, or
/// a VPN-gateway maker's enterprise number (weak).
fn remote_access(report: &Report, fingerprints: &Fingerprints) -> Vec<Finding> {
    let scores = &fingerprints.scores;
    let mut signs = Signs::default();
    for o in &report.observations {
        for banner in o.http.as_deref().into_iter().flat_map(|h| &h.banners) {
            if let Some((what, text, product)) =
                banner_match(banner, |text| fingerprints.remote_access_product(text))
            {
                signs.add(
                    o,
                    Sign::RemoteAccessBanner,
                    scores.remote_access_banner,
                    Source::Http,
                    format!(
                        "the {what} {text:?} on port {} of {} is that of {product}",
                        banner.port,
                        display(o.ip)
                    ),
                );
            }
        }
        if let Some((number, maker)) = o
            .snmp
            .as_deref()
            .and_then(|s| s.enterprise)
            .and_then(|n| fingerprints.remote_access_maker(n).map(|m| (n, m)))
        {
            signs.add(
                o,
                Sign::RemoteAccessEnterprise,
                scores.remote_access_enterprise,
                Source::Snmp,
                format!(
                    "sysObjectID of {} is under enterprise {number} ({maker}), a maker of VPN gateways",
                    display(o.ip)
                ),
            );
        }
    }
    signs.findings(FindingKind::RemoteAccess, scores, |ip| {
        format!(
            "{} looks like VPN or remote-maintenance equipment: check it against the ledger's remote-maintenance column",
            display(ip)
        )
    })
}

/// Hosts that answered the ARP-flux probe: asked on segment A for an
/// address of network B, a host on A answered with its own MAC. One or two
/// such answers from a MAC mean a leg in B; more is proxy ARP (a router or
/// firewall answering for a range), reported elsewhere. A host known to
/// forward IP is a router, not 2枚挿し.
fn arp_flux(report: &Report) -> Vec<Finding> {
    let arp = |o: &&Observation| o.source == Source::Arp && o.mac.is_some();
    let flux: BTreeMap<(&str, MacAddr), Vec<&Observation>> = report
        .observations
        .iter()
        .filter(arp)
        .filter(|o| o.flags.contains(&daicho_report::Flag::ArpFlux))
        .fold(BTreeMap::new(), |mut by_mac, o| {
            by_mac
                .entry((&*o.interface, o.mac.expect("filtered")))
                .or_insert_with(Vec::new)
                .push(o);
            by_mac
        });
    let forwarding: BTreeSet<IpAddr> = report
        .observations
        .iter()
        .filter(|o| {
            o.snmp
                .as_deref()
                .is_some_and(|s| s.ip_forwarding == Some(true))
        })
        .filter_map(|o| o.ip)
        .collect();
    let mut findings = Vec::new();
    for ((interface, mac), answers) in flux {
        if answers.len() > 2 {
            continue;
        }
        let home = report.observations.iter().filter(arp).find(|o| {
            &*o.interface == interface
                && o.mac == Some(mac)
                && !o.flags.contains(&daicho_report::Flag::ArpFlux)
        });
        if home
            .and_then(|h| h.ip)
            .is_some_and(|ip| forwarding.contains(&ip))
        {
            continue;
        }
        let mut subjects: Vec<Subject> = home.map(|h| subject(h.ip)).into_iter().collect();
        let evidence = answers
            .iter()
            .map(|o| {
                subjects.push(Subject { ip: o.ip, mac: Some(mac) });
                evidence(
                    Source::Arp,
                    format!(
                        "asked on {interface} for {}, an address of another network, {mac}{} answered: an interface in that network \
                         (if this is a router or an L3 switch, declare it as network equipment)",
                        display(o.ip),
                        home.map_or(String::new(), |h| format!(" (which is {} on {interface})", display(h.ip)))
                    ),
                )
            })
            .collect();
        findings.push(Finding {
            kind: FindingKind::DualHomed,
            confidence: 0.85,
            summary: format!(
                "{} on {interface} also has {}: a leg in another network (2枚挿し)",
                home.map_or_else(|| mac.to_string(), |h| display(h.ip)),
                answers
                    .iter()
                    .map(|o| display(o.ip))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            subjects,
            evidence,
        });
    }
    findings
}

/// The router advertisement of `o`, if it offers a default route and the
/// configuration does not sanction it (or sanctions none).
fn unsanctioned_ipv6_router(o: &Observation) -> Option<&daicho_report::RouterAdvertFacts> {
    o.router_advert
        .as_deref()
        .filter(|a| a.router_lifetime > 0 && a.sanctioned != Some(true))
}

/// The IPv4 address the sweep saw for `o`'s MAC on the same segment: a
/// router advertisement comes from a link-local address, but the ledger
/// knows the device by its IPv4 one.
fn ipv4_of(report: &Report, o: &Observation) -> Option<IpAddr> {
    let mac = o.mac?;
    report
        .observations
        .iter()
        .find(|a| {
            a.source == Source::Arp
                && a.mac == Some(mac)
                && a.interface == o.interface
                && a.ip.is_some_and(|ip| ip.is_ipv4())
        })
        .and_then(|a| a.ip)
}

fn describe_advert(o: &Observation, advert: &daicho_report::RouterAdvertFacts) -> String {
    format!(
        "{} ({}) on {} advertises itself as IPv6 default router for {} s{}{}",
        display(o.ip),
        o.mac.map_or("-".into(), |m| m.to_string()),
        o.interface,
        advert.router_lifetime,
        if advert.prefixes.is_empty() {
            String::new()
        } else {
            format!(", handing out prefix {}", advert.prefixes.join(", "))
        },
        if advert.sanctioned.is_none() {
            " — no IPv6 router is sanctioned for this segment ([dhcp] sanctioned_ipv6_routers is empty)"
        } else {
            " — it is not among [dhcp] sanctioned_ipv6_routers"
        }
    )
}

/// Routers advertising IPv6 default routes that the configuration does not
/// sanction. Unlike DHCP, a lone advertiser with no list is a finding too:
/// hospital LANs are mostly IPv4-only, so hosts that suddenly get an IPv6
/// default route from a box nobody declared (LTE routers send them by
/// default) reach the Internet around the firewall.
fn rogue_ipv6_routers(report: &Report) -> Vec<Finding> {
    report
        .observations
        .iter()
        .filter_map(|o| Some((o, unsanctioned_ipv6_router(o)?)))
        .map(|(o, advert)| {
            let ip = ipv4_of(report, o).or(o.ip);
            Finding {
                kind: FindingKind::RogueDhcp,
                confidence: if advert.sanctioned.is_none() { 0.7 } else { 0.95 },
                summary: format!(
                    "{} is an IPv6 router the hospital did not sanction: devices on {} may take its default route and bypass the firewall",
                    display(ip),
                    o.interface
                ),
                subjects: vec![subject(ip)],
                evidence: vec![evidence(Source::Listen, describe_advert(o, advert))],
            }
        })
        .collect()
}

/// DHCP servers the configuration does not sanction, or that hand out a
/// gateway it does not; without a sanctioned list, more than one server on
/// a segment (one of them is not the hospital's).
fn rogue_dhcp(report: &Report) -> Vec<Finding> {
    let offers: Vec<(&Observation, &daicho_report::DhcpOffer)> = report
        .observations
        .iter()
        .flat_map(|o| {
            o.dhcp
                .iter()
                .flat_map(move |d| d.offers.iter().map(move |offer| (o, offer)))
        })
        .collect();
    let describe = |o: &Observation, offer: &daicho_report::DhcpOffer| {
        let list = |ips: &[std::net::Ipv4Addr]| {
            ips.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} on {} {} offering {} with gateway {} and DNS {}",
            display(o.ip),
            o.interface,
            offer
                .heard_for
                .map_or("answered the agent's DHCPDISCOVER".into(), |client| {
                    format!("was heard answering client {client}")
                }),
            offer.offered.map_or("-".into(), |ip| ip.to_string()),
            if offer.routers.is_empty() {
                "-".into()
            } else {
                list(&offer.routers)
            },
            if offer.dns.is_empty() {
                "-".into()
            } else {
                list(&offer.dns)
            },
        )
    };
    let mut findings = Vec::new();
    for (o, offer) in &offers {
        let mut evidence = vec![Evidence {
            source: Source::Dhcp,
            text: describe(o, offer),
        }];
        if offer.sanctioned == Some(false) {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: format!(
                    "{} is not among the sanctioned DHCP servers ([dhcp] sanctioned_servers)",
                    display(o.ip)
                ),
            });
        }
        for router in &offer.unexpected_routers {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: format!("it hands out gateway {router}, which is not among the sanctioned gateways ([dhcp] sanctioned_gateways)"),
            });
        }
        let several = offer.sanctioned.is_none()
            && offers
                .iter()
                .filter(|(other, _)| other.interface == o.interface)
                .count()
                > 1;
        if several {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: format!(
                    "more than one DHCP server answers on {}; name the hospital's own in [dhcp] sanctioned_servers",
                    o.interface
                ),
            });
        }
        if evidence.len() > 1 {
            findings.push(Finding {
                kind: FindingKind::RogueDhcp,
                confidence: if several { 0.6 } else { 0.95 },
                summary: format!(
                    "{} is a DHCP server the hospital did not sanction: devices on {} may take its gateway and bypass the firewall",
                    display(o.ip),
                    o.interface
                ),
                subjects: vec![subject(o.ip)],
                evidence,
            });
        }
    }
    findings
}

/// The first of a banner's texts (title, Server header, realm, certificate
/// names) that `product` recognises: (which text, the text, the product).
fn banner_match<'a>(
    banner: &'a daicho_report::HttpBanner,
    product: impl Fn(&str) -> Option<&'a str>,
) -> Option<(&'static str, &'a str, &'a str)> {
    let certificate = banner.certificate.as_ref();
    [
        ("page title", banner.title.as_deref()),
        ("Server header", banner.server.as_deref()),
        ("authentication realm", banner.realm.as_deref()),
        (
            "certificate subject",
            certificate.and_then(|c| c.subject_cn.as_deref()),
        ),
        (
            "certificate issuer",
            certificate.and_then(|c| c.issuer_cn.as_deref()),
        ),
    ]
    .into_iter()
    .find_map(|(what, text)| {
        let text = text?;
        product(text).map(|p| (what, text, p))
    })
}

/// The kinds of sign: several of one kind (three usb* interfaces, two
/// banners naming one product) are one piece of evidence, not several.
/// In the order their evidence is listed: the decisive kinds first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sign {
    WwanInterface,
    ModemModule,
    GatewayUplink,
    RemoteAccessBanner,
    CellularText,
    CellularBanner,
    CellularLinkName,
    UsbLinkName,
    Ipv6Router,
    Pref64,
    CellularEnterprise,
    RemoteAccessEnterprise,
    CellularMac,
}

/// One device's signs: each kind at its strongest weight, with all its
/// evidence.
type DeviceSigns = BTreeMap<Sign, (f32, Vec<Evidence>)>;

/// Signs gathered per device (interface and address), by kind.
#[derive(Default)]
struct Signs {
    by_device: BTreeMap<(String, Option<IpAddr>), DeviceSigns>,
}

impl Signs {
    fn add(&mut self, o: &Observation, sign: Sign, weight: f32, source: Source, text: String) {
        self.add_at(&o.interface, o.ip, sign, weight, source, text);
    }

    fn add_at(
        &mut self,
        interface: &str,
        ip: Option<IpAddr>,
        sign: Sign,
        weight: f32,
        source: Source,
        text: String,
    ) {
        let kinds = self
            .by_device
            .entry((interface.to_owned(), ip))
            .or_default();
        let (strongest, evidence) = kinds.entry(sign).or_insert((0.0, Vec::new()));
        *strongest = strongest.max(weight);
        evidence.push(self::evidence(source, text));
    }

    /// A finding for each device whose signs reach the threshold (each kind
    /// at its strongest) or whose signs are of two or more kinds: a single
    /// weak sign is not a finding.
    fn findings(
        self,
        kind: FindingKind,
        scores: &Scores,
        summary: impl Fn(Option<IpAddr>) -> String,
    ) -> Vec<Finding> {
        self.by_device
            .into_iter()
            .filter_map(|((_, ip), kinds)| {
                let score: f32 = kinds.values().map(|(weight, _)| weight).sum();
                (score >= scores.threshold || kinds.len() >= 2).then(|| Finding {
                    kind,
                    confidence: score.min(0.95),
                    summary: summary(ip),
                    subjects: vec![subject(ip)],
                    evidence: kinds.into_values().flat_map(|(_, e)| e).collect(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
