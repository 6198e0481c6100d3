//! The SSH step of a scan: the host key and banner of port 22 on every host
//! the ARP sweep found in scope, a bounded number at a time, without logging
//! in (see `daicho-ssh`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use daicho_report::{Observation, ProbeRun, Source, SshFacts};
use daicho_ssh::ProbeError;
use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::scan::SegmentTargets;

/// What the SSH step needs.
#[derive(Debug, Clone, Copy)]
pub struct SshPlan {
    pub port: u16,
    pub timeout: Duration,
    /// Hosts asked at the same time, per segment.
    pub concurrency: usize,
}

/// One observation per host with an SSH server, one run per segment.
pub async fn interrogate(
    plan: SshPlan,
    segments: Vec<SegmentTargets>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let mut observations = Vec::new();
    let mut runs = Vec::new();
    let limit = Arc::new(Semaphore::new(
        plan.concurrency.max(1) * segments.len().max(1),
    ));
    let mut tasks = JoinSet::new();
    for segment in &segments {
        for ip in segment.targets.iter().copied() {
            let (limit, interface) = (Arc::clone(&limit), Arc::clone(&segment.interface));
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("never closed");
                let target = SocketAddr::new(ip.into(), plan.port);
                (
                    interface,
                    ip,
                    daicho_ssh::host_key(target, plan.timeout).await,
                )
            });
        }
    }
    let started_at = Timestamp::now();
    while let Some(joined) = tasks.join_next().await {
        let (interface, ip, outcome) = joined.expect("an SSH task does not panic");
        let facts = match outcome {
            Ok(key) => SshFacts {
                port: plan.port,
                banner: key.banner,
                key_type: Some(key.key_type),
                fingerprint: Some(key.fingerprint),
                error: None,
            },
            Err(ProbeError::NoCommonKex { banner, offered }) => SshFacts {
                port: plan.port,
                banner,
                error: Some(format!(
                    "no key exchange in common; the server offers only {offered}"
                )),
                ..SshFacts::default()
            },
            // Closed, silent or not SSH: nothing to say about the device.
            Err(_) => continue,
        };
        observations.push(Observation {
            ssh: Some(Box::new(facts)),
            ..Observation::new(Source::Ssh, interface, Some(ip.into()))
        });
    }
    for segment in &segments {
        let answered = observations
            .iter()
            .filter(|o| o.interface == segment.interface)
            .count();
        runs.push(ProbeRun {
            notes: vec![format!(
                "{answered} of {} hosts showed an SSH host key or banner on port {}",
                segment.targets.len(),
                plan.port
            )],
            ..ProbeRun::new(Source::Ssh, &segment.interface, started_at)
        });
    }
    observations.sort_by(|a, b| (&a.interface, a.ip).cmp(&(&b.interface, b.ip)));
    (observations, runs)
}
