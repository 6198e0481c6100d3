//! The port check over the raw link, half-open as `nmap -sS` does it: a SYN
//! frame addressed to the MAC the ARP sweep found, read back from the link —
//! SYN-ACK is open, RST is closed — and the kernel, which knows no such
//! connection, answers a SYN-ACK with RST, so no connection is ever made.
//!
//! Why not the kernel's own connect on a dense segment: every connect needs
//! a neighbour entry for its host, and Linux keeps at most
//! `gc_thresh3` (1,024 by default, for the whole machine) — on a segment
//! with thousands of hosts, connects past that are dropped before they
//! leave. Frames sent to a known MAC need no entry.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32};
use std::time::{Duration, Instant};

use pnet_datalink::DataLinkReceiver;
use pnet_packet::Packet;
use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::tcp::{MutableTcpPacket, TcpFlags, TcpPacket};

use crate::link::{HEADERS, Link, open_channel, write_headers};
use crate::ports::across_hosts;
use crate::{Budget, CheckSummary, OpenPorts, PortState};

/// A host to check, with the MAC it answered ARP from.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    pub ports: Vec<u16>,
}

const FRAME_LEN: usize = HEADERS + 20;

/// Checks every target's ports with one SYN each (a silent port again while
/// `attempts` remain), paced and bounded by `budget` as connects are: each
/// SYN waits for its packet's turn, at most `per_host` unanswered to one
/// host and `connections` in all, each given its host's timeout. Fails
/// only when the raw socket cannot be opened (no CAP_NET_RAW): then use
/// [`crate::check_ports`].
pub async fn check_ports_half_open(
    budget: Arc<Budget>,
    link: Link,
    targets: Vec<LinkTarget>,
    attempts: u32,
) -> io::Result<(OpenPorts, CheckSummary)> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let source_port = source_port();
        let (tx, rx) = open_channel(&link.interface, &tcp_to_port(source_port))?;
        let probes = probes_across_hosts(&targets);
        let check = Check::new(&link, source_port, &targets, &probes);
        Ok(check.run(probes, &runtime, &budget, tx, rx, attempts.max(1)))
    })
    .await
    .expect("the half-open check does not panic")
}

/// One probe: a (host, port) pair.
struct Probe {
    host: usize,
    port: u16,
    attempt: u32,
    sent_at: Option<Instant>,
    /// When an unanswered SYN counts as silent: its host's timeout, taken
    /// once at sending rather than on every pass of the loop.
    deadline: Option<Instant>,
}

const PENDING: u8 = 0;
const OPEN: u8 = 1;
const CLOSED: u8 = 2;

/// What the sender and the listener share.
struct Check<'a> {
    link: &'a Link,
    source_port: u16,
    targets: &'a [LinkTarget],
    /// What the link said of each probe (PENDING, OPEN, CLOSED).
    answers: Vec<AtomicU8>,
    /// When each was answered, in microseconds after `start`.
    answered_us: Vec<AtomicU32>,
    start: Instant,
    /// (host address, port) → probe index, for the listener.
    index: HashMap<(Ipv4Addr, u16), usize>,
    done: AtomicBool,
}

/// The probes in the order they are sent: across hosts first.
fn probes_across_hosts(targets: &[LinkTarget]) -> Vec<Probe> {
    let port_lists: Vec<&[u16]> = targets.iter().map(|t| t.ports.as_slice()).collect();
    across_hosts(&port_lists)
        .into_iter()
        .map(|(host, port)| Probe {
            host,
            port,
            attempt: 0,
            sent_at: None,
            deadline: None,
        })
        .collect()
}

impl<'a> Check<'a> {
    fn new(
        link: &'a Link,
        source_port: u16,
        targets: &'a [LinkTarget],
        probes: &[Probe],
    ) -> Check<'a> {
        Check {
            link,
            source_port,
            targets,
            answers: probes.iter().map(|_| AtomicU8::new(PENDING)).collect(),
            answered_us: probes.iter().map(|_| AtomicU32::new(0)).collect(),
            start: Instant::now(),
            index: probes
                .iter()
                .enumerate()
                .map(|(i, p)| ((targets[p.host].ip, p.port), i))
                .collect(),
            done: AtomicBool::new(false),
        }
    }

    fn run(
        &self,
        mut probes: Vec<Probe>,
        runtime: &tokio::runtime::Handle,
        budget: &Budget,
        mut tx: Box<dyn pnet_datalink::DataLinkSender>,
        rx: Box<dyn DataLinkReceiver>,
        attempts: u32,
    ) -> (OpenPorts, CheckSummary) {
        let mut summary = CheckSummary {
            pairs: probes.len(),
            half_open: true,
            ..CheckSummary::default()
        };
        std::thread::scope(|scope| {
            let listener = scope.spawn(|| self.listen(rx));
            let limits = *budget.limits();
            let mut queue: VecDeque<usize> = (0..probes.len()).collect();
            let mut in_flight: Vec<usize> = Vec::new();
            let mut per_host = vec![0usize; self.targets.len()];
            let mut frame = [0u8; FRAME_LEN];
            while !(queue.is_empty() && in_flight.is_empty()) {
                // Settle what was answered or has waited long enough.
                let now = Instant::now();
                in_flight.retain(|&i| {
                    let probe = &mut probes[i];
                    let host = self.targets[probe.host].ip;
                    let sent_at = probe.sent_at.expect("sent");
                    if self.answers[i].load(Acquire) != PENDING {
                        let answered = self.start
                            + Duration::from_micros(u64::from(self.answered_us[i].load(Relaxed)));
                        budget
                            .observe_rtt(host.into(), answered.saturating_duration_since(sent_at));
                    } else if now < probe.deadline.expect("sent") {
                        return true;
                    } else if probe.attempt < attempts {
                        queue.push_back(i);
                    }
                    per_host[probe.host] -= 1;
                    false
                });
                let next = queue.front().copied().filter(|&i| {
                    per_host[probes[i].host] < limits.per_host
                        && in_flight.len() < limits.connections
                });
                let Some(i) = next else {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                };
                queue.pop_front();
                runtime.block_on(budget.packet());
                let probe = &mut probes[i];
                let target = &self.targets[probe.host];
                self.syn_frame(&mut frame, target, probe.port, probe.attempt);
                summary.connects += 1;
                match tx.send_to(&frame, None) {
                    Some(Ok(())) => {}
                    Some(Err(e)) => note(&mut summary, format!("cannot send a SYN frame: {e}")),
                    None => note(&mut summary, "cannot send a SYN frame".into()),
                }
                probe.attempt += 1;
                let sent_at = Instant::now();
                probe.sent_at = Some(sent_at);
                probe.deadline = Some(sent_at + budget.connect_timeout(target.ip.into()));
                per_host[probe.host] += 1;
                in_flight.push(i);
            }
            self.done.store(true, Relaxed);
            daicho_arp::close_in_background(tx);
            if let Err(e) = listener.join().expect("the listener does not panic") {
                note(&mut summary, format!("reading the link failed: {e}"));
            }
        });
        let mut open = OpenPorts::default();
        for (i, probe) in probes.iter().enumerate() {
            match self.answers[i].load(Relaxed) {
                OPEN => {
                    summary.open += 1;
                    open.insert(self.targets[probe.host].ip.into(), probe.port);
                }
                CLOSED => summary.closed += 1,
                _ => summary.silent += 1,
            }
        }
        (open, summary)
    }

    /// Ethernet, IPv4 and a TCP SYN to `target`'s `port`.
    fn syn_frame(&self, frame: &mut [u8; FRAME_LEN], target: &LinkTarget, port: u16, attempt: u32) {
        write_headers(
            frame,
            self.link,
            (target.mac, target.ip),
            IpNextHeaderProtocols::Tcp,
            20,
            port ^ (attempt as u16),
        );
        let mut tcp = MutableTcpPacket::new(&mut frame[HEADERS..]).expect("frame fits");
        tcp.set_source(self.source_port);
        tcp.set_destination(port);
        tcp.set_sequence(u32::from(port) << 16 | u32::from(self.source_port));
        tcp.set_data_offset(5);
        tcp.set_flags(TcpFlags::SYN);
        tcp.set_window(1024);
        tcp.set_checksum(pnet_packet::tcp::ipv4_checksum(
            &tcp.to_immutable(),
            &self.link.ip,
            &target.ip,
        ));
    }

    /// Reads SYN-ACKs and RSTs to our source port until the sender is done.
    fn listen(&self, mut rx: Box<dyn DataLinkReceiver>) -> io::Result<()> {
        let mut read = Ok(());
        while !self.done.load(Relaxed) {
            match rx.next() {
                Ok(bytes) => self.answer(bytes),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    read = Err(e);
                    break;
                }
            }
        }
        daicho_arp::close_in_background(rx);
        read
    }

    fn answer(&self, bytes: &[u8]) {
        let Some((from, port, state)) = parse_reply(bytes, self.link.ip, self.source_port) else {
            return;
        };
        let state = if state == PortState::Open {
            OPEN
        } else {
            CLOSED
        };
        let Some(&i) = self.index.get(&(from, port)) else {
            return;
        };
        // The time first, so the sender never reads an answer without it.
        let since_start = self.start.elapsed().as_micros().min(u128::from(u32::MAX));
        let _ = self.answered_us[i].compare_exchange(0, since_start as u32, Relaxed, Relaxed);
        let _ = self.answers[i].compare_exchange(PENDING, state, Release, Relaxed);
    }
}

/// Reads a frame from the link as an answer to a SYN sent from
/// `own`:`source_port`: a SYN-ACK (open) or RST (closed), as (sender, its
/// port, state). Anything else, or a frame too short to hold it, is `None`.
pub fn parse_reply(
    bytes: &[u8],
    own: Ipv4Addr,
    source_port: u16,
) -> Option<(Ipv4Addr, u16, PortState)> {
    let ethernet = EthernetPacket::new(bytes)?;
    if ethernet.get_ethertype() != EtherTypes::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new(ethernet.payload())?;
    let header = usize::from(ip.get_header_length()) * 4;
    if ip.get_next_level_protocol() != IpNextHeaderProtocols::Tcp
        || ip.get_destination() != own
        || header < 20
    {
        return None;
    }
    let tcp = TcpPacket::new(ethernet.payload().get(header..)?)?;
    if tcp.get_destination() != source_port {
        return None;
    }
    let flags = tcp.get_flags();
    let state = if flags & TcpFlags::RST != 0 {
        PortState::Closed
    } else if flags & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN | TcpFlags::ACK {
        PortState::Open
    } else {
        return None;
    };
    Some((ip.get_source(), tcp.get_source(), state))
}

fn note(summary: &mut CheckSummary, text: String) {
    if !summary.errors.contains(&text) {
        summary.errors.push(text);
    }
}

/// Above Linux's ephemeral range (32768–60999), so no connection of the
/// kernel's own shares it; different between runs.
fn source_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    61_000 + (nanos % 4_500) as u16
}

/// `ip and tcp dst port P`, as `tcpdump -dd` compiles it; the port is the
/// last comparison's constant. Only the first 128 bytes of a frame are kept.
fn tcp_to_port(port: u16) -> [libc::sock_filter; 11] {
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    [
        op(0x28, 0, 0, 12),
        op(0x15, 0, 8, 0x0800),
        op(0x30, 0, 0, 23),
        op(0x15, 0, 6, 6),
        op(0x28, 0, 0, 20),
        op(0x45, 4, 0, 0x1fff),
        op(0xb1, 0, 0, 14),
        op(0x48, 0, 0, 16),
        op(0x15, 0, 1, u32::from(port)),
        op(0x06, 0, 0, 128),
        op(0x06, 0, 0, 0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use pnet_packet::MutablePacket;
    use pnet_packet::ethernet::MutableEthernetPacket;
    use pnet_packet::ipv4::MutableIpv4Packet;

    const OWN: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
    const HOST: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 61);

    /// A TCP frame from HOST:`from_port` to OWN:`to_port` with `flags`:
    /// our own SYN builder, turned around.
    fn frame(from_port: u16, to_port: u16, flags: u8) -> Vec<u8> {
        let link = Link {
            interface: "eth0".into(),
            mac: [2, 0, 0, 0, 0, 0x3d],
            ip: HOST,
        };
        let target = LinkTarget {
            ip: OWN,
            mac: [2, 0, 0, 0, 0, 2],
            ports: vec![to_port],
        };
        let check = Check::new(&link, from_port, std::slice::from_ref(&target), &[]);
        let mut bytes = [0u8; FRAME_LEN];
        check.syn_frame(&mut bytes, &target, to_port, 0);
        let mut ethernet = MutableEthernetPacket::new(&mut bytes).unwrap();
        let mut ip = MutableIpv4Packet::new(ethernet.payload_mut()).unwrap();
        let mut tcp = MutableTcpPacket::new(ip.payload_mut()).unwrap();
        tcp.set_flags(flags);
        bytes.to_vec()
    }

    #[test]
    fn syn_ack_is_open_and_rst_is_closed() {
        let syn_ack = frame(8080, 61_234, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(
            parse_reply(&syn_ack, OWN, 61_234),
            Some((HOST, 8080, PortState::Open))
        );
        let rst = frame(22, 61_234, TcpFlags::RST | TcpFlags::ACK);
        assert_eq!(
            parse_reply(&rst, OWN, 61_234),
            Some((HOST, 22, PortState::Closed))
        );
    }

    #[test]
    fn other_frames_are_not_answers() {
        // To another port of ours, to another address, a bare SYN, ARP.
        let syn_ack = frame(80, 61_234, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(parse_reply(&syn_ack, OWN, 61_235), None);
        assert_eq!(parse_reply(&syn_ack, HOST, 61_234), None);
        let syn = frame(80, 61_234, TcpFlags::SYN);
        assert_eq!(parse_reply(&syn, OWN, 61_234), None);
        let mut arp = syn_ack.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(parse_reply(&arp, OWN, 61_234), None);
    }

    #[test]
    fn short_and_odd_frames_never_panic() {
        let syn_ack = frame(80, 61_234, TcpFlags::SYN | TcpFlags::ACK);
        for len in 0..syn_ack.len() {
            assert_eq!(parse_reply(&syn_ack[..len], OWN, 61_234), None, "{len}");
        }
        // An IP header length beyond the frame, and one below the minimum.
        for ihl in [0x4f, 0x41] {
            let mut odd = syn_ack.clone();
            odd[14] = ihl;
            assert_eq!(parse_reply(&odd, OWN, 61_234), None);
        }
    }

    #[test]
    fn the_filter_keeps_only_tcp_to_our_port() {
        let filter = tcp_to_port(61_234);
        assert_eq!(filter[8].k, 61_234);
        assert_eq!(filter.last().unwrap().k, 0);
    }
}
