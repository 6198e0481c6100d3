//! 2枚挿し from the ARP-flux probe: a host answering on one segment for an
//! address of another network.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use daicho_report::{
    Finding, FindingKind, MacAddr, Observation, Report, Says, Source, Subject, Text,
};

use crate::*;

/// Hosts that answered the ARP-flux probe: asked on segment A for an
/// address of network B, a host on A answered with its own MAC. One or two
/// such answers from a MAC mean a leg in B; more is proxy ARP (a router or
/// firewall answering for a range), reported elsewhere. A host known to
/// forward IP is a router, not 2枚挿し.
pub(crate) fn arp_flux(report: &Report) -> Vec<Finding> {
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
                subjects.push(Subject {
                    ip: o.ip,
                    mac: Some(mac),
                });
                let says = match home {
                    Some(h) => Says::of(Text::ArpFluxAnswerFrom).with("home", display(h.ip)),
                    None => Says::of(Text::ArpFluxAnswer),
                };
                evidence(
                    Source::Arp,
                    says.with("interface", interface)
                        .with("ip", display(o.ip))
                        .value("mac", mac),
                )
            })
            .collect();
        findings.push(Finding {
            kind: FindingKind::DualHomed,
            confidence: 0.85,
            summary: Says::of(Text::DualHomedArpFlux)
                .with(
                    "who",
                    home.map_or_else(|| mac.to_string().into(), |h| display(h.ip)),
                )
                .with("interface", interface)
                .with(
                    "others",
                    answers.iter().map(|o| display(o.ip)).collect::<Vec<_>>(),
                ),
            subjects,
            evidence,
        });
    }
    findings
}
