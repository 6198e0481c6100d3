//! One scan: resolve the scope, sweep every segment at once, and turn what was
//! heard into a report.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use daicho_arp::{Progress, ResolvedSegment, Sighting, SweepConfig, SweepError, SweepOutcome};
use daicho_report::{
    AgentInfo, ArpFacts, Evidence, Finding, FindingKind, Flag, MacAddr, Observation, ProbeRun,
    Report, SCHEMA_VERSION, Segment, Source, Subject,
};
use daicho_scope::{InterfaceFacts, Policy, ScopeError, SegmentScope};

use crate::config::Probe;
use crate::dhcp_probe;
use crate::http_probe::{self, HttpPlan};
use crate::mdns_probe;
use crate::netbios_probe;
use crate::snmp_probe::{self, SnmpPlan};
use crate::ssdp_probe;
use crate::ssh_probe;
use ipnet::{IpNet, Ipv4Net};
use jiff::Timestamp;
use uuid::Uuid;

/// A local interface: what scope checks need, plus its MAC for the report.
#[derive(Debug, Clone)]
pub struct LocalInterface {
    pub facts: InterfaceFacts,
    pub mac: Option<MacAddr>,
}

/// The host's interfaces as the kernel reports them.
pub fn local_interfaces() -> Vec<LocalInterface> {
    pnet_datalink::interfaces()
        .into_iter()
        .map(|i| LocalInterface {
            facts: InterfaceFacts {
                addresses: i
                    .ips
                    .iter()
                    .filter_map(|net| match net.ip() {
                        std::net::IpAddr::V4(ip) => Ipv4Net::new(ip, net.prefix()).ok(),
                        std::net::IpAddr::V6(_) => None,
                    })
                    .collect(),
                is_up: i.is_up(),
                name: i.name,
            },
            mac: i.mac.map(|m| MacAddr(m.octets())),
        })
        .collect()
}

/// Everything a scan will do, decided before the first packet.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub agent_id: String,
    pub segments: Vec<PlannedSegment>,
    pub sweep: SweepConfig,
    pub unprivileged: bool,
    /// The SNMP step, when credential profiles are configured and it is on.
    pub snmp: Option<SnmpPlan>,
    /// The NetBIOS step, when it is on.
    pub netbios: Option<daicho_netbios::ProbeConfig>,
    /// The mDNS browse, when it is on.
    pub mdns: Option<daicho_mdns::BrowseConfig>,
    /// The HTTP/TLS banners, when they are on.
    pub http: Option<HttpPlan>,
    /// The SSH host keys, when they are on.
    pub ssh: Option<ssh_probe::SshPlan>,
    pub dhcp: Option<dhcp_probe::DhcpPlan>,
    /// ARP-flux sweeps: other networks' addresses asked on a segment.
    pub flux: Vec<ResolvedSegment>,
    /// The SSDP/UPnP probe, when it is on.
    pub ssdp: Option<daicho_ssdp::probe::ProbeConfig>,
    /// Tables detection reads (built-in plus the site's own).
    pub fingerprints: daicho_detect::Fingerprints,
}

/// One segment's hosts for a probe that asks them one by one.
#[derive(Debug, Clone)]
pub struct SegmentTargets {
    pub interface: std::sync::Arc<str>,
    /// The agent's address on the segment: the probes' source.
    pub source: std::net::Ipv4Addr,
    pub targets: Vec<std::net::Ipv4Addr>,
}

/// A segment that passed the scope rules.
#[derive(Debug, Clone)]
pub struct PlannedSegment {
    pub resolved: ResolvedSegment,
    pub mac: Option<MacAddr>,
    /// Probes not run on this segment.
    pub skip: Vec<Probe>,
}

impl ScanPlan {
    /// Resolves each segment against the local interfaces. `global_exclude`
    /// applies to every segment. The first refused segment stops the plan:
    /// a half-scanned site would look complete in the ledger.
    pub fn resolve(
        agent_id: String,
        segments: &[SegmentScope],
        global_exclude: &[IpNet],
        policy: &Policy,
        interfaces: &[LocalInterface],
        sweep: SweepConfig,
        unprivileged: bool,
    ) -> Result<ScanPlan, ScopeError> {
        if segments.is_empty() {
            return Err(ScopeError::NothingToScan);
        }
        let facts: Vec<InterfaceFacts> = interfaces.iter().map(|i| i.facts.clone()).collect();
        let segments = segments
            .iter()
            .map(|segment| {
                let mut segment = segment.clone();
                segment.exclude.extend_from_slice(global_exclude);
                let resolved = segment.resolve(&facts, policy)?;
                let mac = interfaces
                    .iter()
                    .find(|i| i.facts.name == segment.interface)
                    .and_then(|i| i.mac);
                // Names were checked when the configuration was read.
                let skip = segment
                    .skip
                    .iter()
                    .filter_map(|name| Probe::from_name(name).ok())
                    .collect();
                Ok(PlannedSegment {
                    resolved,
                    mac,
                    skip,
                })
            })
            .collect::<Result<_, ScopeError>>()?;
        Ok(ScanPlan {
            agent_id,
            segments,
            sweep,
            unprivileged,
            snmp: None,
            netbios: None,
            mdns: None,
            http: None,
            ssh: None,
            ssdp: None,
            dhcp: None,
            flux: Vec::new(),
            fingerprints: daicho_detect::Fingerprints::builtin(),
        })
    }

    /// Addresses the scan will probe, over all segments.
    pub fn target_count(&self) -> usize {
        self.segments.iter().map(|s| s.resolved.targets.len()).sum()
    }
}

/// Sweeps every segment in parallel (each on its own blocking thread) and
/// builds the report. `progress` holds one counter set per segment, in order.
pub async fn run(
    plan: &ScanPlan,
    progress: &[Arc<Progress>],
    cancel: Arc<AtomicBool>,
) -> Result<Report, SweepError> {
    let started_at = Timestamp::now();
    // mDNS needs no target list: it listens while the sweep runs.
    let mdns = plan.mdns.map(|config| {
        let segments = plan
            .segments
            .iter()
            .filter(|s| !s.skip.contains(&Probe::Mdns))
            .map(|s| mdns_probe::SegmentBrowse {
                interface: s.resolved.interface.as_str().into(),
                networks: s.resolved.networks.clone(),
            })
            .collect();
        tokio::spawn(mdns_probe::browse(config, segments))
    });
    // SSDP needs only the segments' own target lists to decide whom to ask
    // for descriptions: it listens while the sweep runs too.
    let ssdp = plan.ssdp.map(|config| {
        let segments = plan
            .segments
            .iter()
            .filter(|s| !s.skip.contains(&Probe::Ssdp))
            .map(|s| ssdp_probe::SegmentProbe {
                interface: s.resolved.interface.as_str().into(),
                source: s.resolved.own_address.addr(),
                networks: s.resolved.networks.clone(),
                targets: s.resolved.targets.clone().into(),
            })
            .collect();
        tokio::spawn(ssdp_probe::probe(config, segments))
    });
    // DHCP needs no targets either: one DISCOVER per segment, offers
    // collected while the sweep runs.
    let dhcp = plan.dhcp.clone().map(|config| {
        let interfaces = plan
            .segments
            .iter()
            .filter(|s| !s.skip.contains(&Probe::Dhcp))
            .map(|s| s.resolved.interface.as_str().into())
            .collect();
        tokio::spawn(dhcp_probe::probe(config, interfaces))
    });
    let mut sweeps = Vec::new();
    for (segment, progress) in plan.segments.iter().zip(progress) {
        let resolved = segment.resolved.clone();
        let (config, unprivileged) = (plan.sweep, plan.unprivileged);
        let (progress, cancel) = (Arc::clone(progress), Arc::clone(&cancel));
        sweeps.push(tokio::task::spawn_blocking(move || {
            if unprivileged {
                daicho_arp::sweep_unprivileged(&resolved, &config, &progress, &cancel)
            } else {
                daicho_arp::sweep_raw(&resolved, &config, &progress, &cancel)
            }
        }));
    }
    let mut outcomes = Vec::new();
    for sweep in sweeps {
        match sweep.await.expect("a sweep thread does not panic") {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                // Stop the other segments' sweeps too: the scan has failed.
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(e);
            }
        }
    }
    let flux = flux_sweeps(plan, &cancel).await?;
    let interrupted = cancel.load(std::sync::atomic::Ordering::Relaxed);
    let mut report = build_report(plan, outcomes, started_at, Timestamp::now(), interrupted);
    add_flux(&mut report, flux);
    if interrupted {
        for task in [mdns, ssdp, dhcp].into_iter().flatten() {
            task.abort();
        }
        return Ok(report);
    }
    // The identity probes run side by side, each bounded in time.
    let found = found_in_scope(plan, &report);
    let snmp = plan
        .snmp
        .as_ref()
        .map(|snmp| snmp_probe::interrogate(snmp, snmp_targets(snmp, &found)));
    let netbios = plan.netbios.map(|config| {
        netbios_probe::interrogate(config, segment_targets(plan, &found, Probe::Netbios, &[]))
    });
    let http = plan.http.as_ref().map(|http| {
        let spared = &http.exclude;
        http_probe::interrogate(http, segment_targets(plan, &found, Probe::Http, spared))
    });
    let ssh = plan
        .ssh
        .map(|ssh| ssh_probe::interrogate(ssh, segment_targets(plan, &found, Probe::Ssh, &[])));
    let (snmp, netbios, mdns, http, ssh, ssdp, dhcp) = tokio::join!(
        optional(snmp),
        optional(netbios),
        optional(mdns),
        optional(http),
        optional(ssh),
        optional(ssdp),
        optional(dhcp)
    );
    let mdns = mdns.map(|joined| joined.expect("the mDNS task does not panic"));
    let ssdp = ssdp.map(|joined| joined.expect("the SSDP task does not panic"));
    let dhcp = dhcp.map(|joined| joined.expect("the DHCP task does not panic"));
    for (observations, runs) in [snmp, netbios, mdns, http, ssh, ssdp, dhcp]
        .into_iter()
        .flatten()
    {
        report.observations.extend(observations);
        report.probe_runs.extend(runs);
    }
    // Dual-homed hosts and mobile routers, from everything the probes saw.
    let findings = daicho_detect::detect(&[&report], &plan.fingerprints);
    report.findings.extend(findings);
    report.finished_at = Timestamp::now();
    Ok(report)
}

/// The ARP-flux sweeps, after the segments' own (never at the same time
/// on one interface), one segment at a time.
async fn flux_sweeps(
    plan: &ScanPlan,
    cancel: &Arc<AtomicBool>,
) -> Result<Vec<(ResolvedSegment, SweepOutcome)>, SweepError> {
    let mut outcomes = Vec::new();
    for flux in &plan.flux {
        let (segment, config, cancel) = (flux.clone(), plan.sweep, Arc::clone(cancel));
        let outcome = tokio::task::spawn_blocking(move || {
            daicho_arp::sweep_raw(&segment, &config, &Progress::default(), &cancel)
        })
        .await
        .expect("a sweep thread does not panic")?;
        outcomes.push((flux.clone(), outcome));
    }
    Ok(outcomes)
}

/// Answers to the ARP-flux sweeps, as observations flagged `arp_flux`.
fn add_flux(report: &mut Report, flux: Vec<(ResolvedSegment, SweepOutcome)>) {
    for (segment, outcome) in flux {
        let interface: Arc<str> = segment.interface.as_str().into();
        let networks: Vec<String> = segment.networks.iter().map(ToString::to_string).collect();
        report.probe_runs.push(ProbeRun {
            packets_sent: outcome.stats.packets_sent,
            notes: vec![format!(
                "ARP flux: asked {} addresses of {} on {}; {} answered here",
                segment.targets.len(),
                networks.join(", "),
                segment.interface,
                outcome.sightings.len()
            )],
            ..ProbeRun::new(
                Source::Arp,
                &segment.interface,
                timestamp(outcome.stats.started),
            )
        });
        for sighting in outcome
            .sightings
            .iter()
            .filter(|s| segment.targets.binary_search(&s.ip).is_ok())
        {
            report
                .observations
                .push(observation(&interface, sighting, vec![Flag::ArpFlux]));
        }
    }
}

async fn optional<F: std::future::Future>(future: Option<F>) -> Option<F::Output> {
    match future {
        Some(future) => Some(future.await),
        None => None,
    }
}

/// A host the ARP sweep found in a segment's target list, with its segment.
type Found<'p> = (&'p PlannedSegment, std::sync::Arc<str>, std::net::Ipv4Addr);

/// Hosts the ARP sweep found that are in a segment's target list: the
/// identity probes never ask an excluded address or one only overheard on
/// the link.
fn found_in_scope<'p>(plan: &'p ScanPlan, report: &Report) -> Vec<Found<'p>> {
    let mut found: Vec<Found<'p>> = report
        .observations
        .iter()
        .filter_map(|o| {
            let std::net::IpAddr::V4(ip) = o.ip? else {
                return None;
            };
            let segment = plan
                .segments
                .iter()
                .find(|s| *s.resolved.interface == *o.interface)?;
            segment
                .resolved
                .targets
                .binary_search(&ip)
                .is_ok()
                .then(|| (segment, std::sync::Arc::clone(&o.interface), ip))
        })
        .collect();
    found.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    found.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    found
}

/// Per segment that runs `probe`: its address and the hosts found, less
/// those in `spared` (a probe's own exclusions).
fn segment_targets(
    plan: &ScanPlan,
    found: &[Found<'_>],
    probe: Probe,
    spared: &[IpNet],
) -> Vec<SegmentTargets> {
    plan.segments
        .iter()
        .filter(|s| !s.skip.contains(&probe))
        .map(|segment| SegmentTargets {
            interface: segment.resolved.interface.as_str().into(),
            source: segment.resolved.own_address.addr(),
            targets: found
                .iter()
                .filter(|(s, _, ip)| {
                    std::ptr::eq(*s, segment)
                        && !spared
                            .iter()
                            .any(|net| net.contains(&std::net::IpAddr::V4(*ip)))
                })
                .map(|(_, _, ip)| *ip)
                .collect(),
        })
        .collect()
}

/// The hosts found on segments that run SNMP, and the explicit targets under
/// the interface name `routed`.
fn snmp_targets(snmp: &SnmpPlan, found: &[Found<'_>]) -> Vec<snmp_probe::Target> {
    let mut targets: Vec<snmp_probe::Target> = found
        .iter()
        .filter(|(segment, _, _)| !segment.skip.contains(&Probe::Snmp))
        .map(|(_, interface, ip)| (std::sync::Arc::clone(interface), (*ip).into()))
        .collect();
    let routed: std::sync::Arc<str> = "routed".into();
    for ip in &snmp.targets {
        if !targets.iter().any(|(_, found)| found == ip) {
            targets.push((std::sync::Arc::clone(&routed), *ip));
        }
    }
    targets.sort();
    targets.dedup();
    targets
}

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
                summary: format!("{ip} is claimed by {} devices on {interface}", macs.len()),
                subjects: macs
                    .iter()
                    .map(|mac| Subject {
                        ip: Some((*ip).into()),
                        mac: Some(*mac),
                    })
                    .collect(),
                evidence: vec![Evidence {
                    source: Source::Arp,
                    text: format!(
                        "ARP frames on {interface} gave {ip} as the address of {}",
                        list.join(" and ")
                    ),
                }],
            });
        }
        for (mac, ips) in &analysis.proxies {
            let (first, last) = (ips[0], ips[ips.len() - 1]);
            findings.push(Finding {
                kind: FindingKind::ProxyArp,
                confidence: 0.7,
                summary: format!("{mac} answers ARP for {} addresses on {interface} (a router or firewall doing proxy ARP?)", ips.len()),
                subjects: vec![Subject { ip: None, mac: Some(*mac) }],
                evidence: vec![Evidence {
                    source: Source::Arp,
                    text: format!("{mac} answered for {} addresses from {first} to {last}", ips.len()),
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

fn observation(
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

fn timestamp(time: std::time::SystemTime) -> Timestamp {
    Timestamp::try_from(time).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// This host's name (of its UTS namespace), for the report.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use daicho_report::ArpSeenAs;
    use std::time::{Duration, SystemTime};

    fn plan() -> ScanPlan {
        let interfaces = vec![LocalInterface {
            facts: InterfaceFacts {
                name: "eth1".into(),
                addresses: vec!["198.18.1.2/24".parse().unwrap()],
                is_up: true,
            },
            mac: Some("02:00:00:00:00:01".parse().unwrap()),
        }];
        let segment = daicho_scope::parse_segment_arg("eth1=198.18.1.0/24").unwrap();
        ScanPlan::resolve(
            "test".into(),
            &[segment],
            &[daicho_scope::parse_exclude("198.18.1.9").unwrap()],
            &Policy::default(),
            &interfaces,
            SweepConfig::default(),
            false,
        )
        .unwrap()
    }

    fn sighting(ip: &str, mac: &str) -> Sighting {
        Sighting {
            ip: ip.parse().unwrap(),
            mac: mac.parse().unwrap(),
            seen_as: ArpSeenAs::Reply,
            frames: 1,
            first_seen: SystemTime::now(),
            reply_after: Some(Duration::from_micros(1234)),
        }
    }

    #[test]
    fn global_exclusions_reach_every_segment() {
        let plan = plan();
        assert_eq!(plan.target_count(), 252);
        assert!(
            !plan.segments[0]
                .resolved
                .targets
                .contains(&"198.18.1.9".parse().unwrap())
        );
    }

    #[test]
    fn observations_carry_vendor_flags_and_findings() {
        let plan = plan();
        let outcome = SweepOutcome {
            sightings: vec![
                sighting("198.18.1.10", "00:00:00:00:00:0a"),
                sighting("198.18.1.10", "02:11:22:33:44:55"),
                sighting("198.18.1.11", "50:a6:d8:00:00:01"),
            ],
            stats: daicho_arp::SweepStats {
                started: SystemTime::now(),
                finished: SystemTime::now(),
                packets_sent: 506,
                frames_received: 3,
                sending: Duration::from_secs(1),
                notes: vec![],
            },
        };
        let now = Timestamp::now();
        let report = build_report(&plan, vec![outcome], now, now, false);
        let obs = &report.observations;
        assert_eq!(obs.len(), 3);
        assert_eq!(obs[0].vendor.as_deref(), Some("XEROX CORPORATION"));
        assert_eq!(obs[0].flags, vec![Flag::IpConflict]);
        assert_eq!(obs[1].vendor, None);
        assert_eq!(
            obs[1].flags,
            vec![Flag::LocallyAdministered, Flag::IpConflict]
        );
        assert_eq!(obs[2].flags, vec![]);
        assert_eq!(obs[2].arp.as_ref().unwrap().reply_ms, Some(1.2));
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].kind, FindingKind::IpConflict);
        assert!(
            report.findings[0].evidence[0]
                .text
                .contains("02:11:22:33:44:55")
        );
        assert_eq!(report.probe_runs[0].send_rate, Some(506.0));
        assert_eq!(report.segments[0].excluded.len(), 1);
        // The report is valid against its own reader.
        let json = serde_json::to_vec(&report).unwrap();
        assert_eq!(Report::from_json(&json).unwrap(), report);
    }
}
