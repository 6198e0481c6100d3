//! 2枚挿し from a host's own SNMP address table: legs in two IPv4 networks
//! on a host that does not forward.

use std::collections::BTreeSet;

use daicho_report::{Evidence, Finding, FindingKind, Report, Says, SnmpFacts, Source, Text};
use ipnet::IpNet;

use crate::*;

/// A host whose own address table lists IPv4 addresses in two or more
/// networks, and which does not forward IP. IPv6 addresses do not count as
/// legs (a one-subnet host has them on tunnels and other interfaces; a
/// hospital's second network is IPv4); nor do 0.0.0.0 (a disconnected
/// adapter), loopback and link-local ones. When ipForwarding could not be
/// read, a device that shows routing — next hops on two interfaces, or
/// sysServices' layer 3 — cannot be told from a router: no finding.
pub(crate) fn address_tables(report: &Report) -> Vec<Finding> {
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
                    Says::of(Text::AddressTableLeg)
                        .with("ip", display(o.ip))
                        .value("address", a.ip)
                        .with("prefix", a.prefix_len.map_or("?".into(), |p| p.to_string()))
                        .with("interface", interface_name(snmp, a.if_index)),
                )
            })
            .collect();
        if snmp.ip_forwarding.is_none() {
            legs.push(evidence(
                Source::Snmp,
                Says::of(Text::ForwardingUnknown).with("ip", display(o.ip)),
            ));
        }
        findings.push(Finding {
            kind: FindingKind::DualHomed,
            confidence: if snmp.ip_forwarding.is_some() {
                0.9
            } else {
                0.6
            },
            summary: Says::of(Text::DualHomedAddressTable)
                .with("ip", display(o.ip))
                .value("networks", networks.len()),
            subjects: vec![subject(o.ip)],
            evidence: legs,
        });
    }
    findings
}

/// Whether a device whose ipForwarding is unknown shows routing: sysServices
/// says it serves layer 3 (IP gateways), or it has routes with next hops
/// out of two or more interfaces.
pub(crate) fn routes_like_a_router(snmp: &SnmpFacts) -> bool {
    const LAYER_3: u8 = 1 << 2;
    let gateway_interfaces: BTreeSet<u32> = snmp
        .routes
        .iter()
        .filter(|r| r.next_hop.is_some_and(|h| !h.is_unspecified()))
        .filter_map(|r| r.if_index)
        .collect();
    snmp.sys_services.is_some_and(|s| s & LAYER_3 != 0) || gateway_interfaces.len() >= 2
}
