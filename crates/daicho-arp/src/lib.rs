//! ARP sweep of one LAN segment.
//!
//! The raw sweep sends paced who-has requests through pnet's AF_PACKET datalink
//! channel and listens the whole time, so replies, other hosts' requests and
//! gratuitous announcements all reveal hosts. It needs CAP_NET_RAW; without it
//! [`sweep_unprivileged`] pokes each address with one UDP datagram and reads the
//! kernel's neighbour table instead.
//!
//! Only the addresses in a [`ResolvedSegment`]'s target list ever get a packet:
//! scope and exclusions are decided before anything here runs.
//!
//! Both sweeps block; callers on tokio run them with `spawn_blocking` and follow
//! [`Progress`] from async code.

pub mod frame;
pub mod neighbours;
pub mod pacer;
mod raw;
mod sightings;
mod socket;
mod unprivileged;

use std::io;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

pub use daicho_scope::ResolvedSegment;
pub use raw::sweep_raw;
pub use sightings::{Analysis, PROXY_ARP_MIN_ADDRESSES, Sighting, Sightings, analyze};
pub use socket::{close_in_background, open_filtered_socket};
pub use unprivileged::sweep_unprivileged;

/// How hard to sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepConfig {
    /// Requests per second, across the whole segment.
    pub rate: u32,
    /// Requests per address at most, like arp-scan's `--retry`: 1 sends once,
    /// 2 asks the silent ones a second time.
    pub attempts: u32,
    /// How long to wait for replies after each round.
    pub timeout: Duration,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            rate: 500,
            attempts: 2,
            timeout: Duration::from_millis(500),
        }
    }
}

/// Counters a progress display can read while the sweep runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests the sweep expects to send in its first round.
    pub planned: AtomicU64,
    pub sent: AtomicU64,
    /// Targets that answered.
    pub answered: AtomicU64,
}

/// What a sweep found and what it cost.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub sightings: Vec<Sighting>,
    pub stats: SweepStats,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepStats {
    pub started: SystemTime,
    pub finished: SystemTime,
    pub packets_sent: u64,
    pub frames_received: u64,
    /// Time spent sending (rounds only, without the waits for replies).
    pub sending: Duration,
    /// Things a person should know about this sweep.
    pub notes: Vec<String>,
}

impl SweepStats {
    /// Requests per second while sending.
    pub fn send_rate(&self) -> Option<f64> {
        let secs = self.sending.as_secs_f64();
        (secs > 0.0 && self.packets_sent > 1).then(|| self.packets_sent as f64 / secs)
    }
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(
        "ARP sweep on {interface}: this process lacks the CAP_NET_RAW capability needed to send raw ARP frames.\n\
         Grant it to the program once:  sudo setcap cap_net_raw+ep {program}\n\
         or run it from systemd with AmbientCapabilities=CAP_NET_RAW,\n\
         or add --unprivileged (slower: one UDP datagram per address, then the kernel's neighbour table).\n\
         {interface} の ARP スキャンには CAP_NET_RAW 権限が必要です。\
         `sudo setcap cap_net_raw+ep {program}` で付与するか、systemd の AmbientCapabilities=CAP_NET_RAW で実行するか、\
         --unprivileged を指定してください"
    )]
    NoPermission { interface: String, program: String },
    #[error(
        "ARP sweep on {interface}: no such interface (anymore?)\n\
         {interface}: インターフェースが見つかりません"
    )]
    NoInterface { interface: String },
    #[error(
        "ARP sweep on {interface}: the interface has no MAC address, so ARP cannot run on it\n\
         {interface}: MAC アドレスのないインターフェースでは ARP を使えません"
    )]
    NoMac { interface: String },
    #[error("ARP sweep on {interface}: {what}: {source}")]
    Io {
        interface: String,
        what: &'static str,
        source: io::Error,
    },
}

impl SweepError {
    fn io(interface: &str, what: &'static str, source: io::Error) -> SweepError {
        if source.kind() == io::ErrorKind::PermissionDenied {
            let program = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "daicho-agent".to_owned());
            SweepError::NoPermission {
                interface: interface.to_owned(),
                program,
            }
        } else {
            SweepError::Io {
                interface: interface.to_owned(),
                what,
                source,
            }
        }
    }
}
