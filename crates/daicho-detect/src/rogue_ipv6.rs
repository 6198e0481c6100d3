//! IPv6 routers nobody sanctioned: a default route around the firewall.

use std::net::IpAddr;

use daicho_report::{Finding, FindingKind, Observation, Param, Report, Says, Source, Text};

use crate::*;

/// The router advertisement of `o`, if it offers a default route and the
/// configuration does not sanction it (or sanctions none).
pub(crate) fn unsanctioned_ipv6_router(
    o: &Observation,
) -> Option<&daicho_report::RouterAdvertFacts> {
    o.router_advert
        .as_deref()
        .filter(|a| a.router_lifetime > 0 && a.sanctioned != Some(true))
}

/// The IPv4 address the sweep saw for `o`'s MAC on the same segment: a
/// router advertisement comes from a link-local address, but the ledger
/// knows the device by its IPv4 one.
pub(crate) fn ipv4_of(report: &Report, o: &Observation) -> Option<IpAddr> {
    let mac = o.mac?;
    report
        .observations
        .iter()
        .find(|a| {
            a.source == Source::Arp
                && a.mac == Some(mac)
                && a.interface == o.interface
                && a.ip.is_some_and(|ip| ip.is_ipv4())
        })
        .and_then(|a| a.ip)
}

pub(crate) fn describe_advert(o: &Observation, advert: &daicho_report::RouterAdvertFacts) -> Says {
    Says::of(if advert.sanctioned.is_none() {
        Text::Ipv6AdvertNoneSanctioned
    } else {
        Text::Ipv6AdvertNotSanctioned
    })
    .with("ip", display(o.ip))
    .with("mac", o.mac.map_or("-".into(), |m| m.to_string()))
    .with("interface", &*o.interface)
    .value("lifetime", advert.router_lifetime)
    .with(
        "prefixes",
        if advert.prefixes.is_empty() {
            Param::from("")
        } else {
            Says::of(Text::Ipv6AdvertPrefixes)
                .with("prefixes", advert.prefixes.clone())
                .into()
        },
    )
}

/// Routers advertising IPv6 default routes that the configuration does not
/// sanction. Unlike DHCP, a lone advertiser with no list is a finding too:
/// hospital LANs are mostly IPv4-only, so hosts that suddenly get an IPv6
/// default route from a box nobody declared (LTE routers send them by
/// default) reach the Internet around the firewall.
pub(crate) fn rogue_ipv6_routers(report: &Report) -> Vec<Finding> {
    report
        .observations
        .iter()
        .filter_map(|o| Some((o, unsanctioned_ipv6_router(o)?)))
        .map(|(o, advert)| {
            let ip = ipv4_of(report, o).or(o.ip);
            Finding {
                kind: FindingKind::RogueDhcp,
                confidence: if advert.sanctioned.is_none() {
                    0.7
                } else {
                    0.95
                },
                summary: Says::of(Text::RogueIpv6Router)
                    .with("ip", display(ip))
                    .with("interface", &*o.interface),
                subjects: vec![subject(ip)],
                evidence: vec![evidence(Source::Listen, describe_advert(o, advert))],
            }
        })
        .collect()
}
