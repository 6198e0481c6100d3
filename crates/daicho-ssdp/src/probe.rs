//! The SSDP probe on one segment: an `ssdp:all` M-SEARCH from the segment's
//! own address, a NOTIFY listener on that interface only, then — for hosts in
//! scope — their device descriptions and, for a gateway, its uplink address.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::description::{self, Device};
use crate::gateway::{self, NatPmp, UplinkKind};
use crate::wire::{self, Message};

/// How long and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeConfig {
    /// How long to collect answers and NOTIFYs.
    pub window: Duration,
    /// Only listen for NOTIFYs; send no M-SEARCH.
    pub passive: bool,
    /// For each description fetch and gateway question.
    pub fetch_timeout: Duration,
    /// Bytes of a description read at most.
    pub description_cap: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            window: Duration::from_secs(2),
            passive: false,
            fetch_timeout: Duration::from_secs(3),
            description_cap: 256 * 1024,
        }
    }
}

/// Distinct messages kept per host, and descriptions fetched per host.
const MAX_MESSAGES: usize = 64;
const MAX_LOCATIONS: usize = 4;

/// A gateway's answer about its own uplink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uplink {
    /// From UPnP `GetExternalIPAddress` (None: no answer or an empty one).
    pub upnp: Option<IpAddr>,
    pub natpmp: Option<NatPmp>,
    pub kind: UplinkKind,
}

/// Everything one host said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub ip: Ipv4Addr,
    pub messages: Vec<Message>,
    pub devices: Vec<Device>,
    pub uplink: Option<Uplink>,
    pub notes: Vec<String>,
}

fn udp(socket: Socket) -> std::io::Result<UdpSocket> {
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// The M-SEARCH socket: from the segment's address, out of its interface.
fn search_socket(source: Ipv4Addr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_multicast_if_v4(&source)?;
    socket.set_multicast_ttl_v4(2)?;
    socket.bind(&SocketAddr::from((source, 0)).into())?;
    udp(socket)
}

/// The NOTIFY listener: port 1900, the group joined on this interface only,
/// and (IP_MULTICAST_ALL off) nothing from groups joined on other ones.
fn notify_socket(source: Ipv4Addr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_multicast_all_v4(false)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, wire::PORT)).into())?;
    socket.join_multicast_v4(&wire::MULTICAST, &source)?;
    udp(socket)
}

/// Probes one segment. `on_link` says which sources belong to the segment;
/// `in_scope` which hosts may be asked for descriptions (never an excluded
/// one). Returns per-host answers and notes about the probe itself.
pub async fn probe(
    source: Ipv4Addr,
    on_link: impl Fn(Ipv4Addr) -> bool,
    in_scope: impl Fn(Ipv4Addr) -> bool,
    config: &ProbeConfig,
) -> Result<(Vec<Answer>, Vec<String>), String> {
    let mut notes = Vec::new();
    let search = search_socket(source).map_err(|e| format!("SSDP socket on {source}: {e}"))?;
    let notify = match notify_socket(source) {
        Ok(socket) => Some(socket),
        Err(e) => {
            notes.push(format!("not listening for NOTIFY (UDP 1900): {e}"));
            None
        }
    };
    let group = SocketAddr::from((wire::MULTICAST, wire::PORT));
    let deadline = tokio::time::Instant::now() + config.window;
    // Sent twice, as UDP may lose one; the second after a short pause.
    let mut sends = if config.passive { 0 } else { 2 };
    let mut next_send = tokio::time::Instant::now();
    let mut heard: BTreeMap<Ipv4Addr, Vec<Message>> = BTreeMap::new();
    let (mut a, mut b) = (vec![0u8; wire::MAX_MESSAGE], vec![0u8; wire::MAX_MESSAGE]);
    loop {
        let received = tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            () = tokio::time::sleep_until(next_send), if sends > 0 => {
                if search.send_to(&wire::msearch("ssdp:all", 1), group).await.is_err() {
                    notes.push("M-SEARCH could not be sent".into());
                }
                sends -= 1;
                next_send += Duration::from_millis(300);
                continue;
            }
            r = search.recv_from(&mut a) => r.map(|(n, from)| (a[..n].to_vec(), from)),
            r = async { notify.as_ref().expect("guarded").recv_from(&mut b).await }, if notify.is_some() => {
                r.map(|(n, from)| (b[..n].to_vec(), from))
            }
        };
        let Ok((bytes, SocketAddr::V4(from))) = received else {
            continue;
        };
        let ip = *from.ip();
        if !on_link(ip) || ip == source {
            continue;
        }
        let Ok(message) = Message::parse(&bytes) else {
            continue;
        };
        let messages = heard.entry(ip).or_default();
        if messages.len() < MAX_MESSAGES && !messages.contains(&message) {
            messages.push(message);
        }
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.fetch_timeout)
        .no_proxy()
        .local_address(IpAddr::V4(source))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let mut answers = Vec::new();
    for (ip, messages) in heard {
        let mut answer = Answer {
            ip,
            messages,
            devices: Vec::new(),
            uplink: None,
            notes: Vec::new(),
        };
        if in_scope(ip) {
            describe(&client, source, &mut answer, config).await;
        }
        answers.push(answer);
    }
    Ok((answers, notes))
}

/// Fetches the descriptions a host points to on itself, and asks a gateway
/// for its uplink.
async fn describe(
    client: &reqwest::Client,
    source: Ipv4Addr,
    answer: &mut Answer,
    config: &ProbeConfig,
) {
    let mut locations: Vec<reqwest::Url> = Vec::new();
    for message in &answer.messages {
        let Some(url) = message
            .location
            .as_deref()
            .and_then(|l| reqwest::Url::parse(l).ok())
        else {
            continue;
        };
        // Only the host that answered, only plain HTTP: a LOCATION pointing
        // elsewhere would make us fetch from a host nobody put in scope.
        let same_host = url.host_str().and_then(|h| h.parse::<Ipv4Addr>().ok()) == Some(answer.ip);
        if url.scheme() == "http"
            && same_host
            && !locations.contains(&url)
            && locations.len() < MAX_LOCATIONS
        {
            locations.push(url);
        }
    }
    let mut gateway_service = None;
    for location in locations {
        match client.get(location.clone()).send().await {
            Ok(mut response) => {
                let (body, cut) =
                    daicho_http::read_capped(&mut response, config.description_cap).await;
                answer.notes.extend(cut);
                let devices = description::parse(&body);
                if devices.first().is_some_and(Device::is_gateway) {
                    gateway_service = devices
                        .iter()
                        .flat_map(|d| &d.services)
                        .find(|s| {
                            s.service_type.contains(":service:WANIPConnection:")
                                || s.service_type.contains(":service:WANPPPConnection:")
                        })
                        .and_then(|s| {
                            Some((s.service_type.clone(), location.join(&s.control_url).ok()?))
                        });
                }
                answer.devices.extend(devices);
            }
            Err(e) => answer.notes.push(format!("description {location}: {e}")),
        }
    }
    if answer.devices.first().is_some_and(Device::is_gateway) {
        let upnp = match gateway_service {
            Some((service_type, control)) if control.host_str() == Some(&answer.ip.to_string()) => {
                let (action, body) = gateway::external_ip_request(&service_type);
                let response = client
                    .post(control)
                    .header("SOAPAction", action)
                    .header("Content-Type", "text/xml; charset=\"utf-8\"")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(mut response) => {
                        let (body, _) = daicho_http::read_capped(&mut response, 16 * 1024).await;
                        gateway::parse_external_ip(&body)
                    }
                    Err(e) => {
                        answer.notes.push(format!("GetExternalIPAddress: {e}"));
                        None
                    }
                }
            }
            _ => None,
        };
        let natpmp = natpmp(
            source,
            answer.ip,
            config.fetch_timeout.min(Duration::from_secs(1)),
        )
        .await;
        let external = upnp.or_else(|| natpmp.and_then(|n| n.external).map(IpAddr::V4));
        answer.uplink = Some(Uplink {
            upnp,
            natpmp,
            kind: UplinkKind::of(external),
        });
    }
}

/// Asks a gateway for its external address over NAT-PMP (one datagram).
async fn natpmp(source: Ipv4Addr, gateway: Ipv4Addr, wait: Duration) -> Option<NatPmp> {
    let socket = UdpSocket::bind(SocketAddr::from((source, 0))).await.ok()?;
    let target = SocketAddr::from((gateway, gateway::NATPMP_PORT));
    socket
        .send_to(&gateway::NATPMP_REQUEST, target)
        .await
        .ok()?;
    let mut buffer = [0u8; 64];
    let (n, from) = tokio::time::timeout(wait, socket.recv_from(&mut buffer))
        .await
        .ok()?
        .ok()?;
    (from == target)
        .then(|| gateway::parse_natpmp(&buffer[..n]))
        .flatten()
}
