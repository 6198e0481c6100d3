//! Declared rows matched to discovered devices, and what differs.
//!
//! A row matches a device by MAC address, else serial number, else computer
//! name; the IP address is the weakest key (DHCP moves it), used last and
//! said so. Each difference is an item with a short stable id (`U12`,
//! `M001`, `C12-ip`, `C12-leg-198.18.2.33`, `F12-dual_homed`) that staff
//! settle with accept or ignore; an ignored item stays hidden while its
//! facts stay the same (its fingerprint).
//!
//! A flag (2-(2)) is never accepted or ignored: it is settled as
//! sanctioned remote maintenance (maintainer and connection method; the
//! row says リモートメンテナンス 有), as removed (it stays open until a scan no
//! longer sees it), or as a false finding (hidden until its evidence
//! changes).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use daicho_report::{Lang, Param, Says, Text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{DeclaredRow, Field, Ledger};

/// A device of the discovered ledger, as the diff needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    pub id: i64,
    pub name: Option<String>,
    /// Every name probes gave (NetBIOS, mDNS, sysName).
    pub names: Vec<String>,
    pub macs: Vec<String>,
    pub ips: Vec<IpAddr>,
    /// Its current interfaces, newest first.
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    pub maker: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    /// 種別 as the ledger writes it (端末PC, プリンタ, 医療機器 …), identified.
    #[serde(default)]
    pub kind: Option<String>,
    pub last_seen: jiff::Timestamp,
    /// Findings (dual-homed, mobile router, remote access) about it.
    pub flags: Vec<Flag>,
    /// The switch port it is plugged into, from the switches' forwarding
    /// tables (#17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<daicho_place::Placement>,
    /// The ports of its other interfaces (a dual-homed host's other legs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_ports: Vec<daicho_place::Placement>,
    /// The room the site's rooms file maps that port to: the only
    /// 設置場所 the diff claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

impl Discovered {
    /// Where to find it: the mapped room, else the switch port (a
    /// suggestion for 設置場所, not a claim).
    pub fn suggested_location(&self) -> Option<String> {
        let port = self.port.as_ref()?.describe();
        Some(match &self.room {
            Some(room) => format!("{room} ({port})"),
            None => port,
        })
    }
}

/// One interface of a device: an address, the MAC it answered with, and
/// the segment (agent and interface) it was seen on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub ip: IpAddr,
    pub mac: Option<String>,
    pub segment: String,
}

/// A finding about a device, for the diff and the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// `dual_homed`, `mobile_router`, `remote_access`.
    pub kind: String,
    pub summary: Says,
    pub evidence: Vec<Says>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Mac,
    Serial,
    ComputerName,
    /// Only the IP address agreed: the weakest match.
    Ip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// On the network, not in the ledger.
    Undeclared,
    /// In the ledger as in use, not seen for the configured days.
    Missing,
    /// A column differs from what was discovered.
    Changed,
    /// Dual-homed, mobile router or remote access (checklist 2-(2)).
    Flagged,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    /// Index of the declared row in the ledger's devices.
    pub row: Option<usize>,
    /// The row's 管理番号 (or computer name).
    pub row_label: Option<String>,
    pub device: Option<i64>,
    pub device_name: Option<String>,
    pub matched_by: Option<MatchedBy>,
    pub field: Option<Field>,
    pub declared: Option<String>,
    pub discovered: Option<String>,
    /// For flagged items: the finding's kind.
    pub flag: Option<String>,
    /// For flagged items: whether the ledger declares remote maintenance.
    pub remote_maintenance_declared: Option<bool>,
    /// The decision that settled it, or (removed) that it waits on.
    pub settlement: Option<Settlement>,
    /// For a changed item about an interface the row lacks: that interface
    /// (accepting adds its address and MAC to the row).
    pub leg: Option<Interface>,
    /// Where the device is plugged in (the switch port, or the room the
    /// site maps it to), shown beside the ledger's 設置場所. Not part of the
    /// fingerprint: a device moving does not reopen an ignored item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What differs, rendered in the reader's language.
    pub detail: Says,
    pub evidence: Vec<Says>,
    /// Changes when the facts behind the item change.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffOptions {
    pub now: jiff::Timestamp,
    /// A row in use not seen for longer than this is missing.
    pub missing_after_days: i64,
    /// Networks the agents exclude (fragile devices): a row whose addresses
    /// all lie there is not looked for, so it is never missing.
    pub not_scanned: Vec<ipnet::IpNet>,
}

/// The differences, and the matches they rest on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// Open items (not settled).
    pub items: Vec<Item>,
    /// Items an `ignore` (or a flag's false finding) hides while their
    /// facts stay the same.
    pub ignored: Vec<Item>,
    /// Flags settled as sanctioned remote maintenance (the 2-② register).
    pub sanctioned: Vec<Item>,
    /// (row index, device id, how).
    pub matches: Vec<(usize, i64, MatchedBy)>,
}

impl Diff {
    /// How many items of `kind` are open.
    pub fn open(&self, kind: ItemKind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementAction {
    Accept,
    Ignore,
    /// A flag: the device is used for remote maintenance, knowingly.
    Sanctioned,
    /// A flag: the device was removed or disconnected; the item stays open
    /// until a scan no longer sees it.
    Removed,
    /// A flag: the finding is wrong; it comes back if the evidence changes.
    FalseFinding,
}

impl SettlementAction {
    /// The actions an item of this kind is settled with: a flag never by
    /// accept or ignore (accepting must not silently sanction it).
    pub fn allowed(kind: ItemKind) -> &'static [SettlementAction] {
        match kind {
            ItemKind::Flagged => &[
                SettlementAction::Sanctioned,
                SettlementAction::Removed,
                SettlementAction::FalseFinding,
            ],
            _ => &[SettlementAction::Accept, SettlementAction::Ignore],
        }
    }

    /// The name stored and used on the command line and in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementAction::Accept => "accept",
            SettlementAction::Ignore => "ignore",
            SettlementAction::Sanctioned => "sanctioned",
            SettlementAction::Removed => "removed",
            SettlementAction::FalseFinding => "false_finding",
        }
    }

    /// What the decision did, as people read it (the audit log says it
    /// from the stored name, `settle_` + [`Self::as_str`]).
    pub fn label(self, lang: Lang) -> String {
        Says::named("settle", self.as_str()).render(lang)
    }

    pub fn from_name(name: &str) -> Option<SettlementAction> {
        [
            SettlementAction::Accept,
            SettlementAction::Ignore,
            SettlementAction::Sanctioned,
            SettlementAction::Removed,
            SettlementAction::FalseFinding,
        ]
        .into_iter()
        .find(|a| a.as_str() == name.replace('-', "_"))
    }
}

/// What sanctioned remote maintenance is: who maintains, how they connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteMaintenance {
    /// 保守事業者.
    pub maintainer: String,
    /// 接続方法.
    pub method: ConnectionMethod,
}

/// 接続方法: how a maintainer reaches the device (the checklist's 2-②).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionMethod {
    Vpn,
    LeasedLine,
    MobileRouter,
    Other,
}

impl ConnectionMethod {
    pub const ALL: [ConnectionMethod; 4] = [
        ConnectionMethod::Vpn,
        ConnectionMethod::LeasedLine,
        ConnectionMethod::MobileRouter,
        ConnectionMethod::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionMethod::Vpn => "vpn",
            ConnectionMethod::LeasedLine => "leased_line",
            ConnectionMethod::MobileRouter => "mobile_router",
            ConnectionMethod::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<ConnectionMethod> {
        ConnectionMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == name.replace('-', "_"))
    }

    /// Its name as people read it (the ledger's 説明 and the register
    /// write the Japanese).
    pub fn text(self) -> Text {
        match self {
            ConnectionMethod::Vpn => Text::MethodVpn,
            ConnectionMethod::LeasedLine => Text::MethodLeasedLine,
            ConnectionMethod::MobileRouter => Text::MethodMobileRouter,
            ConnectionMethod::Other => Text::MethodOther,
        }
    }

    pub fn label(self, lang: Lang) -> String {
        Says::of(self.text()).render(lang)
    }
}

/// A decision staff recorded about an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub item: String,
    pub action: SettlementAction,
    pub fingerprint: String,
    pub actor: String,
    pub note: String,
    pub at: String,
    /// For a sanctioned flag: who maintains and how.
    #[serde(default)]
    pub maintenance: Option<RemoteMaintenance>,
}

/// Matches the ledger's device rows to the discovered devices and lists the
/// differences; items ignored with the same fingerprint are set apart.
pub fn diff(
    ledger: &Ledger,
    discovered: &[Discovered],
    settlements: &[Settlement],
    options: &DiffOptions,
) -> Diff {
    let matches = match_rows(&ledger.devices, discovered);
    let by_device: BTreeMap<i64, (usize, MatchedBy)> =
        matches.iter().map(|(r, d, how)| (*d, (*r, *how))).collect();
    let by_row: BTreeMap<usize, (i64, MatchedBy)> =
        matches.iter().map(|(r, d, how)| (*r, (*d, *how))).collect();
    let seen_by_id: BTreeMap<i64, jiff::Timestamp> =
        discovered.iter().map(|d| (d.id, d.last_seen)).collect();
    let mut items = Vec::new();
    let missing_after = jiff::SignedDuration::from_hours(24 * options.missing_after_days);

    for device in discovered {
        let declared = by_device.get(&device.id);
        let row = declared.map(|(r, _)| &ledger.devices[*r]);
        if declared.is_none() {
            items.push(item(
                format!("U{}", device.id),
                ItemKind::Undeclared,
                None,
                Some(device),
                None,
                Says::of(Text::DiffUndeclared)
                    .value("id", device.id)
                    .with(
                        "name",
                        match device.name.as_deref() {
                            Some(name) => Param::from(name),
                            None => Text::NoName.into(),
                        },
                    )
                    .with("addresses", addresses(device)),
            ));
        }
        if let (Some((r, how)), Some(row)) = (declared, row) {
            for (field, declared_value, discovered_value) in changes(row, device, *how) {
                let mut changed = item(
                    format!("C{}-{}", device.id, field.id()),
                    ItemKind::Changed,
                    Some((*r, row)),
                    Some(device),
                    Some(*how),
                    Says::of(Text::DiffChanged)
                        .term("field", field.english(), field.header())
                        .with("row", row.label())
                        .with("declared", declared_value.as_str())
                        .with("discovered", discovered_value.as_str()),
                );
                changed.field = Some(field);
                changed.declared = Some(declared_value);
                changed.discovered = Some(discovered_value);
                items.push(changed);
            }
            for leg in legs(row, device) {
                let mac = leg.mac.as_deref().unwrap_or("-");
                let mut changed = item(
                    format!("C{}-leg-{}", device.id, leg.ip),
                    ItemKind::Changed,
                    Some((*r, row)),
                    Some(device),
                    Some(*how),
                    Says::of(Text::DiffOtherLeg)
                        .with("row", row.label())
                        .value("ip", leg.ip)
                        .with("mac", mac)
                        .with("segment", leg.segment.as_str()),
                );
                changed.field = Some(Field::Ip);
                changed.declared = row.get(Field::Ip).map(str::to_owned);
                changed.discovered = Some(leg.ip.to_string());
                changed.leg = Some(leg.clone());
                items.push(changed);
            }
        }
        for flag in &device.flags {
            let declared_remote = row.and_then(DeclaredRow::remote_maintenance);
            let said = match declared_remote {
                Some(true) => Text::DiffFlagDeclared,
                Some(false) => Text::DiffFlagNotDeclared,
                None => Text::DiffFlagUnsaid,
            };
            let mut flagged = item(
                format!("F{}-{}", device.id, flag.kind),
                ItemKind::Flagged,
                declared.map(|(r, _)| (*r, &ledger.devices[*r])),
                Some(device),
                declared.map(|(_, how)| *how),
                Says::of(said).with("finding", flag.summary.clone()),
            );
            flagged.flag = Some(flag.kind.clone());
            flagged.remote_maintenance_declared = declared_remote;
            flagged.evidence = flag.evidence.clone();
            flagged.fingerprint = fingerprint(&flagged);
            items.push(flagged);
        }
    }

    for (r, row) in ledger.devices.iter().enumerate() {
        let ips = row.ips();
        let unscanned = !ips.is_empty()
            && ips
                .iter()
                .all(|ip| options.not_scanned.iter().any(|n| n.contains(ip)));
        if !row.in_use() || unscanned {
            continue;
        }
        let last_seen = by_row.get(&r).and_then(|(d, _)| seen_by_id.get(d).copied());
        let stale = last_seen.is_none_or(|seen| options.now.duration_since(seen) > missing_after);
        if stale {
            let when = last_seen.map_or_else(
                || Says::of(Text::DiffNeverSeen),
                |t| Says::of(Text::DiffLastSeen).value("at", t),
            );
            items.push(item(
                format!(
                    "M{}",
                    row.get(Field::ManagementId)
                        .map_or_else(|| format!("row{}", r + 1), str::to_owned)
                ),
                ItemKind::Missing,
                Some((r, row)),
                None,
                None,
                Says::of(Text::DiffMissing)
                    .with("row", row.label())
                    .value("days", options.missing_after_days)
                    .with("when", when),
            ));
        }
    }

    settle_items(items, settlements, matches)
}

/// Sets settled items apart: the latest decision on each item counts. An
/// ignore or a false finding hides an item while its fingerprint is the
/// same; a sanctioned flag goes to the register; a flag reported removed
/// stays open, with the report, until a scan no longer sees it.
fn settle_items(
    items: Vec<Item>,
    settlements: &[Settlement],
    matches: Vec<(usize, i64, MatchedBy)>,
) -> Diff {
    let latest: BTreeMap<&str, &Settlement> =
        settlements.iter().map(|s| (s.item.as_str(), s)).collect();
    let mut diff = Diff {
        matches,
        ..Diff::default()
    };
    for mut item in items {
        let Some(settlement) = latest.get(item.id.as_str()).copied() else {
            diff.items.push(item);
            continue;
        };
        let same_facts = settlement.fingerprint == item.fingerprint;
        let flagged = item.kind == ItemKind::Flagged;
        item.settlement = Some(settlement.clone());
        match settlement.action {
            SettlementAction::Sanctioned if flagged => diff.sanctioned.push(item),
            SettlementAction::Ignore | SettlementAction::FalseFinding if same_facts => {
                diff.ignored.push(item)
            }
            SettlementAction::Removed if flagged => diff.items.push(item),
            _ => {
                item.settlement = None;
                diff.items.push(item);
            }
        }
    }
    diff
}

fn item(
    id: String,
    kind: ItemKind,
    row: Option<(usize, &DeclaredRow)>,
    device: Option<&Discovered>,
    matched_by: Option<MatchedBy>,
    detail: Says,
) -> Item {
    let mut item = Item {
        id,
        kind,
        row: row.map(|(r, _)| r),
        row_label: row.map(|(_, row)| row.label()),
        device: device.map(|d| d.id),
        device_name: device.and_then(|d| d.name.clone()),
        matched_by,
        field: None,
        declared: None,
        discovered: None,
        flag: None,
        remote_maintenance_declared: None,
        settlement: None,
        leg: None,
        location: device.and_then(Discovered::suggested_location),
        detail,
        evidence: Vec::new(),
        fingerprint: String::new(),
    };
    if matched_by == Some(MatchedBy::Ip) {
        item.detail = Says::of(Text::DiffMatchedByIp).with("detail", item.detail);
    }
    item.fingerprint = fingerprint(&item);
    item
}

/// The facts an item rests on, hashed: the detail text and a flag's
/// evidence (in any order) name them all. Hashed as English sentences, as
/// they were stored before texts were data, so settlements made then
/// still hold.
fn fingerprint(item: &Item) -> String {
    let mut text = format!("{}\n{}", item.id, item.detail.render(Lang::En));
    let evidence: BTreeSet<String> = item.evidence.iter().map(|e| e.render(Lang::En)).collect();
    for line in evidence {
        text.push('\n');
        text.push_str(&line);
    }
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn addresses(device: &Discovered) -> String {
    let ips: Vec<String> = device.ips.iter().map(IpAddr::to_string).collect();
    match (ips.is_empty(), device.macs.first()) {
        (false, _) => ips.join(", "),
        (true, Some(mac)) => mac.clone(),
        (true, None) => "-".into(),
    }
}

/// Each row to at most one device and back, strongest key first; among
/// devices that agree, the first in order. Indexed by key: a linear search
/// per row made 100,000 rows take minutes.
fn match_rows(rows: &[DeclaredRow], devices: &[Discovered]) -> Vec<(usize, i64, MatchedBy)> {
    // (how, the keys a device has, the keys a row has), as normalized text.
    type Keys<'a, T> = Box<dyn Fn(&'a T) -> Vec<String> + 'a>;
    let keys: [(MatchedBy, Keys<Discovered>, Keys<DeclaredRow>); 4] = [
        (
            MatchedBy::Mac,
            Box::new(|d| d.macs.clone()),
            Box::new(DeclaredRow::macs),
        ),
        (
            MatchedBy::Serial,
            Box::new(|d| d.serial.iter().map(|s| s.to_ascii_lowercase()).collect()),
            Box::new(|r| {
                r.get(Field::Serial)
                    .map(str::to_ascii_lowercase)
                    .into_iter()
                    .collect()
            }),
        ),
        (
            MatchedBy::ComputerName,
            Box::new(|d| d.names.iter().map(|n| short_name(n)).collect()),
            Box::new(|r| {
                r.get(Field::ComputerName)
                    .map(short_name)
                    .into_iter()
                    .collect()
            }),
        ),
        (
            MatchedBy::Ip,
            Box::new(|d| d.ips.iter().map(IpAddr::to_string).collect()),
            Box::new(|r| r.ips().iter().map(IpAddr::to_string).collect()),
        ),
    ];
    let mut matches = Vec::new();
    let mut taken_rows = BTreeSet::new();
    let mut taken_devices = BTreeSet::new();
    for (how, device_keys, row_keys) in &keys {
        let mut index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (n, device) in devices.iter().enumerate() {
            for key in device_keys(device).into_iter().filter(|k| !k.is_empty()) {
                index.entry(key).or_default().push(n);
            }
        }
        for (r, row) in rows.iter().enumerate() {
            if taken_rows.contains(&r) {
                continue;
            }
            let first = row_keys(row)
                .iter()
                .filter_map(|key| index.get(key))
                .filter_map(|candidates| {
                    candidates
                        .iter()
                        .copied()
                        .find(|n| !taken_devices.contains(&devices[*n].id))
                })
                .min();
            if let Some(n) = first {
                taken_rows.insert(r);
                taken_devices.insert(devices[n].id);
                matches.push((r, devices[n].id, *how));
            }
        }
    }
    matches.sort();
    matches
}

/// Host names compare without case and without a DNS suffix.
fn same_name(a: &str, b: &str) -> bool {
    short_name(a) == short_name(b)
}

/// "ROOM1-PC.hospital.local." → "room1-pc".
fn short_name(name: &str) -> String {
    name.trim()
        .trim_end_matches('.')
        .split('.')
        .next()
        .unwrap_or("")
        .to_lowercase()
}

/// Loose text comparison for makers, models and OS names: one contains the
/// other once case, spaces and the usual long forms are set aside
/// ("Win11" and "Windows 11 Pro", "A社" and "A").
fn similar(declared: &str, discovered: &str) -> bool {
    let norm = |s: &str| {
        let mut s = s.to_lowercase();
        // The aliases are Japanese names (a test keeps it so): plain ASCII
        // text has none of them, and skipping them cut the diff at 100,000
        // rows from 2.0 s to 0.8 s.
        if !s.is_ascii() {
            for (japanese, english) in maker_aliases() {
                if s.contains(japanese) {
                    s = s.replace(japanese, english);
                }
            }
        }
        s.replace("windows", "win")
            .replace("microsoft", "")
            .replace("株式会社", "")
            .replace("社", "")
            .replace(['(', ')', '（', '）', ',', '.'], "")
            .split_whitespace()
            .collect::<String>()
    };
    let (a, b) = (norm(declared), norm(discovered));
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
}

/// data/maker-aliases.tsv: (Japanese, English) maker names.
fn maker_aliases() -> impl Iterator<Item = (&'static str, &'static str)> {
    include_str!("../data/maker-aliases.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
}

/// data/kind-words.tsv: (word in lower case, ledger kind).
fn kind_words() -> &'static [(String, String)] {
    static WORDS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("../data/kind-words.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(word, kind)| (word.to_lowercase(), kind.trim().to_owned()))
            .collect()
    })
}

/// The ledger kind a 種別 cell names, by the longest word of
/// data/kind-words.tsv in it ("L2SW（外来）" → ネットワーク機器), if any.
fn ledger_kind_of(cell: &str) -> Option<&'static str> {
    use unicode_normalization::UnicodeNormalization;
    let cell: String = cell.nfkc().collect::<String>().to_lowercase();
    kind_words()
        .iter()
        .filter(|(word, _)| cell.contains(word.as_str()))
        .max_by_key(|(word, _)| word.chars().count())
        .map(|(_, kind)| kind.as_str())
}

/// Whether the declared 種別 and the identified one disagree: both known,
/// neither the other's broader class (a mobile router is network
/// equipment), and the identified one more than その他.
fn kinds_disagree(declared: &str, discovered: &str) -> bool {
    const NETWORK: &str = "ネットワーク機器";
    const MOBILE_ROUTER: &str = "モバイルルータ";
    let Some(declared) = ledger_kind_of(declared) else {
        return false;
    };
    let within = |a: &str, b: &str| a == b || (a == MOBILE_ROUTER && b == NETWORK);
    discovered != "その他" && !within(declared, discovered) && !within(discovered, declared)
}

/// (field, declared, discovered) for each column that differs.
fn changes(row: &DeclaredRow, device: &Discovered, how: MatchedBy) -> Vec<(Field, String, String)> {
    let mut changed = Vec::new();
    let declared_ips = row.ips();
    if !declared_ips.is_empty()
        && !device.ips.is_empty()
        && !declared_ips.iter().any(|ip| device.ips.contains(ip))
    {
        changed.push((
            Field::Ip,
            row.get(Field::Ip).unwrap_or_default().to_owned(),
            device
                .ips
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(name) = row.get(Field::ComputerName)
        && how != MatchedBy::ComputerName
        && !device.names.is_empty()
        && !device.names.iter().any(|n| same_name(n, name))
    {
        changed.push((
            Field::ComputerName,
            name.to_owned(),
            device.names.join(", "),
        ));
    }
    let declared_macs = row.macs();
    if !declared_macs.is_empty()
        && !device.macs.is_empty()
        && !device.macs.iter().any(|m| declared_macs.contains(m))
    {
        changed.push((
            Field::Mac,
            row.get(Field::Mac).unwrap_or_default().to_owned(),
            device.macs.join(", "),
        ));
    }
    for (field, discovered) in [
        (Field::Os, &device.os),
        (Field::Maker, &device.maker),
        (Field::Model, &device.model),
        (Field::Serial, &device.serial),
    ] {
        if let (Some(declared), Some(discovered)) = (row.get(field), discovered)
            && !similar(declared, discovered)
        {
            changed.push((field, declared.to_owned(), discovered.clone()));
        }
    }
    if let (Some(declared), Some(discovered)) = (row.get(Field::Kind), &device.kind)
        && kinds_disagree(declared, discovered)
    {
        changed.push((Field::Kind, declared.to_owned(), discovered.clone()));
    }
    // Only a room the site mapped the port to is a claim; a bare port is
    // a suggestion shown beside the row.
    if let Some(room) = &device.room {
        let declared = row.get(Field::Location).unwrap_or_default();
        if !similar(declared, room) {
            changed.push((Field::Location, declared.to_owned(), room.clone()));
        }
    }
    changed
}

/// The interfaces of a matched device the row does not list: on each
/// segment where none of the row's addresses was seen, the newest address
/// (an older one there is DHCP's history, not another leg). Only when the
/// row lists one of the device's addresses — else the IP column changed.
fn legs<'a>(row: &DeclaredRow, device: &'a Discovered) -> Vec<&'a Interface> {
    let declared = row.ips();
    let listed: BTreeSet<&str> = device
        .interfaces
        .iter()
        .filter(|i| declared.contains(&i.ip))
        .map(|i| i.segment.as_str())
        .collect();
    if listed.is_empty() {
        return Vec::new();
    }
    let mut segments = BTreeSet::new();
    device
        .interfaces
        .iter()
        .filter(|i| !listed.contains(i.segment.as_str()) && segments.insert(i.segment.as_str()))
        .collect()
}

/// The ledger after accepting `item`: a changed column takes the discovered
/// value, an interface the row lacks is added to it, an undeclared device
/// gets a row, a missing one is marked 停止. A flag is not accepted
/// ([`sanction`] records remote maintenance). Each touched row's 説明 notes
/// who accepted what.
pub fn accept(
    ledger: &Ledger,
    item: &Item,
    discovered: &[Discovered],
    actor: &str,
    today: jiff::civil::Date,
) -> Ledger {
    let note = format!(
        "daicho {}: {} ({actor})",
        today.strftime("%Y/%m/%d"),
        item.id
    );
    edit_row(ledger, item, discovered, today, note, |row| {
        match item.kind {
            ItemKind::Changed => {
                if let Some(leg) = &item.leg {
                    row.add_to_list(Field::Ip, &leg.ip.to_string());
                    if let Some(mac) = &leg.mac {
                        row.add_to_list(Field::Mac, mac);
                    }
                } else if let (Some(field), Some(value)) = (item.field, &item.discovered) {
                    row.set(field, value.clone());
                }
            }
            ItemKind::Missing => row.set(Field::Status, "停止"),
            ItemKind::Flagged | ItemKind::Undeclared => {}
        }
    })
}

/// The ledger after settling the flag `item` as sanctioned remote
/// maintenance: its row (added if the device has none) says
/// リモートメンテナンス 有 and names the maintainer; 説明 notes how they
/// connect, who settled it and when.
pub fn sanction(
    ledger: &Ledger,
    item: &Item,
    discovered: &[Discovered],
    maintenance: &RemoteMaintenance,
    actor: &str,
    today: jiff::civil::Date,
) -> Ledger {
    let note = format!(
        "daicho {}: {} リモートメンテナンス（{}、{}）({actor})",
        today.strftime("%Y/%m/%d"),
        item.id,
        maintenance.maintainer,
        maintenance.method.label(Lang::Ja)
    );
    edit_row(ledger, item, discovered, today, note, |row| {
        row.set(Field::RemoteMaintenance, "有");
        row.set(Field::Maintainer, maintenance.maintainer.clone());
    })
}

/// The ledger with `edit` applied to the item's row (a new row for a
/// device the ledger lacks) and `note` added to the row's 説明.
fn edit_row(
    ledger: &Ledger,
    item: &Item,
    discovered: &[Discovered],
    today: jiff::civil::Date,
    note: String,
    edit: impl FnOnce(&mut DeclaredRow),
) -> Ledger {
    let mut ledger = ledger.clone();
    let device = item
        .device
        .and_then(|id| discovered.iter().find(|d| d.id == id));
    let row = match (item.row, device) {
        (Some(r), _) => &mut ledger.devices[r],
        (None, Some(device)) => {
            let row = row_for(&ledger, device, today);
            ledger.devices.push(row);
            ledger.devices.last_mut().expect("just pushed")
        }
        (None, None) => return ledger,
    };
    edit(row);
    let description = match row.get(Field::Description) {
        Some(old) => format!("{old}\n{note}"),
        None => note,
    };
    row.set(Field::Description, description);
    ledger
}

/// data/management-id-prefixes.tsv: (種別, 管理番号 prefix), the last row
/// for any other 種別.
fn management_id_prefixes() -> &'static [(String, String)] {
    static TABLE: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/management-id-prefixes.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (kind, prefix) = l.split_once('\t')?;
                Some((kind.trim().to_owned(), prefix.trim().to_owned()))
            })
            .collect()
    })
}

/// The next free 管理番号 for a device of `kind`: its prefix and one more
/// than the highest number the ledger gives that prefix, as wide as the
/// widest (PC-033 → PC-034; the first is PC-001).
fn next_management_id(ledger: &Ledger, kind: Option<&str>) -> String {
    let table = management_id_prefixes();
    let prefix = kind
        .and_then(|k| table.iter().find(|(kind, _)| kind == k))
        .or(table.last())
        .map_or("DEV-", |(_, prefix)| prefix.as_str());
    let numbers: Vec<&str> = ledger
        .devices
        .iter()
        .filter_map(|row| row.get(Field::ManagementId)?.strip_prefix(prefix))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let width = numbers.iter().map(|n| n.len()).max().unwrap_or(3);
    let next = numbers
        .iter()
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
        .map_or(1, |n| n + 1);
    format!("{prefix}{next:0width$}")
}

/// A new ledger row from what was discovered, numbered by the site's rule.
fn row_for(ledger: &Ledger, device: &Discovered, today: jiff::civil::Date) -> DeclaredRow {
    let mut row = DeclaredRow::default();
    row.set(
        Field::ManagementId,
        next_management_id(ledger, device.kind.as_deref()),
    );
    let mut set = |field, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            row.set(field, value);
        }
    };
    set(Field::ComputerName, device.name.clone());
    set(
        Field::Ip,
        Some(
            device
                .ips
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    set(Field::Mac, Some(device.macs.join(", ")));
    set(Field::Maker, device.maker.clone());
    set(Field::Model, device.model.clone());
    set(Field::Serial, device.serial.clone());
    set(Field::Os, device.os.clone());
    set(Field::Kind, device.kind.clone());
    set(Field::Location, device.suggested_location());
    set(
        Field::Registered,
        Some(today.strftime("%Y/%m/%d").to_string()),
    );
    set(Field::Status, Some("稼働".into()));
    row
}

/// What the network shows for the declared rows' columns, for the
/// workbook: an empty cell the matched device has a value for (its OS,
/// maker, model, serial, 種別, name, address, MAC, the room its port is in),
/// and each open changed item's value.
pub fn found_cells(ledger: &Ledger, diff: &Diff, discovered: &[Discovered]) -> crate::FoundCells {
    let mut found = crate::FoundCells::new();
    for (row, device, _) in &diff.matches {
        let (Some(declared), Some(device)) = (
            ledger.devices.get(*row),
            discovered.iter().find(|d| d.id == *device),
        ) else {
            continue;
        };
        let ips: Vec<String> = device.ips.iter().map(IpAddr::to_string).collect();
        for (field, value) in [
            (Field::Os, device.os.clone()),
            (Field::Maker, device.maker.clone()),
            (Field::Model, device.model.clone()),
            (Field::Serial, device.serial.clone()),
            (Field::Kind, device.kind.clone()),
            (Field::ComputerName, device.names.first().cloned()),
            (Field::Ip, (!ips.is_empty()).then(|| ips.join(", "))),
            (Field::Mac, device.macs.first().cloned()),
            (Field::Location, device.room.clone()),
        ] {
            if let Some(value) = value.filter(|v| !v.trim().is_empty())
                && declared.get(field).is_none()
            {
                found.insert((*row, field), crate::Found::Filled(value));
            }
        }
    }
    for item in diff
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Changed && i.leg.is_none())
    {
        if let (Some(row), Some(field), Some(value)) = (item.row, item.field, &item.discovered)
            && item
                .declared
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty())
        {
            found.insert((row, field), crate::Found::Differs(value.clone()));
        }
    }
    found
}

#[cfg(test)]
mod alias_tests {
    #[test]
    fn every_alias_is_a_japanese_name_so_ascii_text_can_skip_them() {
        for (japanese, _) in super::maker_aliases() {
            assert!(
                !japanese.is_ascii(),
                "{japanese:?}: similar() skips aliases for ASCII text"
            );
        }
        assert!(super::similar("富士通", "FUJITSU LIMITED"));
        assert!(super::similar("Win11", "Windows 11 Pro"));
    }
}
