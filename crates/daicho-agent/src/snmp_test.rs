//! `daicho-agent snmp-test HOST`: try each credential profile against one host
//! and say, per profile, what works and what does not.

use std::net::{IpAddr, SocketAddr};

use daicho_snmp::{Diagnosis, Profile, QueryOptions, SystemGroup, read_system};

/// One profile's result.
pub struct Attempt<'a> {
    pub profile: &'a Profile,
    pub result: Result<SystemGroup, Diagnosis>,
}

/// Tries every profile in order (all of them: the point is to see which work).
pub async fn run<'a>(
    host: IpAddr,
    port: u16,
    profiles: &'a [Profile],
    options: QueryOptions,
) -> Vec<Attempt<'a>> {
    let mut attempts = Vec::new();
    for profile in profiles {
        let result = read_system(SocketAddr::new(host, port), profile, options).await;
        attempts.push(Attempt { profile, result });
    }
    attempts
}

/// One line per profile, then the system group of the first that worked.
pub fn render(host: IpAddr, attempts: &[Attempt<'_>]) -> String {
    let mut out = String::new();
    for attempt in attempts {
        let p = attempt.profile;
        match &attempt.result {
            Ok(_) => out += &format!("{host} profile {:?} ({}): OK\n", p.name, p.security_level()),
            Err(diagnosis) => {
                out += &format!(
                    "{host} profile {:?} ({}): FAILED — {diagnosis}\n",
                    p.name,
                    p.security_level()
                )
            }
        }
    }
    if let Some(system) = attempts.iter().find_map(|a| a.result.as_ref().ok()) {
        for (label, value) in [
            ("sysName", &system.name),
            ("sysDescr", &system.descr),
            ("sysObjectID", &system.object_id),
            ("sysLocation", &system.location),
            ("sysContact", &system.contact),
        ] {
            if let Some(value) = value {
                out += &format!("  {label}: {}\n", value.escape_debug());
            }
        }
    }
    out
}
