//! `agent.toml`: the file form of the scan scope and probe settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use daicho_scope::{DEFAULT_MAX_ADDRESSES, SegmentScope};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

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
    pub snmp: SnmpConfig,
    pub netbios: NetbiosConfig,
    pub mdns: MdnsConfig,
    pub http: HttpConfig,
    pub ssh: SshConfig,
    pub ssdp: SsdpConfig,
    pub dhcp: DhcpConfig,
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
            snmp: SnmpConfig::default(),
            netbios: NetbiosConfig::default(),
            mdns: MdnsConfig::default(),
            http: HttpConfig::default(),
            ssh: SshConfig::default(),
            ssdp: SsdpConfig::default(),
            dhcp: DhcpConfig::default(),
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

/// The probes after the ARP sweep, by the names the config and the command
/// line use (`skip = ["netbios"]`, `--skip-probe netbios`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
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
}

impl Probe {
    /// Reads a probe name from a segment's `skip` list.
    pub fn from_name(name: &str) -> Result<Probe, String> {
        <Probe as clap::ValueEnum>::from_str(name, true).map_err(|_| {
            let known: Vec<String> = <Probe as clap::ValueEnum>::value_variants()
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

/// `[netbios]`: NetBIOS node status queries (UDP 137) to the hosts found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetbiosConfig {
    pub enabled: bool,
    /// Queries per second on each segment.
    pub rate: u32,
    /// Rounds at most; the second asks only silent hosts.
    pub retries: u32,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
}

impl Default for NetbiosConfig {
    fn default() -> Self {
        let probe = daicho_netbios::ProbeConfig::default();
        NetbiosConfig {
            enabled: true,
            rate: probe.rate,
            retries: probe.attempts,
            timeout: probe.timeout,
        }
    }
}

impl NetbiosConfig {
    pub fn probe_config(&self) -> daicho_netbios::ProbeConfig {
        daicho_netbios::ProbeConfig {
            rate: self.rate.max(1),
            attempts: self.retries.max(1),
            timeout: self.timeout,
        }
    }
}

/// `[http]`: one `GET /` per port to each host found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub enabled: bool,
    /// Plain HTTP ports.
    pub ports: Vec<u16>,
    /// HTTPS ports.
    pub tls_ports: Vec<u16>,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    /// Bytes of a page read at most.
    pub body_cap: usize,
    /// Hosts asked at the same time on a segment.
    pub concurrency: usize,
    /// Hosts that get no HTTP request, on top of the global exclusions.
    #[serde(deserialize_with = "daicho_scope::deserialize_exclusions")]
    pub exclude: Vec<IpNet>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let banner = daicho_http::BannerConfig::default();
        HttpConfig {
            enabled: true,
            ports: vec![80, 8080],
            tls_ports: vec![443, 8443],
            timeout: banner.timeout,
            body_cap: banner.body_cap,
            concurrency: 16,
            exclude: Vec::new(),
        }
    }
}

impl HttpConfig {
    pub fn plan(&self) -> crate::http_probe::HttpPlan {
        crate::http_probe::HttpPlan {
            config: daicho_http::BannerConfig {
                timeout: self.timeout,
                body_cap: self.body_cap,
            },
            ports: self.ports.clone(),
            tls_ports: self.tls_ports.clone(),
            concurrency: self.concurrency,
            exclude: self.exclude.clone(),
        }
    }

    /// Raw print ports would print the request on paper: refused.
    fn validate(&self) -> Result<(), String> {
        match self
            .ports
            .iter()
            .chain(&self.tls_ports)
            .find(|p| daicho_http::NEVER_PORTS.contains(p))
        {
            Some(port) => Err(format!(
                "http: port {port} is a raw print port (JetDirect/LPD): a request sent there \
                 is printed on paper; remove it / ポート {port} は印刷用ポートのため指定できません"
            )),
            None => Ok(()),
        }
    }
}

/// `[dhcp]`: who hands out addresses and gateways on each segment. The
/// DISCOVER probe is opt-in (`enabled`: one DHCPDISCOVER per segment, never
/// a request); so is listening (`listen`: DHCP replies and IPv6 router
/// advertisements heard, optionally after one router solicitation).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DhcpConfig {
    pub enabled: bool,
    /// How long to collect offers.
    #[serde(deserialize_with = "duration_text")]
    pub wait: Duration,
    /// How long to listen on each segment while the scan runs; 0 = not.
    #[serde(deserialize_with = "duration_text")]
    pub listen: Duration,
    /// Send one IPv6 router solicitation when listening starts.
    pub solicit_routers: bool,
    /// The hospital's own DHCP servers; any other is a finding.
    pub sanctioned_servers: Vec<std::net::Ipv4Addr>,
    /// The gateways those servers should hand out; any other is a finding.
    pub sanctioned_gateways: Vec<std::net::Ipv4Addr>,
    /// The hospital's own IPv6 routers, by link-local address or MAC; any
    /// other router advertising a default route is a finding.
    pub sanctioned_ipv6_routers: Vec<SanctionedRouter>,
}

/// An IPv6 router named by its link-local address or its MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanctionedRouter {
    Address(std::net::Ipv6Addr),
    Mac(daicho_report::MacAddr),
}

impl<'de> Deserialize<'de> for SanctionedRouter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if let Ok(address) = text.parse() {
            return Ok(SanctionedRouter::Address(address));
        }
        text.parse().map(SanctionedRouter::Mac).map_err(|_| {
            serde::de::Error::custom(format!(
                "{text:?} in sanctioned_ipv6_routers is neither an IPv6 address nor a MAC \
                 (e.g. \"fe80::1\" or \"00:1e:42:0a:0b:0c\") / IPv6 アドレスでも MAC アドレスでもありません"
            ))
        })
    }
}

impl Default for DhcpConfig {
    fn default() -> Self {
        DhcpConfig {
            enabled: false,
            // Servers ping an address before offering it (dnsmasq waits up
            // to 3 s): offers come late.
            wait: Duration::from_secs(5),
            listen: Duration::ZERO,
            solicit_routers: false,
            sanctioned_servers: Vec::new(),
            sanctioned_gateways: Vec::new(),
            sanctioned_ipv6_routers: Vec::new(),
        }
    }
}

impl DhcpConfig {
    pub fn plan(&self) -> crate::dhcp_probe::DhcpPlan {
        crate::dhcp_probe::DhcpPlan {
            discover: self.enabled,
            wait: self.wait,
            listen: self.listen,
            solicit_routers: self.solicit_routers,
            sanctioned_servers: self.sanctioned_servers.clone(),
            sanctioned_gateways: self.sanctioned_gateways.clone(),
            sanctioned_ipv6_routers: self.sanctioned_ipv6_routers.clone(),
        }
    }
}

/// `[ssh]`: the host key of each host found, without logging in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    pub enabled: bool,
    pub port: u16,
    #[serde(deserialize_with = "duration_text")]
    pub timeout: Duration,
    /// Hosts asked at the same time on a segment.
    pub concurrency: usize,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            enabled: true,
            port: 22,
            timeout: Duration::from_secs(3),
            concurrency: 16,
        }
    }
}

impl SshConfig {
    pub fn plan(&self) -> crate::ssh_probe::SshPlan {
        crate::ssh_probe::SshPlan {
            port: self.port,
            timeout: self.timeout,
            concurrency: self.concurrency,
        }
    }
}

/// `[ssdp]`: M-SEARCH and NOTIFY on each segment, descriptions from hosts in scope.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsdpConfig {
    pub enabled: bool,
    /// How long to collect answers and announcements.
    #[serde(deserialize_with = "duration_text")]
    pub window: Duration,
    /// Only listen for NOTIFY; send no M-SEARCH.
    pub passive: bool,
    /// Per description fetch and gateway question.
    #[serde(deserialize_with = "duration_text")]
    pub fetch_timeout: Duration,
    /// Bytes of a device description read at most.
    pub description_cap: usize,
}

impl Default for SsdpConfig {
    fn default() -> Self {
        let probe = daicho_ssdp::probe::ProbeConfig::default();
        SsdpConfig {
            enabled: true,
            window: probe.window,
            passive: probe.passive,
            fetch_timeout: probe.fetch_timeout,
            description_cap: probe.description_cap,
        }
    }
}

impl SsdpConfig {
    pub fn probe_config(&self) -> daicho_ssdp::probe::ProbeConfig {
        daicho_ssdp::probe::ProbeConfig {
            window: self.window,
            passive: self.passive,
            fetch_timeout: self.fetch_timeout,
            description_cap: self.description_cap,
        }
    }
}

/// `[mdns]`: the DNS-SD browse on each segment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MdnsConfig {
    pub enabled: bool,
    /// How long to listen.
    #[serde(deserialize_with = "duration_text")]
    pub window: Duration,
    /// Only listen for what hosts announce; send no query.
    pub passive: bool,
}

impl Default for MdnsConfig {
    fn default() -> Self {
        let browse = daicho_mdns::BrowseConfig::default();
        MdnsConfig {
            enabled: true,
            window: browse.window,
            passive: browse.passive,
        }
    }
}

impl MdnsConfig {
    pub fn browse_config(&self) -> daicho_mdns::BrowseConfig {
        daicho_mdns::BrowseConfig {
            window: self.window,
            passive: self.passive,
        }
    }
}

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
                .is_some_and(daicho_snmp::Secret::is_inline);
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
                Probe::from_name(name)?;
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

/// Reads a duration written for people: `500ms`, `2s`, `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (write e.g. 500ms, 2s or 1m)"))?;
    Duration::try_from(parsed).map_err(|_| format!("{text:?} is negative"))
}

pub(crate) fn duration_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
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
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }
}
