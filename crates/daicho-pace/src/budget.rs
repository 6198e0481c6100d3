//! The scan's shared budget: packets per second, connections in flight,
//! connections per host, and each host's connect timeout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::rtt::RttEstimate;

/// The resolution of tokio's timer.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// How much a scan may ask of the network and of each device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Packets per second, every probe after the sweep together (the first
    /// packet of each connection, each datagram).
    pub rate: u32,
    /// TCP connections open or being opened at once, all hosts together.
    pub connections: usize,
    /// TCP connections open or being opened at once to one host.
    pub per_host: usize,
    /// The shortest connect timeout, however quick a host's round trips:
    /// slow embedded stacks answer a SYN late.
    pub timeout_floor: Duration,
    /// The longest, and the one for a host with no round trip measured.
    pub timeout_ceiling: Duration,
}

impl Default for Limits {
    /// runZero's safe default pace (1,000 packets/s), two connections per
    /// host, nmap's initial timeout (1 s) as the floor.
    fn default() -> Self {
        Limits {
            rate: 1_000,
            connections: 512,
            per_host: 2,
            timeout_floor: Duration::from_secs(1),
            timeout_ceiling: Duration::from_secs(3),
        }
    }
}

/// The budget every probe after the sweep draws from. Share it as an
/// `Arc`: the slots it hands out give themselves back when dropped.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    /// The first free send slot: each packet reserves the next one, so
    /// waiters go in order, one interval apart, without polling.
    next_slot: Mutex<Instant>,
    interval: Duration,
    connections: Arc<Semaphore>,
    hosts: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    rtt: Mutex<HashMap<IpAddr, RttEstimate>>,
}

/// Leave to keep one TCP connection open to a host; given back on drop.
#[derive(Debug)]
pub struct ConnectionSlot {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        let limits = Limits {
            rate: limits.rate.max(1),
            connections: limits.connections.max(1),
            per_host: limits.per_host.max(1),
            ..limits
        };
        Budget {
            next_slot: Mutex::new(Instant::now()),
            interval: Duration::from_secs_f64(1.0 / f64::from(limits.rate)),
            connections: Arc::new(Semaphore::new(limits.connections)),
            hosts: Mutex::new(HashMap::new()),
            rtt: Mutex::new(HashMap::new()),
            limits,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Waits for one packet's turn in the scan's pace.
    pub async fn packet(&self) {
        let now = Instant::now();
        let slot = {
            let mut next = self.next_slot.lock().expect("never poisoned");
            // An idle budget saves up no burst: a slot is at most a tick in
            // the past (what a sender woken late by the timer catches up).
            let slot = (*next).max(now.checked_sub(TIMER_TICK).unwrap_or(now));
            *next = slot + self.interval;
            slot
        };
        // Tokio's timer counts whole milliseconds, so a sleeper wakes up to
        // a tick late; the slots that passed meanwhile are not slept for
        // (see the catch-up above), else one sender would be held to 1,000
        // packets/s. No packet leaves before its slot.
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// Waits until one more connection to `host` stays within both bounds,
    /// then for its first packet's turn. Hold the slot while connected.
    pub async fn connection(&self, host: IpAddr) -> ConnectionSlot {
        let slot = self.connection_of(host, self.global_slot().await).await;
        self.packet().await;
        slot
    }

    /// One of the connections in flight, not yet tied to a host: a
    /// dispatcher takes it before starting a task, so that at most
    /// `connections` tasks exist at once.
    pub(crate) async fn global_slot(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.connections)
            .acquire_owned()
            .await
            .expect("the budget's semaphore is never closed")
    }

    /// Ties a global slot to `host`, waiting for the host's own bound.
    pub(crate) async fn connection_of(
        &self,
        host: IpAddr,
        global: OwnedSemaphorePermit,
    ) -> ConnectionSlot {
        let per_host = {
            let mut hosts = self.hosts.lock().expect("never poisoned");
            Arc::clone(
                hosts
                    .entry(host)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.limits.per_host))),
            )
        };
        let host_permit = per_host
            .acquire_owned()
            .await
            .expect("a host's semaphore is never closed");
        ConnectionSlot {
            _host: host_permit,
            _global: global,
        }
    }

    /// Records a measured round trip to `host` (an ARP reply, a SYN
    /// answered by SYN-ACK or RST).
    pub fn observe_rtt(&self, host: IpAddr, sample: Duration) {
        let mut rtt = self.rtt.lock().expect("never poisoned");
        rtt.entry(host)
            .and_modify(|estimate| estimate.update(sample))
            .or_insert_with(|| RttEstimate::first(sample));
    }

    /// How long to wait for `host` to answer a connect: from its measured
    /// round trips, within the floor and ceiling; the ceiling when none
    /// was measured.
    pub fn connect_timeout(&self, host: IpAddr) -> Duration {
        let rtt = self.rtt.lock().expect("never poisoned");
        rtt.get(&host)
            .map_or(self.limits.timeout_ceiling, |estimate| {
                estimate.timeout(self.limits.timeout_floor, self.limits.timeout_ceiling)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate: u32, connections: usize, per_host: usize) -> Limits {
        Limits {
            rate,
            connections,
            per_host,
            ..Limits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn packets_keep_the_pace_without_a_burst_after_idling() {
        let budget = Arc::new(Budget::new(limits(100, 8, 2)));
        let start = Instant::now();
        for _ in 0..50 {
            budget.packet().await;
        }
        // 50 packets at 100/s: the first at once, the last 490 ms later.
        assert_eq!(start.elapsed(), Duration::from_millis(490));
        tokio::time::sleep(Duration::from_secs(10)).await;
        let idle_end = Instant::now();
        budget.packet().await;
        budget.packet().await;
        // At most one tick of the idle time is caught up.
        assert_eq!(idle_end.elapsed(), Duration::from_millis(9));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_pace_is_kept_by_one_sender_despite_the_millisecond_timer() {
        let budget = Budget::new(limits(5_000, 8, 2));
        let start = Instant::now();
        for _ in 0..5_000 {
            budget.packet().await;
        }
        // 5,000 slots 200 µs apart: the last is 999.8 ms after the first,
        // and it leaves at most a tick late.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_micros(999_800) && took <= Duration::from_micros(1_000_800),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_senders_share_one_pace() {
        let budget = Arc::new(Budget::new(limits(1_000, 8, 2)));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let budget = Arc::clone(&budget);
            tasks.spawn(async move {
                for _ in 0..250 {
                    budget.packet().await;
                }
            });
        }
        tasks.join_all().await;
        assert_eq!(start.elapsed(), Duration::from_millis(999));
    }

    #[tokio::test(start_paused = true)]
    async fn connections_are_bounded_per_host_and_in_all() {
        let budget = Arc::new(Budget::new(limits(100_000, 3, 2)));
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "198.18.0.2".parse().unwrap();
        let first = budget.connection(a).await;
        let _second = budget.connection(a).await;
        // A third to the same host waits, though the scan has room.
        let blocked = tokio::time::timeout(Duration::from_secs(1), budget.connection(a)).await;
        assert!(blocked.is_err());
        let _other = budget.connection(b).await;
        // The scan is full now: another host waits too.
        let full = tokio::time::timeout(Duration::from_secs(1), budget.connection(b)).await;
        assert!(full.is_err());
        drop(first);
        let _third = budget.connection(a).await;
    }

    #[test]
    fn timeouts_follow_each_hosts_round_trips() {
        let budget = Budget::new(Limits {
            timeout_floor: Duration::from_millis(200),
            timeout_ceiling: Duration::from_secs(3),
            ..Limits::default()
        });
        let (quick, slow, unknown): (IpAddr, IpAddr, IpAddr) = (
            "198.18.0.1".parse().unwrap(),
            "198.18.0.2".parse().unwrap(),
            "198.18.0.3".parse().unwrap(),
        );
        budget.observe_rtt(quick, Duration::from_micros(400));
        budget.observe_rtt(slow, Duration::from_millis(400));
        assert_eq!(budget.connect_timeout(quick), Duration::from_millis(200));
        assert_eq!(budget.connect_timeout(slow), Duration::from_millis(1200));
        assert_eq!(budget.connect_timeout(unknown), Duration::from_secs(3));
    }
}
