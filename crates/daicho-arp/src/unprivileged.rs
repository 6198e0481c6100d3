//! The unprivileged sweep: one UDP datagram to each target makes the kernel
//! resolve it with ARP; the neighbour table then holds whoever answered.
//!
//! Slower and blinder than raw ARP (no requests or announcements from others are
//! heard, and the kernel table holds about a thousand entries before it starts
//! dropping them), but it needs no capability at all.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime};

use daicho_report::ArpSeenAs;

use crate::neighbours::parse_proc_net_arp;
use crate::pacer::Pacer;
use crate::{
    Progress, ResolvedSegment, Sighting, SweepConfig, SweepError, SweepOutcome, SweepStats,
};

/// The discard port: nothing should be listening, and nothing is expected back.
const POKE_PORT: u16 = 9;
/// How often the neighbour table is read while sending.
const READ_EVERY: Duration = Duration::from_millis(100);
/// Above this many targets the kernel's neighbour table (gc_thresh3 = 1024 by
/// default) may evict entries before we read them.
const NEIGHBOUR_TABLE_SIZE: usize = 1024;

/// Sweeps `segment` without raw sockets. Blocks until done or `cancel` is set.
pub fn sweep_unprivileged(
    segment: &ResolvedSegment,
    config: &SweepConfig,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<SweepOutcome, SweepError> {
    let name = segment.interface.as_str();
    let io = |what| move |e| SweepError::io(name, what, e);
    let socket = UdpSocket::bind(SocketAddrV4::new(segment.own_address.addr(), 0))
        .map_err(io("binding the UDP socket"))?;
    socket
        .set_nonblocking(true)
        .map_err(io("configuring the UDP socket"))?;

    let started = SystemTime::now();
    let mut found: HashMap<Ipv4Addr, Sighting> = HashMap::new();
    let read_table = |found: &mut HashMap<Ipv4Addr, Sighting>| -> Result<(), SweepError> {
        let text = std::fs::read_to_string("/proc/net/arp").map_err(io("reading /proc/net/arp"))?;
        for (ip, mac) in parse_proc_net_arp(&text, name) {
            found.entry(ip).or_insert_with(|| {
                if segment.targets.binary_search(&ip).is_ok() {
                    progress.answered.fetch_add(1, Relaxed);
                }
                Sighting {
                    ip,
                    mac,
                    seen_as: ArpSeenAs::Reply,
                    frames: 1,
                    first_seen: SystemTime::now(),
                    reply_after: None,
                }
            });
        }
        Ok(())
    };

    progress
        .planned
        .store(segment.targets.len() as u64, Relaxed);
    let pacer = Pacer::new(config.rate);
    let mut packets_sent = 0u64;
    let mut sending = Duration::ZERO;
    for _attempt in 0..config.attempts.max(1) {
        let silent: Vec<Ipv4Addr> = segment
            .targets
            .iter()
            .copied()
            .filter(|ip| !found.contains_key(ip))
            .collect();
        if silent.is_empty() || cancel.load(Relaxed) {
            break;
        }
        let round_start = Instant::now();
        let mut last_read = Instant::now();
        let mut sent = 0u64;
        while (sent as usize) < silent.len() && !cancel.load(Relaxed) {
            let due = pacer.due(round_start.elapsed(), sent) as usize;
            for ip in silent.iter().skip(sent as usize).take(due) {
                // A full queue or an unreachable error only means this one
                // datagram is lost; the kernel still sent its ARP request.
                let _ = socket.send_to(&[0], SocketAddrV4::new(*ip, POKE_PORT));
                sent += 1;
                progress.sent.fetch_add(1, Relaxed);
            }
            if last_read.elapsed() >= READ_EVERY {
                read_table(&mut found)?;
                last_read = Instant::now();
            }
            let next = round_start + pacer.due_at(sent);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        sending += round_start.elapsed();
        packets_sent += sent;
        std::thread::sleep(config.timeout);
        read_table(&mut found)?;
    }

    let mut notes = Vec::new();
    if segment.targets.len() > NEIGHBOUR_TABLE_SIZE {
        notes.push(format!(
            "unprivileged sweep of {} addresses: the kernel neighbour table holds about {NEIGHBOUR_TABLE_SIZE} \
             entries, so some hosts may be missed; grant CAP_NET_RAW for a raw ARP sweep",
            segment.targets.len()
        ));
    }
    let mut sightings: Vec<Sighting> = found.into_values().collect();
    sightings.sort_by_key(|s| (s.ip, s.mac));
    Ok(SweepOutcome {
        sightings,
        stats: SweepStats {
            started,
            finished: SystemTime::now(),
            packets_sent,
            frames_received: 0,
            sending,
            notes,
        },
    })
}
