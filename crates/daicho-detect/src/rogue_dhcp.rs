//! DHCP servers, and gateways they hand out, that nobody sanctioned.

use daicho_report::{Evidence, Finding, FindingKind, Observation, Report, Source};

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
        let list = |ips: &[std::net::Ipv4Addr]| {
            ips.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} on {} {} offering {} with gateway {} and DNS {}",
            display(o.ip),
            o.interface,
            offer
                .heard_for
                .map_or("answered the agent's DHCPDISCOVER".into(), |client| {
                    format!("was heard answering client {client}")
                }),
            offer.offered.map_or("-".into(), |ip| ip.to_string()),
            if offer.routers.is_empty() {
                "-".into()
            } else {
                list(&offer.routers)
            },
            if offer.dns.is_empty() {
                "-".into()
            } else {
                list(&offer.dns)
            },
        )
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
                text: format!(
                    "{} is not among the sanctioned DHCP servers ([dhcp] sanctioned_servers)",
                    display(o.ip)
                ),
            });
        }
        for router in &offer.unexpected_routers {
            evidence.push(Evidence {
                source: Source::Dhcp,
                text: format!("it hands out gateway {router}, which is not among the sanctioned gateways ([dhcp] sanctioned_gateways)"),
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
                text: format!(
                    "more than one DHCP server answers on {}; name the hospital's own in [dhcp] sanctioned_servers",
                    o.interface
                ),
            });
        }
        if evidence.len() > 1 {
            findings.push(Finding {
                kind: FindingKind::RogueDhcp,
                confidence: if several { 0.6 } else { 0.95 },
                summary: format!(
                    "{} is a DHCP server the hospital did not sanction: devices on {} may take its gateway and bypass the firewall",
                    display(o.ip),
                    o.interface
                ),
                subjects: vec![subject(o.ip)],
                evidence,
            });
        }
    }
    findings
}
