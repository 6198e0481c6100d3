//! The SSH probe: the host key and banner of port 22 on every host the ARP
//! sweep found in scope where the port check found it open, a bounded
//! number at a time, without logging in (see `daicho-ssh`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use daicho_report::{Observation, ProbeRun, Source, SshFacts};
use daicho_scope::ScopeError;
use daicho_ssh::ProbeError;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Context, Kind, Outcome, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

/// `[ssh]`: the host key of each host found, without logging in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    pub enabled: bool,
    pub port: u16,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    /// Hosts asked at the same time on a segment.
    pub concurrency: usize,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            enabled: true,
            port: 22,
            timeout: Duration::from_secs(3),
            concurrency: 16,
        }
    }
}

impl Section for SshConfig {
    fn kind(&self) -> Kind {
        Kind::Ssh
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok(self.enabled.then(|| {
            Arc::new(SshProbe {
                port: self.port,
                timeout: self.timeout,
                concurrency: self.concurrency,
            }) as Arc<dyn Probe>
        }))
    }
}

/// What the SSH probe needs.
#[derive(Debug, Clone, Copy)]
pub struct SshProbe {
    pub port: u16,
    pub timeout: Duration,
    /// Hosts asked at the same time, per segment.
    pub concurrency: usize,
}

impl Probe for SshProbe {
    fn kind(&self) -> Kind {
        Kind::Ssh
    }

    fn tcp_ports(&self) -> Vec<u16> {
        vec![self.port]
    }

    /// One observation per host with an SSH server, one run per segment.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        let probe = *self;
        Box::pin(each_segment(segments, move |segment| probe.asked(segment)))
    }
}

impl SshProbe {
    async fn asked(self, segment: SegmentTargets) -> Outcome {
        let started_at = Timestamp::now();
        let limit = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for ip in segment.targets.iter().copied() {
            let (limit, budget) = (Arc::clone(&limit), Arc::clone(&segment.budget));
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("never closed");
                let _slot = budget.connection(ip.into()).await;
                let target = SocketAddr::new(ip.into(), self.port);
                (ip, daicho_ssh::host_key(target, self.timeout).await)
            });
        }
        let mut observations = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (ip, outcome) = joined.expect("an SSH task does not panic");
            let facts = match outcome {
                Ok(key) => SshFacts {
                    port: self.port,
                    banner: key.banner,
                    key_type: Some(key.key_type),
                    fingerprint: Some(key.fingerprint),
                    error: None,
                },
                Err(ProbeError::NoCommonKex { banner, offered }) => SshFacts {
                    port: self.port,
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
                ..Observation::new(Source::Ssh, Arc::clone(&segment.interface), Some(ip.into()))
            });
        }
        let run = ProbeRun {
            notes: vec![format!(
                "{} of {} hosts with port {} open showed an SSH host key or banner",
                observations.len(),
                segment.targets.len(),
                self.port
            )],
            ..ProbeRun::new(Source::Ssh, &segment.interface, started_at)
        };
        (observations, vec![run])
    }
}
