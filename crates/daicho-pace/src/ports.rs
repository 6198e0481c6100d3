//! The cheap question asked before any protocol: which TCP ports are open.
//! One connect per (host, port), through the [`Budget`]; a connection that
//! opens is closed at once, as `nmap -sT` does.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpSocket;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::{Budget, ConnectionSlot};

/// What one connect found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    /// The handshake completed.
    Open,
    /// Refused (RST): nothing listens.
    Closed,
    /// An ICMP error or a local routing error came back.
    Unreachable,
    /// No answer within the host's timeout (a firewall that drops, or a
    /// lost packet: asked again while attempts remain).
    Silent,
}

/// The open ports found, per host, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenPorts(HashMap<IpAddr, Vec<u16>>);

impl OpenPorts {
    /// The open ports of `host`, ascending; empty when none is.
    pub fn of(&self, host: IpAddr) -> &[u16] {
        self.0.get(&host).map_or(&[], Vec::as_slice)
    }

    pub fn is_open(&self, host: IpAddr, port: u16) -> bool {
        self.of(host).binary_search(&port).is_ok()
    }

    pub(crate) fn insert(&mut self, host: IpAddr, port: u16) {
        let ports = self.0.entry(host).or_default();
        if let Err(at) = ports.binary_search(&port) {
            ports.insert(at, port);
        }
    }
}

/// How one check went, for the probe runs' notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// (host, port) pairs asked.
    pub pairs: usize,
    pub open: usize,
    pub closed: usize,
    pub unreachable: usize,
    /// Still silent after the last attempt.
    pub silent: usize,
    /// Connects made (SYNs sent, when half-open), retries included.
    pub connects: usize,
    /// Asked with SYN frames over the raw link rather than connects.
    pub half_open: bool,
    /// Local failures (no socket could be made), each said once per kind.
    pub errors: Vec<String>,
}

/// Connects to each of `targets`' ports from `source` (any local address
/// when `None`), within `budget`; a silent port is asked again while
/// `attempts` remain. Ports are asked in rounds across the hosts (every
/// host's first port, then every host's second) so that one host's ports
/// are spread out in time.
pub async fn check_ports(
    budget: Arc<Budget>,
    source: Option<IpAddr>,
    targets: &[(IpAddr, Vec<u16>)],
    attempts: u32,
) -> (OpenPorts, CheckSummary) {
    let port_lists: Vec<&[u16]> = targets.iter().map(|(_, ports)| ports.as_slice()).collect();
    let mut pending: Vec<(IpAddr, u16)> = across_hosts(&port_lists)
        .into_iter()
        .map(|(host, port)| (targets[host].0, port))
        .collect();
    let mut open = OpenPorts::default();
    let mut summary = CheckSummary {
        pairs: pending.len(),
        ..CheckSummary::default()
    };
    for attempt in 1..=attempts.max(1) {
        let mut silent = Vec::new();
        let mut tasks = JoinSet::new();
        let mut record = |(host, port, state): (IpAddr, u16, io::Result<PortState>)| {
            summary.connects += 1;
            match state {
                Ok(PortState::Open) => {
                    summary.open += 1;
                    open.insert(host, port);
                }
                Ok(PortState::Closed) => summary.closed += 1,
                Ok(PortState::Unreachable) => summary.unreachable += 1,
                Ok(PortState::Silent) => silent.push((host, port)),
                Err(e) => {
                    let text = format!("cannot open a TCP socket: {e}");
                    if !summary.errors.contains(&text) {
                        summary.errors.push(text);
                    }
                    silent.push((host, port));
                }
            }
        };
        for (host, port) in pending {
            // Slots and the packet's turn are taken here, one pair after
            // another, so the check shares the pace fairly with the other
            // probes' senders; at most `connections` tasks exist.
            let global = budget.global_slot().await;
            let slot = budget.connection_of(host, global).await;
            budget.packet().await;
            let budget = Arc::clone(&budget);
            tasks.spawn(async move {
                let state = connect_once(&budget, slot, source, host, port).await;
                (host, port, state)
            });
            while let Some(done) = tasks.try_join_next() {
                record(done.expect("a port check does not panic"));
            }
        }
        while let Some(done) = tasks.join_next().await {
            record(done.expect("a port check does not panic"));
        }
        if attempt == attempts.max(1) {
            summary.silent = silent.len();
        }
        pending = silent;
    }
    (open, summary)
}

/// Every host's first port, then every host's second, and so on: (the
/// host's index in `port_lists`, port) pairs.
pub(crate) fn across_hosts(port_lists: &[&[u16]]) -> Vec<(usize, u16)> {
    let rounds = port_lists
        .iter()
        .map(|ports| ports.len())
        .max()
        .unwrap_or(0);
    (0..rounds)
        .flat_map(|round| {
            port_lists
                .iter()
                .enumerate()
                .filter_map(move |(host, ports)| Some((host, *ports.get(round)?)))
        })
        .collect()
}

/// One connect, holding its slot until it is over.
async fn connect_once(
    budget: &Budget,
    _slot: ConnectionSlot,
    source: Option<IpAddr>,
    host: IpAddr,
    port: u16,
) -> io::Result<PortState> {
    let socket = match host {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let wait = budget.connect_timeout(host);
    let started = Instant::now();
    let state = match tokio::time::timeout(wait, socket.connect(SocketAddr::new(host, port))).await
    {
        // Closed at once (dropped): the device sees a connection that ends.
        Ok(Ok(_stream)) => PortState::Open,
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => PortState::Closed,
        Ok(Err(_)) => return Ok(PortState::Unreachable),
        Err(_) => return Ok(PortState::Silent),
    };
    budget.observe_rtt(host, started.elapsed());
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use std::time::Duration;

    #[test]
    fn ports_are_asked_across_hosts_first() {
        let order = across_hosts(&[&[22, 80, 443], &[80]]);
        assert_eq!(order, [(0, 22), (1, 80), (0, 80), (0, 443)]);
    }

    #[test]
    fn open_ports_stay_sorted_and_unique() {
        let host: IpAddr = "198.18.0.1".parse().unwrap();
        let mut open = OpenPorts::default();
        for port in [443, 22, 80, 22] {
            open.insert(host, port);
        }
        assert_eq!(open.of(host), [22, 80, 443]);
        assert!(open.of("198.18.0.2".parse().unwrap()).is_empty());
    }

    // Loopback only: a listener of our own is open, a port we bound and
    // released is closed.
    #[tokio::test]
    async fn open_and_closed_ports_on_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open_port = listener.local_addr().unwrap().port();
        let closed_port = {
            let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            spare.local_addr().unwrap().port()
        };
        let accepting = tokio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
        });
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let budget = Arc::new(Budget::new(Limits {
            timeout_floor: Duration::from_millis(500),
            ..Limits::default()
        }));
        let (open, summary) = check_ports(
            Arc::clone(&budget),
            Some(host),
            &[(host, vec![open_port, closed_port])],
            2,
        )
        .await;
        accepting.await.unwrap();
        assert_eq!(open.of(host), [open_port]);
        assert!(open.is_open(host, open_port) && !open.is_open(host, closed_port));
        assert_eq!(
            (summary.pairs, summary.open, summary.closed, summary.silent),
            (2, 1, 1, 0)
        );
        // Both answers were round trips: the host's timeout is the floor now.
        assert_eq!(budget.connect_timeout(host), Duration::from_millis(500));
    }
}
