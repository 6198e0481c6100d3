//! `daicho-agent snmp-test HOST`: try each credential profile against one host
//! and say, per profile, what works and what does not.

use std::net::IpAddr;

use daicho_snmp::{DeviceInfo, Diagnosis, Prober, Profile, QueryOptions, Table, interrogate};

/// One profile's result.
pub struct Attempt<'a> {
    pub profile: &'a Profile,
    pub result: Result<DeviceInfo, Diagnosis>,
}

/// What `snmp-test` found out about one host.
pub struct Outcome<'a> {
    pub attempts: Vec<Attempt<'a>>,
    /// The snmpEngineID from the v3 discovery exchange, if a v3 profile was
    /// tried: known even when the credentials are wrong.
    pub engine_id: Option<String>,
}

/// Tries every profile in order (all of them: the point is to see which work).
pub async fn run<'a>(
    ip: IpAddr,
    port: u16,
    profiles: &'a [Profile],
    options: QueryOptions,
    read: &[Table],
) -> anyhow::Result<Outcome<'a>> {
    let prober = Prober::bind(options).await?;
    let host = prober.host(ip, port).map_err(anyhow::Error::msg)?;
    let mut attempts = Vec::new();
    for profile in profiles {
        let result = interrogate(&host, profile, read).await;
        attempts.push(Attempt { profile, result });
    }
    Ok(Outcome {
        attempts,
        engine_id: host.discovered_engine_id(),
    })
}

/// One line per profile, then the system group of the first that worked.
pub fn render(host: IpAddr, outcome: &Outcome<'_>) -> String {
    let attempts = &outcome.attempts;
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
    if let Some(engine_id) = &outcome.engine_id {
        out += &format!("  snmpEngineID (v3 discovery): {engine_id}\n");
    }
    if let Some(device) = attempts.iter().find_map(|a| a.result.as_ref().ok()) {
        let system = &device.system;
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
        for address in &device.addresses {
            let prefix = address
                .prefix_len
                .map(|p| format!("/{p}"))
                .unwrap_or_default();
            let interface = address
                .if_index
                .and_then(|i| device.interfaces.iter().find(|f| f.index == i))
                .and_then(|f| f.name.clone().or(f.descr.clone()))
                .unwrap_or_default();
            out += &format!(
                "  address: {}{prefix} {}\n",
                address.ip,
                interface.escape_debug()
            );
        }
        for note in &device.notes {
            out += &format!("  note: {note}\n");
        }
    }
    out
}
