//! The declared ledger against the discovered one: reads both from the
//! store, attaches the 2-(2) findings (detection across every agent's latest
//! report) to their devices, and runs the diff. Used by the command line and
//! the report; settling an item stores the decision and, for an accept, the
//! updated ledger, in one transaction.

use std::net::IpAddr;

use anyhow::Context;
use daicho_ledger::{
    Coverage, Diff, DiffOptions, Discovered, Flag, Interface, Item, Ledger, RemoteMaintenance,
    Settlement, SettlementAction,
};
use daicho_report::{FindingKind, Report};
use daicho_store::{LedgerVersion, NewVersion, SettlementRow, Store};

/// Addresses a device had within this long of its last sighting are its
/// current ones (older ones were DHCP's).
const CURRENT_ADDRESS_DAYS: i64 = 7;

/// Everything a diff or a report needs.
pub struct Reconciliation {
    pub ledger: Ledger,
    pub version: Option<LedgerVersion>,
    pub discovered: Vec<Discovered>,
    pub settlements: Vec<Settlement>,
    pub diff: Diff,
    pub coverage: Vec<Coverage>,
    /// Each agent's segments: ("agent interface", networks).
    pub segments: Vec<(String, Vec<ipnet::Ipv4Net>)>,
    /// Detection across every agent's latest report.
    pub findings: Vec<daicho_report::Finding>,
    /// Where every MAC behind a switch that answered SNMP is plugged in,
    /// and the links between the switches.
    pub topology: daicho_place::Topology,
    /// What each agent excludes from scanning, with the declared rows there.
    pub unchecked: Vec<daicho_ledger::Unchecked>,
}

/// Each agent's excluded networks (fragile devices, never probed) with the
/// declared rows whose addresses lie there: checked by hand, not by daicho.
fn unchecked_of(reports: &[Report], ledger: &Ledger) -> Vec<daicho_ledger::Unchecked> {
    reports
        .iter()
        .flat_map(|r| {
            r.segments
                .iter()
                .flat_map(move |s| s.excluded.iter().map(move |net| (r, net)))
        })
        .map(|(r, net)| daicho_ledger::Unchecked {
            agent: r.agent.id.clone(),
            network: net.to_string(),
            rows: ledger
                .devices
                .iter()
                .filter(|row| row.ips().iter().any(|ip| net.contains(ip)))
                .map(|row| match row.get(daicho_ledger::Field::Kind) {
                    Some(kind) => format!("{} ({kind})", row.label()),
                    None => row.label(),
                })
                .collect(),
        })
        .collect()
}

/// A switch that answered its forwarding table, where it was seen.
struct SwitchSeen {
    ip: Option<IpAddr>,
    mac: Option<daicho_report::MacAddr>,
    facts: daicho_report::SnmpFacts,
}

/// What placing devices needs of the latest reports (kept: the reports
/// are dropped before the diff).
#[derive(Default)]
struct Switches {
    seen: Vec<SwitchSeen>,
    /// The MAC each address answered with, per segment ("agent
    /// interface", as the devices' interfaces name it; two segments may
    /// reuse an address): a device whose MAC the ledger keeps no identity
    /// of (a randomized one) is still found in the forwarding tables by it.
    answered: std::collections::HashMap<(String, IpAddr), daicho_report::MacAddr>,
}

fn switches_of(reports: &[Report]) -> Switches {
    let mut switches = Switches::default();
    for (r, o) in reports
        .iter()
        .flat_map(|r| r.observations.iter().map(move |o| (r, o)))
    {
        if let Some(facts) = o.snmp.as_deref().filter(|s| !s.fdb.is_empty()) {
            switches.seen.push(SwitchSeen {
                ip: o.ip,
                mac: o.mac,
                facts: facts.clone(),
            });
        }
        // An ARP-flux answer is another network's address, not the MAC's.
        if let (Some(ip), Some(mac)) = (o.ip, o.mac)
            && !o.flags.contains(&daicho_report::Flag::ArpFlux)
        {
            let segment = format!("{} {}", r.agent.id, o.interface);
            switches.answered.insert((segment, ip), mac);
        }
    }
    if switches.seen.is_empty() {
        switches.answered.clear();
    }
    switches
}

/// Places every device behind the switches on its port, and the port in
/// the site's room where the rooms file says.
fn place_devices(
    now: &Switches,
    before: &Switches,
    discovered: &mut [Discovered],
    rooms: &daicho_place::Rooms,
) -> daicho_place::Topology {
    let mut topology = topology_of(now, discovered);
    daicho_place::mark_moves(&mut topology, &topology_of(before, discovered));
    for device in discovered.iter_mut() {
        // Each MAC of the device (a dual-homed PC has one per leg), each
        // placed once: the first is its port, the others its other legs'.
        let mut macs: Vec<daicho_report::MacAddr> = device
            .macs
            .iter()
            .filter_map(|m| m.parse::<daicho_report::MacAddr>().ok())
            .chain(
                device
                    .interfaces
                    .iter()
                    .filter_map(|i| now.answered.get(&(i.segment.clone(), i.ip)).copied()),
            )
            .collect();
        let mut seen = std::collections::HashSet::new();
        macs.retain(|m| seen.insert(*m));
        let mut placements = macs.iter().filter_map(|m| topology.placements.get(m));
        if let Some(placement) = placements.next() {
            device.room = rooms.room_of(&placement.port).map(str::to_owned);
            device.port = Some(placement.clone());
        }
        device.other_ports = placements.cloned().collect();
    }
    topology
}

/// The switches' forwarding tables placed, each switch named by its
/// device in the ledger.
fn topology_of(switches: &Switches, discovered: &[Discovered]) -> daicho_place::Topology {
    let switches = &switches.seen;
    let wanted_ips: std::collections::HashSet<IpAddr> =
        switches.iter().filter_map(|s| s.ip).collect();
    let wanted_macs: std::collections::HashSet<String> = switches
        .iter()
        .filter_map(|s| s.mac.map(|m| m.to_string()))
        .collect();
    let mut by_ip = std::collections::HashMap::new();
    let mut by_mac = std::collections::HashMap::new();
    for d in discovered.iter() {
        for ip in d.ips.iter().filter(|ip| wanted_ips.contains(ip)) {
            by_ip.entry(*ip).or_insert(d.id);
        }
        for mac in &d.macs {
            let mac = mac.to_lowercase();
            if wanted_macs.contains(&mac) {
                by_mac.entry(mac).or_insert(d.id);
            }
        }
    }
    // A switch the ledger has no device for still places what is behind
    // it; its id is then only its place in this list, negated.
    let ids: Vec<(i64, &daicho_report::SnmpFacts)> = switches
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let id =
                s.ip.and_then(|ip| by_ip.get(&ip))
                    .or_else(|| s.mac.and_then(|m| by_mac.get(&m.to_string())))
                    .copied()
                    .unwrap_or(-(n as i64) - 1);
            (id, &s.facts)
        })
        .collect();
    daicho_place::place(&ids, &daicho_place::Policy::default())
}

/// Detection across these reports (each agent's latest), with the built-in
/// fingerprint tables: the one place the API, the command line and the
/// pages get their findings from.
pub fn findings_of(reports: &[Report]) -> Vec<daicho_report::Finding> {
    let reports: Vec<&Report> = reports.iter().collect();
    daicho_detect::detect(&reports, fingerprints())
}

/// The built-in tables, read once.
fn fingerprints() -> &'static daicho_detect::Fingerprints {
    static TABLES: std::sync::OnceLock<daicho_detect::Fingerprints> = std::sync::OnceLock::new();
    TABLES.get_or_init(daicho_detect::Fingerprints::builtin)
}

/// Every agent's latest report and the findings across them.
pub async fn latest_findings(
    store: &Store,
) -> Result<(Vec<Report>, Vec<daicho_report::Finding>), daicho_store::StoreError> {
    let reports = store.latest_reports().await?;
    let findings = findings_of(&reports);
    Ok((reports, findings))
}

/// The last reconciliation, reused while nothing it depends on changed
/// (no report, settlement or ledger version since) for at most
/// [`Cache::FRESH`] — "missing" and "overdue" depend on the clock. At
/// 100,000 devices one reconciliation takes seconds.
#[derive(Default)]
pub struct Cache {
    last: std::sync::Mutex<Option<Cached>>,
}

/// A reconciliation with the store generation it was made at, and when.
type Cached = (
    (i64, i64, i64),
    std::time::Instant,
    std::sync::Arc<Reconciliation>,
);

impl Cache {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(60);

    /// The reconciliation now: the cached one if still fresh, else a new one.
    pub async fn get(
        &self,
        store: &Store,
        missing_after_days: i64,
        overdue_hours: i64,
    ) -> anyhow::Result<std::sync::Arc<Reconciliation>> {
        let generation = store.generation().await?;
        if let Some((g, at, r)) = self.last.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *g == generation
            && at.elapsed() < Cache::FRESH
        {
            return Ok(std::sync::Arc::clone(r));
        }
        let r = std::sync::Arc::new(reconcile(store, missing_after_days, overdue_hours).await?);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            generation,
            std::time::Instant::now(),
            std::sync::Arc::clone(&r),
        ));
        Ok(r)
    }
}

pub async fn reconcile(
    store: &Store,
    missing_after_days: i64,
    overdue_hours: i64,
) -> anyhow::Result<Reconciliation> {
    let (version, mut ledger) = match store.latest_ledger().await? {
        Some((version, rows)) => (Some(version), ledger_from_rows(&rows)?),
        None => (None, Ledger::default()),
    };
    // 最終更新日 / 最終更新者 above the exported table: the version's.
    ledger.updated = version.as_ref().map(|v| daicho_ledger::Updated {
        date: crate::site::japanese_date(&v.at),
        by: v.actor.clone(),
    });
    let reports = store.latest_reports().await?;
    let findings = findings_of(&reports);
    let now = jiff::Timestamp::now();
    let not_scanned = reports
        .iter()
        .flat_map(|r| r.segments.iter().flat_map(|s| s.excluded.iter().copied()))
        .collect();
    let coverage = reports
        .iter()
        .map(|r| Coverage {
            agent: r.agent.id.clone(),
            segments: r
                .segments
                .iter()
                .map(|s| {
                    let networks: Vec<String> =
                        s.networks.iter().map(ToString::to_string).collect();
                    format!("{} {}", s.interface, networks.join(" "))
                })
                .collect::<Vec<_>>()
                .join(", "),
            last_report: crate::site::local(r.finished_at),
            overdue: now.duration_since(r.finished_at)
                > jiff::SignedDuration::from_hours(overdue_hours),
        })
        .collect();
    let segments = reports
        .iter()
        .flat_map(|r| {
            r.segments.iter().map(|s| {
                (
                    format!("{} {}", r.agent.id, s.interface),
                    s.networks.clone(),
                )
            })
        })
        .collect();
    let switches = switches_of(&reports);
    let unchecked = unchecked_of(&reports, &ledger);
    // The previous report of each agent that asked switches: a device on
    // another port than then has moved.
    let asked: Vec<String> = reports
        .iter()
        .filter(|r| {
            r.observations
                .iter()
                .any(|o| o.snmp.as_ref().is_some_and(|s| !s.fdb.is_empty()))
        })
        .map(|r| r.agent.id.clone())
        .collect();
    let before = switches_of(&store.previous_reports(&asked).await?);
    // The reports are done with: at 100 agents they hold 200,000
    // observations, which need not share memory with the diff.
    drop(reports);
    let mut discovered = discovered(store.device_facts().await?, &findings);
    let topology = place_devices(&switches, &before, &mut discovered, crate::site::rooms());
    drop((switches, before));
    let settlements: Vec<Settlement> = store
        .settlements()
        .await?
        .into_iter()
        .map(settlement)
        .collect();
    let diff = daicho_ledger::diff(
        &ledger,
        &discovered,
        &settlements,
        &DiffOptions {
            now,
            missing_after_days,
            not_scanned,
        },
    );
    // Today's counts, for the dashboard's charts over time.
    store
        .record_counts(
            &crate::site::local_day(now),
            daicho_store::DayCounts {
                devices: discovered.len() as i64,
                undeclared: diff.open(daicho_ledger::ItemKind::Undeclared) as i64,
                flagged: diff.open(daicho_ledger::ItemKind::Flagged) as i64,
            },
        )
        .await?;
    Ok(Reconciliation {
        ledger,
        version,
        discovered,
        settlements,
        diff,
        coverage,
        segments,
        findings,
        topology,
        unchecked,
    })
}

/// The HTML report (one self-contained file) of a reconciliation.
pub fn report_html(
    state: &Reconciliation,
    inspection: &daicho_ledger::Inspection,
    lang: daicho_ledger::Lang,
    missing_after_days: i64,
) -> String {
    let ledger_version = state.version.as_ref().map(|v| {
        format!(
            "v{} — {} — {} ({})",
            v.id,
            crate::site::local_text(&v.at),
            v.source,
            v.actor
        )
    });
    daicho_ledger::render_html(
        &daicho_ledger::ReportInput {
            generated_at: crate::site::local(jiff::Timestamp::now()),
            ledger_version,
            devices_discovered: state.discovered.len(),
            devices_declared: state.ledger.devices.len(),
            missing_after_days,
            diff: &state.diff,
            coverage: &state.coverage,
            settlements: &state.settlements,
            site_name: crate::site::name(),
            unchecked: &state.unchecked,
            diagram: Some(&crate::diagram::svg(
                state,
                lang != daicho_ledger::Lang::En,
                None,
            )),
            inspection,
        },
        lang,
    )
}

/// Records staff's decision on an item; an accept or a sanctioned flag
/// also stores the ledger it makes. Returns what was done, for the
/// terminal. A flag is settled only as sanctioned (with `maintenance`),
/// removed or a false finding; anything else only by accept or ignore.
pub async fn settle(
    store: &Store,
    state: &Reconciliation,
    item_id: &str,
    action: SettlementAction,
    actor: &str,
    note: &str,
    maintenance: Option<RemoteMaintenance>,
) -> anyhow::Result<String> {
    let item: &Item = state
        .diff
        .items
        .iter()
        .find(|i| i.id.eq_ignore_ascii_case(item_id))
        .with_context(|| {
            format!(
                "no open item {item_id:?}; `daicho-collector diff` lists them\n\
                 未対応の項目 {item_id:?} はありません"
            )
        })?;
    let allowed = SettlementAction::allowed(item.kind);
    anyhow::ensure!(
        allowed.contains(&action),
        "{} cannot be settled with {}: use {} / {} は {} では処理できません（{} のいずれか）",
        item.id,
        action.as_str(),
        names(allowed),
        item.id,
        action.as_str(),
        names(allowed)
    );
    anyhow::ensure!(
        !note.trim().is_empty(),
        "give a reason with --note (it goes to the audit log) / --note で理由を記入してください"
    );
    let maintenance = match (action, maintenance) {
        (SettlementAction::Sanctioned, Some(m)) if !m.maintainer.trim().is_empty() => Some(m),
        (SettlementAction::Sanctioned, _) => anyhow::bail!(
            "sanctioned remote maintenance needs the maintainer and the connection method \
             (--maintainer NAME --method vpn|leased-line|mobile-router|other)\n\
             承認済みのリモートメンテナンスには保守事業者と接続方法が必要です"
        ),
        _ => None,
    };
    let row = SettlementRow {
        item: item.id.clone(),
        action: action.as_str().into(),
        fingerprint: item.fingerprint.clone(),
        actor: actor.to_owned(),
        note: note.to_owned(),
        at: jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        detail: serde_json::json!({ "maintenance": maintenance }).to_string(),
    };
    let today = jiff::Zoned::now().date();
    let updated = match (action, &maintenance) {
        (SettlementAction::Accept, _) => Some(daicho_ledger::accept(
            &state.ledger,
            item,
            &state.discovered,
            actor,
            today,
        )),
        (SettlementAction::Sanctioned, Some(m)) => Some(daicho_ledger::sanction(
            &state.ledger,
            item,
            &state.discovered,
            m,
            actor,
            today,
        )),
        _ => None,
    };
    let Some(updated) = updated else {
        store.settle(&row, None).await?;
        return Ok(format!(
            "{}: {}",
            item.id,
            action.label(daicho_report::Lang::En)
        ));
    };
    let rows = rows_from_ledger(&updated);
    let source = format!("{} {}", action.as_str(), item.id);
    store
        .settle(
            &row,
            Some(NewVersion {
                actor,
                source: &source,
                note,
                rows: &rows,
                based_on: state.version.as_ref().map(|v| v.id),
            }),
        )
        .await?;
    Ok(format!(
        "{}: {}; the ledger was updated",
        item.id,
        action.label(daicho_report::Lang::En)
    ))
}

fn names(actions: &[SettlementAction]) -> String {
    actions
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The store's rows (sheet, JSON) as a ledger.
pub fn ledger_from_rows(rows: &[(String, String)]) -> anyhow::Result<Ledger> {
    let mut ledger = Ledger::default();
    for (sheet, json) in rows {
        match sheet.as_str() {
            "devices" => ledger.devices.push(serde_json::from_str(json)?),
            _ => ledger.cloud.push(serde_json::from_str(json)?),
        }
    }
    Ok(ledger)
}

/// A ledger as the store's rows.
pub fn rows_from_ledger(ledger: &Ledger) -> Vec<(String, String)> {
    let devices = ledger.devices.iter().map(|r| {
        (
            "devices".to_owned(),
            serde_json::to_string(r).expect("serializes"),
        )
    });
    let cloud = ledger.cloud.iter().map(|r| {
        (
            "cloud".to_owned(),
            serde_json::to_string(r).expect("serializes"),
        )
    });
    devices.chain(cloud).collect()
}

fn settlement(row: SettlementRow) -> Settlement {
    #[derive(serde::Deserialize, Default)]
    struct Detail {
        maintenance: Option<RemoteMaintenance>,
    }
    let detail: Detail = serde_json::from_str(&row.detail).unwrap_or_default();
    Settlement {
        item: row.item,
        action: SettlementAction::from_name(&row.action).unwrap_or(SettlementAction::Ignore),
        fingerprint: row.fingerprint,
        actor: row.actor,
        note: row.note,
        at: row.at,
        maintenance: detail.maintenance,
    }
}

/// The store's devices as the diff sees them, each with the findings whose
/// subjects are its addresses or MACs.
fn discovered(
    devices: Vec<daicho_store::DeviceFacts>,
    findings: &[daicho_report::Finding],
) -> Vec<Discovered> {
    devices
        .into_iter()
        .map(|d| {
            let last_seen: jiff::Timestamp = d.last_seen.parse().unwrap_or_default();
            let current = |seen: &str| {
                seen.parse::<jiff::Timestamp>().is_ok_and(|t| {
                    last_seen.duration_since(t)
                        <= jiff::SignedDuration::from_hours(24 * CURRENT_ADDRESS_DAYS)
                })
            };
            let ips: Vec<IpAddr> = d
                .addresses
                .iter()
                .filter(|(_, seen)| current(seen))
                .filter_map(|(ip, _)| ip.parse().ok())
                .collect();
            let keys_of = |kinds: &[&str]| -> Vec<String> {
                d.keys
                    .iter()
                    .filter(|(k, _)| kinds.contains(&k.as_str()))
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            let macs = keys_of(&["mac"]);
            let mut names = keys_of(&["netbios_name", "mdns_host", "snmp_sys_name"]);
            names.extend(d.name.clone());
            names.sort();
            names.dedup();
            // One flag per kind: several findings of a kind about a device
            // (an identity on two segments, ARP flux, an address table) are
            // one item to settle, with all their evidence.
            let mut flags: Vec<Flag> = Vec::new();
            for f in findings.iter().filter(|f| {
                matches!(
                    f.kind,
                    FindingKind::DualHomed
                        | FindingKind::MobileRouter
                        | FindingKind::RemoteAccess
                        | FindingKind::RogueDhcp
                ) && f.subjects.iter().any(|s| {
                    s.ip.is_some_and(|ip| ips.contains(&ip))
                        || s.mac.is_some_and(|m| macs.contains(&m.to_string()))
                })
            }) {
                let kind = serde_json::to_value(f.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let evidence = f.evidence.iter().map(|e| e.text.clone());
                match flags.iter_mut().find(|flag| flag.kind == kind) {
                    Some(flag) => flag.evidence.extend(evidence),
                    None => flags.push(Flag {
                        kind,
                        summary: f.summary.clone(),
                        evidence: evidence.collect(),
                    }),
                }
            }
            let interfaces = d
                .interfaces
                .iter()
                .filter(|a| current(&a.last_seen))
                .filter_map(|a| {
                    Some(Interface {
                        ip: a.ip.parse().ok()?,
                        mac: a.mac.clone(),
                        segment: format!("{} {}", a.agent, a.interface),
                    })
                })
                .collect();
            Discovered {
                id: d.id,
                name: d.name,
                names,
                macs,
                ips,
                interfaces,
                maker: d.maker,
                model: d.model,
                serial: d.serial,
                os: d.os,
                kind: d
                    .kind
                    .as_deref()
                    .and_then(daicho_identify::Kind::from_name)
                    .map(|k| k.ledger_kind().to_owned()),
                last_seen,
                flags,
                port: None,
                other_ports: Vec::new(),
                room: None,
            }
        })
        .collect()
}
