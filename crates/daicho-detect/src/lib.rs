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

mod address_table;
mod arp_flux;
mod fingerprints;
mod mobile_router;
mod remote_access;
mod rogue_dhcp;
mod rogue_ipv6;
mod shared_identity;
mod signs;

use std::net::IpAddr;

use daicho_report::{
    Evidence, Finding, FindingKind, MacAddr, Param, Report, Says, SnmpFacts, Source, Subject, Text,
};

use address_table::address_tables;
use arp_flux::arp_flux;
pub use fingerprints::{FingerprintError, Fingerprints, LinkKind, Scores};
use mobile_router::mobile_routers;
use remote_access::remote_access;
use rogue_dhcp::rogue_dhcp;
use rogue_ipv6::rogue_ipv6_routers;
pub use shared_identity::SHARED_IDENTITY_PLACES;
use shared_identity::shared_identities;

/// IANAifType 3GPP (243) and 3GPP2 (244): cellular WWAN interfaces.
pub(crate) const WWAN_IF_TYPES: [i32; 2] = [243, 244];

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

pub(crate) fn subject(ip: Option<IpAddr>) -> Subject {
    Subject { ip, mac: None }
}

pub(crate) fn evidence(source: Source, text: Says) -> Evidence {
    Evidence { source, text }
}

/// The MAC an EUI-64 interface identifier was made from (…:xxff:fexx:…),
/// if it was.
pub(crate) fn embedded_mac(ip: std::net::Ipv6Addr) -> Option<MacAddr> {
    let b = ip.octets();
    (b[11] == 0xff && b[12] == 0xfe)
        .then(|| MacAddr([b[8] ^ 0x02, b[9], b[10], b[13], b[14], b[15]]))
}

pub(crate) fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// A device by its address, or "a device" in the reader's language.
pub(crate) fn display(ip: Option<IpAddr>) -> Param {
    ip.map_or(Text::ADevice.into(), |ip| ip.to_string().into())
}

pub(crate) fn interface_name(snmp: &SnmpFacts, index: Option<u32>) -> Param {
    let name = index.and_then(|i| snmp.interfaces.iter().find(|f| f.index == i));
    match (name.and_then(|f| f.name.clone().or(f.descr.clone())), index) {
        (Some(name), Some(i)) => Says::of(Text::Interface)
            .with("name", name)
            .value("index", i)
            .into(),
        (None, Some(i)) => Says::of(Text::InterfaceIndex).value("index", i).into(),
        _ => Text::AnInterface.into(),
    }
}

/// Evidence lines kept per finding; the rest are counted.
const MAX_EVIDENCE: usize = 40;

/// At most [`MAX_EVIDENCE`] lines, the rest counted in a last one.
pub(crate) fn capped(mut evidence: Vec<Evidence>) -> Vec<Evidence> {
    if evidence.len() > MAX_EVIDENCE {
        let more = evidence.len() - (MAX_EVIDENCE - 1);
        let source = evidence[MAX_EVIDENCE - 1].source;
        evidence.truncate(MAX_EVIDENCE - 1);
        evidence.push(Evidence {
            source,
            text: Says::of(Text::MoreSigns).value("count", more),
        });
    }
    evidence
}

/// Findings of one kind about one device are one finding: the subjects of
/// all, the evidence of all (each once), the highest confidence. Devices
/// are told apart by address and MAC: two findings sharing either are
/// about one device.
pub(crate) fn one_per_device(findings: Vec<Finding>) -> Vec<Finding> {
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

pub(crate) fn absorb(
    into: &mut Finding,
    subjects: Vec<Subject>,
    evidence: Vec<Evidence>,
    confidence: f32,
) {
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

#[cfg(test)]
mod tests;
