//! Turning what the sweeps heard into the report: observations with vendor
//! and flags, the ARP findings (address conflicts, proxy ARP), one probe
//! run per segment, and the report's header.

use daicho_arp::{Sighting, SweepOutcome};
use daicho_report::{
    AgentInfo, ArpFacts, Evidence, Finding, FindingKind, Flag, Observation, ProbeRun, Report,
    SCHEMA_VERSION, Says, Segment, Source, Subject, Text,
};
use jiff::Timestamp;
use uuid::Uuid;

use super::plan::ScanPlan;

/// Turns sweep outcomes into the report: observations with vendor and flags,
/// findings for conflicts and proxy ARP, one probe run per segment.
pub fn build_report(
    plan: &ScanPlan,
    outcomes: Vec<SweepOutcome>,
    started_at: Timestamp,
    finished_at: Timestamp,
    interrupted: bool,
) -> Report {
    // Sized once: a /16 gives 65k observations, and growing by doubling would
    // hold two copies at the moment of each reallocation.
    let mut observations = Vec::with_capacity(outcomes.iter().map(|o| o.sightings.len()).sum());
    let mut findings = Vec::new();
    let mut probe_runs = Vec::new();
    for (segment, outcome) in plan.segments.iter().zip(outcomes) {
        let interface = &segment.resolved.interface;
        let shared_interface: std::sync::Arc<str> = interface.as_str().into();
        let analysis = daicho_arp::analyze(&outcome.sightings);
        for sighting in &outcome.sightings {
            let mut flags = Vec::new();
            if sighting.mac.is_locally_administered() {
                flags.push(Flag::LocallyAdministered);
            }
            if analysis.conflicts.contains_key(&sighting.ip) {
                flags.push(Flag::IpConflict);
            }
            if analysis.proxies.contains_key(&sighting.mac) {
                flags.push(Flag::ProxyArp);
            }
            observations.push(observation(&shared_interface, sighting, flags));
        }
        for (ip, macs) in &analysis.conflicts {
            let list = macs.iter().map(ToString::to_string).collect::<Vec<_>>();
            findings.push(Finding {
                kind: FindingKind::IpConflict,
                confidence: 0.9,
                summary: Says::of(Text::IpConflict)
                    .value("ip", ip)
                    .value("devices", macs.len())
                    .with("interface", interface.as_str()),
                subjects: macs
                    .iter()
                    .map(|mac| Subject {
                        ip: Some((*ip).into()),
                        mac: Some(*mac),
                    })
                    .collect(),
                evidence: vec![Evidence {
                    source: Source::Arp,
                    text: Says::of(Text::IpConflictFrames)
                        .with("interface", interface.as_str())
                        .value("ip", ip)
                        .with("macs", list),
                }],
            });
        }
        for (mac, ips) in &analysis.proxies {
            let (first, last) = (ips[0], ips[ips.len() - 1]);
            findings.push(Finding {
                kind: FindingKind::ProxyArp,
                confidence: 0.7,
                summary: Says::of(Text::ProxyArp)
                    .value("mac", mac)
                    .value("count", ips.len())
                    .with("interface", interface.as_str()),
                subjects: vec![Subject {
                    ip: None,
                    mac: Some(*mac),
                }],
                evidence: vec![Evidence {
                    source: Source::Arp,
                    text: Says::of(Text::ProxyArpRange)
                        .value("mac", mac)
                        .value("count", ips.len())
                        .value("first", first)
                        .value("last", last),
                }],
            });
        }
        let mut notes = outcome.stats.notes.clone();
        if interrupted {
            notes.push(
                "scan interrupted before it finished; this segment may be incomplete".to_owned(),
            );
        }
        probe_runs.push(ProbeRun {
            probe: Source::Arp,
            interface: interface.clone(),
            started_at: timestamp(outcome.stats.started),
            finished_at: timestamp(outcome.stats.finished),
            packets_sent: outcome.stats.packets_sent,
            packets_received: outcome.stats.frames_received,
            send_rate: outcome.stats.send_rate(),
            notes,
        });
    }

    Report {
        schema_version: SCHEMA_VERSION,
        agent: AgentInfo {
            id: plan.agent_id.clone(),
            hostname: hostname(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        scan_id: Uuid::now_v7(),
        started_at,
        finished_at,
        segments: plan
            .segments
            .iter()
            .map(|s| Segment {
                interface: s.resolved.interface.clone(),
                networks: s.resolved.networks.clone(),
                excluded: s.resolved.exclude.clone(),
                address: Some(s.resolved.own_address.addr()),
                mac: s.mac,
            })
            .collect(),
        observations,
        findings,
        probe_runs,
    }
}

pub(super) fn observation(
    interface: &std::sync::Arc<str>,
    sighting: &Sighting,
    flags: Vec<Flag>,
) -> Observation {
    Observation {
        at: timestamp(sighting.first_seen),
        mac: Some(sighting.mac),
        vendor: daicho_oui::vendor(&sighting.mac).map(str::to_owned),
        flags,
        arp: Some(ArpFacts {
            seen_as: sighting.seen_as,
            frames: sighting.frames,
            reply_ms: sighting
                .reply_after
                .map(|d| (d.as_secs_f64() * 1e4).round() / 10.0),
        }),
        ..Observation::new(
            Source::Arp,
            std::sync::Arc::clone(interface),
            Some(sighting.ip.into()),
        )
    }
}

pub(super) fn timestamp(time: std::time::SystemTime) -> Timestamp {
    Timestamp::try_from(time).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// This host's name (of its UTS namespace), for the report.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}
