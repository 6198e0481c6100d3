//! The probe seam: every probe beside or after the ARP sweep is one file
//! here, holding its `agent.toml` section and an implementation of
//! [`Probe`]. The scan (`crate::scan`) only sees the trait: it hands each
//! probe its segments — the whole target list while the sweep runs, the
//! hosts the sweep found in scope after it — and collects observations and
//! probe runs.
//!
//! # Adding a probe
//! 1. Write `probe/NAME.rs`: a config section `NameConfig` (serde, every
//!    field with a default, `deny_unknown_fields`), a struct with what the
//!    probe needs, `impl Probe` for it (usually over [`each_segment`]), and
//!    `impl Section for NameConfig`, which returns the probe when the
//!    section turns it on.
//! 2. Name it: a variant of [`Kind`] (the name of `skip = [...]` and
//!    `--skip-probe`), and `pub mod NAME;` below.
//! 3. Give the section its place in `agent.toml`: a field of
//!    `AgentConfig` and its entry in `AgentConfig::probe_sections`
//!    (`crate::config`).
//!
//! Scope, exclusions, skip lists and the order of the phases are the scan's
//! business, not the probe's: a probe asks only the addresses it is given.
//! So is the pace: every probe after the sweep draws its packets and TCP
//! connections from the segment's shared [`Budget`], and a probe that
//! names its TCP ports ([`Probe::tcp_ports`]) is given only the hosts where
//! the scan's port check found one of them open.

pub mod dhcp;
pub mod dicom;
pub mod http;
pub mod mdns;
pub mod netbios;
pub mod snmp;
pub mod ssdp;
pub mod ssh;

use std::future::Future;
use std::net::Ipv4Addr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use daicho_pace::{Budget, LinkSender, OpenPorts};
use daicho_report::{Observation, ProbeRun};
use daicho_scope::{Policy, ScopeError};
use ipnet::{IpNet, Ipv4Net};
use serde::Deserialize;

/// The probes by the names the config and the command line use
/// (`skip = ["netbios"]`, `--skip-probe netbios`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// SNMP interrogation of the hosts found.
    Snmp,
    /// NetBIOS node status (computer name, workgroup).
    Netbios,
    /// mDNS/DNS-SD browse (host names, services, models in TXT records).
    Mdns,
    /// HTTP/TLS banners (title, Server, realm, certificate).
    Http,
    /// SSH host key and banner.
    Ssh,
    /// SSDP/UPnP discovery, device descriptions, a gateway's uplink.
    Ssdp,
    /// One DHCPDISCOVER per segment, and listening for DHCP replies and
    /// IPv6 router advertisements (both opt-in).
    Dhcp,
    /// One DICOM C-ECHO per configured port (opt-in).
    Dicom,
}

impl Kind {
    /// Reads a probe name from a segment's `skip` list.
    pub fn from_name(name: &str) -> Result<Kind, String> {
        <Kind as clap::ValueEnum>::from_str(name, true).map_err(|_| {
            let known: Vec<String> = <Kind as clap::ValueEnum>::value_variants()
                .iter()
                .filter_map(|p| Some(clap::ValueEnum::to_possible_value(p)?.get_name().to_owned()))
                .collect();
            format!(
                "unknown probe {name:?} in a segment's skip list (known: {}) \
                 / skip に不明なプローブ名があります",
                known.join(", ")
            )
        })
    }
}

/// When a probe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// While the ARP sweep runs (listening, multicast): its segments carry
    /// their whole target list.
    WithSweep,
    /// After the sweep, asking the hosts it found in scope one by one.
    AfterSweep,
}

/// One segment as a probe sees it.
#[derive(Debug, Clone)]
pub struct SegmentTargets {
    pub interface: Arc<str>,
    /// The agent's address on the segment: the probes' source.
    pub source: Ipv4Addr,
    /// The segment's networks.
    pub networks: Vec<Ipv4Net>,
    /// The addresses the probe may ask, ascending (see [`Phase`]).
    pub targets: Arc<[Ipv4Addr]>,
    /// The scan's pace and connection bounds, shared by every probe.
    pub budget: Arc<Budget>,
    /// The TCP ports the port check found open on this segment (empty
    /// before it has run, and for probes that name no port).
    pub open: Arc<OpenPorts>,
    /// Frames straight to the MACs the sweep found, for probes that send
    /// datagrams to many hosts (none when the agent is unprivileged).
    pub link: Option<Arc<LinkSender>>,
}

impl SegmentTargets {
    /// Those of `ports` the port check found open on `ip`, in their order.
    pub fn open_of(&self, ip: Ipv4Addr, ports: &[u16]) -> Vec<u16> {
        ports
            .iter()
            .copied()
            .filter(|port| self.open.is_open(ip.into(), *port))
            .collect()
    }
}

/// What a probe found: observations, and one run (or more) per segment.
pub type Outcome = (Vec<Observation>, Vec<ProbeRun>);

/// A probe's work, to be spawned.
pub type Running = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// What every probe implements.
pub trait Probe: std::fmt::Debug + Send + Sync {
    fn kind(&self) -> Kind;

    fn phase(&self) -> Phase {
        Phase::AfterSweep
    }

    /// Addresses this probe never asks, on top of the scope's exclusions
    /// (fragile web servers for HTTP).
    fn spared(&self) -> &[IpNet] {
        &[]
    }

    /// The TCP ports this probe speaks to. When it names some, the scan
    /// checks them first and gives the probe only the hosts where one is
    /// open, with [`SegmentTargets::open`] saying which.
    fn tcp_ports(&self) -> Vec<u16> {
        Vec::new()
    }

    /// Runs over `segments` (those that do not skip it), bounded in time.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running;
}

/// What a section needs to decide on its probe.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Excluded on every segment: explicit targets must not be among them.
    pub exclude: &'a [IpNet],
    pub policy: &'a Policy,
    /// Where a probe keeps what it learns between scans.
    pub state_dir: &'a Path,
}

/// An `agent.toml` section that configures a probe.
pub trait Section {
    /// The probe it configures.
    fn kind(&self) -> Kind;

    /// The probe, when the section turns it on; an error when it names a
    /// target the scope forbids.
    fn probe(&self, context: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError>;
}

/// Runs `probe` on every segment at once, one task each, and gathers what
/// they found, ordered by interface and address.
pub async fn each_segment<F, Fut>(segments: Vec<SegmentTargets>, mut probe: F) -> Outcome
where
    F: FnMut(SegmentTargets) -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for segment in segments {
        tasks.spawn(probe(segment));
    }
    let (mut observations, mut runs) = (Vec::new(), Vec::new());
    while let Some(joined) = tasks.join_next().await {
        let (found, ran) = joined.expect("a probe's segment task does not panic");
        observations.extend(found);
        runs.extend(ran);
    }
    observations.sort_by(|a, b| (&a.interface, a.ip).cmp(&(&b.interface, b.ip)));
    runs.sort_by(|a, b| a.interface.cmp(&b.interface));
    (observations, runs)
}
