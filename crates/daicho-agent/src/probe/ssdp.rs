//! The SSDP/UPnP probe: an M-SEARCH and a NOTIFY listener on each segment
//! while the ARP sweep runs, then descriptions (and a gateway's uplink) from
//! the hosts in the segment's target list only. Like mDNS, the multicast
//! M-SEARCH reaches every host on the link; `skip = ["ssdp"]` keeps a
//! segment of fragile devices out of it.

use std::sync::Arc;
use std::time::Duration;

use daicho_report::{
    Observation, ProbeRun, Source, SsdpAnnouncement, SsdpFacts, UpnpDevice, UpnpUplink,
};
use daicho_scope::ScopeError;
use daicho_ssdp::probe::{Answer, ProbeConfig};
use daicho_ssdp::wire::Kind as MessageKind;
use jiff::Timestamp;
use serde::Deserialize;

use super::{Context, Kind, Outcome, Phase, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

/// `[ssdp]`: M-SEARCH and NOTIFY on each segment, descriptions from hosts in scope.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsdpConfig {
    pub enabled: bool,
    /// How long to collect answers and announcements.
    #[serde(deserialize_with = "duration_text")]
    pub window: Duration,
    /// Only listen for NOTIFY; send no M-SEARCH.
    pub passive: bool,
    /// Per description fetch and gateway question.
    #[serde(deserialize_with = "duration_text")]
    pub fetch_timeout: Duration,
    /// Bytes of a device description read at most.
    pub description_cap: usize,
}

impl Default for SsdpConfig {
    fn default() -> Self {
        let probe = ProbeConfig::default();
        SsdpConfig {
            enabled: true,
            window: probe.window,
            passive: probe.passive,
            fetch_timeout: probe.fetch_timeout,
            description_cap: probe.description_cap,
        }
    }
}

impl Section for SsdpConfig {
    fn kind(&self) -> Kind {
        Kind::Ssdp
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok(self.enabled.then(|| {
            Arc::new(SsdpProbe(ProbeConfig {
                window: self.window,
                passive: self.passive,
                fetch_timeout: self.fetch_timeout,
                description_cap: self.description_cap,
            })) as Arc<dyn Probe>
        }))
    }
}

#[derive(Debug)]
pub struct SsdpProbe(pub ProbeConfig);

impl Probe for SsdpProbe {
    fn kind(&self) -> Kind {
        Kind::Ssdp
    }

    fn phase(&self) -> Phase {
        Phase::WithSweep
    }

    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        let config = self.0;
        Box::pin(each_segment(segments, move |segment| {
            asked(config, segment)
        }))
    }
}

async fn asked(config: ProbeConfig, segment: SegmentTargets) -> Outcome {
    let started_at = Timestamp::now();
    let on_link = |ip| segment.networks.iter().any(|n| n.contains(&ip));
    let in_scope = |ip| segment.targets.binary_search(&ip).is_ok();
    let outcome = daicho_ssdp::probe::probe(segment.source, on_link, in_scope, &config).await;
    let mut run = ProbeRun::new(Source::Ssdp, &segment.interface, started_at);
    let mut observations = Vec::new();
    match outcome {
        Ok((answers, notes)) => {
            run.notes = notes;
            run.notes.push(format!(
                "{} hosts answered SSDP{}",
                answers.len(),
                if config.passive {
                    " (passive: no M-SEARCH sent)"
                } else {
                    ""
                }
            ));
            observations.extend(
                answers
                    .into_iter()
                    .map(|a| observation(&segment.interface, a)),
            );
        }
        Err(e) => run.notes.push(e),
    }
    (observations, vec![run])
}

fn observation(interface: &Arc<str>, answer: Answer) -> Observation {
    let facts = SsdpFacts {
        announcements: answer
            .messages
            .into_iter()
            .map(|m| SsdpAnnouncement {
                kind: match m.kind {
                    MessageKind::Response => "response",
                    MessageKind::Notify => "notify",
                }
                .into(),
                target: m.target,
                usn: m.usn,
                server: m.server,
                location: m.location,
            })
            .collect(),
        devices: answer
            .devices
            .into_iter()
            .map(|d| UpnpDevice {
                depth: d.depth,
                device_type: d.device_type,
                friendly_name: d.friendly_name,
                manufacturer: d.manufacturer,
                model_name: d.model_name,
                model_number: d.model_number,
                serial_number: d.serial_number,
                udn: d.udn,
                presentation_url: d.presentation_url,
                services: d.services.into_iter().map(|s| s.service_type).collect(),
            })
            .collect(),
        uplink: answer.uplink.map(|u| UpnpUplink {
            external_ip: u.upnp.or(u.natpmp.and_then(|n| n.external).map(Into::into)),
            kind: u.kind.as_str().into(),
            natpmp_result: u.natpmp.map(|n| n.result),
        }),
        notes: answer.notes,
    };
    Observation {
        ssdp: Some(Box::new(facts)),
        ..Observation::new(Source::Ssdp, Arc::clone(interface), Some(answer.ip.into()))
    }
}
