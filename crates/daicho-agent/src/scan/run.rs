//! Running a plan: the probes that listen start with the ARP sweep, every
//! segment is swept at once, the ARP-flux sweeps follow, then the probes
//! that ask the hosts found — each given only addresses in scope, all
//! drawing from one budget. The probes that speak over TCP wait for the
//! port check, which asks their ports of every host at once; the others
//! start right after the sweep, beside it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use daicho_arp::{Progress, ResolvedSegment, SweepError, SweepOutcome};
use daicho_pace::{Budget, CheckSummary, Link, LinkSender, LinkTarget, OpenPorts};
use daicho_report::{Flag, ProbeRun, Report, Source};
use jiff::Timestamp;
use tokio::task::JoinHandle;

use super::assemble::{build_report, observation, timestamp};
use super::plan::{PlannedSegment, ScanPlan};
use crate::probe::{Outcome, Phase, Probe, SegmentTargets};

/// Sweeps every segment in parallel (each on its own blocking thread), runs
/// the probes, and builds the report. `progress` holds one counter set per
/// segment, in order.
pub async fn run(
    plan: &ScanPlan,
    progress: &[Arc<Progress>],
    cancel: Arc<AtomicBool>,
) -> Result<Report, SweepError> {
    let started_at = Timestamp::now();
    let budget = Arc::new(Budget::new(plan.limits));
    // One slot per probe, in the plan's order: the order of the report.
    let mut running: Vec<Option<JoinHandle<Outcome>>> = plan
        .probes
        .iter()
        .map(|probe| {
            (probe.phase() == Phase::WithSweep).then(|| {
                let segments = sweep_segments(plan, probe.as_ref(), &budget);
                tokio::spawn(Arc::clone(probe).run(segments))
            })
        })
        .collect();
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
                cancel.store(true, Relaxed);
                return Err(e);
            }
        }
    }
    tracing::debug!("sweeps done");
    let flux = flux_sweeps(plan, &cancel).await?;
    let interrupted = cancel.load(Relaxed);
    let mut report = build_report(plan, outcomes, started_at, Timestamp::now(), interrupted);
    add_flux(&mut report, flux);
    tracing::debug!("sweep report assembled");
    if interrupted {
        for task in running.into_iter().flatten() {
            task.abort();
        }
        return Ok(report);
    }
    // The probes that ask the hosts found run side by side, each bounded
    // in time: those that need no open port at once, the others when the
    // port check has said where theirs are open.
    let found = found_in_scope(plan, &report);
    seed_round_trips(&budget, &report);
    let macs = answered_macs(&report);
    // Only the probes that send datagrams host by host use the raw sender.
    let links = if plan
        .probes
        .iter()
        .any(|p| p.phase() == Phase::AfterSweep && p.tcp_ports().is_empty())
    {
        link_senders(plan, &macs)
    } else {
        vec![None; plan.segments.len()]
    };
    let nothing_open = Arc::new(OpenPorts::default());
    for (slot, probe) in running.iter_mut().zip(&plan.probes) {
        if slot.is_none() && probe.tcp_ports().is_empty() {
            let segments = found_segments(plan, &found, probe.as_ref(), &budget, &links, |_| {
                Arc::clone(&nothing_open)
            });
            *slot = Some(tokio::spawn(Arc::clone(probe).run(segments)));
        }
    }
    tracing::debug!("probes after the sweep started");
    let checked = check_ports(plan, &found, &macs, &budget).await;
    tracing::debug!("port check done");
    for (slot, probe) in running.iter_mut().zip(&plan.probes) {
        if slot.is_none() {
            let segments =
                found_segments(plan, &found, probe.as_ref(), &budget, &links, |segment| {
                    Arc::clone(&checked[segment].0)
                });
            *slot = Some(tokio::spawn(Arc::clone(probe).run(segments)));
        }
    }
    for (task, probe) in running.into_iter().zip(&plan.probes) {
        let Some(task) = task else { continue };
        let (observations, mut runs) = task.await.expect("a probe does not panic");
        if !probe.tcp_ports().is_empty() {
            note_port_checks(plan, &checked, &mut runs);
        }
        report.observations.extend(observations);
        report.probe_runs.extend(runs);
    }
    tracing::debug!("probes done");
    // Dual-homed hosts and mobile routers, from everything the probes saw.
    let findings = daicho_detect::detect(&[&report], &plan.fingerprints);
    report.findings.extend(findings);
    report.finished_at = Timestamp::now();
    Ok(report)
}

/// The segments a probe runs on beside the sweep, with their whole target
/// lists.
fn sweep_segments(plan: &ScanPlan, probe: &dyn Probe, budget: &Arc<Budget>) -> Vec<SegmentTargets> {
    plan.segments
        .iter()
        .filter(|s| !s.skip.contains(&probe.kind()))
        .map(|s| {
            segment(
                s,
                s.resolved.targets.clone().into(),
                budget,
                Arc::default(),
                None,
            )
        })
        .collect()
}

/// What a probe is given of `planned`.
fn segment(
    planned: &PlannedSegment,
    targets: Arc<[Ipv4Addr]>,
    budget: &Arc<Budget>,
    open: Arc<OpenPorts>,
    link: Option<Arc<LinkSender>>,
) -> SegmentTargets {
    SegmentTargets {
        interface: planned.resolved.interface.as_str().into(),
        source: planned.resolved.own_address.addr(),
        networks: planned.resolved.networks.clone(),
        targets,
        budget: Arc::clone(budget),
        open,
        link,
    }
}

/// The agent's side of `planned`'s link, for raw frames: none when the
/// agent is unprivileged or the interface has no MAC.
fn link_of(plan: &ScanPlan, planned: &PlannedSegment) -> Option<Link> {
    let mac = planned.mac.filter(|_| !plan.unprivileged)?;
    Some(Link {
        interface: planned.resolved.interface.clone(),
        mac: mac.0,
        ip: planned.resolved.own_address.addr(),
    })
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

/// A host the ARP sweep found in a segment's target list, with its segment.
type Found<'p> = (&'p PlannedSegment, Arc<str>, Ipv4Addr);

/// Hosts the ARP sweep found that are in a segment's target list: the
/// probes never ask an excluded address or one only overheard on the link.
fn found_in_scope<'p>(plan: &'p ScanPlan, report: &Report) -> Vec<Found<'p>> {
    let mut found: Vec<Found<'p>> = report
        .observations
        .iter()
        .filter_map(|o| {
            let IpAddr::V4(ip) = o.ip? else {
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
                .then(|| (segment, Arc::clone(&o.interface), ip))
        })
        .collect();
    found.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    found.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    found
}

/// Per segment that runs `probe`: the hosts found there, less those the
/// probe spares — and, for a probe that names TCP ports, less those where
/// none of them is open. `open` gives a segment's open ports by its index
/// in the plan.
fn found_segments(
    plan: &ScanPlan,
    found: &[Found<'_>],
    probe: &dyn Probe,
    budget: &Arc<Budget>,
    links: &[Option<Arc<LinkSender>>],
    open: impl Fn(usize) -> Arc<OpenPorts>,
) -> Vec<SegmentTargets> {
    let ports = probe.tcp_ports();
    plan.segments
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.skip.contains(&probe.kind()))
        .map(|(index, planned)| {
            let open = open(index);
            let targets = asked_on(planned, found, probe)
                .filter(|ip| {
                    ports.is_empty() || ports.iter().any(|p| open.is_open((*ip).into(), *p))
                })
                .collect();
            segment(planned, targets, budget, open, links[index].clone())
        })
        .collect()
}

/// The hosts found on `planned` that `probe` may ask.
fn asked_on<'a>(
    planned: &'a PlannedSegment,
    found: &'a [Found<'_>],
    probe: &'a dyn Probe,
) -> impl Iterator<Item = Ipv4Addr> + 'a {
    let spared = probe.spared();
    found
        .iter()
        .filter(move |(s, _, ip)| {
            std::ptr::eq(*s, planned) && !spared.iter().any(|net| net.contains(&IpAddr::V4(*ip)))
        })
        .map(|(_, _, ip)| *ip)
}

/// Every host's ARP reply time as its first round-trip measure: the port
/// check's timeouts start from it.
fn seed_round_trips(budget: &Budget, report: &Report) {
    for observation in &report.observations {
        let (Some(ip), Some(arp)) = (observation.ip, &observation.arp) else {
            continue;
        };
        if let Some(ms) = arp.reply_ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
            budget.observe_rtt(ip, std::time::Duration::from_secs_f64(ms / 1000.0));
        }
    }
}

/// Per segment of the plan, its raw sender to the hosts found there; none
/// when the agent is unprivileged or the raw socket cannot be opened (the
/// probes then send through the kernel).
fn link_senders(
    plan: &ScanPlan,
    macs: &HashMap<(&str, Ipv4Addr), [u8; 6]>,
) -> Vec<Option<Arc<LinkSender>>> {
    plan.segments
        .iter()
        .map(|planned| {
            let link = link_of(plan, planned)?;
            let interface = planned.resolved.interface.as_str();
            let neighbours = macs
                .iter()
                .filter(|((i, _), _)| *i == interface)
                .map(|((_, ip), mac)| (*ip, *mac))
                .collect();
            match LinkSender::open(link, neighbours) {
                Ok(sender) => Some(Arc::new(sender)),
                Err(e) => {
                    tracing::warn!(
                        "no raw sender on {interface}: {e}; probes use the kernel's sockets"
                    );
                    None
                }
            }
        })
        .collect()
}

/// The MAC each host answered the sweep from, by interface and address.
fn answered_macs(report: &Report) -> HashMap<(&str, Ipv4Addr), [u8; 6]> {
    report
        .observations
        .iter()
        .filter(|o| o.source == Source::Arp && !o.flags.contains(&Flag::ArpFlux))
        .filter_map(|o| match (o.ip, o.mac) {
            (Some(IpAddr::V4(ip)), Some(mac)) => Some(((&*o.interface, ip), mac.0)),
            _ => None,
        })
        .collect()
}

/// The TCP port check, every segment at once from its own address: per
/// host found, the ports of every TCP probe that runs on its segment and
/// may ask it. Half-open over the raw link to the MACs the sweep found;
/// by the kernel's connects when the agent is unprivileged or a MAC is
/// unknown. One entry per segment of the plan, in its order.
async fn check_ports(
    plan: &ScanPlan,
    found: &[Found<'_>],
    macs: &HashMap<(&str, Ipv4Addr), [u8; 6]>,
    budget: &Arc<Budget>,
) -> Vec<(Arc<OpenPorts>, CheckSummary)> {
    let checks = plan.segments.iter().map(|planned| {
        let mut wanted: std::collections::BTreeMap<Ipv4Addr, Vec<u16>> = Default::default();
        for probe in plan
            .probes
            .iter()
            .filter(|p| p.phase() == Phase::AfterSweep && !planned.skip.contains(&p.kind()))
        {
            let mut ports = probe.tcp_ports();
            // Never a raw print port, whatever a section names: even a
            // bare connection there can start a print job.
            ports.retain(|p| !daicho_http::NEVER_PORTS.contains(p));
            if ports.is_empty() {
                continue;
            }
            for ip in asked_on(planned, found, probe.as_ref()) {
                wanted.entry(ip).or_default().extend(&ports);
            }
        }
        let interface = planned.resolved.interface.as_str();
        let targets: Vec<LinkTarget> = wanted
            .into_iter()
            .map(|(ip, mut ports)| {
                ports.sort_unstable();
                ports.dedup();
                let mac = macs.get(&(interface, ip)).copied().unwrap_or_default();
                LinkTarget { ip, mac, ports }
            })
            .collect();
        // Half-open needs every host's MAC from this scan's sweep.
        let link = link_of(plan, planned).filter(|_| targets.iter().all(|t| t.mac != [0; 6]));
        let source = planned.resolved.own_address.addr();
        let (budget, attempts) = (Arc::clone(budget), plan.connect_attempts);
        async move {
            if targets.is_empty() {
                return Default::default();
            }
            let (open, summary) = match link {
                Some(link) => {
                    let interface = link.interface.clone();
                    let half_open = daicho_pace::check_ports_half_open(
                        Arc::clone(&budget),
                        link,
                        targets.clone(),
                        attempts,
                    );
                    match half_open.await {
                        Ok(checked) => checked,
                        Err(e) => {
                            let (open, mut summary) =
                                connect_check(budget, source, &targets, attempts).await;
                            summary.errors.push(format!(
                                "no half-open check on {interface} ({e}): the kernel's connects instead"
                            ));
                            (open, summary)
                        }
                    }
                }
                None => connect_check(budget, source, &targets, attempts).await,
            };
            (Arc::new(open), summary)
        }
    });
    // Spawned at once, awaited in the plan's order.
    let handles: Vec<_> = checks.map(tokio::spawn).collect();
    let mut checked = Vec::with_capacity(handles.len());
    for handle in handles {
        checked.push(handle.await.expect("a port check does not panic"));
    }
    checked
}

/// The port check by the kernel's connects, from `source`.
async fn connect_check(
    budget: Arc<Budget>,
    source: Ipv4Addr,
    targets: &[LinkTarget],
    attempts: u32,
) -> (OpenPorts, CheckSummary) {
    let targets: Vec<(IpAddr, Vec<u16>)> = targets
        .iter()
        .map(|t| (IpAddr::V4(t.ip), t.ports.clone()))
        .collect();
    daicho_pace::check_ports(budget, Some(IpAddr::V4(source)), &targets, attempts).await
}

/// What the port check before them found, on each TCP probe's runs.
fn note_port_checks(
    plan: &ScanPlan,
    checked: &[(Arc<OpenPorts>, CheckSummary)],
    runs: &mut [ProbeRun],
) {
    for (planned, (_, summary)) in plan.segments.iter().zip(checked) {
        for run in runs
            .iter_mut()
            .filter(|r| *r.interface == *planned.resolved.interface)
        {
            run.notes.push(format!(
                "TCP port check first (all TCP probes' ports, {}): {} open, {} closed, {} \
                 unreachable, {} silent of {} ports, {} SYNs",
                if summary.half_open {
                    "half-open"
                } else {
                    "by connects"
                },
                summary.open,
                summary.closed,
                summary.unreachable,
                summary.silent,
                summary.pairs,
                summary.connects
            ));
            run.notes.extend(summary.errors.iter().cloned());
        }
    }
}
