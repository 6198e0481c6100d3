//! `agent.toml`: the file form of the scan scope and probe settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use daicho_scope::{DEFAULT_MAX_ADDRESSES, SegmentScope};
use ipnet::IpNet;
use serde::Deserialize;

use crate::duration::duration_text;
use crate::probe::dhcp::DhcpConfig;
use crate::probe::dicom::DicomConfig;
use crate::probe::http::HttpConfig;
use crate::probe::mdns::MdnsConfig;
use crate::probe::netbios::NetbiosConfig;
use crate::probe::snmp::SnmpConfig;
use crate::probe::ssdp::SsdpConfig;
use crate::probe::ssh::SshConfig;
use crate::probe::{Context, Kind, Probe, Section};

/// The whole file. Every field has a default, so an empty file is valid (and
/// scans nothing).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    pub agent_id: Option<String>,
    pub allow_public: bool,
    pub max_addresses: usize,
    /// Excluded on every segment.
    #[serde(deserialize_with = "daicho_scope::deserialize_exclusions")]
    pub exclude: Vec<IpNet>,
    /// Where the agent keeps what it learns between scans (the SNMP profile
    /// that worked per host). Default: /var/lib/daicho/agent as root, else
    /// ~/.local/state/daicho-agent.
    pub state_dir: Option<PathBuf>,
    /// A site's own fingerprint file (TOML, as config/fingerprints/), read on
    /// top of the built-in tables.
    pub fingerprints: Option<PathBuf>,
    pub arp: ArpConfig,
    pub scan: ScanConfig,
    pub snmp: SnmpConfig,
    pub netbios: NetbiosConfig,
    pub mdns: MdnsConfig,
    pub http: HttpConfig,
    pub ssh: SshConfig,
    pub ssdp: SsdpConfig,
    pub dhcp: DhcpConfig,
    pub dicom: DicomConfig,
    pub upload: crate::upload::UploadConfig,
    #[serde(rename = "segment")]
    pub segments: Vec<SegmentScope>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            agent_id: None,
            allow_public: false,
            max_addresses: DEFAULT_MAX_ADDRESSES,
            exclude: Vec::new(),
            state_dir: None,
            fingerprints: None,
            arp: ArpConfig::default(),
            scan: ScanConfig::default(),
            snmp: SnmpConfig::default(),
            netbios: NetbiosConfig::default(),
            mdns: MdnsConfig::default(),
            http: HttpConfig::default(),
            ssh: SshConfig::default(),
            ssdp: SsdpConfig::default(),
            dhcp: DhcpConfig::default(),
            dicom: DicomConfig::default(),
            upload: crate::upload::UploadConfig::default(),
            segments: Vec::new(),
        }
    }
}

/// `[arp]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArpConfig {
    pub rate: u32,
    pub retries: u32,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    pub unprivileged: bool,
    /// Other networks to ask about on every segment (the ARP-flux probe,
    /// opt-in): a host here that answers for an address there has a leg in
    /// that network. Same scope rules as the segments.
    pub flux_networks: Vec<ipnet::Ipv4Net>,
}

impl Default for ArpConfig {
    fn default() -> Self {
        let sweep = daicho_arp::SweepConfig::default();
        ArpConfig {
            rate: sweep.rate,
            retries: sweep.attempts,
            timeout: sweep.timeout,
            unprivileged: false,
            flux_networks: Vec::new(),
        }
    }
}

/// `[scan]`: what the probes after the ARP sweep may ask of the network
/// and of each device, all probes and segments together.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Packets per second (each datagram, each connection's first packet).
    pub rate: u32,
    /// TCP connections open at once, all hosts together.
    pub connections: usize,
    /// TCP connections open at once to one host.
    pub per_host: usize,
    /// Connect timeouts follow each host's measured round trips, never
    /// shorter than this.
    #[serde(deserialize_with = "duration_text")]
    pub connect_timeout_floor: Duration,
    /// ...and never longer than this.
    #[serde(deserialize_with = "duration_text")]
    pub connect_timeout: Duration,
    /// Connects per port at most: a silent one is asked again.
    pub connect_attempts: u32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        let limits = daicho_pace::Limits::default();
        ScanConfig {
            rate: limits.rate,
            connections: limits.connections,
            per_host: limits.per_host,
            connect_timeout_floor: limits.timeout_floor,
            connect_timeout: limits.timeout_ceiling,
            connect_attempts: 2,
        }
    }
}

impl ScanConfig {
    /// The budget's limits; `rate` from the command line when it says.
    pub fn limits(&self, rate: Option<u32>) -> daicho_pace::Limits {
        daicho_pace::Limits {
            rate: rate.unwrap_or(self.rate),
            connections: self.connections,
            per_host: self.per_host,
            timeout_floor: self.connect_timeout_floor,
            timeout_ceiling: self.connect_timeout,
        }
    }
}

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read the configuration file {path}: {source}\n\
         設定ファイル {path} を読めません"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "configuration file {path} is not valid: {message}\n\
         設定ファイル {path} の内容に誤りがあります"
    )]
    Invalid { path: PathBuf, message: String },
}

impl AgentConfig {
    /// Every probe's section, in the order their probes are planned.
    fn probe_sections(&self) -> [&dyn Section; 8] {
        [
            &self.dhcp,
            &self.dicom,
            &self.ssdp,
            &self.ssh,
            &self.http,
            &self.mdns,
            &self.netbios,
            &self.snmp,
        ]
    }

    /// The probes the sections turn on, less those in `skip`.
    pub fn probes(
        &self,
        skip: &[Kind],
        context: &Context<'_>,
    ) -> Result<Vec<Arc<dyn Probe>>, daicho_scope::ScopeError> {
        let mut probes = Vec::new();
        for section in self.probe_sections() {
            if skip.contains(&section.kind()) {
                continue;
            }
            probes.extend(section.probe(context)?);
        }
        Ok(probes)
    }

    /// Where the agent keeps its state: the command line's choice, else the
    /// file's, else the default.
    pub fn state_dir(&self, chosen: Option<&Path>) -> PathBuf {
        chosen
            .map(Path::to_owned)
            .or_else(|| self.state_dir.clone())
            .unwrap_or_else(default_state_dir)
    }

    /// Reads and checks a file. Errors name the file, line and key.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config = AgentConfig::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        let inline_secret = config
            .snmp
            .profiles
            .iter()
            .any(daicho_snmp::Profile::has_inline_secret)
            || config
                .upload
                .token
                .as_ref()
                .is_some_and(daicho_process::Secret::is_inline);
        if inline_secret && readable_by_others(path) {
            let warning = format!(
                "WARNING: {} holds secrets (SNMP, upload token) and is readable by other users; \
                 run `chmod 600 {0}` (or use env:/file: references)\n\
                 警告: {0} に秘密情報（SNMP・アップロード用トークン）が含まれ、他のユーザーが読めます。chmod 600 を実行してください",
                path.display()
            );
            tracing::warn!("{warning}");
            eprintln!("{warning}");
        }
        Ok(config)
    }

    /// Parses the text of a file.
    pub fn parse(text: &str) -> Result<AgentConfig, String> {
        let config: AgentConfig =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        for profile in &config.snmp.profiles {
            profile.validate()?;
        }
        config.snmp.query_options().validate()?;
        config.http.validate()?;
        for segment in &config.segments {
            for name in &segment.skip {
                Kind::from_name(name)?;
            }
        }
        Ok(config)
    }
}

fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

/// Where the agent keeps its state when neither the config nor the command
/// line says: the system's place as root, the user's own otherwise.
pub fn default_state_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/daicho/agent");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    std::env::var_os("XDG_STATE_HOME")
        .map_or_else(|| home.join(".local/state"), PathBuf::from)
        .join("daicho-agent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../../config/agent.toml");
        let config = AgentConfig::parse(text).unwrap();
        assert_eq!(config.segments.len(), 1);
        assert_eq!(config.segments[0].interface, "eth0");
        assert_eq!(config.segments[0].exclude.len(), 1);
        assert_eq!(config.arp.timeout, Duration::from_millis(500));
        assert_eq!(config.arp.retries, 2);
        assert!(!config.allow_public);
        assert_eq!(config.scan, ScanConfig::default());
        // The file documents the defaults: off, the usual ports.
        assert_eq!(config.dicom, crate::probe::dicom::DicomConfig::default());
    }

    #[test]
    fn empty_file_scans_nothing() {
        assert!(AgentConfig::parse("").unwrap().segments.is_empty());
    }

    #[test]
    fn mistakes_are_reported_with_their_place() {
        let err = AgentConfig::parse("[arp]\nrate = \"fast\"\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = AgentConfig::parse(
            "[[segment]]\ninterface = \"eth0\"\nnetworks = [\"198.18.1.0/33\"]\n",
        )
        .unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        let err = AgentConfig::parse("scan_everything = true\n").unwrap_err();
        assert!(err.contains("scan_everything"), "{err}");
        let err = AgentConfig::parse("[arp]\ntimeout = \"soon\"\n").unwrap_err();
        assert!(err.contains("not a duration"), "{err}");
        let err = AgentConfig::parse("[snmp]\nhost_rate = 0.2\n").unwrap_err();
        assert!(err.contains("host_rate"), "{err}");
        let err = AgentConfig::parse("[snmp]\nread = [\"everything\"]\n").unwrap_err();
        assert!(err.contains("everything"), "{err}");
        let err = AgentConfig::parse(
            "[[segment]]\ninterface = \"eth0\"\nnetworks = [\"198.18.1.0/24\"]\nskip = [\"nbt\"]\n",
        )
        .unwrap_err();
        assert!(err.contains("netbios"), "{err}");
        let err = AgentConfig::parse("[http]\nports = [80, 9100]\n").unwrap_err();
        assert!(err.contains("9100") && err.contains("paper"), "{err}");
    }

    #[test]
    fn snmp_profiles_are_checked_and_inline_secrets_noticed() {
        let text =
            "[[snmp.profile]]\nname = \"ro\"\nversion = \"2c\"\ncommunity = \"hospital-ro\"\n";
        let config = AgentConfig::parse(text).unwrap();
        assert_eq!(config.snmp.profiles.len(), 1);
        assert_eq!(config.snmp.timeout, Duration::from_secs(2));
        assert_eq!(config.snmp.read.len(), daicho_snmp::Table::ALL.len());
        assert!(config.snmp.profiles[0].has_inline_secret());
        // SAFETY: set before anything reads it in this test.
        unsafe { std::env::set_var("DAICHO_TEST_RO", "x") };
        let by_reference = AgentConfig::parse(&text.replace("hospital-ro", "env:DAICHO_TEST_RO"));
        assert!(!by_reference.unwrap().snmp.profiles[0].has_inline_secret());
        let err =
            AgentConfig::parse("[[snmp.profile]]\nname = \"v3\"\nversion = \"3\"\n").unwrap_err();
        assert!(err.contains("needs user"), "{err}");
    }

    #[test]
    fn durations() {
        use crate::duration::parse_duration;
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }
}
