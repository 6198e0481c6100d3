//! DHCP servers, and gateways they hand out, that nobody sanctioned.

use daicho_report::{
    Evidence, Finding, FindingKind, Observation, Param, Report, Says, Source, Text,
};

use crate::*;

/// DHCP servers the configuration does not sanction, or that hand out a
/// gateway it does not; without a sanctioned list, more than one server on
/// a segment (one of them is not the hospital's).
pub(crate) fn rogue_dhcp(report: &Report) -> Vec<Finding> {
    let offers: Vec<(&Observation, &daicho_report::DhcpOffer)> = report
        .observations
        .iter()
        .flat_map(|o| {
            o.dhcp
                .iter()
                .flat_map(move |d| d.offers.iter().map(move |offer| (o, offer)))
        })
        .collect();
    let describe = |o: &Observation, offer: &daicho_report::DhcpOffer| {
        let list = |ips: &[std::net::Ipv4Addr]| -> Param {
            if ips.is_empty() {
                "-".into()
            } else {
                ips.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .into()
            }
        };
        let says = match offer.heard_for {
            Some(client) => Says::of(Text::DhcpOfferHeard).value("client", client),
            None => Says::of(Text::DhcpOfferAnswered),
        };
        says.with("ip", display(o.ip))
            .with("interface", &*o.interface)
            .with(
                "offered",
                offer.offered.map_or("-".into(), |ip| ip.to_string()),
            )
            .with("gateways", list(&offer.routers))
            .with("dns", list(&offer.dns))
    };
    let mut findings = Vec::new();
    for (o, offer) in &offers {
        let mut evidence = vec![Evidence {
            source: Source::Dhcp,
            text: describe(o, offer),
        }];
        if offer.sanctioned == Some(false) {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: Says::of(Text::DhcpServerNotSanctioned).with("ip", display(o.ip)),
            });
        }
        for router in &offer.unexpected_routers {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: Says::of(Text::DhcpGatewayNotSanctioned).value("gateway", router),
            });
        }
        let several = offer.sanctioned.is_none()
            && offers
                .iter()
                .filter(|(other, _)| other.interface == o.interface)
                .count()
                > 1;
        if several {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: Says::of(Text::DhcpSeveralServers).with("interface", &*o.interface),
            });
        }
        if evidence.len() > 1 {
            findings.push(Finding {
                kind: FindingKind::RogueDhcp,
                confidence: if several { 0.6 } else { 0.95 },
                summary: Says::of(Text::RogueDhcpServer)
                    .with("ip", display(o.ip))
                    .with("interface", &*o.interface),
                subjects: vec![subject(o.ip)],
                evidence,
            });
        }
    }
    findings
}
