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

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use daicho_report::{Flag, Report};

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

    /// How a person reads it.
    fn label(self) -> &'static str {
        match self {
            KeyKind::SshHostKey => "SSH host key",
            KeyKind::TlsCertificate => "TLS certificate",
            KeyKind::SnmpEngineId => "SNMP engine ID",
            KeyKind::SerialNumber => "serial number",
            KeyKind::UpnpUdn => "UPnP UDN",
            KeyKind::Mac => "MAC",
            KeyKind::NetbiosName => "NetBIOS name",
            KeyKind::MdnsHost => "mDNS host name",
            KeyKind::SnmpSysName => "SNMP sysName",
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

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.label(), self.value)
    }
}

/// What one report says about one address on one segment: the observations
/// of every probe for that (interface, IP), and the identities they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub interface: String,
    pub ip: Option<IpAddr>,
    pub keys: BTreeSet<Key>,
    /// The best name any probe gave, for people.
    pub name: Option<String>,
    /// What the ledger's columns want to know, as far as the probes said.
    pub facts: Facts,
}

/// A device's maker, model, serial number, OS and MAC, from the best source
/// that gave each (SNMP and UPnP before the MAC's registry entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub mac: Option<String>,
    pub maker: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
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
        } = other;
        self.mac = self.mac.take().or(mac);
        self.maker = self.maker.take().or(maker);
        self.model = self.model.take().or(model);
        self.serial = self.serial.take().or(serial);
        self.os = self.os.take().or(os);
    }
}

/// Whether an enterprise number names agent software or an OS rather than
/// a maker (data/platform-enterprises.tsv).
pub fn is_platform_enterprise(number: u32) -> bool {
    include_str!("../data/platform-enterprises.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next()?.parse::<u32>().ok())
        .any(|n| n == number)
}

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

/// Groups a report's observations by (interface, IP) and reads their keys.
pub fn candidates(report: &Report) -> Vec<Candidate> {
    let mut groups: BTreeMap<(String, Option<IpAddr>), Candidate> = BTreeMap::new();
    let mut vendors: BTreeMap<(String, Option<IpAddr>), String> = BTreeMap::new();
    for o in &report.observations {
        if let Some(vendor) = &o.vendor {
            vendors
                .entry((o.interface.to_string(), o.ip))
                .or_insert_with(|| vendor.clone());
        }
        let candidate = groups
            .entry((o.interface.to_string(), o.ip))
            .or_insert_with(|| Candidate {
                interface: o.interface.to_string(),
                ip: o.ip,
                keys: BTreeSet::new(),
                name: None,
                facts: Facts::default(),
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
        }
        if let Some(netbios) = o.netbios.as_deref()
            && let Some(name) = &netbios.computer_name
        {
            add(KeyKind::NetbiosName, name);
            candidate.name.get_or_insert_with(|| name.clone());
        }
        if let Some(mdns) = o.mdns.as_deref() {
            add(KeyKind::MdnsHost, &mdns.host);
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
    // The MAC's registry entry names the maker when nothing better did.
    for (group, vendor) in vendors {
        if let Some(candidate) = groups.get_mut(&group) {
            candidate.facts.maker.get_or_insert(vendor);
        }
    }
    groups.into_values().collect()
}

/// What the ledger holds that matters to a merge: for each key already
/// known, the device it belongs to.
pub type KnownKeys = BTreeMap<Key, DeviceId>;

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
    pub reasons: Vec<String>,
}

/// Decides, candidate by candidate, where each goes. Devices created by
/// earlier candidates of the same report are joinable by later ones (one
/// agent seeing a dual-homed host on two segments).
pub fn merge(known: &KnownKeys, candidates: &[Candidate]) -> Vec<Decision> {
    // Keys of the devices this report creates, as it goes.
    let mut fresh: BTreeMap<Key, usize> = BTreeMap::new();
    let mut created = 0;
    let mut decisions = Vec::with_capacity(candidates.len());
    for (index, candidate) in candidates.iter().enumerate() {
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
        let mut reasons = Vec::new();
        let target = if let Some((first, keys)) = strong.iter().next() {
            reasons.extend(
                keys.iter()
                    .map(|k| format!("{k} matches {}", describe(first))),
            );
            for (other, keys) in strong.iter().skip(1) {
                reasons.push(format!(
                    "conflict: {} also matches {}; not merged automatically",
                    keys.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    describe(other)
                ));
            }
            Some(first.clone())
        } else if let Some((target, keys)) = weak.iter().find(|(_, keys)| keys.len() >= 2) {
            reasons.push(format!(
                "{} agree on {}",
                keys.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" and "),
                describe(target)
            ));
            Some(target.clone())
        } else {
            for (target, keys) in &weak {
                reasons.push(format!(
                    "{} alone also names {}: a name alone does not join",
                    keys[0],
                    describe(target)
                ));
            }
            None
        };
        let target = target.unwrap_or_else(|| {
            let strong_keys: Vec<String> = candidate
                .keys
                .iter()
                .filter(|k| k.kind.is_strong())
                .map(ToString::to_string)
                .collect();
            reasons.push(if strong_keys.is_empty() {
                "new device: no identity to match (an address alone never joins)".to_owned()
            } else {
                format!("new device, identified by {}", strong_keys.join(", "))
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
        }
        decisions.push(Decision {
            candidate: index,
            target,
            reasons,
        });
    }
    decisions
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

fn describe(target: &Target) -> String {
    match target {
        Target::Existing(id) => format!("device #{id}"),
        Target::New(_) => "a device first seen in this report".into(),
    }
}

#[cfg(test)]
mod tests;
