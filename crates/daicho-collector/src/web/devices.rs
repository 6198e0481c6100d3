//! The device list (/devices) with its filters, one device's page, and
//! deciding its links (/links/L3-7).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use daicho_ledger::ItemKind;
use serde::Deserialize;

use super::session::Signed;
use super::{Chrome, LIST_LIMIT, html, reconciled, store_failed};
use crate::reconcile::Reconciliation;
use crate::state::AppState;

/// A discovered device as the list shows it.
struct DeviceLine {
    id: i64,
    name: String,
    addresses: String,
    macs: String,
    maker: String,
    model: String,
    os: String,
    segments: String,
    flags: Vec<String>,
    declared: bool,
    /// The matched row marks it a medical device (医療機器).
    medical: bool,
    /// The matched ledger row's 管理番号 and 種別 (empty when undeclared).
    ledger_id: String,
    kind: String,
    last_seen: String,
    /// The switch port it is plugged into, its room if the site says, and
    /// the row's 設置場所.
    port: Option<daicho_place::Placement>,
    /// Its other interfaces' ports (a dual-homed host's other legs).
    other_ports: Vec<daicho_place::Placement>,
    suggested_location: String,
    declared_location: String,
    /// The matched row, column by column: (field, the ledger's value,
    /// what was discovered for it, whether they differ).
    row: Vec<(daicho_ledger::Field, String, String, bool)>,
}

#[derive(Deserialize, serde::Serialize, Default, Clone)]
pub(super) struct DeviceFilter {
    #[serde(default)]
    q: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    maker: String,
    #[serde(default)]
    flag: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    declared: String,
    /// The column the list is sorted by ([`SORTS`]), `-` first for
    /// descending; by device number otherwise.
    #[serde(default)]
    sort: String,
    /// The page shown, from 1 ([`LIST_LIMIT`] devices a page).
    #[serde(default)]
    page: usize,
}

impl DevicesPage {
    /// The query that sorts the list by `column` (the other way round when
    /// it is sorted by it already).
    fn sort_link(&self, column: &str) -> &str {
        self.sort_queries
            .iter()
            .find(|(c, _)| *c == column)
            .map_or("", |(_, q)| q.as_str())
    }
}

/// The columns a list sorts by, as the query names them.
const SORTS: [&str; 8] = [
    "id",
    "name",
    "addresses",
    "maker",
    "model",
    "kind",
    "location",
    "last_seen",
];

#[derive(Template)]
#[template(path = "web/devices.html")]
struct DevicesPage {
    page: Chrome,
    filter: DeviceFilter,
    segments: Vec<String>,
    makers: Vec<String>,
    kinds: Vec<String>,
    flag_kinds: Vec<&'static str>,
    /// How many devices match; the page shows [`LIST_LIMIT`] of them.
    matching: usize,
    devices: Vec<DeviceLine>,
    /// 1-based numbers of the first and last device shown.
    shown: (usize, usize),
    /// Query strings: this list as CSV, the previous and next pages, and
    /// each column sorted (toggling its direction).
    csv_query: String,
    previous: Option<String>,
    next: Option<String>,
    sort_queries: Vec<(&'static str, String)>,
}

const FLAG_KINDS: [&str; 4] = ["dual_homed", "mobile_router", "remote_access", "rogue_dhcp"];

/// The list's lines for every device, or only for device `only`.
fn device_lines(r: &Reconciliation, only: Option<i64>) -> Vec<DeviceLine> {
    let undeclared: std::collections::BTreeSet<i64> = r
        .diff
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Undeclared)
        .filter_map(|i| i.device)
        .collect();
    // Indexed once: a search per device was 10^10 steps at 100,000
    // matched devices.
    let declared_rows: std::collections::HashMap<i64, usize> = r
        .diff
        .matches
        .iter()
        .map(|(row, device, _)| (*device, *row))
        .collect();
    r.discovered
        .iter()
        .filter(|d| only.is_none_or(|id| d.id == id))
        .map(|d| {
            let row = declared_rows
                .get(&d.id)
                .and_then(|row| r.ledger.devices.get(*row));
            let field =
                |f: daicho_ledger::Field| row.and_then(|r| r.get(f)).unwrap_or_default().to_owned();
            let segments: Vec<&str> = r
                .segments
                .iter()
                .filter(|(_, networks)| {
                    d.ips.iter().any(|ip| match ip {
                        std::net::IpAddr::V4(v4) => networks.iter().any(|n| n.contains(v4)),
                        std::net::IpAddr::V6(_) => false,
                    })
                })
                .map(|(label, _)| label.as_str())
                .collect();
            let mut flags: Vec<String> = d.flags.iter().map(|f| f.kind.clone()).collect();
            flags.dedup();
            DeviceLine {
                id: d.id,
                name: d.name.clone().unwrap_or_default(),
                addresses: d
                    .ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                macs: d.macs.join(" "),
                maker: d.maker.clone().unwrap_or_default(),
                model: d.model.clone().unwrap_or_default(),
                os: d.os.clone().unwrap_or_default(),
                segments: segments.join(", "),
                flags,
                declared: !undeclared.contains(&d.id),
                medical: row.is_some_and(daicho_ledger::DeclaredRow::medical),
                ledger_id: field(daicho_ledger::Field::ManagementId),
                // The ledger's 種別, else the identified one.
                kind: row
                    .and_then(|r| r.get(daicho_ledger::Field::Kind))
                    .map(str::to_owned)
                    .or_else(|| d.kind.clone())
                    .unwrap_or_default(),
                last_seen: crate::site::local(d.last_seen),
                port: d.port.clone(),
                other_ports: d.other_ports.clone(),
                suggested_location: d.suggested_location().unwrap_or_default(),
                declared_location: field(daicho_ledger::Field::Location),
                row: row.map(|row| side_by_side(row, d)).unwrap_or_default(),
            }
        })
        .collect()
}

/// The declared row beside what was discovered for each of its columns;
/// a column the probes say nothing about shows the ledger's value alone.
fn side_by_side(
    row: &daicho_ledger::DeclaredRow,
    d: &daicho_ledger::Discovered,
) -> Vec<(daicho_ledger::Field, String, String, bool)> {
    use daicho_ledger::Field;
    let join = |values: Vec<String>| values.join(", ");
    daicho_ledger::DEVICE_COLUMNS
        .iter()
        .map(|(field, _)| {
            let declared = row.get(*field).unwrap_or_default().to_owned();
            let found = match field {
                Field::Maker => d.maker.clone().unwrap_or_default(),
                Field::Model => d.model.clone().unwrap_or_default(),
                Field::Serial => d.serial.clone().unwrap_or_default(),
                Field::Os => d.os.clone().unwrap_or_default(),
                Field::Kind => d.kind.clone().unwrap_or_default(),
                Field::Ip => join(d.ips.iter().map(ToString::to_string).collect()),
                Field::Mac => join(d.macs.clone()),
                Field::ComputerName => join(d.names.clone()),
                Field::Location => d.suggested_location().unwrap_or_default(),
                _ => String::new(),
            };
            let differs = !found.is_empty()
                && !declared.is_empty()
                && !found.to_lowercase().contains(&declared.to_lowercase())
                && !declared.to_lowercase().contains(&found.to_lowercase());
            (*field, declared, found, differs)
        })
        .collect()
}

impl DeviceFilter {
    /// This filter as a query string, with another sort or page.
    fn query(&self, sort: &str, page: usize) -> String {
        let mut changed = self.clone();
        changed.sort = sort.to_owned();
        changed.page = page;
        serde_urlencoded::to_string(&changed).unwrap_or_default()
    }

    /// Sorts `devices` as asked (an unknown column sorts by number).
    fn sort(&self, devices: &mut [DeviceLine]) {
        let descending = self.sort.starts_with('-');
        let key = self.sort.trim_start_matches('-');
        let text = |d: &DeviceLine| -> String {
            match key {
                "name" => d.name.to_lowercase(),
                "addresses" => d.addresses.clone(),
                "maker" => d.maker.to_lowercase(),
                "model" => d.model.to_lowercase(),
                "kind" => d.kind.clone(),
                "location" => d.suggested_location.clone(),
                "last_seen" => d.last_seen.clone(),
                _ => String::new(),
            }
        };
        if key == "addresses" {
            // Numerically: 198.18.1.9 before 198.18.1.10.
            devices.sort_by_key(|d| {
                d.addresses
                    .split(' ')
                    .next()
                    .and_then(|a| a.parse::<std::net::IpAddr>().ok())
            });
        } else {
            devices.sort_by_cached_key(|d| (text(d), d.id));
        }
        if descending {
            devices.reverse();
        }
    }

    fn keeps(&self, d: &DeviceLine) -> bool {
        let q = self.q.trim().to_lowercase();
        (q.is_empty()
            || [&d.name, &d.addresses, &d.macs, &d.maker, &d.model]
                .iter()
                .any(|field| field.to_lowercase().contains(&q)))
            && (self.segment.is_empty() || d.segments.split(", ").any(|s| s == self.segment))
            && (self.maker.is_empty() || d.maker == self.maker)
            && (self.flag.is_empty() || d.flags.contains(&self.flag))
            && (self.kind.is_empty() || d.kind == self.kind)
            && match self.declared.as_str() {
                "yes" => d.declared,
                "no" => !d.declared,
                _ => true,
            }
    }
}

pub(super) async fn devices(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Query(filter): Query<DeviceFilter>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let all = device_lines(&r, None);
    let mut makers: Vec<String> = all
        .iter()
        .map(|d| d.maker.clone())
        .filter(|m| !m.is_empty())
        .collect();
    makers.sort();
    makers.dedup();
    let mut kinds: Vec<String> = all
        .iter()
        .map(|d| d.kind.clone())
        .filter(|k| !k.is_empty())
        .collect();
    kinds.sort();
    kinds.dedup();
    let segments = r.segments.iter().map(|(label, _)| label.clone()).collect();
    let mut devices: Vec<DeviceLine> = all.into_iter().filter(|d| filter.keeps(d)).collect();
    filter.sort(&mut devices);
    let matching = devices.len();
    let pages = matching.div_ceil(LIST_LIMIT).max(1);
    let page = filter.page.clamp(1, pages);
    let first = (page - 1) * LIST_LIMIT;
    let devices: Vec<DeviceLine> = devices.into_iter().skip(first).take(LIST_LIMIT).collect();
    let sort_queries = SORTS
        .iter()
        .map(|column| {
            let toggled = if filter.sort == *column {
                format!("-{column}")
            } else {
                (*column).to_owned()
            };
            (*column, filter.query(&toggled, 1))
        })
        .collect();
    Ok(html(DevicesPage {
        shown: (first + 1, first + devices.len()),
        csv_query: filter.query(&filter.sort, 0),
        previous: (page > 1).then(|| filter.query(&filter.sort, page - 1)),
        next: (page < pages).then(|| filter.query(&filter.sort, page + 1)),
        sort_queries,
        page: signed.page,
        filter,
        segments,
        makers,
        kinds,
        flag_kinds: FLAG_KINDS.to_vec(),
        matching,
        devices,
    }))
}

/// The filtered, sorted list as CSV (UTF-8 with BOM, as the ledger
/// export; cells a spreadsheet would run are neutralized): every match,
/// not one page.
pub(super) async fn devices_csv(
    State(state): State<Arc<AppState>>,
    _signed: Signed,
    Query(filter): Query<DeviceFilter>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let mut devices: Vec<DeviceLine> = device_lines(&r, None)
        .into_iter()
        .filter(|d| filter.keeps(d))
        .collect();
    filter.sort(&mut devices);
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let header = [
        "#",
        "名前",
        "IPアドレス",
        "MACアドレス",
        "メーカー",
        "機種",
        "種別",
        "セグメント",
        "接続先",
        "検出事項",
        "台帳の管理番号",
        "最終確認",
    ];
    let _ = writer.write_record(header);
    for d in &devices {
        let cells = [
            d.id.to_string(),
            d.name.clone(),
            d.addresses.clone(),
            d.macs.clone(),
            d.maker.clone(),
            d.model.clone(),
            d.kind.clone(),
            d.segments.clone(),
            d.suggested_location.clone(),
            d.flags.join(" "),
            d.ledger_id.clone(),
            d.last_seen.clone(),
        ];
        let _ = writer.write_record(cells.iter().map(|c| daicho_ledger::neutralize(c)));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"daicho-devices.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

impl DevicePage {
    fn editable(&self, field: &daicho_ledger::Field) -> bool {
        EDITABLE.contains(field)
    }

    /// The edit form's name of a column: its id.
    fn form_name(&self, field: &daicho_ledger::Field) -> String {
        field.id()
    }
}

/// An observation of the device in an agent's latest report.
struct Seen {
    agent: String,
    interface: String,
    source: String,
    ip: String,
    mac: String,
    at: String,
    facts: String,
}

#[derive(Template)]
#[template(path = "web/device.html")]
struct DevicePage {
    page: Chrome,
    line: DeviceLine,
    keys: Vec<(String, String)>,
    /// Identities that join nothing: (kind, value, why).
    shared: Vec<(String, String, String)>,
    addresses: Vec<daicho_store::AddressRow>,
    links: Vec<daicho_store::LinkRow>,
    /// How it was identified: (what, value, source, confidence %).
    identified: Vec<(&'static str, String, String, u32)>,
    seen: Vec<Seen>,
    flags: Vec<daicho_ledger::Flag>,
    merges: Vec<daicho_store::MergeRecord>,
    items: Vec<daicho_ledger::Item>,
}

/// A short, readable summary of what one probe said (names, models,
/// banners), for the observations table.
fn facts_of(o: &daicho_report::Observation) -> String {
    let mut facts: Vec<String> = Vec::new();
    if let Some(v) = &o.vendor {
        facts.push(v.clone());
    }
    if let Some(s) = o.snmp.as_deref() {
        facts.extend(s.sys_name.clone());
        facts.extend(s.sys_descr.clone());
    }
    if let Some(n) = o.netbios.as_deref() {
        facts.extend(n.computer_name.clone());
    }
    if let Some(m) = o.mdns.as_deref() {
        facts.push(m.host.clone());
    }
    if let Some(h) = o.http.as_deref() {
        facts.extend(h.banners.iter().filter_map(|b| b.title.clone()));
    }
    if let Some(s) = o.ssh.as_deref() {
        facts.extend(s.fingerprint.clone());
    }
    if let Some(u) = o.ssdp.as_deref() {
        facts.extend(u.devices.iter().filter_map(|d| d.friendly_name.clone()));
    }
    if let Some(d) = o.dhcp.as_deref() {
        facts.extend(d.offers.iter().map(|offer| {
            let routers: Vec<String> = offer.routers.iter().map(ToString::to_string).collect();
            format!("DHCP server, gateway {}", routers.join(", "))
        }));
    }
    if let Some(a) = o.router_advert.as_deref() {
        facts.push(format!("IPv6 router, lifetime {} s", a.router_lifetime));
    }
    facts.join(" · ")
}

pub(super) async fn device(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let Some(line) = device_lines(&r, Some(id)).pop() else {
        return Ok((StatusCode::NOT_FOUND, signed.page.t.no_such_device).into_response());
    };
    let (explanation, addresses, reports, shared, identity) = tokio::try_join!(
        state.store.explain(id),
        state.store.device_addresses(id),
        state.store.latest_reports(),
        state.store.shared_identities(),
        state.store.device_identity(id)
    )
    .map_err(store_failed)?;
    let identified = identity
        .and_then(|json| serde_json::from_str::<daicho_identify::Identity>(&json).ok())
        .map(|i| identified_rows(&i, signed.lang, signed.page.t))
        .unwrap_or_default();
    let t = signed.page.t;
    let shared = shared
        .into_iter()
        .filter(|s| s.device == id)
        .map(|s| {
            let why = if s.why == "placeholder" {
                format!("{} ({})", t.placeholder_identity, s.detail)
            } else {
                format!("{} ({})", t.shared_identity, s.detail)
            };
            (s.kind, s.value, why)
        })
        .collect();
    let discovered = r.discovered.iter().find(|d| d.id == id);
    let macs: Vec<String> = discovered.map(|d| d.macs.clone()).unwrap_or_default();
    let ips: Vec<std::net::IpAddr> = discovered.map(|d| d.ips.clone()).unwrap_or_default();
    let seen = reports
        .iter()
        .flat_map(|report| report.observations.iter().map(move |o| (report, o)))
        .filter(|(_, o)| {
            o.ip.is_some_and(|ip| ips.contains(&ip))
                || o.mac
                    .is_some_and(|m| macs.iter().any(|x| x.eq_ignore_ascii_case(&m.to_string())))
        })
        .map(|(report, o)| Seen {
            agent: report.agent.id.clone(),
            interface: o.interface.to_string(),
            source: format!("{:?}", o.source).to_lowercase(),
            ip: o.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            mac: o.mac.map(|m| m.to_string()).unwrap_or_default(),
            at: crate::site::local(o.at),
            facts: facts_of(o),
        })
        .collect();
    let items = r
        .diff
        .items
        .iter()
        .filter(|i| i.device == Some(id))
        .cloned()
        .collect();
    Ok(html(DevicePage {
        keys: explanation
            .as_ref()
            .map(|e| e.keys.clone())
            .unwrap_or_default(),
        links: explanation
            .as_ref()
            .map(|e| e.links.clone())
            .unwrap_or_default(),
        merges: explanation.map(|e| e.decisions).unwrap_or_default(),
        shared,
        identified,
        flags: discovered.map(|d| d.flags.clone()).unwrap_or_default(),
        addresses: addresses
            .into_iter()
            .map(|a| daicho_store::AddressRow {
                first_seen: crate::site::local_text(&a.first_seen),
                last_seen: crate::site::local_text(&a.last_seen),
                ..a
            })
            .collect(),
        seen,
        items,
        line,
        page: signed.page,
    }))
}

/// Each identified value with its source, for the device page.
fn identified_rows(
    identity: &daicho_identify::Identity,
    lang: daicho_ledger::Lang,
    t: &'static super::labels::Labels,
) -> Vec<(&'static str, String, String, u32)> {
    let percent = |c: f32| (c * 100.0).round() as u32;
    let mut rows = Vec::new();
    if let Some(kind) = &identity.kind {
        let label = if lang == daicho_ledger::Lang::En {
            kind.value.english()
        } else {
            kind.value.japanese()
        };
        rows.push((
            t.kind,
            label.to_owned(),
            kind.source.clone(),
            percent(kind.confidence),
        ));
    }
    for (what, claim) in [(t.maker, &identity.maker), (t.model, &identity.model)] {
        if let Some(c) = claim {
            rows.push((
                what,
                c.value.clone(),
                c.source.clone(),
                percent(c.confidence),
            ));
        }
    }
    if let Some(os) = &identity.os {
        rows.push((
            "os",
            os.value.label(),
            os.source.clone(),
            percent(os.confidence),
        ));
    }
    for s in &identity.software {
        let version = s.value.version.as_deref().unwrap_or("");
        let text = format!("{} {version}", s.value.product).trim().to_owned();
        rows.push((t.software, text, s.source.clone(), percent(s.confidence)));
    }
    rows
}

#[derive(Deserialize)]
pub(super) struct LinkForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    note: String,
}

/// An editor's decision on a link: confirm merges the two devices (the
/// page of the kept one follows), reject keeps them apart.
pub(super) async fn decide_link(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(link): Path<String>,
    Form(form): Form<LinkForm>,
) -> Result<Response, Response> {
    let t = signed.page.t;
    if let Some(refused) = signed.refuses_edit(&form.csrf) {
        return Ok(refused);
    }
    let confirm = match form.decision.as_str() {
        "confirm" => true,
        "reject" => false,
        _ => return Ok((StatusCode::BAD_REQUEST, t.form_expired).into_response()),
    };
    if form.note.trim().is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.note_required).into_response());
    }
    match state
        .store
        .decide_link(&link, confirm, &signed.session.user, form.note.trim())
        .await
    {
        Ok(decided) => {
            let to = format!("/devices/{}#{}", decided.older, decided.id());
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ daicho_store::StoreError::NoOpenLink(_)) => {
            Ok((StatusCode::CONFLICT, e.to_string()).into_response())
        }
        Err(e) => Err(store_failed(e)),
    }
}

/// The columns of a declared device's row the device page edits.
const EDITABLE: [daicho_ledger::Field; 6] = [
    daicho_ledger::Field::Location,
    daicho_ledger::Field::User,
    daicho_ledger::Field::Kind,
    daicho_ledger::Field::Status,
    daicho_ledger::Field::Description,
    daicho_ledger::Field::Medical,
];

#[derive(Deserialize)]
pub(super) struct EditForm {
    csrf: String,
    #[serde(default)]
    note: String,
    /// The columns sent, by their ids (`location`, `user` …); a column
    /// not sent stays as it is, one sent empty is cleared.
    #[serde(flatten)]
    values: std::collections::HashMap<daicho_ledger::Field, String>,
}

/// An editor changes 設置場所, 利用者, 種別, 状態 or 説明 of a declared
/// device's row: a new ledger version built on the one read (refused if
/// another was saved since), audited as a ledger edit.
pub(super) async fn edit_device(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, Response> {
    let t = signed.page.t;
    if let Some(refused) = signed.refuses_edit(&form.csrf) {
        return Ok(refused);
    }
    let note = form.note.trim();
    if note.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.note_required).into_response());
    }
    // Read afresh, never from the cache: the version is built on it.
    let r = crate::reconcile::reconcile(&state.store, state.missing_days, state.overdue_hours)
        .await
        .map_err(store_failed)?;
    let Some(row) = r
        .diff
        .matches
        .iter()
        .find(|(_, device, _)| *device == id)
        .map(|(row, ..)| *row)
    else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.not_declared).into_response());
    };
    let mut ledger = r.ledger.clone();
    let changed: Vec<&str> = EDITABLE
        .iter()
        .filter(|field| {
            let Some(value) = form.values.get(*field).map(|v| v.trim()) else {
                return false;
            };
            let before = ledger.devices[row].get(**field).unwrap_or_default();
            if value == before {
                return false;
            }
            if value.is_empty() {
                ledger.devices[row].fields.remove(field);
            } else {
                ledger.devices[row].set(**field, value);
            }
            true
        })
        .map(|field| field.header())
        .collect();
    if !changed.is_empty() {
        let rows = crate::reconcile::rows_from_ledger(&ledger);
        let source = format!(
            "device #{id} ({}): {}",
            ledger.devices[row].label(),
            changed.join(", ")
        );
        state
            .store
            .save_edited_version(daicho_store::NewVersion {
                actor: &signed.session.user,
                source: &source,
                note,
                rows: &rows,
                based_on: r.version.as_ref().map(|v| v.id),
            })
            .await
            .map_err(store_failed)?;
    }
    Ok(Redirect::to(&format!("/devices/{id}#declared-row")).into_response())
}
