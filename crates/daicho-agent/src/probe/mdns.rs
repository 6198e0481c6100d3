//! The mDNS step of a scan: a DNS-SD browse on each segment's interface, for
//! a bounded window, started with the ARP sweep (it needs no target list).
//! Multicast reaches every host on the link, excluded ones too: a segment of
//! fragile devices should skip it (`skip = ["mdns"]`).

use std::net::IpAddr;
use std::sync::Arc;

use daicho_mdns::{BrowseConfig, HostRecord};
use daicho_report::{MdnsFacts, MdnsService, Observation, ProbeRun, Source};
use ipnet::Ipv4Net;
use jiff::Timestamp;

/// One segment to browse.
#[derive(Debug, Clone)]
pub struct SegmentBrowse {
    pub interface: Arc<str>,
    /// The segment's networks: a host's address in them becomes the
    /// observation's address.
    pub networks: Vec<Ipv4Net>,
}

/// Browses every segment at once; one observation per host name per segment.
pub async fn browse(
    config: BrowseConfig,
    segments: Vec<SegmentBrowse>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let mut tasks = tokio::task::JoinSet::new();
    for segment in segments {
        tasks.spawn(async move {
            let started_at = Timestamp::now();
            let outcome = daicho_mdns::browse(&segment.interface, &config).await;
            (segment, started_at, outcome)
        });
    }
    let mut observations = Vec::new();
    let mut runs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (segment, started_at, outcome) = joined.expect("an mDNS task does not panic");
        let mut run = ProbeRun::new(Source::Mdns, &segment.interface, started_at);
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
        runs.push(run);
    }
    observations.sort_by(|a, b| (&a.interface, a.ip).cmp(&(&b.interface, b.ip)));
    runs.sort_by(|a, b| a.interface.cmp(&b.interface));
    (observations, runs)
}

fn observation(segment: &SegmentBrowse, host: HostRecord) -> Observation {
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
