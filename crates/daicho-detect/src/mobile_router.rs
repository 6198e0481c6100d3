//! Mobile (LTE/5G) routers: cellular interfaces, modems, carrier-NAT uplinks
//! and the weaker signs that only count together.

use daicho_report::{
    Finding, FindingKind, Observation, Param, Report, Says, SnmpFacts, Source, Text,
};

use crate::remote_access::banner_match;
use crate::rogue_ipv6::{describe_advert, ipv4_of, unsanctioned_ipv6_router};
use crate::signs::{Sign, Signs};
use crate::*;

/// Cellular routers: a WWAN interface, a cellular modem module, a
/// gateway's own carrier-NAT or public uplink (strong); a cellular maker's
/// enterprise number or MAC, a cellular router's admin page or description,
/// a link named like a cellular one, an unsanctioned IPv6 router or a NAT64
/// prefix (weaker: a finding needs two kinds of them, or enough weight).
pub(crate) fn mobile_routers(report: &Report, fingerprints: &Fingerprints) -> Vec<Finding> {
    let scores = &fingerprints.scores;
    let mut signs = Signs::default();
    for o in &report.observations {
        if o.source == Source::Arp
            && let Some(mac) = o.mac
            && let Some(maker) = fingerprints.cellular_oui_maker(mac.0, o.vendor.as_deref())
        {
            signs.add(
                o,
                Sign::CellularMac,
                scores.cellular_oui,
                Source::Arp,
                Says::of(Text::CellularMac)
                    .value("mac", mac)
                    .with("ip", display(o.ip))
                    .with("maker", maker),
            );
        }
        for banner in o.http.as_deref().into_iter().flat_map(|h| &h.banners) {
            if let Some((what, text, product)) =
                banner_match(banner, |text| fingerprints.cellular_product(text))
            {
                signs.add(
                    o,
                    Sign::CellularBanner,
                    scores.cellular_banner,
                    Source::Http,
                    Says::of(Text::CellularBanner)
                        .with("what", what)
                        .with("text", text)
                        .value("port", banner.port)
                        .with("ip", display(o.ip))
                        .with("product", product),
                );
            }
        }
        if let Some(snmp) = o.snmp.as_deref() {
            cellular_snmp_signs(o, snmp, fingerprints, &mut signs);
        }
        if let Some(advert) = unsanctioned_ipv6_router(o) {
            let ip = ipv4_of(report, o).or(o.ip);
            signs.add_at(
                &o.interface,
                ip,
                Sign::Ipv6Router,
                scores.unsanctioned_ipv6_router,
                Source::Listen,
                describe_advert(o, advert),
            );
            if !advert.pref64.is_empty() {
                signs.add_at(
                    &o.interface,
                    ip,
                    Sign::Pref64,
                    scores.pref64,
                    Source::Listen,
                    Says::of(Text::Pref64).with("prefixes", advert.pref64.clone()),
                );
            }
        }
        if let Some(uplink) = o.ssdp.as_deref().and_then(|s| s.uplink.as_ref())
            && matches!(uplink.kind.as_str(), "carrier_nat" | "public")
        {
            signs.add(
                o,
                Sign::GatewayUplink,
                scores.gateway_uplink,
                Source::Ssdp,
                Says::of(if uplink.kind == "public" {
                    Text::GatewayUplinkPublic
                } else {
                    Text::GatewayUplinkCarrierNat
                })
                .with("ip", display(o.ip))
                .with(
                    "uplink",
                    uplink
                        .external_ip
                        .map_or(Param::from(Text::Unknown), |ip| ip.to_string().into()),
                ),
            );
        }
    }
    signs.findings(FindingKind::MobileRouter, scores, |ip| {
        Says::of(Text::MobileRouter).with("ip", display(ip))
    })
}

/// What a device's SNMP answers say about a cellular uplink.
pub(crate) fn cellular_snmp_signs(
    o: &Observation,
    snmp: &SnmpFacts,
    fingerprints: &Fingerprints,
    signs: &mut Signs,
) {
    let scores = &fingerprints.scores;
    let holds_default = |index: u32| {
        snmp.routes
            .iter()
            .any(|r| r.destination.is_unspecified() && r.if_index == Some(index))
    };
    for interface in &snmp.interfaces {
        let names: Vec<&str> = [interface.name.as_deref(), interface.descr.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let wwan = interface
            .if_type
            .is_some_and(|t| WWAN_IF_TYPES.contains(&t))
            && !names.iter().any(|n| fingerprints.not_cellular(n));
        if wwan {
            signs.add(
                o,
                Sign::WwanInterface,
                scores.wwan_interface,
                Source::Snmp,
                Says::of(if holds_default(interface.index) {
                    Text::WwanInterfaceDefaultRoute
                } else {
                    Text::WwanInterface
                })
                .with("ip", display(o.ip))
                .with("interface", interface_name(snmp, Some(interface.index)))
                .value("if_type", interface.if_type.unwrap_or_default()),
            );
            continue;
        }
        let Some(kind) = names.iter().find_map(|n| fingerprints.link_kind(n)) else {
            continue;
        };
        // A modem link holding the default route is how a PC with a USB
        // "HiLink" dongle becomes a router to the Internet.
        let default_route = holds_default(interface.index);
        let (sign, weight, text) = match (kind, default_route) {
            (LinkKind::Cellular, false) => (
                Sign::CellularLinkName,
                scores.cellular_interface_name,
                Text::CellularLinkName,
            ),
            (LinkKind::Cellular, true) => (
                Sign::CellularLinkName,
                scores.cellular_interface_name * 2.0,
                Text::CellularLinkNameDefaultRoute,
            ),
            (LinkKind::Usb, false) => (
                Sign::UsbLinkName,
                scores.usb_interface_name,
                Text::UsbLinkName,
            ),
            (LinkKind::Usb, true) => (
                Sign::UsbLinkName,
                scores.usb_interface_name * 2.0,
                Text::UsbLinkNameDefaultRoute,
            ),
        };
        signs.add(
            o,
            sign,
            weight,
            Source::Snmp,
            Says::of(text)
                .with("ip", display(o.ip))
                .with("interface", interface_name(snmp, Some(interface.index))),
        );
    }
    for entity in &snmp.entities {
        let texts = [
            entity.model.as_deref(),
            entity.descr.as_deref(),
            entity.name.as_deref(),
        ];
        if let Some((text, product)) = texts
            .into_iter()
            .flatten()
            .find_map(|t| Some((t, fingerprints.cellular_text(t)?)))
        {
            signs.add(
                o,
                Sign::ModemModule,
                scores.modem_entity,
                Source::Snmp,
                Says::of(Text::ModemModule)
                    .with("ip", display(o.ip))
                    .with("text", text)
                    .with("product", product),
            );
        }
    }
    if let Some(descr) = snmp.sys_descr.as_deref()
        && let Some(product) = fingerprints.cellular_text(descr)
    {
        signs.add(
            o,
            Sign::CellularText,
            scores.cellular_text,
            Source::Snmp,
            Says::of(Text::CellularSysDescr)
                .with("ip", display(o.ip))
                .with("descr", descr.chars().take(120).collect::<String>())
                .with("product", product),
        );
    }
    if let Some((number, maker)) = snmp
        .enterprise
        .and_then(|n| fingerprints.cellular_maker(n).map(|m| (n, m)))
    {
        signs.add(
            o,
            Sign::CellularEnterprise,
            scores.cellular_enterprise,
            Source::Snmp,
            Says::of(Text::CellularEnterprise)
                .with("ip", display(o.ip))
                .value("number", number)
                .with("maker", maker),
        );
    }
}
