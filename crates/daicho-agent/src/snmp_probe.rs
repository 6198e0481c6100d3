//! The SNMP step of a scan: every host the ARP sweep found in scope is asked
//! for its system group with the configured profiles, in order, a bounded
//! number of hosts at a time (one request at a time per host).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use daicho_report::{Observation, ProbeRun, SnmpFacts, SnmpFailure, Source};
use daicho_snmp::{DeviceInfo, Diagnosis, Profile, QueryOptions};
use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// What the SNMP step needs.
#[derive(Debug, Clone)]
pub struct SnmpPlan {
    pub profiles: Vec<Profile>,
    pub options: QueryOptions,
    /// Hosts asked at the same time.
    pub concurrency: usize,
}

/// A host to ask, with the interface its segment is on.
pub type Target = (Arc<str>, IpAddr);

/// Asks every target; returns one observation per host that answered (or that
/// speaks SNMP but refused every profile) and one probe run per interface.
pub async fn interrogate(
    plan: &SnmpPlan,
    targets: Vec<Target>,
) -> (Vec<Observation>, Vec<ProbeRun>) {
    let started_at = Timestamp::now();
    let limit = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let profiles: Arc<[Profile]> = plan.profiles.clone().into();
    let mut tasks = JoinSet::new();
    for (interface, ip) in targets.iter().cloned() {
        let (limit, profiles, options) = (Arc::clone(&limit), Arc::clone(&profiles), plan.options);
        tasks.spawn(async move {
            let _permit = limit
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let facts = ask(ip, &profiles, options).await;
            (interface, ip, facts)
        });
    }
    let mut observations = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (interface, ip, facts) = joined.expect("an SNMP task does not panic");
        if let Some(facts) = facts {
            observations.push(Observation {
                source: Source::Snmp,
                interface,
                at: Timestamp::now(),
                ip: Some(ip),
                mac: None,
                vendor: None,
                flags: Vec::new(),
                arp: None,
                snmp: Some(Box::new(facts)),
            });
        }
    }
    observations.sort_by_key(|o| (o.interface.clone(), o.ip));

    let finished_at = Timestamp::now();
    let mut interfaces: Vec<Arc<str>> = targets.iter().map(|(i, _)| Arc::clone(i)).collect();
    interfaces.sort();
    interfaces.dedup();
    let runs = interfaces
        .into_iter()
        .map(|interface| {
            let asked = targets.iter().filter(|(i, _)| *i == interface).count();
            let answered = observations
                .iter()
                .filter(|o| {
                    o.interface == interface && o.snmp.as_ref().is_some_and(|s| s.profile.is_some())
                })
                .count();
            ProbeRun {
                probe: Source::Snmp,
                interface: interface.to_string(),
                started_at,
                finished_at,
                // The client library does not count packets; the note has the hosts.
                packets_sent: 0,
                packets_received: 0,
                send_rate: None,
                notes: vec![format!(
                    "{answered} of {asked} hosts answered SNMP with a configured profile"
                )],
            }
        })
        .collect();
    (observations, runs)
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
        interfaces: device.interfaces,
        addresses: device.addresses,
        ip_forwarding: device.ip_forwarding,
        engine_id: device.engine_id,
        neighbours: device.neighbours,
        routes: device.routes,
        entities: device.entities,
        notes: device.notes,
        failures: Vec::new(),
    }
}

/// Tries the profiles in order until one works. A host that only ever stays
/// silent gives nothing; one that answers but refuses every profile gives the
/// diagnoses.
async fn ask(ip: IpAddr, profiles: &[Profile], options: QueryOptions) -> Option<SnmpFacts> {
    let mut failures = Vec::new();
    for profile in profiles {
        match daicho_snmp::interrogate(SocketAddr::new(ip, 161), profile, options).await {
            Ok(device) => return Some(facts(profile, device)),
            Err(diagnosis) => failures.push((profile.name.clone(), diagnosis)),
        }
    }
    let silent = |d: &Diagnosis| matches!(d, Diagnosis::TimeoutCommunity | Diagnosis::TimeoutV3);
    if failures.iter().all(|(_, d)| silent(d)) {
        return None;
    }
    Some(SnmpFacts {
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
