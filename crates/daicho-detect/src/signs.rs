//! Signs of one kind of finding gathered per device, each kind counted
//! once at its strongest, and the threshold that makes them a finding.

use std::collections::BTreeMap;
use std::net::IpAddr;

use daicho_report::{Evidence, Finding, FindingKind, Observation, Says, Source};

use crate::*;

/// The kinds of sign: several of one kind (three usb* interfaces, two
/// banners naming one product) are one piece of evidence, not several.
/// In the order their evidence is listed: the decisive kinds first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Sign {
    WwanInterface,
    ModemModule,
    GatewayUplink,
    RemoteAccessBanner,
    CellularText,
    CellularBanner,
    CellularLinkName,
    UsbLinkName,
    Ipv6Router,
    Pref64,
    CellularEnterprise,
    RemoteAccessEnterprise,
    CellularMac,
}

/// One device's signs: each kind at its strongest weight, with all its
/// evidence.
pub(crate) type DeviceSigns = BTreeMap<Sign, (f32, Vec<Evidence>)>;

/// Signs gathered per device (interface and address), by kind.
#[derive(Default)]
pub(crate) struct Signs {
    by_device: BTreeMap<(String, Option<IpAddr>), DeviceSigns>,
}

impl Signs {
    pub(crate) fn add(
        &mut self,
        o: &Observation,
        sign: Sign,
        weight: f32,
        source: Source,
        text: Says,
    ) {
        self.add_at(&o.interface, o.ip, sign, weight, source, text);
    }

    pub(crate) fn add_at(
        &mut self,
        interface: &str,
        ip: Option<IpAddr>,
        sign: Sign,
        weight: f32,
        source: Source,
        text: Says,
    ) {
        let kinds = self
            .by_device
            .entry((interface.to_owned(), ip))
            .or_default();
        let (strongest, evidence) = kinds.entry(sign).or_insert((0.0, Vec::new()));
        *strongest = strongest.max(weight);
        evidence.push(self::evidence(source, text));
    }

    /// A finding for each device whose signs reach the threshold (each kind
    /// at its strongest) or whose signs are of two or more kinds: a single
    /// weak sign is not a finding.
    pub(crate) fn findings(
        self,
        kind: FindingKind,
        scores: &Scores,
        summary: impl Fn(Option<IpAddr>) -> Says,
    ) -> Vec<Finding> {
        self.by_device
            .into_iter()
            .filter_map(|((_, ip), kinds)| {
                let score: f32 = kinds.values().map(|(weight, _)| weight).sum();
                (score >= scores.threshold || kinds.len() >= 2).then(|| Finding {
                    kind,
                    confidence: score.min(0.95),
                    summary: summary(ip),
                    subjects: vec![subject(ip)],
                    evidence: kinds.into_values().flat_map(|(_, e)| e).collect(),
                })
            })
            .collect()
    }
}
