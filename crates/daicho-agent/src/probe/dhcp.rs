//! The DHCP probe (opt-in): one DHCPDISCOVER per segment and/or listening
//! for the DHCP replies and IPv6 router advertisements others get; each
//! server, gateway and router checked against the sanctioned ones the
//! configuration names (see `daicho-dhcp` and `daicho-listen`).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use daicho_listen::Heard;
use daicho_report::{
    Capability, DhcpClientFacts, DhcpFacts, DhcpOffer, LinkFacts, LinkProtocol, MacAddr,
    Observation, ProbeRun, RouterAdvertFacts, Source,
};
use daicho_scope::ScopeError;
use jiff::Timestamp;
use serde::Deserialize;

use super::{Context, Kind, Outcome, Phase, Probe, Running, Section, SegmentTargets, each_segment};
use crate::duration::duration_text;

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

impl Section for DhcpConfig {
    fn kind(&self) -> Kind {
        Kind::Dhcp
    }

    fn probe(&self, _: &Context<'_>) -> Result<Option<Arc<dyn Probe>>, ScopeError> {
        Ok((self.enabled || !self.listen.is_zero()).then(|| {
            Arc::new(DhcpProbe {
                discover: self.enabled,
                wait: self.wait,
                listen: self.listen,
                solicit_routers: self.solicit_routers,
                sanctioned_servers: self.sanctioned_servers.clone(),
                sanctioned_gateways: self.sanctioned_gateways.clone(),
                sanctioned_ipv6_routers: self.sanctioned_ipv6_routers.clone(),
            }) as Arc<dyn Probe>
        }))
    }
}

/// What the DHCP probe needs.
#[derive(Debug, Clone, Default)]
pub struct DhcpProbe {
    /// Send one DHCPDISCOVER per segment.
    pub discover: bool,
    pub wait: Duration,
    /// Listen this long on each segment (zero: not at all).
    pub listen: Duration,
    pub solicit_routers: bool,
    pub sanctioned_servers: Vec<Ipv4Addr>,
    pub sanctioned_gateways: Vec<Ipv4Addr>,
    pub sanctioned_ipv6_routers: Vec<SanctionedRouter>,
}

impl Probe for DhcpProbe {
    fn kind(&self) -> Kind {
        Kind::Dhcp
    }

    /// Offers and advertisements are collected while the sweep runs.
    fn phase(&self) -> Phase {
        Phase::WithSweep
    }

    /// One observation per answering server or advertising router, one run
    /// per segment and step.
    fn run(self: Arc<Self>, segments: Vec<SegmentTargets>) -> Running {
        let mut n = 0;
        Box::pin(async move {
            let (mut observations, runs) = each_segment(segments, |segment| {
                n += 1;
                Arc::clone(&self).asked(segment.interface, n)
            })
            .await;
            // One observation per server and segment: the DISCOVER's answer
            // wins over the same server heard answering someone else.
            observations.sort_by(|a, b| {
                (&a.interface, a.ip, a.source == Source::Listen).cmp(&(
                    &b.interface,
                    b.ip,
                    b.source == Source::Listen,
                ))
            });
            observations.dedup_by(|later, first| {
                later.interface == first.interface
                    && later.ip == first.ip
                    && later.dhcp.is_some()
                    && first.dhcp.is_some()
            });
            (observations, runs)
        })
    }
}

impl DhcpProbe {
    async fn asked(self: Arc<Self>, interface: Arc<str>, n: usize) -> Outcome {
        let discover = self
            .discover
            .then(|| discover(Arc::clone(&self), Arc::clone(&interface), n));
        let listen = (!self.listen.is_zero()).then(|| listen(Arc::clone(&self), interface));
        let (discovered, heard) = tokio::join!(optional(discover), optional(listen));
        let (mut observations, mut runs) = (Vec::new(), Vec::new());
        for (found, run) in [discovered, heard].into_iter().flatten() {
            observations.extend(found);
            runs.push(run);
        }
        (observations, runs)
    }
}

async fn optional<F: std::future::Future>(future: Option<F>) -> Option<F::Output> {
    match future {
        Some(future) => Some(future.await),
        None => None,
    }
}

async fn discover(
    plan: Arc<DhcpProbe>,
    interface: Arc<str>,
    n: usize,
) -> (Vec<Observation>, ProbeRun) {
    let started_at = Timestamp::now();
    let outcome = daicho_dhcp::probe(&interface, transaction_id(n), plan.wait).await;
    let mut run = ProbeRun {
        packets_sent: 1,
        ..ProbeRun::new(Source::Dhcp, &interface, started_at)
    };
    let mut observations = Vec::new();
    match outcome {
        Ok(offers) => {
            run.packets_received = offers.len() as u64;
            let servers: Vec<String> = offers.iter().map(|o| o.from.to_string()).collect();
            run.notes.push(format!(
                "one DHCPDISCOVER (client MAC {}), {} server(s) offered: {}",
                MacAddr(daicho_dhcp::PROBE_MAC),
                offers.len(),
                if servers.is_empty() { "none".to_owned() } else { servers.join(", ") }
            ));
            for offer in offers {
                observations.push(Observation {
                    dhcp: Some(Box::new(DhcpFacts {
                        offers: vec![judged(&plan, &offer)],
                    })),
                    ..Observation::new(Source::Dhcp, Arc::clone(&interface), Some(offer.from.into()))
                });
            }
        }
        Err(e) => run.notes.push(format!(
            "DHCP probe not run: {e} (port 68 needs root or CAP_NET_BIND_SERVICE, and no DHCP client on this interface) \
             / DHCP 調査を実行できませんでした"
        )),
    }
    run.finished_at = Timestamp::now();
    (observations, run)
}

async fn listen(plan: Arc<DhcpProbe>, interface: Arc<str>) -> (Vec<Observation>, ProbeRun) {
    let started_at = Timestamp::now();
    let (name, duration, solicit) = (interface.to_string(), plan.listen, plan.solicit_routers);
    let outcome =
        tokio::task::spawn_blocking(move || daicho_listen::listen(&name, duration, solicit))
            .await
            .expect("the listener does not panic");
    let mut run = ProbeRun {
        packets_sent: u64::from(plan.solicit_routers),
        ..ProbeRun::new(Source::Listen, &interface, started_at)
    };
    let mut observations = Vec::new();
    match outcome {
        Ok(heard) => {
            run.packets_received = heard.len() as u64;
            run.notes.extend(heard.iter().filter_map(plugged_into));
            run.notes.push(format!(
                "listened {} s{}: {} DHCP server(s), {} DHCP client(s), {} IPv6 router(s) and {} LLDP/CDP neighbour(s) heard",
                plan.listen.as_secs(),
                if plan.solicit_routers {
                    " after one router solicitation"
                } else {
                    ""
                },
                heard
                    .iter()
                    .filter(|h| matches!(h, Heard::Dhcp { .. }))
                    .count(),
                heard
                    .iter()
                    .filter(|h| matches!(h, Heard::DhcpClient { .. }))
                    .count(),
                heard
                    .iter()
                    .filter(|h| matches!(h, Heard::RouterAdvert { .. }))
                    .count(),
                heard
                    .iter()
                    .filter(|h| matches!(h, Heard::Link { .. }))
                    .count(),
            ));
            observations.extend(
                heard
                    .into_iter()
                    .map(|h| heard_observation(&plan, &interface, h)),
            );
        }
        Err(e) => run.notes.push(format!("listening not done: {e}")),
    }
    run.finished_at = Timestamp::now();
    (observations, run)
}

/// "plugged into sw-core port Gi1/0/3 (LLDP)": what a switch port's own
/// announcement says about where this interface is.
fn plugged_into(heard: &Heard) -> Option<String> {
    let Heard::Link { neighbour, .. } = heard else {
        return None;
    };
    let name = neighbour
        .system_name
        .as_deref()
        .or(neighbour.chassis_id.as_deref())?;
    let port = port_name(neighbour)?;
    let protocol = match neighbour.protocol {
        daicho_listen::LinkProtocol::Lldp => "LLDP",
        daicho_listen::LinkProtocol::Cdp => "CDP",
    };
    Some(format!(
        "plugged into {} port {} ({protocol}) / 接続先 {} ポート {}",
        clean(name),
        clean(port),
        clean(name),
        clean(port)
    ))
}

/// The port as a person reads it: LLDP's port ID is often the port's MAC,
/// with the name in the port description.
fn port_name(neighbour: &daicho_listen::LinkNeighbourRepr) -> Option<&str> {
    let id = neighbour.port_id.as_deref();
    let is_mac = id.is_some_and(|id| id.parse::<MacAddr>().is_ok());
    match (id, neighbour.port_description.as_deref()) {
        (Some(_), Some(description)) if is_mac => Some(description),
        (Some(id), _) => Some(id),
        (None, description) => description,
    }
}

fn clean(text: &str) -> String {
    daicho_report::text::clean_text(text, daicho_report::text::MAX_NAME)
}

/// What was heard, as an observation. (A server that also answered our own
/// DISCOVER is kept once, by [`DhcpProbe::run`].)
fn heard_observation(plan: &DhcpProbe, interface: &Arc<str>, heard: Heard) -> Observation {
    let (ip, mac) = heard.sender();
    // A client is known by its MAC (it has no address yet, or one that
    // may not be this segment's).
    let ip = (!ip.is_unspecified()).then_some(ip);
    let mut observation = Observation {
        mac: Some(MacAddr(mac)),
        ..Observation::new(Source::Listen, Arc::clone(interface), ip)
    };
    match heard {
        Heard::Dhcp { reply, .. } => {
            let offer = DhcpOffer {
                heard_for: reply.client_mac.map(MacAddr),
                ..judged(plan, &reply.offer)
            };
            observation.dhcp = Some(Box::new(DhcpFacts {
                offers: vec![offer],
            }));
        }
        Heard::DhcpClient { request, .. } => {
            let message = match request.message_type {
                1 => "discover",
                3 => "request",
                _ => "inform",
            };
            observation.dhcp_client = Some(Box::new(DhcpClientFacts {
                message: message.into(),
                parameter_list: request.parameter_list,
                vendor_class: request.vendor_class,
                host_name: request.host_name,
                client_id: request.client_id,
                requested: request.requested,
            }));
        }
        Heard::Link { neighbour, .. } => {
            let text = |t: Option<String>, max| t.map(|t| daicho_report::text::clean_text(&t, max));
            let capabilities = neighbour
                .capabilities
                .map_or_else(Vec::new, |bits| match neighbour.protocol {
                    daicho_listen::LinkProtocol::Lldp => {
                        Capability::from_lldp_bits(u16::try_from(bits).unwrap_or(u16::MAX))
                    }
                    daicho_listen::LinkProtocol::Cdp => Capability::from_cdp_bits(bits),
                });
            observation.link = Some(Box::new(LinkFacts {
                protocol: match neighbour.protocol {
                    daicho_listen::LinkProtocol::Lldp => LinkProtocol::Lldp,
                    daicho_listen::LinkProtocol::Cdp => LinkProtocol::Cdp,
                },
                chassis_id: text(neighbour.chassis_id, daicho_report::text::MAX_NAME),
                port_id: text(neighbour.port_id, daicho_report::text::MAX_NAME),
                port_description: text(neighbour.port_description, daicho_report::text::MAX_LINE),
                system_name: text(neighbour.system_name, daicho_report::text::MAX_NAME),
                system_description: text(
                    neighbour.system_description,
                    daicho_report::text::MAX_DESCRIPTION,
                ),
                capabilities,
                management_address: neighbour.management_address,
                vlan: neighbour.vlan,
            }));
        }
        Heard::RouterAdvert { from, advert, .. } => {
            let sanctioned = (!plan.sanctioned_ipv6_routers.is_empty()).then(|| {
                plan.sanctioned_ipv6_routers.iter().any(|r| match r {
                    SanctionedRouter::Address(a) => *a == from,
                    SanctionedRouter::Mac(m) => m.0 == mac || advert.source_mac == Some(m.0),
                })
            });
            observation.router_advert = Some(Box::new(RouterAdvertFacts {
                router_lifetime: advert.router_lifetime,
                managed: advert.managed,
                other_config: advert.other_config,
                prefixes: advert
                    .prefixes
                    .iter()
                    .map(|(p, len)| format!("{p}/{len}"))
                    .collect(),
                dns: advert.dns,
                mtu: advert.mtu,
                pref64: advert
                    .pref64
                    .iter()
                    .map(|(p, len)| format!("{p}/{len}"))
                    .collect(),
                sanctioned,
            }));
        }
    }
    observation
}

/// The offer as reported, with the configuration's verdict on its server
/// and gateways.
fn judged(plan: &DhcpProbe, offer: &daicho_dhcp::Offer) -> DhcpOffer {
    let server = offer.server_id.unwrap_or(offer.from);
    DhcpOffer {
        server_id: offer.server_id,
        offered: Some(offer.offered),
        subnet_mask: offer.subnet_mask,
        routers: offer.routers.clone(),
        dns: offer.dns.clone(),
        lease_seconds: offer.lease_seconds,
        heard_for: None,
        sanctioned: (!plan.sanctioned_servers.is_empty()).then(|| {
            plan.sanctioned_servers.contains(&server)
                || plan.sanctioned_servers.contains(&offer.from)
        }),
        unexpected_routers: if plan.sanctioned_gateways.is_empty() {
            Vec::new()
        } else {
            offer
                .routers
                .iter()
                .filter(|r| !plan.sanctioned_gateways.contains(r))
                .copied()
                .collect()
        },
    }
}

/// A transaction id that differs per run and per segment.
fn transaction_id(segment: usize) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16) ^ segment as u32
}
