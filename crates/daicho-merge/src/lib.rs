//! The collector's merge, as plain functions over data: which observations
//! of a report describe one device ([`candidates`]), which identities they
//! carry ([`Key`]), and whether each joins a device already in the ledger or
//! becomes a new one ([`merge`]) — with the reasons a person can read.
//!
//! Rules (issue #6): strong keys join on their own (SSH host key, TLS
//! certificate, SNMP engine ID, serial number with maker, a globally
//! administered MAC, UPnP UDN); weak keys (NetBIOS, mDNS and SNMP names) join
//! only when two of them agree on the same device; an IP address never joins
//! anything (DHCP hands it to the next device); a randomized MAC identifies
//! nothing. Devices already in the ledger are never merged behind anyone's
//! back: when a candidate's strong keys point at two devices, it joins the
//! oldest and the conflict is stated.
//!
//! One physical device is one device however many legs it has (issue #15):
//! a host that shows another segment's address as its own — it answered ARP
//! for it (the ARP-flux probe), its SNMP address table, mDNS records or TLS
//! certificate list it — is the device seen at that address there, within
//! a day ([`Claim`], [`KnownAddresses`]). Placeholder identities (a
//! default UDN, a serial `00000000`) and identities two devices with
//! different MACs show on one segment join nothing ([`placeholder`]).
//!
//! Weak evidence joins nothing either: a name shared with a device on
//! another segment, or a name and a MAC next to that device's (one maker's
//! adjacent NICs), is a [`Link`] — "probably the same host" — that a person
//! confirms (the collector then merges the two) or rejects.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use daicho_report::{Flag, MacAddr, Report, Says, Text};

mod placeholder;
pub use placeholder::{Unusable, placeholder};

/// What a key says about identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    SshHostKey,
    TlsCertificate,
    SnmpEngineId,
    SerialNumber,
    UpnpUdn,
    Mac,
    NetbiosName,
    MdnsHost,
    SnmpSysName,
}

impl KeyKind {
    /// Strong keys identify a device on their own.
    pub fn is_strong(self) -> bool {
        !matches!(
            self,
            KeyKind::NetbiosName | KeyKind::MdnsHost | KeyKind::SnmpSysName
        )
    }

    /// The name stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::SshHostKey => "ssh_host_key",
            KeyKind::TlsCertificate => "tls_certificate",
            KeyKind::SnmpEngineId => "snmp_engine_id",
            KeyKind::SerialNumber => "serial_number",
            KeyKind::UpnpUdn => "upnp_udn",
            KeyKind::Mac => "mac",
            KeyKind::NetbiosName => "netbios_name",
            KeyKind::MdnsHost => "mdns_host",
            KeyKind::SnmpSysName => "snmp_sys_name",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyKind> {
        ALL_KINDS.into_iter().find(|k| k.as_str() == name)
    }

    /// How a person reads it, in their language.
    pub fn text(self) -> Text {
        match self {
            KeyKind::SshHostKey => Text::KeySshHostKey,
            KeyKind::TlsCertificate => Text::KeyTlsCertificate,
            KeyKind::SnmpEngineId => Text::KeySnmpEngineId,
            KeyKind::SerialNumber => Text::KeySerialNumber,
            KeyKind::UpnpUdn => Text::KeyUpnpUdn,
            KeyKind::Mac => Text::KeyMac,
            KeyKind::NetbiosName => Text::KeyNetbiosName,
            KeyKind::MdnsHost => Text::KeyMdnsHost,
            KeyKind::SnmpSysName => Text::KeySnmpSysName,
        }
    }
}

const ALL_KINDS: [KeyKind; 9] = [
    KeyKind::SshHostKey,
    KeyKind::TlsCertificate,
    KeyKind::SnmpEngineId,
    KeyKind::SerialNumber,
    KeyKind::UpnpUdn,
    KeyKind::Mac,
    KeyKind::NetbiosName,
    KeyKind::MdnsHost,
    KeyKind::SnmpSysName,
];

/// One identity: a kind and a normalized value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub kind: KeyKind,
    pub value: String,
}

impl Key {
    fn new(kind: KeyKind, value: &str) -> Option<Key> {
        let value = value.trim();
        // Names are compared as DNS and NetBIOS compare them.
        let value = match kind {
            KeyKind::NetbiosName | KeyKind::MdnsHost | KeyKind::SnmpSysName => value
                .trim_end_matches('.')
                .trim_end_matches(".local")
                .to_lowercase(),
            _ => value.to_owned(),
        };
        (!value.is_empty()).then(|| Key {
            kind,
            value: bounded(value),
        })
    }
}

/// Longest identity value kept as it is. A longer one (a crafted report, a
/// device's runaway string) is kept as `sha256:HEX` of it: it still
/// identifies, and every backend's index can hold it (PostgreSQL's btree
/// refuses rows over 2,704 bytes).
pub const MAX_KEY_BYTES: usize = 256;

fn bounded(value: String) -> String {
    use sha2::Digest;
    if value.len() <= MAX_KEY_BYTES {
        return value;
    }
    let digest = sha2::Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Key {
    /// The key as a person reads it: its kind and value.
    pub fn says(&self) -> Says {
        Says::of(Text::IdentityKey)
            .with("kind", self.kind.text())
            .with("value", self.value.as_str())
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.says().render(daicho_report::Lang::En))
    }
}

/// What one report says about one address on one segment: the observations
/// of every probe for that (interface, IP), and the identities they carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub interface: String,
    pub ip: Option<IpAddr>,
    pub keys: BTreeSet<Key>,
    /// Keys it carries that identify nothing, and why.
    pub unusable: Vec<(Key, Unusable)>,
    /// Addresses it shows to be its own on other segments.
    pub claims: BTreeSet<Claim>,
    /// The best name any probe gave, for people.
    pub name: Option<String>,
    /// What the ledger's columns want to know, as far as the probes said.
    pub facts: Facts,
    /// What it is (種別, maker, model, OS) with sources: `facts` takes its
    /// kind and OS, and fills what the probes' own fields left empty.
    pub identity: daicho_identify::Identity,
}

/// An address a host shows to be its own: the device seen at that address
/// on another segment is this host's other leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Claim {
    pub ip: IpAddr,
    pub source: ClaimSource,
}

/// How a host showed an address to be its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClaimSource {
    /// It answered ARP for the address on this segment (the ARP-flux probe).
    ArpFlux,
    /// Its SNMP address table lists it.
    SnmpAddressTable,
    /// Its mDNS records announce it.
    MdnsAddress,
    /// Its TLS certificate names it (subject alternative name).
    TlsSan,
}

impl ClaimSource {
    const ALL: [ClaimSource; 4] = [
        ClaimSource::ArpFlux,
        ClaimSource::SnmpAddressTable,
        ClaimSource::MdnsAddress,
        ClaimSource::TlsSan,
    ];

    /// The name stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimSource::ArpFlux => "arp_flux",
            ClaimSource::SnmpAddressTable => "snmp_addresses",
            ClaimSource::MdnsAddress => "mdns_addresses",
            ClaimSource::TlsSan => "tls_san",
        }
    }

    pub fn from_name(name: &str) -> Option<ClaimSource> {
        ClaimSource::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl ClaimSource {
    fn text(self) -> Text {
        match self {
            ClaimSource::ArpFlux => Text::ClaimArpFlux,
            ClaimSource::SnmpAddressTable => Text::ClaimSnmpAddressTable,
            ClaimSource::MdnsAddress => Text::ClaimMdnsAddress,
            ClaimSource::TlsSan => Text::ClaimTlsSan,
        }
    }
}

/// A certificate naming more addresses than this is a cluster's or a load
/// balancer's, not one host's: its addresses are no claim.
const MAX_SAN_CLAIMS: usize = 4;
/// A MAC answering ARP for more flux addresses than this is proxy ARP (a
/// router answering for a range), not a host with a leg there.
const MAX_FLUX_CLAIMS: usize = 2;

/// An address that can be one host's own: not unspecified, loopback,
/// link-local, multicast or broadcast (IPv6 legs are not claimed: a
/// hospital's second network is IPv4).
fn claimable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(_) => false,
    }
}

/// A device's maker, model, serial number, OS, kind and MAC, from the best
/// source that gave each (SNMP and UPnP before the MAC's registry entry;
/// the OS as identified, e.g. "Windows 11 22631", before sysDescr's first
/// line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub mac: Option<String>,
    pub maker: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    /// 種別 (`daicho_identify::Kind` as text).
    pub kind: Option<String>,
}

impl Facts {
    /// Fills what is missing from `other`.
    fn fill(&mut self, other: Facts) {
        let Facts {
            mac,
            maker,
            model,
            serial,
            os,
            kind,
        } = other;
        self.mac = self.mac.take().or(mac);
        self.maker = self.maker.take().or(maker);
        self.model = self.model.take().or(model);
        self.serial = self.serial.take().or(serial);
        self.os = self.os.take().or(os);
        self.kind = self.kind.take().or(kind);
    }
}

pub use daicho_identify::is_platform_enterprise;

/// The facts one observation gives.
fn facts(o: &daicho_report::Observation) -> Facts {
    let mut facts = Facts::default();
    if let Some(snmp) = o.snmp.as_deref() {
        facts.maker = snmp
            .enterprise_name
            .clone()
            .filter(|_| !snmp.enterprise.is_some_and(is_platform_enterprise));
        // sysDescr's first line names the OS or firmware ("Linux host 6.1…",
        // "Cisco IOS Software, …"); the rest is often build details.
        facts.os = snmp
            .sys_descr
            .as_deref()
            .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
            .map(|l| l.chars().take(200).collect());
        if let Some(entity) = snmp
            .entities
            .iter()
            .find(|e| e.model.is_some() || e.serial.is_some())
        {
            facts.model = entity.model.clone();
            facts.serial = entity.serial.clone();
            facts.maker = entity.maker.clone().or(facts.maker);
        }
        // Printers rarely have ENTITY-MIB but Printer-MIB; UPS cards UPS-MIB.
        if let Some(printer) = &snmp.printer {
            facts.fill(Facts {
                model: printer.name.clone(),
                serial: printer.serial.clone(),
                ..Facts::default()
            });
        }
        if let Some(ups) = &snmp.ups {
            let maker = ups.maker.clone();
            facts.maker = maker.or(facts.maker.take());
            facts.fill(Facts {
                model: ups.model.clone(),
                ..Facts::default()
            });
        }
    }
    if let Some(device) = o.ssdp.as_deref().and_then(|s| s.devices.first()) {
        facts.fill(Facts {
            maker: device.manufacturer.clone(),
            model: device.model_name.clone(),
            serial: device.serial_number.clone(),
            ..Facts::default()
        });
    }
    if let Some(mdns) = o.mdns.as_deref() {
        // Printers say their model in the TXT record "ty", others in "model".
        let model = mdns
            .services
            .iter()
            .find_map(|s| s.txt.get("ty").or(s.txt.get("model")).cloned());
        facts.fill(Facts {
            model,
            ..Facts::default()
        });
    }
    facts
}

/// What identification says of a candidate: its kind, its OS as
/// identified (not sysDescr's raw first line) and any maker or model the
/// probes' own fields did not give (a MAC's registry entry under the name
/// daicho's maker table gives it).
fn identified(candidate: &mut Candidate, observations: &[&daicho_report::Observation]) {
    let identity = daicho_identify::identify(observations, daicho_identify::tables());
    let facts = &mut candidate.facts;
    if let Some(os) = &identity.os {
        facts.os = Some(os.value.label());
    }
    facts.kind = identity.kind.as_ref().map(|k| k.value.as_str().to_owned());
    let sure = |c: &daicho_identify::Claim<String>| (c.confidence >= 0.3).then(|| c.value.clone());
    facts.fill(Facts {
        maker: identity.maker.as_ref().and_then(sure),
        model: identity.model.as_ref().and_then(sure),
        ..Facts::default()
    });
    candidate.identity = identity;
}

/// One candidate's place in a report: its interface and address, and for
/// what was heard without an address (a DHCP client), its MAC — else every
/// such client on a segment would become one device.
type Group = (String, Option<IpAddr>, Option<MacAddr>);

/// The address each MAC answered with on each interface (ARP and the
/// other probes): what was heard of a MAC without an address is its.
type Answered = BTreeMap<(String, MacAddr), IpAddr>;

fn group_of(o: &daicho_report::Observation, answered: &Answered) -> Group {
    let interface = o.interface.to_string();
    match (o.ip, o.mac) {
        (None, Some(mac)) => match answered.get(&(interface.clone(), mac)) {
            Some(ip) => (interface, Some(*ip), None),
            None => (interface, None, Some(mac)),
        },
        (ip, _) => (interface, ip, None),
    }
}

/// Groups a report's observations by (interface, IP) and reads their keys.
/// What was heard without an address joins the address its MAC answered
/// with; else it is its MAC's own candidate, kept only when that MAC
/// identifies it (a randomized one names nothing to find it by again).
pub fn candidates(report: &Report) -> Vec<Candidate> {
    let answered: Answered = report
        .observations
        .iter()
        .filter(|o| !o.flags.contains(&Flag::ArpFlux))
        .filter_map(|o| Some(((o.interface.to_string(), o.mac?), o.ip?)))
        .collect();
    let mut groups: BTreeMap<Group, Candidate> = BTreeMap::new();
    // Each group's observations, for identification.
    let mut observed: BTreeMap<Group, Vec<&daicho_report::Observation>> = BTreeMap::new();
    let mut vendors: BTreeMap<Group, String> = BTreeMap::new();
    // ARP-flux answers are no devices of their own: they say that the MAC
    // that gave them has a leg where the address is.
    let mut flux: BTreeMap<(String, MacAddr), BTreeSet<IpAddr>> = BTreeMap::new();
    let mut forwarding: BTreeSet<Group> = BTreeSet::new();
    for o in &report.observations {
        // LLDP/CDP announcements are no devices of their own: they say
        // which switch port the agent (or the announcer) is plugged into.
        if o.link.is_some() {
            continue;
        }
        if o.flags.contains(&Flag::ArpFlux) {
            if let (Some(mac), Some(ip)) = (o.mac, o.ip) {
                flux.entry((o.interface.to_string(), mac))
                    .or_default()
                    .insert(ip);
            }
            continue;
        }
        let group = group_of(o, &answered);
        if let Some(vendor) = &o.vendor {
            vendors
                .entry(group.clone())
                .or_insert_with(|| vendor.clone());
        }
        observed.entry(group.clone()).or_default().push(o);
        let candidate = groups.entry(group.clone()).or_insert_with(|| Candidate {
            interface: o.interface.to_string(),
            ip: group.1,
            keys: BTreeSet::new(),
            unusable: Vec::new(),
            claims: BTreeSet::new(),
            name: None,
            facts: Facts::default(),
            identity: daicho_identify::Identity::default(),
        });
        candidate.facts.fill(facts(o));
        let mut add = |kind, value: &str| candidate.keys.extend(Key::new(kind, value));
        // A randomized (locally administered) MAC changes by design: no identity.
        if let Some(mac) = o.mac
            && !o.flags.contains(&Flag::LocallyAdministered)
            && !mac.is_locally_administered()
        {
            add(KeyKind::Mac, &mac.to_string());
            candidate.facts.mac.get_or_insert_with(|| mac.to_string());
        }
        if let Some(ssh) = o.ssh.as_deref()
            && let Some(fingerprint) = &ssh.fingerprint
        {
            add(KeyKind::SshHostKey, fingerprint);
        }
        if let Some(http) = o.http.as_deref() {
            for certificate in http.banners.iter().filter_map(|b| b.certificate.as_ref()) {
                add(KeyKind::TlsCertificate, &certificate.sha256);
                if certificate.san_ip.len() <= MAX_SAN_CLAIMS {
                    candidate
                        .claims
                        .extend(certificate.san_ip.iter().map(|ip| Claim {
                            ip: *ip,
                            source: ClaimSource::TlsSan,
                        }));
                }
            }
        }
        if let Some(snmp) = o.snmp.as_deref() {
            if let Some(engine) = &snmp.engine_id {
                add(KeyKind::SnmpEngineId, engine);
            }
            if let Some(name) = &snmp.sys_name {
                add(KeyKind::SnmpSysName, name);
                candidate.name.get_or_insert_with(|| name.clone());
            }
            for entity in &snmp.entities {
                if let (Some(serial), Some(maker)) = (
                    &entity.serial,
                    entity.maker.as_ref().or(snmp.enterprise_name.as_ref()),
                ) {
                    add(KeyKind::SerialNumber, &format!("{maker}/{serial}"));
                }
            }
            if let (Some(serial), Some(maker)) = (
                snmp.printer.as_ref().and_then(|p| p.serial.as_ref()),
                snmp.enterprise_name.as_ref(),
            ) {
                add(KeyKind::SerialNumber, &format!("{maker}/{serial}"));
            }
            for interface in &snmp.interfaces {
                if let Some(mac) = interface.mac.filter(|m| !m.is_locally_administered()) {
                    add(KeyKind::Mac, &mac.to_string());
                }
            }
            candidate
                .claims
                .extend(snmp.addresses.iter().map(|a| Claim {
                    ip: a.ip,
                    source: ClaimSource::SnmpAddressTable,
                }));
            if snmp.ip_forwarding == Some(true) {
                forwarding.insert(group.clone());
            }
        }
        if let Some(netbios) = o.netbios.as_deref()
            && let Some(name) = &netbios.computer_name
        {
            add(KeyKind::NetbiosName, name);
            candidate.name.get_or_insert_with(|| name.clone());
        }
        // A DHCP client's host name is a name for people, no identity (it
        // is whatever the client says).
        if let Some(name) = o.dhcp_client.as_deref().and_then(|c| c.host_name.as_ref()) {
            candidate.name.get_or_insert_with(|| name.clone());
        }
        if let Some(mdns) = o.mdns.as_deref() {
            add(KeyKind::MdnsHost, &mdns.host);
            candidate
                .claims
                .extend(mdns.addresses.iter().map(|ip| Claim {
                    ip: *ip,
                    source: ClaimSource::MdnsAddress,
                }));
            candidate
                .name
                .get_or_insert_with(|| mdns.host.trim_end_matches('.').to_owned());
        }
        if let Some(ssdp) = o.ssdp.as_deref() {
            for device in &ssdp.devices {
                if let Some(udn) = &device.udn {
                    add(KeyKind::UpnpUdn, udn);
                }
                if let (Some(serial), Some(maker)) = (&device.serial_number, &device.manufacturer) {
                    add(KeyKind::SerialNumber, &format!("{maker}/{serial}"));
                }
            }
        }
    }
    for (group, observations) in observed {
        if let Some(candidate) = groups.get_mut(&group) {
            identified(candidate, &observations);
        }
    }
    // The MAC's registry entry names the maker when nothing better did.
    for (group, vendor) in vendors {
        if let Some(candidate) = groups.get_mut(&group) {
            candidate.facts.maker.get_or_insert(vendor);
        }
    }
    // A host that answered ARP for one or two other networks' addresses
    // has legs there; a router answering for them routes (proxy ARP).
    let mut owners: BTreeMap<(String, Key), Vec<Group>> = BTreeMap::new();
    for (group, candidate) in &groups {
        for key in candidate.keys.iter().filter(|k| k.kind == KeyKind::Mac) {
            owners
                .entry((group.0.clone(), key.clone()))
                .or_default()
                .push(group.clone());
        }
    }
    for ((interface, mac), ips) in flux {
        if ips.len() > MAX_FLUX_CLAIMS {
            continue;
        }
        let Some(mac) = Key::new(KeyKind::Mac, &mac.to_string()) else {
            continue;
        };
        for group in owners.get(&(interface, mac)).into_iter().flatten() {
            if forwarding.contains(group) {
                continue;
            }
            if let Some(candidate) = groups.get_mut(group) {
                candidate.claims.extend(ips.iter().map(|ip| Claim {
                    ip: *ip,
                    source: ClaimSource::ArpFlux,
                }));
            }
        }
    }
    let mut candidates: Vec<Candidate> = groups.into_values().collect();
    for candidate in &mut candidates {
        let own = candidate.ip;
        candidate
            .claims
            .retain(|claim| Some(claim.ip) != own && claimable(claim.ip));
    }
    placeholder::set_aside(&mut candidates);
    candidates.retain(|c| c.ip.is_some() || !c.keys.is_empty());
    candidates
}

/// What the ledger holds that matters to a merge: for each key already
/// known, the device it belongs to.
pub type KnownKeys = BTreeMap<Key, DeviceId>;

/// Where a device was seen: one agent's segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Place {
    pub agent: String,
    pub interface: String,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.agent, self.interface)
    }
}

/// What the ledger holds about the addresses a report's candidates have
/// and claim, as seen within a day of the report: enough to join the legs
/// of one host that two agents (or two nights) saw apart.
#[derive(Debug, Clone, Default)]
pub struct KnownAddresses {
    /// Devices seen at each address, and where.
    pub held: BTreeMap<IpAddr, Vec<(DeviceId, Place)>>,
    /// Devices that showed each address to be their own, where they were
    /// seen, and how.
    pub claimed: BTreeMap<IpAddr, Vec<(DeviceId, Place, ClaimSource)>>,
    /// The MACs and places of the devices the candidates' names point at:
    /// whether a name's device is a neighbour NIC on another segment.
    pub named: BTreeMap<DeviceId, NamedDevice>,
}

/// What a link needs to know of a device a name points at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedDevice {
    pub macs: Vec<MacAddr>,
    pub places: Vec<Place>,
}

/// A device in the ledger.
pub type DeviceId = i64;

/// Where a candidate goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An existing device of the ledger.
    Existing(DeviceId),
    /// A device this report creates; the number orders them within the report
    /// (a later candidate may join it).
    New(usize),
}

/// One merge decision and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub candidate: usize,
    pub target: Target,
    pub reasons: Vec<Says>,
    /// Devices it is probably the same host as, on weak evidence.
    pub links: Vec<Link>,
}

/// "Probably the same host": weak evidence, for a person to confirm or
/// reject; never a join by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub to: Target,
    pub confidence: Confidence,
    pub evidence: Vec<Says>,
}

/// How likely a link is one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// One name, on another segment.
    Low,
    /// One name and a MAC next to the other device's, of one maker.
    Medium,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
        }
    }
}

/// NICs of one maker whose MACs differ by at most this are one board's
/// ports (makers number a machine's NICs consecutively).
const ADJACENT_MACS: u32 = 8;

/// Whether two MACs are one maker's (same OUI) and nearly consecutive.
fn adjacent(a: MacAddr, b: MacAddr) -> bool {
    let (a, b) = (a.0, b.0);
    let nic = |m: [u8; 6]| u32::from_be_bytes([0, m[3], m[4], m[5]]);
    a[..3] == b[..3] && a != b && nic(a).abs_diff(nic(b)) <= ADJACENT_MACS
}

/// Decides, candidate by candidate, where each goes. Devices created by
/// earlier candidates of the same report are joinable by later ones (one
/// agent seeing a dual-homed host on two segments). `agent` is the report's.
pub fn merge(
    known: &KnownKeys,
    addresses: &KnownAddresses,
    agent: &str,
    candidates: &[Candidate],
) -> Vec<Decision> {
    // Keys of the devices this report creates, as it goes.
    let mut fresh: BTreeMap<Key, usize> = BTreeMap::new();
    // MACs and places of the devices this report creates, for links.
    let mut fresh_named: BTreeMap<usize, NamedDevice> = BTreeMap::new();
    // Addresses held and claimed by this report's candidates, as it goes.
    let mut held: BTreeMap<IpAddr, Vec<(Target, Place)>> = BTreeMap::new();
    let mut claimed: BTreeMap<IpAddr, Vec<(Target, Place, ClaimSource)>> = BTreeMap::new();
    let mut created = 0;
    let mut decisions = Vec::with_capacity(candidates.len());
    for (index, candidate) in candidates.iter().enumerate() {
        let here = Place {
            agent: agent.to_owned(),
            interface: candidate.interface.clone(),
        };
        let same_host = same_host(candidate, &here, addresses, &held, &claimed);
        let owner = |key: &Key| -> Option<Target> {
            known
                .get(key)
                .map(|id| Target::Existing(*id))
                .or_else(|| fresh.get(key).map(|n| Target::New(*n)))
        };
        // By target, oldest device first: joins prefer the oldest.
        let mut strong: BTreeMap<Target, Vec<&Key>> = BTreeMap::new();
        let mut weak: BTreeMap<Target, Vec<&Key>> = BTreeMap::new();
        for key in &candidate.keys {
            if let Some(target) = owner(key) {
                let map = if key.kind.is_strong() {
                    &mut strong
                } else {
                    &mut weak
                };
                map.entry(target).or_default().push(key);
            }
        }
        let mut reasons: Vec<Says> = candidate
            .unusable
            .iter()
            .map(|(key, why)| {
                Says::of(Text::KeyUnusable)
                    .with("key", key.says())
                    .with("why", why.says())
            })
            .collect();
        let target = if let Some((first, keys)) = strong.iter().next() {
            reasons.extend(keys.iter().map(|k| {
                Says::of(Text::KeyMatches)
                    .with("key", k.says())
                    .with("target", describe(first))
            }));
            for (other, keys) in strong.iter().skip(1) {
                reasons.push(
                    Says::of(Text::ConflictKeys)
                        .with("keys", keys.iter().map(|k| k.says()).collect::<Vec<_>>())
                        .with("target", describe(other)),
                );
            }
            for (other, why) in same_host.iter().filter(|(t, _)| *t != first) {
                reasons.push(conflict_same_host(other, why));
            }
            Some(first.clone())
        } else if let Some((first, why)) = same_host.iter().next() {
            reasons.push(
                Says::of(Text::SameHostAs)
                    .with("target", describe(first))
                    .with("why", why.clone()),
            );
            for (other, why) in same_host.iter().skip(1) {
                reasons.push(conflict_same_host(other, why));
            }
            Some(first.clone())
        } else if let Some((target, keys)) = weak.iter().find(|(_, keys)| keys.len() >= 2) {
            reasons.push(
                Says::of(Text::NamesAgree)
                    .with("keys", keys.iter().map(|k| k.says()).collect::<Vec<_>>())
                    .with("target", describe(target)),
            );
            Some(target.clone())
        } else {
            for (target, keys) in &weak {
                reasons.push(
                    Says::of(Text::NameAlone)
                        .with("key", keys[0].says())
                        .with("target", describe(target)),
                );
            }
            None
        };
        let links = match target {
            Some(_) => Vec::new(),
            None => weak
                .iter()
                .filter_map(|(to, keys)| {
                    let named = match to {
                        Target::Existing(id) => addresses.named.get(id),
                        Target::New(n) => fresh_named.get(n),
                    }?;
                    link(candidate, &here, to, keys[0], named)
                })
                .collect(),
        };
        let target = target.unwrap_or_else(|| {
            let strong_keys: Vec<Says> = candidate
                .keys
                .iter()
                .filter(|k| k.kind.is_strong())
                .map(Key::says)
                .collect();
            reasons.push(if strong_keys.is_empty() {
                Says::of(Text::NewDeviceNoIdentity)
            } else {
                Says::of(Text::NewDeviceIdentifiedBy).with("keys", strong_keys)
            });
            created += 1;
            Target::New(created - 1)
        });
        // The candidate's keys now belong to its device, for the next ones.
        if let Target::New(n) = target {
            for key in &candidate.keys {
                if known.get(key).is_none() {
                    fresh.entry(key.clone()).or_insert(n);
                }
            }
            let named = fresh_named.entry(n).or_default();
            named.macs.extend(macs_of(candidate));
            named.places.push(here.clone());
        }
        if let Some(ip) = candidate.ip {
            held.entry(ip)
                .or_default()
                .push((target.clone(), here.clone()));
        }
        for claim in &candidate.claims {
            claimed
                .entry(claim.ip)
                .or_default()
                .push((target.clone(), here.clone(), claim.source));
        }
        decisions.push(Decision {
            candidate: index,
            target,
            reasons,
            links,
        });
    }
    decisions
}

/// The devices of other segments that are this candidate's host: one that
/// showed this candidate's address to be its own, or one seen at an
/// address this candidate shows to be its own — in the ledger (`known`)
/// or earlier in this report.
fn same_host(
    candidate: &Candidate,
    here: &Place,
    known: &KnownAddresses,
    held: &BTreeMap<IpAddr, Vec<(Target, Place)>>,
    claimed: &BTreeMap<IpAddr, Vec<(Target, Place, ClaimSource)>>,
) -> BTreeMap<Target, Vec<Says>> {
    let mut found: BTreeMap<Target, Vec<Says>> = BTreeMap::new();
    let mut add = |target: Target, why: Says| {
        let reasons = found.entry(target).or_default();
        if !reasons.contains(&why) {
            reasons.push(why);
        }
    };
    if let Some(ip) = candidate.ip {
        let ledger = known.claimed.get(&ip).into_iter().flatten();
        let ledger = ledger.map(|(id, place, source)| (Target::Existing(*id), place, source));
        let report = claimed.get(&ip).into_iter().flatten();
        let report = report.map(|(target, place, source)| (target.clone(), place, source));
        for (target, place, source) in ledger.chain(report) {
            if place != here {
                let owner = describe(&target);
                add(
                    target,
                    Says::of(Text::ClaimedAddress)
                        .with("source", source.text())
                        .with("owner", owner)
                        .value("place", place)
                        .value("ip", ip),
                );
            }
        }
    }
    for claim in &candidate.claims {
        let ledger = known.held.get(&claim.ip).into_iter().flatten();
        let ledger = ledger.map(|(id, place)| (Target::Existing(*id), place));
        let report = held.get(&claim.ip).into_iter().flatten();
        let report = report.map(|(target, place)| (target.clone(), place));
        for (target, place) in ledger.chain(report) {
            if place != here {
                let owner = describe(&target);
                add(
                    target,
                    Says::of(Text::SeenAtClaimedAddress)
                        .with("source", claim.source.text())
                        .value("ip", claim.ip)
                        .with("owner", owner)
                        .value("place", place),
                );
            }
        }
    }
    found
}

/// The link a shared name makes: on another segment than every place the
/// named device was seen (on one segment, two devices of one name are a
/// NIC swap or a reimaged PC, not two legs), stronger with adjacent MACs.
fn link(
    candidate: &Candidate,
    here: &Place,
    to: &Target,
    name: &Key,
    named: &NamedDevice,
) -> Option<Link> {
    if named.places.iter().any(|p| p == here) {
        return None;
    }
    let other = describe(to);
    let mut evidence = vec![
        Says::of(Text::LinkSameName)
            .with("key", name.says())
            .with("target", other.clone()),
    ];
    let neighbours: Vec<Says> = macs_of(candidate)
        .flat_map(|mine| {
            let other = &other;
            named
                .macs
                .iter()
                .filter(move |theirs| adjacent(mine, **theirs))
                .map(move |theirs| {
                    Says::of(Text::LinkAdjacentMac)
                        .value("mine", mine)
                        .with("target", other.clone())
                        .value("theirs", theirs)
                })
        })
        .collect();
    let confidence = if neighbours.is_empty() {
        Confidence::Low
    } else {
        Confidence::Medium
    };
    evidence.extend(neighbours);
    Some(Link {
        to: to.clone(),
        confidence,
        evidence,
    })
}

/// A candidate's MACs (globally administered ones: its MAC keys).
fn macs_of(candidate: &Candidate) -> impl Iterator<Item = MacAddr> + '_ {
    candidate
        .keys
        .iter()
        .filter(|k| k.kind == KeyKind::Mac)
        .filter_map(|k| k.value.parse().ok())
}

/// Existing devices (oldest first) before new ones.
impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Target {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |t: &Target| match t {
            Target::Existing(id) => (0, *id),
            Target::New(n) => (1, *n as i64),
        };
        rank(self).cmp(&rank(other))
    }
}

fn describe(target: &Target) -> Says {
    match target {
        Target::Existing(id) => Says::of(Text::ExistingDevice).value("id", id),
        Target::New(_) => Says::of(Text::NewDeviceOfReport),
    }
}

fn conflict_same_host(other: &Target, why: &[Says]) -> Says {
    Says::of(Text::ConflictSameHost)
        .with("why", why.to_vec())
        .with("target", describe(other))
}

#[cfg(test)]
mod tests;
