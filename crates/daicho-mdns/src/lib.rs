//! mDNS / DNS-SD discovery for the daicho agent, pinned to one interface:
//! which service types the link offers (`_services._dns-sd._udp.local.`),
//! their instances, each instance's host name, port, TXT record (`ty`,
//! `product`, `usb_MFG`, `md`, ... — printers and scanners name their model
//! there) and **every** address its host announces. An address outside the
//! scanned networks is a leg in another network.
//!
//! Client library: `mdns-sd` (pinned; pure Rust, its own thread, flume
//! channels with async receive), which interoperates with Avahi. It does the
//! packet parsing; this crate bounds the time and the amounts, cleans the
//! device's strings, and folds instances into hosts ([`hosts`], pure).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};

/// The meta-query that lists the service types on a link (RFC 6763 §9).
const META_QUERY: &str = "_services._dns-sd._udp.local.";
/// Bounds on what one hostile link can make us hold.
const MAX_TYPES: usize = 256;
const MAX_INSTANCES: usize = 2048;
const MAX_TXT_ENTRIES: usize = 64;

/// How to listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowseConfig {
    /// How long to listen, queries included.
    pub window: Duration,
    /// Only listen: send no query, keep what hosts announce by themselves.
    pub passive: bool,
}

impl Default for BrowseConfig {
    fn default() -> Self {
        BrowseConfig {
            window: Duration::from_secs(3),
            passive: false,
        }
    }
}

/// One resolved service instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// e.g. `_ipp._tcp.local.`
    pub service_type: String,
    /// e.g. `RICOH IM C3000 [3F]._ipp._tcp.local.`
    pub fullname: String,
    /// e.g. `printer-3f.local.`
    pub host: String,
    pub port: u16,
    pub txt: Vec<(String, String)>,
    pub addresses: BTreeSet<IpAddr>,
}

/// What one browse heard.
#[derive(Debug, Default)]
pub struct Outcome {
    pub service_types: BTreeSet<String>,
    pub instances: Vec<Instance>,
    pub notes: Vec<String>,
}

/// A host as its instances describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub host: String,
    /// Every address any of its instances carried.
    pub addresses: BTreeSet<IpAddr>,
    pub instances: Vec<Instance>,
}

/// Folds instances into hosts by host name (case-insensitive, as DNS is).
pub fn hosts(instances: &[Instance]) -> Vec<HostRecord> {
    let mut by_host: BTreeMap<String, HostRecord> = BTreeMap::new();
    for instance in instances {
        let record = by_host
            .entry(instance.host.to_lowercase())
            .or_insert_with(|| HostRecord {
                host: instance.host.clone(),
                addresses: BTreeSet::new(),
                instances: Vec::new(),
            });
        record.addresses.extend(&instance.addresses);
        record.instances.push(instance.clone());
    }
    by_host.into_values().collect()
}

/// Device text is untrusted: one cleaner and cap for all of it.
fn clean(text: &str) -> String {
    daicho_report::text::clean_text(text, daicho_report::text::MAX_NAME)
}

/// Browses on `interface` for `config.window`.
pub async fn browse(interface: &str, config: &BrowseConfig) -> Result<Outcome, String> {
    let daemon = ServiceDaemon::new().map_err(|e| format!("mDNS: cannot start: {e}"))?;
    let outcome = browse_with(&daemon, interface, config).await;
    // The daemon's thread ends with it; a failed shutdown only leaks that.
    let _ = daemon.shutdown();
    outcome
}

async fn browse_with(
    daemon: &ServiceDaemon,
    interface: &str,
    config: &BrowseConfig,
) -> Result<Outcome, String> {
    let fail = |e: mdns_sd::Error| format!("mDNS on {interface}: {e}");
    daemon.disable_interface(IfKind::All).map_err(fail)?;
    daemon
        .disable_interface(vec![IfKind::LoopbackV4, IfKind::LoopbackV6])
        .map_err(fail)?;
    daemon
        .enable_interface(IfKind::Name(interface.to_owned()))
        .map_err(fail)?;
    let deadline = tokio::time::Instant::now() + config.window;
    let mut outcome = Outcome::default();
    if config.passive {
        daemon.accept_unsolicited(true).map_err(fail)?;
        tokio::time::sleep_until(deadline).await;
    }
    let browse = |service_type: &str| {
        if config.passive {
            daemon.browse_cache(service_type)
        } else {
            daemon.browse(service_type)
        }
    };
    // Events of every browse arrive on one channel, so one loop waits for all.
    let (events, mut merged) = tokio::sync::mpsc::unbounded_channel();
    let forward = |receiver: mdns_sd::Receiver<ServiceEvent>| {
        let events = events.clone();
        tokio::spawn(async move {
            while let Ok(event) = receiver.recv_async().await {
                if events.send(event).is_err() {
                    break;
                }
            }
        });
    };
    forward(browse(META_QUERY).map_err(fail)?);
    // Passive mode reads the cache, which answers at once.
    let end = if config.passive {
        tokio::time::Instant::now() + Duration::from_millis(300)
    } else {
        deadline
    };
    let mut resolved: BTreeMap<String, Instance> = BTreeMap::new();
    loop {
        let event = tokio::select! {
            () = tokio::time::sleep_until(end) => break,
            event = merged.recv() => match event {
                Some(event) => event,
                None => break,
            },
        };
        match event {
            ServiceEvent::ServiceFound(ty, name) if ty == META_QUERY => {
                let service_type = clean(&name);
                if outcome.service_types.len() >= MAX_TYPES {
                    continue;
                }
                if outcome.service_types.insert(service_type.clone()) {
                    match browse(&service_type) {
                        Ok(receiver) => forward(receiver),
                        Err(e) => outcome.notes.push(format!("{service_type}: {e}")),
                    }
                }
            }
            ServiceEvent::ServiceResolved(service) => {
                if resolved.len() >= MAX_INSTANCES && !resolved.contains_key(&service.fullname) {
                    continue;
                }
                let instance = Instance {
                    service_type: clean(&service.ty_domain),
                    fullname: clean(&service.fullname),
                    host: clean(&service.host),
                    port: service.port,
                    txt: service
                        .txt_properties
                        .iter()
                        .take(MAX_TXT_ENTRIES)
                        .map(|p| (clean(p.key()), clean(p.val_str())))
                        .collect(),
                    addresses: service.addresses.iter().map(|a| a.to_ip_addr()).collect(),
                };
                // A later answer may carry more addresses: keep them all.
                resolved
                    .entry(instance.fullname.clone())
                    .and_modify(|known| known.addresses.extend(&instance.addresses))
                    .or_insert(instance);
            }
            _ => {}
        }
    }
    if resolved.len() >= MAX_INSTANCES {
        outcome.notes.push(format!(
            "mDNS: stopped at {MAX_INSTANCES} service instances"
        ));
    }
    outcome.instances = resolved.into_values().collect();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(host: &str, ty: &str, addresses: &[&str]) -> Instance {
        Instance {
            service_type: ty.into(),
            fullname: format!("x.{ty}"),
            host: host.into(),
            port: 80,
            txt: Vec::new(),
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn instances_fold_into_hosts_with_every_address() {
        let found = [
            instance("PC-7.local.", "_workstation._tcp.local.", &["198.18.1.40"]),
            instance(
                "pc-7.local.",
                "_ssh._tcp.local.",
                &["198.18.2.40", "198.18.1.40"],
            ),
            instance("printer.local.", "_ipp._tcp.local.", &["198.18.1.20"]),
        ];
        let hosts = hosts(&found);
        assert_eq!(hosts.len(), 2);
        let pc = &hosts[0];
        assert_eq!(pc.host, "PC-7.local.");
        assert_eq!(pc.instances.len(), 2);
        let addresses: Vec<String> = pc.addresses.iter().map(ToString::to_string).collect();
        assert_eq!(addresses, ["198.18.1.40", "198.18.2.40"]);
    }

    #[test]
    fn device_text_is_cleaned() {
        assert_eq!(
            clean("<script>\u{1b}[2J=HYPERLINK(\"x\")"),
            "<script>[2J=HYPERLINK(\"x\")"
        );
        assert_eq!(
            clean(&"a".repeat(1000)).len(),
            daicho_report::text::MAX_NAME
        );
    }
}
