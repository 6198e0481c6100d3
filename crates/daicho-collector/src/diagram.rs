//! The network diagram (構成図) of a reconciliation: which devices are on
//! which segment, the managed switches and their cables, and what
//! bypasses the design — for /diagram, the report and `diagram -o`.

use std::collections::{BTreeMap, BTreeSet};

use daicho_diagram::{Alert, AlertKind, Bridge, Group, Node, Options, Segment, Site, Switch};
use daicho_ledger::Discovered;

use crate::reconcile::Reconciliation;

/// A site this small is drawn with every device named; a larger one
/// counts them per 種別 and links to each segment's own diagram.
const NAMED_IN_OVERVIEW: usize = 60;
/// Devices named per 種別 on a segment's own diagram.
const NAMED_IN_SEGMENT: usize = 40;

/// The whole site, or one segment (an index into the reconciliation's
/// segments), as SVG.
pub fn svg(r: &Reconciliation, japanese: bool, segment: Option<usize>) -> String {
    let (site, listed) = match segment {
        Some(n) => (segment_site(r, n, japanese), NAMED_IN_SEGMENT),
        None => {
            let listed = if r.discovered.len() <= NAMED_IN_OVERVIEW {
                NAMED_IN_OVERVIEW
            } else {
                0
            };
            (site_of(r, japanese), listed)
        }
    };
    daicho_diagram::render(&site, &Options { japanese, listed })
}

/// A device's line: its name and addresses, and for what is red, where to
/// walk to (its switch port or room).
fn node(d: &Discovered, located: bool) -> Node {
    let mut detail: Vec<String> = d.ips.iter().take(2).map(ToString::to_string).collect();
    if located {
        detail.extend(d.suggested_location());
    }
    Node {
        label: d.name.clone().unwrap_or_else(|| format!("#{}", d.id)),
        detail: detail.join(" · "),
        link: Some(format!("/devices/{}", d.id)),
    }
}

fn title(japanese: bool) -> String {
    if japanese {
        "ネットワーク構成図（daicho による検出結果）".into()
    } else {
        "Network diagram (as daicho found it)".into()
    }
}

/// Every segment, each device in the segments it has a current address in.
pub fn site_of(r: &Reconciliation, japanese: bool) -> Site {
    let labels: Vec<&str> = r.segments.iter().map(|(l, _)| l.as_str()).collect();
    let networks = |n: usize| -> String {
        let networks: Vec<String> = r.segments[n].1.iter().map(ToString::to_string).collect();
        networks.join(" ")
    };
    let index: BTreeMap<&str, usize> = labels.iter().enumerate().map(|(n, l)| (*l, n)).collect();
    let switches: BTreeSet<i64> = r
        .topology
        .uplinks
        .iter()
        .map(|u| u.port.switch)
        .chain(r.topology.placements.values().map(|p| p.port.switch))
        .collect();
    let mut cables: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for uplink in &r.topology.uplinks {
        if let Some(to) = uplink.to {
            cables.entry(uplink.port.switch).or_default().insert(to);
            cables.entry(to).or_default().insert(uplink.port.switch);
        }
    }
    let mut segments: Vec<Segment> = labels
        .iter()
        .enumerate()
        .map(|(n, label)| Segment {
            label: format!("{label} {}", networks(n)).trim_end().to_owned(),
            link: Some(format!("/diagram/{n}")),
            ..Segment::default()
        })
        .collect();
    let mut groups: Vec<BTreeMap<String, Vec<Node>>> = vec![BTreeMap::new(); segments.len()];
    let mut bridges = Vec::new();
    let unknown = if japanese {
        "種別不明"
    } else {
        "Unknown kind"
    };
    for d in &r.discovered {
        let on: BTreeSet<usize> = d
            .interfaces
            .iter()
            .filter_map(|i| index.get(i.segment.as_str()).copied())
            .collect();
        let flagged = |kind: &str| d.flags.iter().any(|f| f.kind == kind);
        if flagged("dual_homed") && !on.is_empty() {
            bridges.push(Bridge {
                node: node(d, true),
                segments: on.into_iter().collect(),
            });
            continue;
        }
        let alert = [
            ("mobile_router", AlertKind::MobileRouter),
            ("remote_access", AlertKind::RemoteAccess),
            ("rogue_dhcp", AlertKind::RogueDhcp),
        ]
        .into_iter()
        .find(|(kind, _)| flagged(kind));
        for s in on {
            if let Some((_, kind)) = alert {
                segments[s].alerts.push(Alert {
                    kind,
                    node: node(d, true),
                });
            } else if switches.contains(&d.id) {
                segments[s].switches.push(Switch {
                    id: d.id,
                    node: node(d, false),
                    cabled_to: cables
                        .get(&d.id)
                        .map(|c| c.iter().copied().collect())
                        .unwrap_or_default(),
                });
            } else {
                let kind = d.kind.clone().unwrap_or_else(|| unknown.to_owned());
                groups[s].entry(kind).or_default().push(node(d, false));
            }
        }
    }
    for ((segment, groups), label) in segments.iter_mut().zip(groups).zip(&labels) {
        segment.groups = groups
            .into_iter()
            .map(|(kind, mut devices)| {
                devices.sort_by(|a, b| a.label.cmp(&b.label));
                let query =
                    serde_urlencoded::to_string([("segment", *label), ("kind", kind.as_str())])
                        .unwrap_or_default();
                Group {
                    link: Some(format!("/devices?{query}")),
                    kind,
                    devices,
                }
            })
            .collect();
    }
    Site {
        title: title(japanese),
        segments,
        bridges,
    }
}

/// One segment's own diagram: its devices, and the hosts bridging it to
/// others.
fn segment_site(r: &Reconciliation, n: usize, japanese: bool) -> Site {
    let mut site = site_of(r, japanese);
    if n >= site.segments.len() {
        return Site {
            title: site.title,
            ..Site::default()
        };
    }
    let mut segment = site.segments.swap_remove(n);
    segment.link = None;
    let bridges = site
        .bridges
        .into_iter()
        .filter(|b| b.segments.contains(&n))
        .map(|b| Bridge {
            segments: vec![0],
            ..b
        })
        .collect();
    Site {
        title: format!("{} — {}", site.title, segment.label),
        segments: vec![segment],
        bridges,
    }
}
