//! VPN and remote-maintenance equipment, from banners and enterprise numbers.

use daicho_report::{Finding, FindingKind, Report, Says, Source, Text};

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
                    Says::of(Text::RemoteAccessBanner)
                        .with("what", what)
                        .with("text", text)
                        .value("port", banner.port)
                        .with("ip", display(o.ip))
                        .with("product", product),
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
                Says::of(Text::RemoteAccessEnterprise)
                    .with("ip", display(o.ip))
                    .value("number", number)
                    .with("maker", maker),
            );
        }
    }
    signs.findings(FindingKind::RemoteAccess, scores, |ip| {
        Says::of(Text::RemoteAccess).with("ip", display(ip))
    })
}

/// The first of a banner's texts (title, Server header, realm, certificate
/// names) that `product` recognises: (which text, the text, the product).
pub(crate) fn banner_match<'a>(
    banner: &'a daicho_report::HttpBanner,
    product: impl Fn(&str) -> Option<&'a str>,
) -> Option<(Text, &'a str, &'a str)> {
    let certificate = banner.certificate.as_ref();
    [
        (Text::BannerPageTitle, banner.title.as_deref()),
        (Text::BannerServerHeader, banner.server.as_deref()),
        (Text::BannerRealm, banner.realm.as_deref()),
        (
            Text::BannerCertificateSubject,
            certificate.and_then(|c| c.subject_cn.as_deref()),
        ),
        (
            Text::BannerCertificateIssuer,
            certificate.and_then(|c| c.issuer_cn.as_deref()),
        ),
    ]
    .into_iter()
    .find_map(|(what, text)| {
        let text = text?;
        product(text).map(|p| (what, text, p))
    })
}
