//! The raw sweep: a sender on the calling thread, a listener on a scoped thread,
//! both on one pnet datalink channel.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime};

use daicho_report::MacAddr;
use pnet_datalink::{Channel, DataLinkReceiver, DataLinkSender};

use crate::frame::{ArpRepr, FRAME_LEN, TARGET_IP_OFFSET};
use crate::pacer::Pacer;
use crate::sightings::Sightings;
use crate::socket::open_arp_socket;
use crate::{Progress, ResolvedSegment, SweepConfig, SweepError, SweepOutcome, SweepStats};

/// How often a blocked receive wakes to check whether the sweep is over.
const RECEIVE_TICK: Duration = Duration::from_millis(5);
/// After the last wait, how long the listener may still drain queued frames.
const DRAIN_LIMIT: Duration = Duration::from_millis(100);

/// State shared by sender and listener. Indexes follow `targets`, which is sorted.
struct Shared<'a> {
    targets: &'a [Ipv4Addr],
    answered: Vec<AtomicBool>,
    /// Microseconds after `start` of the first request to each target, plus one
    /// (0 = not asked yet).
    first_asked_us: Vec<AtomicU32>,
    start: Instant,
    done: AtomicBool,
    progress: &'a Progress,
}

impl Shared<'_> {
    fn index(&self, ip: Ipv4Addr) -> Option<usize> {
        self.targets.binary_search(&ip).ok()
    }

    fn since_asked(&self, index: usize) -> Option<Duration> {
        let asked = self.first_asked_us[index].load(Relaxed);
        (asked != 0).then(|| {
            self.start
                .elapsed()
                .saturating_sub(Duration::from_micros(u64::from(asked - 1)))
        })
    }

    fn all_answered(&self) -> bool {
        self.progress.answered.load(Relaxed) >= self.targets.len() as u64
    }
}

/// Sweeps `segment` with raw ARP requests. Blocks until done or `cancel` is set.
pub fn sweep_raw(
    segment: &ResolvedSegment,
    config: &SweepConfig,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<SweepOutcome, SweepError> {
    let name = segment.interface.as_str();
    let interface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| SweepError::NoInterface {
            interface: name.to_owned(),
        })?;
    let own_mac = interface
        .mac
        .map(|m| MacAddr(m.octets()))
        .filter(|m| *m != MacAddr::ZERO)
        .ok_or_else(|| SweepError::NoMac {
            interface: name.to_owned(),
        })?;

    let fd = open_arp_socket().map_err(|e| SweepError::io(name, "opening the raw socket", e))?;
    let channel_config = pnet_datalink::Config {
        read_timeout: Some(RECEIVE_TICK),
        write_timeout: Some(Duration::from_secs(1)),
        promiscuous: false,
        socket_fd: Some(fd),
        ..Default::default()
    };
    let (tx, rx) = match pnet_datalink::channel(&interface, channel_config) {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => {
            let other = std::io::Error::other("pnet returned a non-Ethernet channel");
            return Err(SweepError::io(name, "opening the datalink channel", other));
        }
        Err(e) => return Err(SweepError::io(name, "opening the datalink channel", e)),
    };

    let shared = Shared {
        targets: &segment.targets,
        answered: segment
            .targets
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect(),
        first_asked_us: segment.targets.iter().map(|_| AtomicU32::new(0)).collect(),
        start: Instant::now(),
        done: AtomicBool::new(false),
        progress,
    };
    progress
        .planned
        .store(segment.targets.len() as u64, Relaxed);
    let started = SystemTime::now();

    let (sent, listened) = std::thread::scope(|scope| {
        let listener = scope.spawn(|| listen(rx, own_mac, &shared));
        // A thread of its own, so its timer slack setting dies with it.
        let sender = scope.spawn(|| {
            let sent = send_rounds(
                tx,
                own_mac,
                segment.own_address.addr(),
                config,
                &shared,
                cancel,
            );
            shared.done.store(true, Relaxed);
            sent
        });
        let sent = sender.join().expect("the ARP sender does not panic");
        let listened = listener.join().expect("the ARP listener does not panic");
        (sent, listened)
    });
    let (packets_sent, sending) =
        sent.map_err(|e| SweepError::io(name, "sending ARP requests", e))?;
    let (sightings, frames_received) =
        listened.map_err(|e| SweepError::io(name, "receiving ARP frames", e))?;

    Ok(SweepOutcome {
        sightings: sightings.into_sorted(),
        stats: SweepStats {
            started,
            finished: SystemTime::now(),
            packets_sent,
            frames_received,
            sending,
            notes: Vec::new(),
        },
    })
}

/// Sends up to `attempts` paced rounds, each to the targets still silent, and
/// waits `timeout` after each. Returns packets sent and time spent sending.
fn send_rounds(
    mut tx: Box<dyn DataLinkSender>,
    own_mac: MacAddr,
    own_ip: Ipv4Addr,
    config: &SweepConfig,
    shared: &Shared<'_>,
    cancel: &AtomicBool,
) -> std::io::Result<(u64, Duration)> {
    reduce_timer_slack();
    let mut frame = [0u8; FRAME_LEN];
    ArpRepr::request(own_mac, own_ip, Ipv4Addr::UNSPECIFIED).emit(&mut frame);
    let pacer = Pacer::new(config.rate);
    let mut total_sent = 0u64;
    let mut sending = Duration::ZERO;

    for _attempt in 0..config.attempts.max(1) {
        let silent: Vec<usize> = (0..shared.targets.len())
            .filter(|&i| !shared.answered[i].load(Relaxed))
            .collect();
        if silent.is_empty() || cancel.load(Relaxed) {
            break;
        }
        let round_start = Instant::now();
        let mut sent = 0u64;
        let mut next = silent.iter();
        'round: while (sent as usize) < silent.len() {
            if cancel.load(Relaxed) {
                break;
            }
            let due = pacer.due(round_start.elapsed(), sent);
            if due == 0 {
                sleep_until(round_start + pacer.due_at(sent));
                continue;
            }
            for _ in 0..due {
                let Some(&index) = next.next() else {
                    break 'round;
                };
                frame[TARGET_IP_OFFSET..TARGET_IP_OFFSET + 4]
                    .copy_from_slice(&shared.targets[index].octets());
                // Noted before sending: a reply the listener reads before
                // this thread goes on must find its request's time.
                let asked_us = shared
                    .start
                    .elapsed()
                    .as_micros()
                    .min(u128::from(u32::MAX - 1)) as u32
                    + 1;
                let _ =
                    shared.first_asked_us[index].compare_exchange(0, asked_us, Relaxed, Relaxed);
                send_one(tx.as_mut(), &frame)?;
                sent += 1;
                shared.progress.sent.fetch_add(1, Relaxed);
            }
        }
        sending += round_start.elapsed();
        total_sent += sent;

        let wait_until = Instant::now() + config.timeout;
        while Instant::now() < wait_until && !shared.all_answered() && !cancel.load(Relaxed) {
            std::thread::sleep(Duration::from_millis(5).min(wait_until - Instant::now()));
        }
    }
    Ok((total_sent, sending))
}

/// Sends one frame, riding out a full transmit queue (ENOBUFS) for a moment
/// instead of failing the sweep.
fn send_one(tx: &mut dyn DataLinkSender, frame: &[u8]) -> std::io::Result<()> {
    let mut backoff = Duration::from_micros(50);
    loop {
        match tx.send_to(frame, None) {
            Some(Ok(())) | None => return Ok(()),
            Some(Err(e))
                if e.raw_os_error() == Some(libc::ENOBUFS)
                    && backoff < Duration::from_millis(100) =>
            {
                std::thread::sleep(backoff);
                backoff *= 2;
            }
            Some(Err(e)) => return Err(e),
        }
    }
}

/// Reads every ARP frame until the sender is done and the queue is drained.
fn listen(
    mut rx: Box<dyn DataLinkReceiver>,
    own_mac: MacAddr,
    shared: &Shared<'_>,
) -> std::io::Result<(Sightings, u64)> {
    let mut sightings = Sightings::default();
    let mut frames = 0u64;
    let mut done_at: Option<Instant> = None;
    loop {
        match rx.next() {
            Ok(bytes) => {
                frames += 1;
                if let Ok(repr) = ArpRepr::parse(bytes) {
                    let index = shared.index(repr.sender_ip);
                    let since = || index.and_then(|i| shared.since_asked(i));
                    if let Some(i) = sightings.record(&repr, own_mac, since).and(index)
                        && !shared.answered[i].swap(true, Relaxed)
                    {
                        shared.progress.answered.fetch_add(1, Relaxed);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                if shared.done.load(Relaxed) {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if shared.done.load(Relaxed)
            && done_at.get_or_insert_with(Instant::now).elapsed() > DRAIN_LIMIT
        {
            break;
        }
    }
    // The sender's half is gone already: this drop closes the socket.
    crate::close_in_background(rx);
    Ok((sightings, frames))
}

fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        std::thread::sleep(deadline - now);
    }
}

/// Asks for 1 µs timer slack on the sender thread (the default is 50 µs), so
/// short sleeps between packets at high rates end on time.
fn reduce_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}
