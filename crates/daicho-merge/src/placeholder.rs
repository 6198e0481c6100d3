//! Identities that do not identify: the defaults devices ship with
//! (`data/placeholder-identities.tsv`), and identities one report shows on
//! two different devices of one segment (a cloned image's SSH host key, a
//! model's factory certificate). Neither joins anything.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use daicho_report::{Says, Text};

use crate::{Candidate, Key, KeyKind};

/// Why a key that a device carries is not used to join it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// A known default value; the text names it (the table's source).
    Placeholder(&'static str),
    /// Shown in this report by this many devices with different MACs on
    /// one segment.
    Shared { devices: usize, interface: String },
}

impl Unusable {
    /// Why, as a person reads it.
    pub fn says(&self) -> Says {
        match self {
            Unusable::Placeholder(source) => {
                Says::of(Text::UnusablePlaceholder).with("source", *source)
            }
            Unusable::Shared { devices, interface } => Says::of(Text::UnusableShared)
                .value("devices", devices)
                .with("interface", interface.as_str()),
        }
    }
}

fn table() -> &'static BTreeMap<(KeyKind, String), &'static str> {
    static TABLE: OnceLock<BTreeMap<(KeyKind, String), &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/placeholder-identities.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut fields = l.split('\t');
                let kind = KeyKind::from_name(fields.next()?)?;
                let value = fields.next()?.trim().to_lowercase();
                Some(((kind, value), fields.next().unwrap_or("")))
            })
            .collect()
    })
}

/// Whether `key` is a default value rather than this device's own.
pub fn placeholder(key: &Key) -> Option<&'static str> {
    let value = key.value.trim().to_lowercase();
    // Serial numbers are kept as `maker/serial`: the serial decides.
    let value = match key.kind {
        KeyKind::SerialNumber => value
            .split_once('/')
            .map_or(value.clone(), |(_, s)| s.trim().to_owned()),
        _ => value,
    };
    if let Some(source) = table().get(&(key.kind, value.clone())) {
        return Some(source);
    }
    if key.kind == KeyKind::SerialNumber && filler_serial(&value) {
        return Some("a serial of one repeated character or counting digits");
    }
    None
}

/// `00000000`, `xxxxxx`, `12345678`, `0123456789`, or nothing at all.
fn filler_serial(serial: &str) -> bool {
    let chars: Vec<char> = serial
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.'))
        .collect();
    let Some(first) = chars.first() else {
        return true;
    };
    let repeated = chars.iter().all(|c| c == first);
    let counting = chars.len() >= 6
        && chars.windows(2).all(|w| {
            w[0].to_digit(10)
                .zip(w[1].to_digit(10))
                .is_some_and(|(a, b)| (a + 1) % 10 == b)
        });
    repeated || counting
}

/// Moves every key of `candidates` that cannot identify — a placeholder, or
/// one that two candidates with different MACs show on one interface —
/// from `keys` to `unusable`. MAC keys are not checked for sharing: one MAC
/// at many addresses is one device answering for them (proxy ARP).
pub fn set_aside(candidates: &mut [Candidate]) {
    // key -> interface -> the MAC sets of the candidates showing it
    let mut seen: BTreeMap<Key, BTreeMap<String, Vec<BTreeSet<Key>>>> = BTreeMap::new();
    for candidate in candidates.iter() {
        let macs: BTreeSet<Key> = candidate
            .keys
            .iter()
            .filter(|k| k.kind == KeyKind::Mac)
            .cloned()
            .collect();
        if macs.is_empty() {
            continue;
        }
        for key in candidate.keys.iter().filter(|k| k.kind != KeyKind::Mac) {
            seen.entry(key.clone())
                .or_default()
                .entry(candidate.interface.clone())
                .or_default()
                .push(macs.clone());
        }
    }
    let mut shared: BTreeMap<Key, Unusable> = BTreeMap::new();
    for (key, interfaces) in seen {
        for (interface, mac_sets) in interfaces {
            // Two candidates with no MAC in common are two devices.
            let devices = distinct_devices(&mac_sets);
            if devices >= 2 {
                shared.insert(key.clone(), Unusable::Shared { devices, interface });
                break;
            }
        }
    }
    for candidate in candidates.iter_mut() {
        let keys = std::mem::take(&mut candidate.keys);
        for key in keys {
            let why = placeholder(&key)
                .map(Unusable::Placeholder)
                .or_else(|| shared.get(&key).cloned());
            match why {
                Some(why) => candidate.unusable.push((key, why)),
                None => {
                    candidate.keys.insert(key);
                }
            }
        }
    }
}

/// How many of these MAC sets have no MAC in common with each other
/// (groups joined by any shared MAC count once).
fn distinct_devices(mac_sets: &[BTreeSet<Key>]) -> usize {
    let mut groups: Vec<BTreeSet<Key>> = Vec::new();
    for set in mac_sets {
        let (mut joined, rest): (Vec<_>, Vec<_>) =
            groups.into_iter().partition(|g| !g.is_disjoint(set));
        let mut merged = set.clone();
        for group in joined.drain(..) {
            merged.extend(group);
        }
        groups = rest;
        groups.push(merged);
    }
    groups.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: KeyKind, value: &str) -> Key {
        Key::new(kind, value).unwrap()
    }

    #[test]
    fn defaults_are_placeholders_and_real_values_are_not() {
        let nil = key(
            KeyKind::UpnpUdn,
            "uuid:00000000-0000-0000-0000-000000000000",
        );
        assert!(placeholder(&nil).is_some());
        assert!(
            placeholder(&key(
                KeyKind::UpnpUdn,
                "uuid:e205ebcb-a494-458e-a38c-23f52aef4356"
            ))
            .is_none()
        );
        for serial in [
            "Acme/00000000",
            "Acme/0123456789",
            "Acme/12345678",
            "Acme/To be filled by O.E.M.",
            "Acme/N/A",
            "Acme/XXXXXXXX",
        ] {
            assert!(
                placeholder(&key(KeyKind::SerialNumber, serial)).is_some(),
                "{serial}"
            );
        }
        for serial in ["Ricoh/3100R123456", "Dell/7XK2M93", "Acme/10203040"] {
            assert!(
                placeholder(&key(KeyKind::SerialNumber, serial)).is_none(),
                "{serial}"
            );
        }
        assert!(placeholder(&key(KeyKind::Mac, "00:00:00:00:00:00")).is_some());
    }
}
