//! The NetBIOS step of a scan: a node status query to every host the ARP sweep
//! found in scope, each segment from its own address, all segments at once.

use std::net::Ipv4Addr;
use std::sync::Arc;

use daicho_netbios::{NodeStatus, ProbeConfig};
use daicho_report::{MacAddr, NetbiosFacts, NetbiosName, Observation, ProbeRun, Source};
use jiff::Timestamp;
use tokio::task::JoinSet;

use crate::scan::SegmentTargets;

/// Asks every segment's targets; one observation per host that answered and
/// one probe run per segment.
pub async fn interrogate(
    config: ProbeConfig,
    segments: Vec<SegmentTargets>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let mut tasks = JoinSet::new();
    for segment in segments {
        tasks.spawn(async move {
            let started_at = Timestamp::now();
            let outcome = daicho_netbios::probe(segment.source, &segment.targets, &config).await;
            (segment, started_at, outcome)
        });
    }
    let mut observations = Vec::new();
    let mut runs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (segment, started_at, outcome) = joined.expect("a NetBIOS task does not panic");
        let mut run = ProbeRun {
            send_rate: Some(f64::from(config.rate)),
            ..ProbeRun::new(Source::Netbios, &segment.interface, started_at)
        };
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
        runs.push(run);
    }
    observations.sort_by_key(|o| (o.interface.clone(), o.ip));
    runs.sort_by(|a, b| a.interface.cmp(&b.interface));
    (observations, runs)
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
