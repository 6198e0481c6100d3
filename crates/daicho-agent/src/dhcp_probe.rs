//! The DHCP step of a scan (opt-in): one DHCPDISCOVER per segment, the
//! offers recorded, each server and gateway checked against the sanctioned
//! ones the configuration names (see `daicho-dhcp`).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use daicho_report::{DhcpFacts, DhcpOffer, Observation, ProbeRun, Source};
use jiff::Timestamp;
use tokio::task::JoinSet;

/// What the DHCP step needs.
#[derive(Debug, Clone, Default)]
pub struct DhcpPlan {
    pub wait: Duration,
    pub sanctioned_servers: Vec<Ipv4Addr>,
    pub sanctioned_gateways: Vec<Ipv4Addr>,
}

/// One observation per answering server, one run per segment.
pub async fn probe(plan: DhcpPlan, interfaces: Vec<Arc<str>>) -> (Vec<Observation>, Vec<ProbeRun>) {
    let mut tasks = JoinSet::new();
    for (n, interface) in interfaces.into_iter().enumerate() {
        let wait = plan.wait;
        tasks.spawn(async move {
            let started_at = Timestamp::now();
            let outcome = daicho_dhcp::probe(&interface, transaction_id(n), wait).await;
            (interface, started_at, outcome)
        });
    }
    let (mut observations, mut runs) = (Vec::new(), Vec::new());
    while let Some(joined) = tasks.join_next().await {
        let (interface, started_at, outcome) = joined.expect("a DHCP task does not panic");
        let mut run = ProbeRun {
            packets_sent: 1,
            ..ProbeRun::new(Source::Dhcp, &interface, started_at)
        };
        match outcome {
            Ok(offers) => {
                run.packets_received = offers.len() as u64;
                let servers: Vec<String> = offers.iter().map(|o| o.from.to_string()).collect();
                run.notes.push(format!(
                    "one DHCPDISCOVER (client MAC {}), {} server(s) offered: {}",
                    mac_text(),
                    offers.len(),
                    if servers.is_empty() { "none".to_owned() } else { servers.join(", ") }
                ));
                for offer in offers {
                    observations.push(Observation {
                        dhcp: Some(Box::new(DhcpFacts {
                            offers: vec![judged(&plan, &offer)],
                        })),
                        ..Observation::new(Source::Dhcp, Arc::clone(&interface), Some(offer.from.into()))
                    });
                }
            }
            Err(e) => run.notes.push(format!(
                "DHCP probe not run: {e} (port 68 needs root or CAP_NET_BIND_SERVICE, and no DHCP client on this interface) \
                 / DHCP 調査を実行できませんでした"
            )),
        }
        runs.push(run);
    }
    observations.sort_by(|a, b| (&a.interface, a.ip).cmp(&(&b.interface, b.ip)));
    (observations, runs)
}

/// The offer as reported, with the configuration's verdict on its server
/// and gateways.
fn judged(plan: &DhcpPlan, offer: &daicho_dhcp::Offer) -> DhcpOffer {
    let server = offer.server_id.unwrap_or(offer.from);
    DhcpOffer {
        server_id: offer.server_id,
        offered: Some(offer.offered),
        subnet_mask: offer.subnet_mask,
        routers: offer.routers.clone(),
        dns: offer.dns.clone(),
        lease_seconds: offer.lease_seconds,
        sanctioned: (!plan.sanctioned_servers.is_empty()).then(|| {
            plan.sanctioned_servers.contains(&server)
                || plan.sanctioned_servers.contains(&offer.from)
        }),
        unexpected_routers: if plan.sanctioned_gateways.is_empty() {
            Vec::new()
        } else {
            offer
                .routers
                .iter()
                .filter(|r| !plan.sanctioned_gateways.contains(r))
                .copied()
                .collect()
        },
    }
}

/// A transaction id that differs per run and per segment.
fn transaction_id(segment: usize) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16) ^ segment as u32
}

fn mac_text() -> String {
    daicho_dhcp::PROBE_MAC
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
