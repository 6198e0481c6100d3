//! The mDNS probe: a DNS-SD browse on each segment's interface, for a
//! bounded window, started with the ARP sweep (it needs no target list).
//! Multicast reaches every host on the link, excluded ones too: a segment of
//! fragile devices should skip it (`skip = ["mdns"]`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use daicho_mdns::{BrowseConfig, HostRecord};
use daicho_report::{MdnsFacts, MdnsService, Observation, ProbeRun, Source};
use daicho_scope::ScopeError;
use jiff::Timestamp;
use serde::Deserialize;

use super::{Context, Kind, Outcome, Phase, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

/// `[mdns]`: the DNS-SD browse on each segment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MdnsConfig {
    pub enabled: bool,
    /// How long to listen.
    #[serde(deserialize_with = "duration_text")]
    pub window: Duration,
    /// Only listen for what hosts announce; send no query.
    pub passive: bool,
}

impl Default for MdnsConfig {
    fn default() -> Self {
        let browse = BrowseConfig::default();
        MdnsConfig {
            enabled: true,
            window: browse.window,
            passive: browse.passive,
        }
    }
}

impl Section for MdnsConfig {
    fn kind(&self) -> Kind {
        Kind::Mdns
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok(self.enabled.then(|| {
            Arc::new(MdnsProbe(BrowseConfig {
                window: self.window,
                passive: self.passive,
            })) as Arc<dyn Probe>
        }))
    }
}

#[derive(Debug)]
pub struct MdnsProbe(pub BrowseConfig);

impl Probe for MdnsProbe {
    fn kind(&self) -> Kind {
        Kind::Mdns
    }

    fn phase(&self) -> Phase {
        Phase::WithSweep
    }

    /// One observation per host name per segment.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        let config = self.0;
        Box::pin(each_segment(segments, move |segment| {
            browsed(config, segment)
        }))
    }
}

async fn browsed(config: BrowseConfig, segment: SegmentTargets) -> Outcome {
    let started_at = Timestamp::now();
    let outcome = daicho_mdns::browse(&segment.interface, &config).await;
    let mut run = ProbeRun::new(Source::Mdns, &segment.interface, started_at);
    let mut observations = Vec::new();
    match outcome {
        Ok(outcome) => {
            let hosts = daicho_mdns::hosts(&outcome.instances);
            run.notes = outcome.notes;
            run.notes.push(format!(
                "{} service types, {} instances, {} hosts{}",
                outcome.service_types.len(),
                outcome.instances.len(),
                hosts.len(),
                if config.passive {
                    " (passive: no query sent)"
                } else {
                    ""
                }
            ));
            observations.extend(hosts.into_iter().map(|host| observation(&segment, host)));
        }
        Err(e) => run.notes.push(e),
    }
    (observations, vec![run])
}

fn observation(segment: &SegmentTargets, host: HostRecord) -> Observation {
    let on_segment = host.addresses.iter().find(|ip| match ip {
        IpAddr::V4(v4) => segment.networks.iter().any(|n| n.contains(v4)),
        IpAddr::V6(_) => false,
    });
    let ip = on_segment
        .or_else(|| host.addresses.iter().find(|ip| ip.is_ipv4()))
        .copied();
    let facts = MdnsFacts {
        host: host.host,
        addresses: host.addresses.into_iter().collect(),
        services: host
            .instances
            .into_iter()
            .map(|i| MdnsService {
                service_type: i.service_type,
                instance: i.fullname,
                port: i.port,
                txt: i.txt.into_iter().collect(),
            })
            .collect(),
    };
    Observation {
        mdns: Some(Box::new(facts)),
        ..Observation::new(Source::Mdns, Arc::clone(&segment.interface), ip)
    }
}
