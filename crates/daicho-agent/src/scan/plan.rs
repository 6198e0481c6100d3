//! The plan of a scan: everything it will do, decided before the first
//! packet, from the configuration and the command line's overrides.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use daicho_arp::{ResolvedSegment, SweepConfig};
use daicho_report::MacAddr;
use daicho_scope::{InterfaceFacts, Policy, ScopeError, SegmentScope};
use ipnet::{IpNet, Ipv4Net};

use crate::config::AgentConfig;
use crate::probe::{Context, Kind, Probe};

/// A local interface: what scope checks need, plus its MAC for the report.
#[derive(Debug, Clone)]
pub struct LocalInterface {
    pub facts: InterfaceFacts,
    pub mac: Option<MacAddr>,
}

/// The host's interfaces as the kernel reports them.
pub fn local_interfaces() -> Vec<LocalInterface> {
    pnet_datalink::interfaces()
        .into_iter()
        .map(|i| LocalInterface {
            facts: InterfaceFacts {
                addresses: i
                    .ips
                    .iter()
                    .filter_map(|net| match net.ip() {
                        std::net::IpAddr::V4(ip) => Ipv4Net::new(ip, net.prefix()).ok(),
                        std::net::IpAddr::V6(_) => None,
                    })
                    .collect(),
                is_up: i.is_up(),
                name: i.name,
            },
            mac: i.mac.map(|m| MacAddr(m.octets())),
        })
        .collect()
}

/// Everything a scan will do, decided before the first packet.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub agent_id: String,
    pub segments: Vec<PlannedSegment>,
    pub sweep: SweepConfig,
    pub unprivileged: bool,
    /// What the probes after the sweep may ask, together.
    pub limits: daicho_pace::Limits,
    /// Connects per TCP port at most (a silent port is asked again).
    pub connect_attempts: u32,
    /// The probes that are on, in the order their observations are listed.
    pub probes: Vec<Arc<dyn Probe>>,
    /// ARP-flux sweeps: other networks' addresses asked on a segment.
    pub flux: Vec<ResolvedSegment>,
    /// Tables detection reads (built-in plus the site's own).
    pub fingerprints: daicho_detect::Fingerprints,
}

/// What the command line says on top of the configuration file; `None`
/// and empty lists leave the file's choice.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `IFACE=CIDR[,CIDR...]`: replace the file's segments.
    pub segments: Vec<String>,
    /// More exclusions, on every segment.
    pub excludes: Vec<String>,
    pub allow_public: bool,
    pub rate: Option<u32>,
    /// Packets per second after the sweep, all probes together.
    pub probe_rate: Option<u32>,
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub unprivileged: bool,
    pub agent_id: Option<String>,
    /// Probes not run at all.
    pub skip: Vec<Kind>,
    pub state_dir: Option<PathBuf>,
}

/// A segment that passed the scope rules.
#[derive(Debug, Clone)]
pub struct PlannedSegment {
    pub resolved: ResolvedSegment,
    pub mac: Option<MacAddr>,
    /// Probes not run on this segment.
    pub skip: Vec<Kind>,
}

impl ScanPlan {
    /// The whole plan: segments resolved against `interfaces` under the
    /// scope rules, the sweep's pace, ARP-flux networks, fingerprints, and
    /// the probes the sections turn on. Refuses what the scope forbids.
    pub fn from_config(
        config: &AgentConfig,
        overrides: &Overrides,
        interfaces: &[LocalInterface],
    ) -> anyhow::Result<ScanPlan> {
        let segments = if overrides.segments.is_empty() {
            config.segments.clone()
        } else {
            overrides
                .segments
                .iter()
                .map(|s| daicho_scope::parse_segment_arg(s))
                .collect::<Result<_, _>>()?
        };
        let mut exclude = config.exclude.clone();
        for text in &overrides.excludes {
            exclude.push(daicho_scope::parse_exclude(text)?);
        }
        let policy = Policy {
            allow_public: overrides.allow_public || config.allow_public,
            max_addresses: config.max_addresses,
        };
        let sweep = SweepConfig {
            rate: overrides.rate.unwrap_or(config.arp.rate),
            attempts: overrides.retries.unwrap_or(config.arp.retries),
            timeout: overrides.timeout.unwrap_or(config.arp.timeout),
        };
        let agent_id = overrides
            .agent_id
            .clone()
            .or(config.agent_id.clone())
            .unwrap_or_else(super::assemble::hostname);
        let mut plan = ScanPlan::resolve(
            agent_id,
            &segments,
            &exclude,
            &policy,
            interfaces,
            sweep,
            overrides.unprivileged || config.arp.unprivileged,
        )?;
        if !config.arp.flux_networks.is_empty() && !plan.unprivileged {
            plan.flux = plan
                .segments
                .iter()
                .map(|s| s.resolved.flux(&config.arp.flux_networks, &policy))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|f| !f.targets.is_empty())
                .collect();
        }
        if let Some(path) = &config.fingerprints {
            plan.fingerprints = daicho_detect::Fingerprints::with_file(path)?;
        }
        let state_dir = config.state_dir(overrides.state_dir.as_deref());
        let context = Context {
            exclude: &exclude,
            policy: &policy,
            state_dir: &state_dir,
        };
        plan.probes = config.probes(&overrides.skip, &context)?;
        plan.limits = config.scan.limits(overrides.probe_rate);
        plan.connect_attempts = config.scan.connect_attempts;
        Ok(plan)
    }

    /// Resolves each segment against the local interfaces. `global_exclude`
    /// applies to every segment. The first refused segment stops the plan:
    /// a half-scanned site would look complete in the ledger.
    pub fn resolve(
        agent_id: String,
        segments: &[SegmentScope],
        global_exclude: &[IpNet],
        policy: &Policy,
        interfaces: &[LocalInterface],
        sweep: SweepConfig,
        unprivileged: bool,
    ) -> Result<ScanPlan, ScopeError> {
        if segments.is_empty() {
            return Err(ScopeError::NothingToScan);
        }
        let facts: Vec<InterfaceFacts> = interfaces.iter().map(|i| i.facts.clone()).collect();
        let segments = segments
            .iter()
            .map(|segment| {
                let mut segment = segment.clone();
                segment.exclude.extend_from_slice(global_exclude);
                let resolved = segment.resolve(&facts, policy)?;
                let mac = interfaces
                    .iter()
                    .find(|i| i.facts.name == segment.interface)
                    .and_then(|i| i.mac);
                // Names were checked when the configuration was read.
                let skip = segment
                    .skip
                    .iter()
                    .filter_map(|name| Kind::from_name(name).ok())
                    .collect();
                Ok(PlannedSegment {
                    resolved,
                    mac,
                    skip,
                })
            })
            .collect::<Result<_, ScopeError>>()?;
        Ok(ScanPlan {
            agent_id,
            segments,
            sweep,
            unprivileged,
            limits: daicho_pace::Limits::default(),
            connect_attempts: 2,
            probes: Vec::new(),
            flux: Vec::new(),
            fingerprints: daicho_detect::Fingerprints::builtin(),
        })
    }

    /// Addresses the scan will probe, over all segments.
    pub fn target_count(&self) -> usize {
        self.segments.iter().map(|s| s.resolved.targets.len()).sum()
    }
}
