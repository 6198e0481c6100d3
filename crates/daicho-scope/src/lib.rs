//! Scan scope: the only addresses a daicho agent may send a packet to.
//!
//! Nothing is scanned implicitly. A segment names an interface and the networks on
//! it to sweep; exclusions remove addresses that must get zero packets (fragile
//! medical devices, for example). [`SegmentScope::resolve`] checks a segment
//! against the interface's real addresses and refuses, with a reason a person can
//! act on, anything ARP cannot reach or that is not a private or test range.
//!
//! Pure logic: the caller supplies the interface facts, so every rule is testable
//! without a network.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Serialize};

/// Ranges a hospital LAN (or the lab) may use. Anything else is public address
/// space and is refused unless the operator says `--allow-public`.
const NON_PUBLIC: &[(&str, &str)] = &[
    ("10.0.0.0/8", "RFC 1918 private"),
    ("172.16.0.0/12", "RFC 1918 private"),
    ("192.168.0.0/16", "RFC 1918 private"),
    ("100.64.0.0/10", "RFC 6598 shared (CGNAT)"),
    ("169.254.0.0/16", "RFC 3927 link-local"),
    ("198.18.0.0/15", "RFC 2544 benchmarking"),
    ("192.0.2.0/24", "RFC 5737 documentation"),
    ("198.51.100.0/24", "RFC 5737 documentation"),
    ("203.0.113.0/24", "RFC 5737 documentation"),
];

/// Largest sweep accepted per segment unless raised in the configuration.
pub const DEFAULT_MAX_ADDRESSES: usize = 65_536;

/// A segment as the operator wrote it (command line or `agent.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentScope {
    pub interface: String,
    pub networks: Vec<Ipv4Net>,
    #[serde(default, deserialize_with = "deserialize_exclusions")]
    pub exclude: Vec<IpNet>,
    /// Probes not to run on this segment (the agent checks the names), e.g.
    /// `["netbios"]` on a segment of fragile devices: ARP still runs.
    #[serde(default)]
    pub skip: Vec<String>,
}

/// Serde helper for lists of exclusions written as addresses or networks
/// (`"198.18.1.9"` or `"198.18.1.128/28"`), as `agent.toml` has them.
pub fn deserialize_exclusions<'de, D>(deserializer: D) -> Result<Vec<IpNet>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| parse_exclude(text).map_err(serde::de::Error::custom))
        .collect()
}

/// Rules that apply to every segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub allow_public: bool,
    pub max_addresses: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow_public: false,
            max_addresses: DEFAULT_MAX_ADDRESSES,
        }
    }
}

/// What the agent knows about a local interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceFacts {
    pub name: String,
    /// Its IPv4 addresses with their prefix lengths.
    pub addresses: Vec<Ipv4Net>,
    pub is_up: bool,
}

/// A segment that passed every rule, with its target list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSegment {
    pub interface: String,
    pub networks: Vec<Ipv4Net>,
    pub exclude: Vec<IpNet>,
    /// The interface address used as the sender of ARP requests.
    pub own_address: Ipv4Net,
    /// Every address to probe, ascending, without duplicates, exclusions, the
    /// agent's own address, or network/broadcast addresses.
    pub targets: Vec<Ipv4Addr>,
}

/// Why a segment or argument was refused. Messages are for the hospital IT person
/// running the agent: what is wrong and what to do, in English and Japanese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error(
        "--segment {0:?} is not of the form IFACE=CIDR[,CIDR...] (e.g. eth1=198.18.1.0/24)\n\
         --segment の書式は IFACE=CIDR[,CIDR...] です（例: eth1=198.18.1.0/24）"
    )]
    SegmentSyntax(String),
    #[error(
        "{0:?} is not an IPv4 network in CIDR form (e.g. 198.18.1.0/24)\n\
         {0:?} は CIDR 形式の IPv4 ネットワークではありません（例: 198.18.1.0/24）"
    )]
    NetworkSyntax(String),
    #[error(
        "--exclude {0:?} is neither an IP address nor a CIDR network\n\
         --exclude {0:?} は IP アドレスでも CIDR でもありません"
    )]
    ExcludeSyntax(String),
    #[error(
        "no segment to scan: give --segment IFACE=CIDR or [[segment]] in agent.toml; \
         daicho never picks networks by itself\n\
         スキャン対象がありません。--segment か agent.toml の [[segment]] で明示してください"
    )]
    NothingToScan,
    #[error(
        "segment {interface}: no interface of that name on this host (interfaces here: {available})\n\
         セグメント {interface}: このホストにその名前のインターフェースはありません（存在するもの: {available}）"
    )]
    NoSuchInterface {
        interface: String,
        available: String,
    },
    #[error(
        "segment {interface}: the interface is down; bring it up or fix the name\n\
         セグメント {interface}: インターフェースが停止しています"
    )]
    InterfaceDown { interface: String },
    #[error(
        "segment {interface}: {network} is not directly connected to {interface} (its addresses: {addresses}); \
         ARP only reaches the local link, so scan that network from an agent on its own segment\n\
         セグメント {interface}: {network} は {interface} に直接接続されていません（このインターフェースのアドレス: {addresses}）。\
         ARP は同一リンクにしか届かないため、そのネットワーク上のエージェントでスキャンしてください"
    )]
    NotConnected {
        interface: String,
        network: Ipv4Net,
        addresses: String,
    },
    #[error(
        "segment {interface}: {network} is {what} and can never be scanned\n\
         セグメント {interface}: {network} は {what} のためスキャンできません"
    )]
    Unscannable {
        interface: String,
        network: Ipv4Net,
        what: &'static str,
    },
    #[error(
        "segment {interface}: {network} is public address space, not a private or test range; \
         pass --allow-public (allow_public = true) only if this really is your own network\n\
         セグメント {interface}: {network} はグローバルアドレスです。自組織のネットワークで間違いない場合のみ --allow-public を指定してください"
    )]
    Public { interface: String, network: Ipv4Net },
    #[error(
        "segment {interface}: {count} addresses to sweep, more than the limit of {limit}; \
         split the network or raise max_addresses in agent.toml\n\
         セグメント {interface}: 対象アドレスが {count} 個あり、上限 {limit} を超えています"
    )]
    TooLarge {
        interface: String,
        count: u64,
        limit: usize,
    },
    #[error(
        "target {ip} is {what} and can never be asked\n\
         対象 {ip} は {what} のため問い合わせできません"
    )]
    TargetNever { ip: IpAddr, what: &'static str },
    #[error(
        "target {0} is listed but also excluded; remove one of the two\n\
         対象 {0} は除外リストにも含まれています。どちらかを削除してください"
    )]
    TargetExcluded(IpAddr),
    #[error(
        "target {0} is public address space; set allow_public = true only if it is your own device\n\
         対象 {0} はグローバルアドレスです。自組織の機器の場合のみ allow_public = true を指定してください"
    )]
    TargetPublic(IpAddr),
}

/// Checks one explicitly listed unicast target (an SNMP target in a routed
/// network, beyond the swept segments): never loopback, multicast or
/// unspecified; never excluded; public only with `allow_public`. IPv6 counts
/// as non-public in unique-local, link-local and documentation space.
pub fn check_explicit_target(
    ip: IpAddr,
    exclude: &[IpNet],
    policy: &Policy,
) -> Result<(), ScopeError> {
    let never = match ip {
        IpAddr::V4(v4) => never_scannable(&Ipv4Net::from(v4)),
        IpAddr::V6(v6) if v6.is_loopback() => Some("loopback"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("multicast"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(_) => None,
    };
    if let Some(what) = never {
        return Err(ScopeError::TargetNever { ip, what });
    }
    if exclude.iter().any(|net| net.contains(&ip)) {
        return Err(ScopeError::TargetExcluded(ip));
    }
    let non_public = match ip {
        IpAddr::V4(v4) => is_non_public(&Ipv4Net::from(v4)),
        IpAddr::V6(v6) => ["fc00::/7", "fe80::/10", "2001:db8::/32"]
            .iter()
            .any(|range| {
                range
                    .parse::<ipnet::Ipv6Net>()
                    .is_ok_and(|r| r.contains(&v6))
            }),
    };
    if !non_public && !policy.allow_public {
        return Err(ScopeError::TargetPublic(ip));
    }
    Ok(())
}

/// Parses `IFACE=CIDR[,CIDR...]`.
pub fn parse_segment_arg(arg: &str) -> Result<SegmentScope, ScopeError> {
    let (interface, networks) = arg
        .split_once('=')
        .filter(|(iface, nets)| !iface.trim().is_empty() && !nets.trim().is_empty())
        .ok_or_else(|| ScopeError::SegmentSyntax(arg.to_owned()))?;
    let networks = networks
        .split(',')
        .map(|n| parse_network(n.trim()))
        .collect::<Result<_, _>>()?;
    Ok(SegmentScope {
        interface: interface.trim().to_owned(),
        networks,
        exclude: Vec::new(),
        skip: Vec::new(),
    })
}

/// Parses an IPv4 network. A bare address is refused: a segment must say its prefix.
pub fn parse_network(text: &str) -> Result<Ipv4Net, ScopeError> {
    text.parse()
        .map_err(|_| ScopeError::NetworkSyntax(text.to_owned()))
}

/// Parses an exclusion: an address (IPv4 or IPv6) or a network.
pub fn parse_exclude(text: &str) -> Result<IpNet, ScopeError> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| ScopeError::ExcludeSyntax(text.to_owned()))
}

fn never_scannable(net: &Ipv4Net) -> Option<&'static str> {
    let addr = net.network();
    if addr.is_loopback() {
        Some("loopback")
    } else if addr.is_multicast() {
        Some("multicast")
    } else if addr.is_unspecified() {
        Some("the unspecified network 0.0.0.0")
    } else if addr.is_broadcast() || net.broadcast().is_broadcast() {
        Some("broadcast")
    } else {
        None
    }
}

/// True when `net` lies inside a private, shared, link-local, benchmark or
/// documentation range.
pub fn is_non_public(net: &Ipv4Net) -> bool {
    NON_PUBLIC.iter().any(|(range, _)| {
        range
            .parse::<Ipv4Net>()
            .is_ok_and(|range| range.contains(net))
    })
}

impl SegmentScope {
    /// Checks this segment against the host's interfaces and the policy, and lists
    /// its targets.
    pub fn resolve(
        &self,
        interfaces: &[InterfaceFacts],
        policy: &Policy,
    ) -> Result<ResolvedSegment, ScopeError> {
        let interface = self.interface.clone();
        let facts = interfaces
            .iter()
            .find(|i| i.name == self.interface)
            .ok_or_else(|| ScopeError::NoSuchInterface {
                interface: interface.clone(),
                available: interfaces
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !facts.is_up {
            return Err(ScopeError::InterfaceDown { interface });
        }
        if self.networks.is_empty() {
            return Err(ScopeError::NothingToScan);
        }

        let networks = Ipv4Net::aggregate(&self.networks);
        let mut own_address = None;
        for network in &networks {
            if let Some(what) = never_scannable(network) {
                return Err(ScopeError::Unscannable {
                    interface,
                    network: *network,
                    what,
                });
            }
            let connected = facts
                .addresses
                .iter()
                .find(|a| a.trunc().contains(network))
                .ok_or_else(|| ScopeError::NotConnected {
                    interface: interface.clone(),
                    network: *network,
                    addresses: describe(&facts.addresses),
                })?;
            own_address.get_or_insert(*connected);
            if !policy.allow_public && !is_non_public(network) {
                return Err(ScopeError::Public {
                    interface,
                    network: *network,
                });
            }
        }
        let own_address = own_address.ok_or(ScopeError::NothingToScan)?;

        check_size(&interface, &networks, policy)?;
        let own_addresses: Vec<Ipv4Addr> = facts.addresses.iter().map(|a| a.addr()).collect();
        let targets = hosts(&networks, &self.exclude, &own_addresses);

        Ok(ResolvedSegment {
            interface,
            networks,
            exclude: self.exclude.clone(),
            own_address,
            targets,
        })
    }
}

impl ResolvedSegment {
    /// The ARP-flux probe of this segment: requests for the addresses of
    /// `networks` (other networks the configuration names explicitly) sent
    /// out of this segment's interface. A host on this segment that answers
    /// for one of them has a leg in that network. The same rules as a sweep:
    /// never a reserved or (without `allow_public`) public network, never an
    /// excluded address, at most `max_addresses`; the segment's own networks
    /// are left out.
    pub fn flux(
        &self,
        networks: &[Ipv4Net],
        policy: &Policy,
    ) -> Result<ResolvedSegment, ScopeError> {
        let others: Vec<Ipv4Net> = Ipv4Net::aggregate(&networks.to_vec())
            .into_iter()
            .filter(|n| {
                !self
                    .networks
                    .iter()
                    .any(|own| own.contains(n) || n.contains(own))
            })
            .collect();
        for network in &others {
            if let Some(what) = never_scannable(network) {
                return Err(ScopeError::Unscannable {
                    interface: self.interface.clone(),
                    network: *network,
                    what,
                });
            }
            if !policy.allow_public && !is_non_public(network) {
                return Err(ScopeError::Public {
                    interface: self.interface.clone(),
                    network: *network,
                });
            }
        }
        check_size(&self.interface, &others, policy)?;
        let targets = hosts(&others, &self.exclude, &[self.own_address.addr()]);
        Ok(ResolvedSegment {
            interface: self.interface.clone(),
            networks: others,
            exclude: self.exclude.clone(),
            own_address: self.own_address,
            targets,
        })
    }
}

/// Refuses a sweep of more addresses than the policy allows.
fn check_size(interface: &str, networks: &[Ipv4Net], policy: &Policy) -> Result<(), ScopeError> {
    let count: u64 = networks.iter().map(|n| 1u64 << (32 - n.prefix_len())).sum();
    if count > policy.max_addresses as u64 + 2 * networks.len() as u64 {
        return Err(ScopeError::TooLarge {
            interface: interface.to_owned(),
            count,
            limit: policy.max_addresses,
        });
    }
    Ok(())
}

/// The host addresses of `networks`, less the agent's own and the excluded.
fn hosts(networks: &[Ipv4Net], exclude: &[IpNet], own: &[Ipv4Addr]) -> Vec<Ipv4Addr> {
    networks
        .iter()
        .flat_map(|n| n.hosts())
        .filter(|ip| !own.contains(ip))
        .filter(|ip| {
            !exclude
                .iter()
                .any(|ex| ex.contains(&std::net::IpAddr::V4(*ip)))
        })
        .collect()
}

fn describe(addresses: &[Ipv4Net]) -> String {
    if addresses.is_empty() {
        "none".to_owned()
    } else {
        addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
