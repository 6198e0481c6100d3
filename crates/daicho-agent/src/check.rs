//! `daicho-agent check`: everything a scan would refuse, found before the
//! night it runs — without sending a single packet. Each segment against
//! the host's interfaces and the scope rules (up, directly connected, not
//! public, not oversized), the exclusions, the ARP-flux networks, the SNMP
//! targets, the fingerprint file, the upload settings (URL, token, CA
//! file) and whether raw ARP can be sent. The configuration file itself
//! was read (and its secret references resolved) before this runs.

use daicho_scope::Policy;

use crate::config::AgentConfig;
use crate::scan::LocalInterface;

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub ok: bool,
    /// What was checked, e.g. `segment eth0`.
    pub subject: String,
    /// What was found, or what is wrong and what to do.
    pub detail: String,
}

impl Checked {
    fn ok(subject: impl Into<String>, detail: impl Into<String>) -> Checked {
        Checked {
            ok: true,
            subject: subject.into(),
            detail: detail.into(),
        }
    }

    fn problem(subject: impl Into<String>, detail: impl std::fmt::Display) -> Checked {
        Checked {
            ok: false,
            subject: subject.into(),
            detail: detail.to_string(),
        }
    }
}

/// Checks `config` against this host's `interfaces`. `raw_arp` says
/// whether the scanning process may send raw ARP (CAP_NET_RAW); None when
/// that process is not this one (`status`, run by a person).
pub fn check(
    config: &AgentConfig,
    interfaces: &[LocalInterface],
    raw_arp: Option<bool>,
) -> Vec<Checked> {
    let mut checked = Vec::new();
    let policy = Policy {
        allow_public: config.allow_public,
        max_addresses: config.max_addresses,
    };
    let facts: Vec<_> = interfaces.iter().map(|i| i.facts.clone()).collect();
    if config.segments.is_empty() {
        checked.push(Checked::problem(
            "segments",
            "no [[segment]] is configured: a scan would need --segment on the command line \
             / [[segment]] が設定されていません",
        ));
    }
    for segment in &config.segments {
        let subject = format!("segment {}", segment.interface);
        let mut segment = segment.clone();
        segment.exclude.extend_from_slice(&config.exclude);
        match segment.resolve(&facts, &policy) {
            Ok(resolved) => {
                let networks: Vec<String> =
                    resolved.networks.iter().map(ToString::to_string).collect();
                checked.push(Checked::ok(
                    &subject,
                    format!(
                        "{}: {} addresses to ask from {}, {} excluded range(s) / 対象 {} アドレス",
                        networks.join(", "),
                        resolved.targets.len(),
                        resolved.own_address,
                        resolved.exclude.len(),
                        resolved.targets.len()
                    ),
                ));
                if !config.arp.flux_networks.is_empty() {
                    match resolved.flux(&config.arp.flux_networks, &policy) {
                        Ok(flux) => checked.push(Checked::ok(
                            format!("{subject} ARP flux"),
                            format!("{} addresses of other networks to ask", flux.targets.len()),
                        )),
                        Err(e) => checked.push(Checked::problem(format!("{subject} ARP flux"), e)),
                    }
                }
            }
            Err(e) => checked.push(Checked::problem(subject, e)),
        }
    }
    if !config.exclude.is_empty() {
        let excluded: Vec<String> = config.exclude.iter().map(ToString::to_string).collect();
        checked.push(Checked::ok(
            "exclude",
            format!(
                "{} get no packet at all / 除外: {}",
                excluded.join(", "),
                excluded.len()
            ),
        ));
    }
    let snmp = &config.snmp;
    if snmp.enabled && !snmp.profiles.is_empty() {
        let names: Vec<&str> = snmp.profiles.iter().map(|p| p.name.as_str()).collect();
        checked.push(Checked::ok(
            "snmp",
            format!("profiles {} (secrets resolved)", names.join(", ")),
        ));
        for target in &snmp.targets {
            match daicho_scope::check_explicit_target(*target, &config.exclude, &policy) {
                Ok(()) => checked.push(Checked::ok(format!("snmp target {target}"), "in scope")),
                Err(e) => checked.push(Checked::problem(format!("snmp target {target}"), e)),
            }
        }
    }
    if let Some(path) = &config.fingerprints {
        match daicho_detect::Fingerprints::with_file(path) {
            Ok(_) => checked.push(Checked::ok(
                "fingerprints",
                format!("{} read", path.display()),
            )),
            Err(e) => checked.push(Checked::problem("fingerprints", e)),
        }
    }
    if let Some(url) = &config.upload.url {
        match crate::upload::Uploader::new(url, &config.upload) {
            Ok(_) => checked.push(Checked::ok(
                "upload",
                format!("{url}: URL, token and CA file usable (nothing sent)"),
            )),
            Err(e) => checked.push(Checked::problem("upload", e)),
        }
    }
    if let Some(raw_arp) = raw_arp.filter(|_| !config.arp.unprivileged) {
        if raw_arp {
            checked.push(Checked::ok("raw ARP", "CAP_NET_RAW available"));
        } else {
            checked.push(Checked::problem(
                "raw ARP",
                "this process lacks CAP_NET_RAW: run `sudo setcap cap_net_raw+ep` on the binary, \
                 use AmbientCapabilities=CAP_NET_RAW in systemd, or set [arp] unprivileged = true \
                 / CAP_NET_RAW 権限がありません",
            ));
        }
    }
    checked
}

/// Whether this process holds CAP_NET_RAW in its effective set (read from
/// /proc, so that checking sends nothing and opens no socket).
pub fn may_send_raw() -> bool {
    const CAP_NET_RAW: u32 = 13;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_NET_RAW) != 0)
}

/// The check as text for a person, one line each.
pub fn render(checked: &[Checked]) -> String {
    checked
        .iter()
        .map(|c| {
            format!(
                "{} {:<24} {}\n",
                if c.ok { "OK " } else { "ERR" },
                c.subject,
                c.detail.replace('\n', "\n    ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use daicho_scope::InterfaceFacts;

    fn host() -> Vec<LocalInterface> {
        vec![LocalInterface {
            facts: InterfaceFacts {
                name: "eth1".into(),
                addresses: vec!["198.18.1.2/24".parse().unwrap()],
                is_up: true,
            },
            mac: None,
        }]
    }

    #[test]
    fn every_problem_is_listed_not_only_the_first() {
        let config = AgentConfig::parse(
            "exclude = [\"198.18.1.9\"]\n\
             [[segment]]\ninterface = \"eth1\"\nnetworks = [\"198.18.1.0/24\"]\n\
             [[segment]]\ninterface = \"eth9\"\nnetworks = [\"198.18.9.0/24\"]\n\
             [[segment]]\ninterface = \"eth1\"\nnetworks = [\"203.0.113.0/24\"]\n\
             [upload]\nurl = \"ftp://collector\"\ntoken = \"x\"\n",
        )
        .unwrap();
        let checked = check(&config, &host(), Some(false));
        let text = render(&checked);
        assert!(checked[0].ok, "{text}");
        assert!(text.contains("252 addresses"), "{text}");
        assert!(
            checked.iter().any(|c| !c.ok && c.subject == "segment eth9"),
            "{text}"
        );
        assert_eq!(
            checked
                .iter()
                .filter(|c| !c.ok && c.subject == "segment eth1")
                .count(),
            1,
            "{text}"
        );
        assert!(
            checked.iter().any(|c| !c.ok && c.subject == "upload"),
            "{text}"
        );
        assert!(
            checked.iter().any(|c| !c.ok && c.subject == "raw ARP"),
            "{text}"
        );
    }
}
