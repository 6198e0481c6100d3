//! VPN and remote-maintenance equipment, from banners and enterprise numbers.

use daicho_report::{Finding, FindingKind, Report, Source};

use crate::signs::{Sign, Signs};
use crate::*;

/// VPN and remote-maintenance equipment: a banner (page title, Server
/// header, realm, certificate name) of a VPN or remote-support product, or
/// a VPN-gateway maker's enterprise number (weak).
pub(crate) fn remote_access(report: &Report, fingerprints: &Fingerprints) -> Vec<Finding> {
    let scores = &fingerprints.scores;
    let mut signs = Signs::default();
    for o in &report.observations {
        for banner in o.http.as_deref().into_iter().flat_map(|h| &h.banners) {
            if let Some((what, text, product)) =
                banner_match(banner, |text| fingerprints.remote_access_product(text))
            {
                signs.add(
                    o,
                    Sign::RemoteAccessBanner,
                    scores.remote_access_banner,
                    Source::Http,
                    format!(
                        "the {what} {text:?} on port {} of {} is that of {product}",
                        banner.port,
                        display(o.ip)
                    ),
                );
            }
        }
        if let Some((number, maker)) = o
            .snmp
            .as_deref()
            .and_then(|s| s.enterprise)
            .and_then(|n| fingerprints.remote_access_maker(n).map(|m| (n, m)))
        {
            signs.add(
                o,
                Sign::RemoteAccessEnterprise,
                scores.remote_access_enterprise,
                Source::Snmp,
                format!(
                    "sysObjectID of {} is under enterprise {number} ({maker}), a maker of VPN gateways",
                    display(o.ip)
                ),
            );
        }
    }
    signs.findings(FindingKind::RemoteAccess, scores, |ip| {
        format!(
            "{} looks like VPN or remote-maintenance equipment: check it against the ledger's remote-maintenance column",
            display(ip)
        )
    })
}

/// The first of a banner's texts (title, Server header, realm, certificate
/// names) that `product` recognises: (which text, the text, the product).
pub(crate) fn banner_match<'a>(
    banner: &'a daicho_report::HttpBanner,
    product: impl Fn(&str) -> Option<&'a str>,
) -> Option<(&'static str, &'a str, &'a str)> {
    let certificate = banner.certificate.as_ref();
    [
        ("page title", banner.title.as_deref()),
        ("Server header", banner.server.as_deref()),
        ("authentication realm", banner.realm.as_deref()),
        (
            "certificate subject",
            certificate.and_then(|c| c.subject_cn.as_deref()),
        ),
        (
            "certificate issuer",
            certificate.and_then(|c| c.issuer_cn.as_deref()),
        ),
    ]
    .into_iter()
    .find_map(|(what, text)| {
        let text = text?;
        product(text).map(|p| (what, text, p))
    })
}
