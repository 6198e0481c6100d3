//! One UDP socket for a whole scan, the SNMPv3 engine IDs it learns, and a
//! per-host pace that every packet to a host waits for — requests, retries and
//! the v3 discovery exchange alike — so no device is ever asked faster than
//! its configured rate.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_snmp::transport::{Transport, UdpHandle, UdpTransport};
use async_snmp::{Candidate, EngineCache, ReceiveLimits, RequestRegistration};
use bytes::Bytes;
use daicho_pace::Budget;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How patient and how gentle to be with one host. Embedded devices answer
/// slowly: a 0.2 s timeout is known to miss real ones, so the default waits
/// 2 s; and fragile ones should not be hammered, so at most `host_rate`
/// packets a second go to any one host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryOptions {
    pub timeout: Duration,
    pub retries: u32,
    /// Requests per second to one host, at most.
    pub host_rate: f64,
    /// How strings that are not UTF-8 are read (a profile may say
    /// otherwise for its devices).
    pub charset: daicho_report::text::Charset,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            timeout: Duration::from_secs(2),
            retries: 1,
            host_rate: 50.0,
            charset: daicho_report::text::Charset::default(),
        }
    }
}

impl QueryOptions {
    /// The gap between two packets to one host.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.host_rate)
    }

    /// Rejects settings under which every request would time out while
    /// waiting for its turn.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.host_rate.is_finite() && self.host_rate >= 0.1) {
            return Err(format!(
                "snmp.host_rate = {} must be at least 0.1 (requests per second to one host) \
                 / snmp.host_rate は 0.1 以上にしてください",
                self.host_rate
            ));
        }
        if self.interval() >= self.timeout {
            return Err(format!(
                "snmp.host_rate = {} leaves {:?} between requests, longer than snmp.timeout = {:?}; \
                 raise the rate or the timeout / host_rate が低すぎるか timeout が短すぎます",
                self.host_rate,
                self.interval(),
                self.timeout
            ));
        }
        Ok(())
    }
}

/// The shared state of one scan's SNMP step.
pub struct Prober {
    socket: UdpTransport,
    engines: Arc<EngineCache>,
    options: QueryOptions,
    /// The scan's shared pace, on top of each host's own.
    budget: Option<Arc<Budget>>,
}

impl Prober {
    /// Opens the scan's socket: dual-stack when the system has IPv6, else IPv4.
    pub async fn bind(options: QueryOptions) -> std::io::Result<Prober> {
        let socket = match UdpTransport::bind("[::]:0").await {
            Ok(socket) => socket,
            Err(_) => UdpTransport::bind("0.0.0.0:0")
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?,
        };
        Ok(Prober {
            socket,
            engines: Arc::new(EngineCache::new()),
            options,
            budget: None,
        })
    }

    /// Every packet also waits for its turn in `budget`, the pace the
    /// scan's probes share.
    pub fn paced_by(self, budget: Arc<Budget>) -> Prober {
        Prober {
            budget: Some(budget),
            ..self
        }
    }

    pub fn options(&self) -> QueryOptions {
        self.options
    }

    /// A host to ask, with its own pace.
    pub fn host(&self, ip: IpAddr, port: u16) -> Result<Host, String> {
        let target = SocketAddr::new(ip, port);
        let handle = self.socket.handle(target).map_err(|e| e.to_string())?;
        Ok(Host {
            target,
            options: self.options,
            transport: Paced {
                inner: handle,
                pace: Arc::new(Pace {
                    interval: self.options.interval(),
                    next: Mutex::new(Instant::now()),
                    sent: AtomicU64::new(0),
                    budget: self.budget.clone(),
                }),
            },
            engines: Arc::clone(&self.engines),
            engine_id: std::sync::Mutex::new(None),
        })
    }
}

/// One device being asked.
pub struct Host {
    pub target: SocketAddr,
    pub(crate) options: QueryOptions,
    pub(crate) transport: Paced,
    pub(crate) engines: Arc<EngineCache>,
    /// Kept as soon as seen: the client forgets an engine after failures.
    engine_id: std::sync::Mutex<Option<String>>,
}

impl Host {
    /// The snmpEngineID the v3 discovery exchange learned, in hex. An agent
    /// gives it to anyone who asks, so it is known even when no credential
    /// worked: a stable identity across addresses and reboots.
    pub fn discovered_engine_id(&self) -> Option<String> {
        self.note_engine_id();
        self.engine_id.lock().ok()?.clone()
    }

    /// Keeps the engine ID the last v3 exchange discovered, if any.
    pub(crate) fn note_engine_id(&self) {
        // Keyed as the transport addresses the host (IPv4-mapped on a
        // dual-stack socket).
        let Some(state) = self.engines.get(&self.transport.peer_addr()) else {
            return;
        };
        let id = daicho_report::text::hex(state.engine_id());
        if let Ok(mut kept) = self.engine_id.lock()
            && !id.is_empty()
        {
            *kept = Some(id);
        }
    }

    /// Resolves only if the host refuses UDP 161 (an ICMP port unreachable):
    /// no SNMP agent there, so waiting out every profile's timeout would be
    /// pointless. It sends one SNMPv3 discovery request — no credential, the
    /// question any manager asks first — from a connected socket, the only
    /// kind the kernel reports refusals to. Silence or an answer never
    /// resolve it: race it against the real questions.
    pub async fn refused(&self) {
        if self.probe_refusal().await != Some(true) {
            std::future::pending::<()>().await;
        }
    }

    async fn probe_refusal(&self) -> Option<bool> {
        let local = if self.target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = tokio::net::UdpSocket::bind(local).await.ok()?;
        socket.connect(self.target).await.ok()?;
        self.transport.pace.wait().await;
        socket.send(&V3_DISCOVERY).await.ok()?;
        let mut buffer = [0u8; 1500];
        match tokio::time::timeout(self.options.timeout, socket.recv(&mut buffer)).await {
            Ok(Err(e)) => Some(e.kind() == std::io::ErrorKind::ConnectionRefused),
            _ => Some(false),
        }
    }

    /// Packets sent to this host so far, retries included.
    pub fn packets_sent(&self) -> u64 {
        self.transport.pace.sent.load(Ordering::Relaxed)
    }
}

/// An SNMPv3 discovery request (RFC 3414 §4): a reportable GetRequest with
/// an empty engine ID and user and no variables, BER-encoded.
const V3_DISCOVERY: [u8; 60] = [
    0x30, 0x3a, // SNMPv3Message
    0x02, 0x01, 0x03, // msgVersion 3
    0x30, 0x0f, 0x02, 0x02, 0x12, 0x34, // msgGlobalData: msgID
    0x02, 0x03, 0x00, 0xff, 0xe3, // msgMaxSize 65507
    0x04, 0x01, 0x04, // msgFlags: reportable, noAuthNoPriv
    0x02, 0x01, 0x03, // msgSecurityModel: USM
    0x04, 0x10, 0x30, 0x0e, 0x04, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, // USM: empty
    0x04, 0x00, 0x04, 0x00, 0x04, 0x00, // engine ID, boots, time, user, auth, priv
    0x30, 0x12, 0x04, 0x00, 0x04, 0x00, // ScopedPDU: empty context engine ID and name
    0xa0, 0x0c, 0x02, 0x02, 0x12, 0x34, // GetRequest, request ID
    0x02, 0x01, 0x00, 0x02, 0x01, 0x00, // error status and index
    0x30, 0x00, // no variables
];

/// The earliest moment the next packet to a host may leave.
struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
    sent: AtomicU64,
    budget: Option<Arc<Budget>>,
}

impl Pace {
    /// Waits for this host's turn. The lock is held while sleeping, so
    /// concurrent requests to one host queue up rather than burst.
    ///
    /// The turn is taken just before the packet is handed to the socket; on
    /// a loaded machine the handover itself can take milliseconds, which
    /// would bring two packets closer on the wire than `interval`. An eighth
    /// of the interval is added as headroom, so the rate seen by the device
    /// stays under the limit (the limit is a ceiling, not a target).
    async fn wait(&self) {
        let mut next = self.next.lock().await;
        tokio::time::sleep_until(*next).await;
        if let Some(budget) = &self.budget {
            budget.packet().await;
        }
        *next = Instant::now() + self.interval + self.interval / 8;
        self.sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// A UDP handle whose every outgoing packet waits for the host's pace.
#[derive(Clone)]
pub(crate) struct Paced {
    inner: UdpHandle,
    pace: Arc<Pace>,
}

impl Transport for Paced {
    async fn send(&self, data: &[u8]) -> async_snmp::Result<()> {
        self.pace.wait().await;
        self.inner.send(data).await
    }

    async fn request_with<T, F>(
        &self,
        data: &[u8],
        registration: RequestRegistration,
        validate: F,
    ) -> async_snmp::Result<T>
    where
        T: Send,
        F: FnMut(Bytes, SocketAddr) -> async_snmp::Result<Candidate<T>> + Send,
    {
        self.pace.wait().await;
        self.inner.request_with(data, registration, validate).await
    }

    fn peer_addr(&self) -> SocketAddr {
        self.inner.peer_addr()
    }

    fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    fn alloc_request_id(&self) -> i32 {
        self.inner.alloc_request_id()
    }

    fn is_reliable(&self) -> bool {
        self.inner.is_reliable()
    }

    fn receive_limits(&self) -> ReceiveLimits {
        self.inner.receive_limits()
    }

    fn send_capacity(&self) -> usize {
        self.inner.send_capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_that_would_starve_every_request_are_refused() {
        assert!(QueryOptions::default().validate().is_ok());
        let slow = QueryOptions {
            host_rate: 0.25,
            ..QueryOptions::default()
        };
        assert!(slow.validate().unwrap_err().contains("timeout"));
        let zero = QueryOptions {
            host_rate: 0.0,
            ..QueryOptions::default()
        };
        assert!(zero.validate().is_err());
        assert_eq!(
            QueryOptions::default().interval(),
            Duration::from_millis(20)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pace_spaces_packets_by_its_interval() {
        let pace = Pace {
            interval: Duration::from_millis(100),
            next: Mutex::new(Instant::now()),
            sent: AtomicU64::new(0),
            budget: None,
        };
        let start = Instant::now();
        for _ in 0..5 {
            pace.wait().await;
        }
        // Four gaps of 100 ms plus an eighth of headroom each (the timer
        // rounds each 112.5 ms sleep up to the next millisecond).
        let elapsed = start.elapsed();
        assert!(
            (Duration::from_millis(450)..=Duration::from_millis(455)).contains(&elapsed),
            "{elapsed:?}"
        );
        assert_eq!(pace.sent.load(Ordering::Relaxed), 5);
    }
}
