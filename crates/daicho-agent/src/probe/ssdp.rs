//! The SSDP/UPnP step of a scan: an M-SEARCH and a NOTIFY listener on each
//! segment while the ARP sweep runs, then descriptions (and a gateway's
//! uplink) from the hosts in the segment's target list only. Like mDNS, the
//! multicast M-SEARCH reaches every host on the link; `skip = ["ssdp"]`
//! keeps a segment of fragile devices out of it.

use std::sync::Arc;

use daicho_report::{
    Observation, ProbeRun, Source, SsdpAnnouncement, SsdpFacts, UpnpDevice, UpnpUplink,
};
use daicho_ssdp::probe::{Answer, ProbeConfig};
use daicho_ssdp::wire::Kind;
use ipnet::Ipv4Net;
use jiff::Timestamp;

/// One segment to probe.
#[derive(Debug, Clone)]
pub struct SegmentProbe {
    pub interface: Arc<str>,
    pub source: std::net::Ipv4Addr,
    pub networks: Vec<Ipv4Net>,
    /// The segment's targets, ascending: only these are asked for descriptions.
    pub targets: Arc<[std::net::Ipv4Addr]>,
}

pub async fn probe(
    config: ProbeConfig,
    segments: Vec<SegmentProbe>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let mut tasks = tokio::task::JoinSet::new();
    for segment in segments {
        tasks.spawn(async move {
            let started_at = Timestamp::now();
            let on_link = |ip| segment.networks.iter().any(|n| n.contains(&ip));
            let in_scope = |ip| segment.targets.binary_search(&ip).is_ok();
            let outcome =
                daicho_ssdp::probe::probe(segment.source, on_link, in_scope, &config).await;
            (segment, started_at, outcome)
        });
    }
    let mut observations = Vec::new();
    let mut runs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (segment, started_at, outcome) = joined.expect("an SSDP task does not panic");
        let mut run = ProbeRun::new(Source::Ssdp, &segment.interface, started_at);
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
        runs.push(run);
    }
    observations.sort_by(|a, b| (&a.interface, a.ip).cmp(&(&b.interface, b.ip)));
    runs.sort_by(|a, b| a.interface.cmp(&b.interface));
    (observations, runs)
}

fn observation(interface: &Arc<str>, answer: Answer) -> Observation {
    let facts = SsdpFacts {
        announcements: answer
            .messages
            .into_iter()
            .map(|m| SsdpAnnouncement {
                kind: match m.kind {
                    Kind::Response => "response",
                    Kind::Notify => "notify",
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
