//! The SNMP probe: every host the ARP sweep found in scope (and every
//! explicit SNMP target) is asked with the configured profiles — the one that
//! worked last time first — a bounded number of hosts at a time, each host
//! paced to its rate limit.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use daicho_report::{Observation, ProbeRun, SnmpFacts, SnmpFailure, Source};
use daicho_scope::ScopeError;
use daicho_snmp::{DeviceInfo, Diagnosis, Host, Prober, Profile, QueryOptions, Table};
use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Context, Kind, Probe, Running, Section, SegmentTargets};
use crate::duration::duration_text;

/// `[snmp]`: credential profiles, tried in order per host, and patience.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnmpConfig {
    /// The SNMP step runs in `scan` when profiles exist and this is true.
    pub enabled: bool,
    /// Hosts asked at the same time.
    pub concurrency: usize,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    pub retries: u32,
    /// Requests per second to any one host, at most.
    pub host_rate: f64,
    /// Tables read after the system group.
    pub read: Vec<daicho_snmp::Table>,
    /// Hosts to ask beyond the ARP-found ones (e.g. a core switch in a
    /// routed network): each one explicitly, by address.
    pub targets: Vec<std::net::IpAddr>,
    /// How devices' strings that are not UTF-8 are read (CP932 by default;
    /// a profile's own `charset` wins for its devices).
    pub charset: daicho_report::text::Charset,
    #[serde(rename = "profile")]
    pub profiles: Vec<daicho_snmp::Profile>,
}

impl SnmpConfig {
    pub fn query_options(&self) -> daicho_snmp::QueryOptions {
        daicho_snmp::QueryOptions {
            timeout: self.timeout,
            retries: self.retries,
            host_rate: self.host_rate,
            charset: self.charset,
        }
    }
}

impl Default for SnmpConfig {
    fn default() -> Self {
        let query = daicho_snmp::QueryOptions::default();
        SnmpConfig {
            enabled: true,
            concurrency: 32,
            timeout: query.timeout,
            retries: query.retries,
            host_rate: query.host_rate,
            read: daicho_snmp::Table::ALL.to_vec(),
            targets: Vec::new(),
            charset: query.charset,
            profiles: Vec::new(),
        }
    }
}

impl Section for SnmpConfig {
    fn kind(&self) -> Kind {
        Kind::Snmp
    }

    /// On when profiles exist; explicit targets are checked against the
    /// scope rules here, before any packet.
    fn probe(&self, context: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        if !self.enabled || self.profiles.is_empty() {
            return Ok(None);
        }
        for target in &self.targets {
            daicho_scope::check_explicit_target(*target, context.exclude, context.policy)?;
        }
        Ok(Some(Arc::new(SnmpProbe {
            profiles: self.profiles.clone(),
            options: self.query_options(),
            concurrency: self.concurrency,
            read: self.read.clone(),
            targets: self.targets.clone(),
            memory: Some(context.state_dir.join("snmp-profiles.json")),
        })))
    }
}

/// What the SNMP probe needs.
#[derive(Debug, Clone)]
pub struct SnmpProbe {
    pub profiles: Vec<Profile>,
    pub options: QueryOptions,
    /// Hosts asked at the same time.
    pub concurrency: usize,
    /// Tables read after the system group.
    pub read: Vec<Table>,
    /// Explicit targets beyond the swept segments, already checked against
    /// the scope rules.
    pub targets: Vec<IpAddr>,
    /// Where the profile that worked for each host is kept between scans.
    pub memory: Option<PathBuf>,
}

impl Probe for SnmpProbe {
    fn kind(&self) -> Kind {
        Kind::Snmp
    }

    /// One socket and one concurrency bound for every segment (hosts are
    /// paced one by one), and the explicit targets under the interface name
    /// `routed`.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        let mut targets: Vec<Target> = segments
            .iter()
            .flat_map(|s| {
                s.targets
                    .iter()
                    .map(|ip| (Arc::clone(&s.interface), IpAddr::V4(*ip)))
            })
            .collect();
        let routed: Arc<str> = "routed".into();
        for ip in &self.targets {
            if !targets.iter().any(|(_, found)| found == ip) {
                targets.push((Arc::clone(&routed), *ip));
            }
        }
        targets.sort();
        targets.dedup();
        // Every segment carries the scan's one budget.
        let budget = segments.first().map(|s| Arc::clone(&s.budget));
        Box::pin(async move { interrogate(&self, targets, budget).await })
    }
}

/// A host to ask, with the interface its segment is on (or `routed` for an
/// explicit target beyond the segments).
pub type Target = (Arc<str>, IpAddr);

/// Which profile worked for which host, kept between scans so the next scan
/// asks the right one first (one request instead of a timeout per wrong one).
#[derive(Debug, Default)]
struct ProfileMemory(BTreeMap<IpAddr, String>);

impl ProfileMemory {
    fn load(path: Option<&Path>) -> ProfileMemory {
        let Some(path) = path else {
            return ProfileMemory::default();
        };
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(map) => ProfileMemory(map),
                Err(e) => {
                    tracing::warn!(
                        "ignoring {}: not a profile memory file: {e}",
                        path.display()
                    );
                    ProfileMemory::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ProfileMemory::default(),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                ProfileMemory::default()
            }
        }
    }

    /// The profiles in the order to try them on `ip`.
    fn order(&self, ip: IpAddr, profiles: &[Profile]) -> Vec<Profile> {
        let mut ordered = profiles.to_vec();
        if let Some(name) = self.0.get(&ip) {
            ordered.sort_by_key(|p| p.name != *name);
        }
        ordered
    }

    fn save(&self, path: &Path) {
        let saved = daicho_process::write_atomic(path, |file| {
            serde_json::to_writer_pretty(file, &self.0).map_err(std::io::Error::other)
        });
        if let Err(e) = saved {
            tracing::warn!(
                "cannot keep the SNMP profile per host in {}: {e}; the next scan tries profiles in \
                 file order / 次回のスキャンではプロファイルを設定順に試します",
                path.display()
            );
        }
    }
}

/// Asks every target; returns one observation per host that answered (or that
/// speaks SNMP but refused every profile) and one probe run per interface.
async fn interrogate(
    plan: &SnmpProbe,
    targets: Vec<Target>,
    budget: Option<Arc<daicho_pace::Budget>>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let started_at = Timestamp::now();
    let prober = match Prober::bind(plan.options).await {
        Ok(prober) => Arc::new(match budget {
            Some(budget) => prober.paced_by(budget),
            None => prober,
        }),
        Err(e) => {
            let note = format!("SNMP step skipped: cannot open a UDP socket: {e}");
            tracing::warn!("{note}");
            return (Vec::new(), runs(&targets, &[], started_at, Some(note)));
        }
    };
    let mut memory = ProfileMemory::load(plan.memory.as_deref());
    let limit = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let read: Arc<[Table]> = plan.read.clone().into();
    let mut tasks = JoinSet::new();
    for (interface, ip) in targets.iter().cloned() {
        let profiles = memory.order(ip, &plan.profiles);
        let (limit, prober, read) = (Arc::clone(&limit), Arc::clone(&prober), Arc::clone(&read));
        tasks.spawn(async move {
            let _permit = limit
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let (facts, sent) = match prober.host(ip, 161) {
                Ok(host) => {
                    // A host that refuses UDP 161 has no agent: stop at once
                    // instead of waiting out each profile's timeout.
                    let facts = tokio::select! {
                        facts = ask(&host, &profiles, &read) => facts,
                        () = host.refused() => {
                            tracing::info!("{ip}: UDP 161 refused (no SNMP agent)");
                            None
                        }
                    };
                    (facts, host.packets_sent())
                }
                Err(e) => {
                    tracing::warn!("{ip}: cannot be asked over SNMP: {e}");
                    (None, 0)
                }
            };
            (interface, ip, facts, sent)
        });
    }
    let mut observations = Vec::new();
    let mut sent_by_interface = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (interface, ip, facts, sent) = joined.expect("an SNMP task does not panic");
        sent_by_interface.push((Arc::clone(&interface), sent));
        let Some(facts) = facts else { continue };
        match &facts.profile {
            Some(profile) => {
                memory.0.insert(ip, profile.clone());
            }
            None => {
                memory.0.remove(&ip);
            }
        }
        observations.push(Observation {
            snmp: Some(Box::new(facts)),
            ..Observation::new(Source::Snmp, interface, Some(ip))
        });
    }
    observations.sort_by_key(|o| (o.interface.clone(), o.ip));
    if let Some(path) = &plan.memory {
        memory.save(path);
    }
    let mut runs = runs(&targets, &observations, started_at, None);
    for run in &mut runs {
        run.packets_sent = sent_by_interface
            .iter()
            .filter(|(i, _)| **i == *run.interface)
            .map(|(_, sent)| sent)
            .sum();
    }
    (observations, runs)
}

/// One probe run per interface, saying how many hosts answered.
fn runs(
    targets: &[Target],
    observations: &[Observation],
    started_at: Timestamp,
    problem: Option<String>,
) -> Vec<ProbeRun> {
    let finished_at = Timestamp::now();
    let mut interfaces: Vec<Arc<str>> = targets.iter().map(|(i, _)| Arc::clone(i)).collect();
    interfaces.sort();
    interfaces.dedup();
    interfaces
        .into_iter()
        .map(|interface| {
            let asked = targets.iter().filter(|(i, _)| *i == interface).count();
            let answered = observations
                .iter()
                .filter(|o| {
                    o.interface == interface && o.snmp.as_ref().is_some_and(|s| s.profile.is_some())
                })
                .count();
            let mut notes = vec![format!(
                "{answered} of {asked} hosts answered SNMP with a configured profile"
            )];
            notes.extend(problem.clone());
            ProbeRun {
                probe: Source::Snmp,
                interface: interface.to_string(),
                started_at,
                finished_at,
                packets_sent: 0,
                // The client library matches answers to requests itself and
                // does not count them; the note has the hosts that answered.
                packets_received: 0,
                send_rate: None,
                notes,
            }
        })
        .collect()
}

/// The report's form of what a profile got.
fn facts(profile: &Profile, device: DeviceInfo) -> SnmpFacts {
    let system = device.system;
    let enterprise = system
        .object_id
        .as_deref()
        .and_then(daicho_snmp::enterprise_of);
    SnmpFacts {
        profile: Some(profile.name.clone()),
        security: Some(profile.security_level().to_owned()),
        sys_descr: system.descr,
        sys_object_id: system.object_id,
        enterprise: enterprise.map(|e| e.0),
        enterprise_name: enterprise.map(|e| e.1.to_owned()),
        sys_name: system.name,
        sys_location: system.location,
        sys_contact: system.contact,
        sys_uptime_ticks: system.uptime_ticks,
        sys_services: system.services,
        interfaces: device.interfaces,
        addresses: device.addresses,
        ip_forwarding: device.ip_forwarding,
        engine_id: device.engine_id,
        neighbours: device.neighbours,
        routes: device.routes,
        entities: device.entities,
        software: device.software,
        devices: device.devices,
        lldp: device.lldp,
        cdp: device.cdp,
        fdb: device.fdb,
        printer: device.printer,
        ups: device.ups,
        notes: device.notes,
        failures: Vec::new(),
        raw_text: device.raw_text,
    }
}

/// Tries the profiles in order until one works. A host that only ever stays
/// silent gives nothing; one that answers but refuses every profile gives the
/// diagnoses, and the engine ID its v3 discovery answer carried. With `-v`,
/// each host's outcome is logged for the person fixing credentials.
async fn ask(host: &Host, profiles: &[Profile], read: &[Table]) -> Option<SnmpFacts> {
    let ip = host.target.ip();
    let mut failures = Vec::new();
    for profile in profiles {
        match daicho_snmp::interrogate(host, profile, read).await {
            Ok(device) => {
                tracing::info!(
                    "{ip}: SNMP profile {:?} worked ({} interfaces, {} addresses, {} notes)",
                    profile.name,
                    device.interfaces.len(),
                    device.addresses.len(),
                    device.notes.len()
                );
                for note in &device.notes {
                    tracing::info!("{ip}: {note}");
                }
                return Some(facts(profile, device));
            }
            Err(diagnosis) => {
                tracing::info!("{ip}: SNMP profile {:?} failed: {diagnosis}", profile.name);
                failures.push((profile.name.clone(), diagnosis));
            }
        }
    }
    let silent = |d: &Diagnosis| matches!(d, Diagnosis::TimeoutCommunity | Diagnosis::TimeoutV3);
    if failures.iter().all(|(_, d)| silent(d)) {
        return None;
    }
    Some(SnmpFacts {
        engine_id: host.discovered_engine_id(),
        failures: failures
            .into_iter()
            .map(|(profile, diagnosis)| SnmpFailure {
                profile,
                diagnosis: diagnosis.to_string(),
            })
            .collect(),
        ..SnmpFacts::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> Profile {
        let text = format!("name = \"{name}\"\nversion = \"2c\"\ncommunity = \"x\"\n");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn the_profile_that_worked_last_time_goes_first() {
        let profiles = [profile("a"), profile("b"), profile("c")];
        let ip: IpAddr = "198.18.1.5".parse().unwrap();
        let mut memory = ProfileMemory::default();
        let names = |m: &ProfileMemory, ip| -> Vec<String> {
            m.order(ip, &profiles).into_iter().map(|p| p.name).collect()
        };
        assert_eq!(names(&memory, ip), ["a", "b", "c"]);
        memory.0.insert(ip, "c".into());
        assert_eq!(names(&memory, ip), ["c", "a", "b"]);
        // A profile since removed from the config changes nothing.
        memory.0.insert(ip, "gone".into());
        assert_eq!(names(&memory, ip), ["a", "b", "c"]);

        let dir = std::env::temp_dir().join(format!("daicho-memory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snmp-profiles.json");
        memory.0.insert(ip, "b".into());
        memory.save(&path);
        assert_eq!(
            names(&ProfileMemory::load(Some(path.as_path())), ip),
            ["b", "a", "c"]
        );
        std::fs::write(&path, "not json").unwrap();
        assert!(ProfileMemory::load(Some(path.as_path())).0.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
