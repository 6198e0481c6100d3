//! The NetBIOS probe: a node status query to every host the ARP sweep found
//! in scope, each segment from its own address, all segments at once.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use daicho_netbios::{NodeStatus, ProbeConfig};
use daicho_report::{MacAddr, NetbiosFacts, NetbiosName, Observation, ProbeRun, Source};
use daicho_scope::ScopeError;
use jiff::Timestamp;
use serde::Deserialize;

use super::{Context, Kind, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

/// `[netbios]`: NetBIOS node status queries (UDP 137) to the hosts found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetbiosConfig {
    pub enabled: bool,
    /// Queries per second on each segment at most, on top of `[scan]
    /// rate`; 0 (the default): the scan's pace alone.
    pub rate: u32,
    /// Rounds at most; the second asks only silent hosts.
    pub retries: u32,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
}

impl Default for NetbiosConfig {
    fn default() -> Self {
        let probe = ProbeConfig::default();
        NetbiosConfig {
            enabled: true,
            rate: probe.rate,
            retries: probe.attempts,
            timeout: probe.timeout,
        }
    }
}

impl Section for NetbiosConfig {
    fn kind(&self) -> Kind {
        Kind::Netbios
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok(self.enabled.then(|| {
            Arc::new(NetbiosProbe(ProbeConfig {
                rate: self.rate,
                attempts: self.retries.max(1),
                timeout: self.timeout,
            })) as Arc<dyn Probe>
        }))
    }
}

#[derive(Debug)]
pub struct NetbiosProbe(pub ProbeConfig);

impl Probe for NetbiosProbe {
    fn kind(&self) -> Kind {
        Kind::Netbios
    }

    /// One observation per host that answered, one run per segment.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        let config = self.0;
        Box::pin(each_segment(segments, move |segment| {
            asked(config, segment)
        }))
    }
}

async fn asked(config: ProbeConfig, segment: SegmentTargets) -> super::Outcome {
    let started_at = Timestamp::now();
    let outcome = daicho_netbios::probe(
        segment.source,
        &segment.targets,
        &config,
        &segment.budget,
        segment.link.as_deref(),
    )
    .await;
    let pace = match config.rate {
        0 => segment.budget.limits().rate,
        own => own.min(segment.budget.limits().rate),
    };
    let mut run = ProbeRun {
        send_rate: Some(f64::from(pace)),
        ..ProbeRun::new(Source::Netbios, &segment.interface, started_at)
    };
    let mut observations = Vec::new();
    match outcome {
        Ok(outcome) => {
            run.packets_sent = outcome.sent;
            run.packets_received = outcome.received;
            run.notes = outcome.notes;
            run.notes.push(format!(
                "{} of {} hosts answered NetBIOS node status",
                outcome.answers.len(),
                segment.targets.len()
            ));
            observations.extend(
                outcome
                    .answers
                    .into_iter()
                    .map(|(ip, status)| observation(&segment.interface, ip, status)),
            );
        }
        Err(e) => run.notes.push(format!(
            "NetBIOS step skipped: cannot open a UDP socket on {}: {e}",
            segment.source
        )),
    }
    (observations, vec![run])
}

fn observation(interface: &Arc<str>, ip: Ipv4Addr, status: NodeStatus) -> Observation {
    let raw_text = status
        .names
        .iter()
        .filter_map(|n| {
            let raw = n.raw.as_deref()?;
            let decoded = daicho_report::text::decode(raw, Default::default());
            daicho_report::text::raw_record(|| format!("name <{:02X}>", n.suffix), raw, &decoded)
        })
        .collect();
    let facts = NetbiosFacts {
        raw_text,
        computer_name: status.computer_name().map(str::to_owned),
        workgroup: status.workgroup().map(str::to_owned),
        mac: status.mac.map(MacAddr),
        names: status
            .names
            .into_iter()
            .map(|n| NetbiosName {
                name: n.name,
                suffix: n.suffix,
                group: n.group,
            })
            .collect(),
    };
    Observation {
        netbios: Some(Box::new(facts)),
        ..Observation::new(Source::Netbios, Arc::clone(interface), Some(ip.into()))
    }
}
