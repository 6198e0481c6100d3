//! The NBSTAT probe: one unicast query per host (UDP 137), paced by the
//! scan's budget (and its own rate, when it has one), from a socket bound to
//! the segment's own address, with a second round for the hosts that stayed
//! silent. Answers count only from the host asked. Given the link's raw
//! sender, queries leave as frames to each host's MAC (no kernel neighbour
//! entry needed; the answers come back to the socket).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use daicho_pace::{Budget, LinkSender};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::wire::{NodeStatus, NodeStatusQuery, Packet};

/// How hard to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeConfig {
    /// Queries per second on the segment at most, on top of the scan's
    /// budget; 0: the budget alone.
    pub rate: u32,
    /// Rounds at most; later rounds ask only the silent hosts.
    pub attempts: u32,
    /// Wait for answers after each round.
    pub timeout: Duration,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            rate: 0,
            attempts: 2,
            timeout: Duration::from_millis(500),
        }
    }
}

/// What a probe heard.
#[derive(Debug, Default)]
pub struct ProbeOutcome {
    pub answers: Vec<(Ipv4Addr, NodeStatus)>,
    pub sent: u64,
    pub received: u64,
    /// Answers that could not be read, by host, for the report.
    pub notes: Vec<String>,
}

const NETBIOS_NAME_PORT: u16 = 137;

/// Asks every target from `source` (an address of the segment's interface).
pub async fn probe(
    source: Ipv4Addr,
    targets: &[Ipv4Addr],
    config: &ProbeConfig,
    budget: &Budget,
    link: Option<&LinkSender>,
) -> std::io::Result<ProbeOutcome> {
    let socket = UdpSocket::bind(SocketAddr::from((source, 0))).await?;
    let local_port = socket.local_addr()?.port();
    let interval = match config.rate {
        0 => Duration::ZERO,
        rate => Duration::from_secs_f64(1.0 / f64::from(rate)),
    };
    // Each host gets its own transaction id (its position, wrapping), and an
    // answer must come from that host with that id.
    let expected: HashMap<Ipv4Addr, u16> = targets
        .iter()
        .enumerate()
        .map(|(i, ip)| (*ip, i as u16))
        .collect();
    let mut outcome = ProbeOutcome::default();
    let mut answered: HashMap<Ipv4Addr, NodeStatus> = HashMap::new();
    let mut buffer = vec![0u8; 2048];
    for _ in 0..config.attempts.max(1) {
        let pending: Vec<Ipv4Addr> = targets
            .iter()
            .copied()
            .filter(|ip| !answered.contains_key(ip))
            .collect();
        if pending.is_empty() {
            break;
        }
        // Sending and receiving side by side; the round ends when the last
        // query has had `timeout` to be answered.
        let send = async {
            let mut sent = 0;
            let mut next_send = Instant::now();
            for ip in &pending {
                if !interval.is_zero() {
                    tokio::time::sleep_until(next_send).await;
                    next_send = (next_send + interval).max(Instant::now());
                }
                budget.packet().await;
                let bytes = NodeStatusQuery {
                    transaction_id: expected[ip],
                }
                .to_bytes();
                let by_link =
                    link.and_then(|link| link.send_udp(*ip, local_port, NETBIOS_NAME_PORT, &bytes));
                // A host that refuses (ICMP) shows as an error on a later
                // call; it changes nothing for the others.
                let delivered = match by_link {
                    Some(delivered) => delivered.is_ok(),
                    None => socket
                        .send_to(&bytes, SocketAddr::from((*ip, NETBIOS_NAME_PORT)))
                        .await
                        .is_ok(),
                };
                sent += u64::from(delivered);
            }
            tokio::time::sleep(config.timeout).await;
            sent
        };
        let receive = async {
            loop {
                let Ok((len, from)) = socket.recv_from(&mut buffer).await else {
                    continue;
                };
                let std::net::IpAddr::V4(ip) = from.ip() else {
                    continue;
                };
                let Some(id) = expected.get(&ip) else {
                    continue;
                };
                outcome.received += 1;
                let parsed = Packet::new_checked(&buffer[..len])
                    .and_then(|packet| NodeStatus::parse(&packet));
                match parsed {
                    Ok(status) if status.transaction_id == *id => {
                        answered.insert(ip, status);
                    }
                    Ok(_) => {}
                    Err(e) => outcome
                        .notes
                        .push(format!("{ip}: unreadable NetBIOS answer: {e}")),
                }
            }
        };
        tokio::select! {
            sent = send => outcome.sent += sent,
            never = receive => never,
        }
    }
    outcome.answers = answered.into_iter().collect();
    outcome.answers.sort_by_key(|(ip, _)| *ip);
    Ok(outcome)
}
