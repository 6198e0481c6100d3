//! Running a plan: the probes that listen start with the ARP sweep, every
//! segment is swept at once, the ARP-flux sweeps follow, then the probes
//! that ask the hosts found — each given only addresses in scope.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use daicho_arp::{Progress, ResolvedSegment, SweepError, SweepOutcome};
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
    // One slot per probe, in the plan's order: the order of the report.
    let mut running: Vec<Option<JoinHandle<Outcome>>> = plan
        .probes
        .iter()
        .map(|probe| {
            (probe.phase() == Phase::WithSweep).then(|| {
                let segments = sweep_segments(plan, probe.as_ref());
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
    let flux = flux_sweeps(plan, &cancel).await?;
    let interrupted = cancel.load(Relaxed);
    let mut report = build_report(plan, outcomes, started_at, Timestamp::now(), interrupted);
    add_flux(&mut report, flux);
    if interrupted {
        for task in running.into_iter().flatten() {
            task.abort();
        }
        return Ok(report);
    }
    // The probes that ask the hosts found run side by side, each bounded
    // in time.
    let found = found_in_scope(plan, &report);
    for (slot, probe) in running.iter_mut().zip(&plan.probes) {
        if slot.is_none() {
            let segments = found_segments(plan, &found, probe.as_ref());
            *slot = Some(tokio::spawn(Arc::clone(probe).run(segments)));
        }
    }
    for task in running.into_iter().flatten() {
        let (observations, runs) = task.await.expect("a probe does not panic");
        report.observations.extend(observations);
        report.probe_runs.extend(runs);
    }
    // Dual-homed hosts and mobile routers, from everything the probes saw.
    let findings = daicho_detect::detect(&[&report], &plan.fingerprints);
    report.findings.extend(findings);
    report.finished_at = Timestamp::now();
    Ok(report)
}

/// The segments a probe runs on beside the sweep, with their whole target
/// lists.
fn sweep_segments(plan: &ScanPlan, probe: &dyn Probe) -> Vec<SegmentTargets> {
    plan.segments
        .iter()
        .filter(|s| !s.skip.contains(&probe.kind()))
        .map(|s| segment(s, s.resolved.targets.clone().into()))
        .collect()
}

fn segment(planned: &PlannedSegment, targets: Arc<[Ipv4Addr]>) -> SegmentTargets {
    SegmentTargets {
        interface: planned.resolved.interface.as_str().into(),
        source: planned.resolved.own_address.addr(),
        networks: planned.resolved.networks.clone(),
        targets,
    }
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
/// probe spares.
fn found_segments(plan: &ScanPlan, found: &[Found<'_>], probe: &dyn Probe) -> Vec<SegmentTargets> {
    let spared = probe.spared();
    plan.segments
        .iter()
        .filter(|s| !s.skip.contains(&probe.kind()))
        .map(|planned| {
            let targets = found
                .iter()
                .filter(|(s, _, ip)| {
                    std::ptr::eq(*s, planned)
                        && !spared.iter().any(|net| net.contains(&IpAddr::V4(*ip)))
                })
                .map(|(_, _, ip)| *ip)
                .collect();
            segment(planned, targets)
        })
        .collect()
}
