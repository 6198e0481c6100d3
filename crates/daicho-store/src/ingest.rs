//! One report into the ledger: one transaction, a few batched statements.

use std::collections::{BTreeMap, BTreeSet};

use daicho_merge::{
    Candidate, ClaimSource, DeviceId, Facts, Key, KnownAddresses, KnownKeys, NamedDevice, Place,
    Target, Unusable,
};
use daicho_report::{Report, Says, Text};
use sqlx::{AnyConnection, Row};

use crate::rows::{Cell, execute_rows};
use crate::{Backend, Store, StoreError, stamp};

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored: the devices it created and the ones it joined.
    Stored { created: usize, joined: usize },
    /// This scan id was already in the ledger: nothing changed.
    AlreadyKnown,
}

/// The advisory lock collectors sharing one PostgreSQL ledger take for an
/// ingest ("daicho" in ASCII).
const POSTGRES_INGEST_LOCK: i64 = 0x6461_6963_686f;

impl Store {
    /// Ingests one report (JSON as the agent wrote it) in one transaction.
    /// `actor` is who sent it, for the audit log.
    pub async fn ingest(&self, json: &[u8], actor: &str) -> Result<Ingested, StoreError> {
        let report = Report::from_json(json).map_err(|e| StoreError::BadReport(e.to_string()))?;
        let text = std::str::from_utf8(json).map_err(|e| StoreError::BadReport(e.to_string()))?;
        self.ingest_parsed(&report, text, actor).await
    }

    /// Ingests a report already read from `text` (kept verbatim).
    pub async fn ingest_parsed(
        &self,
        report: &Report,
        text: &str,
        actor: &str,
    ) -> Result<Ingested, StoreError> {
        self.ingest_inner(report, text, actor, None).await
    }

    /// Ingests a report an API client posted: as [`Store::ingest_parsed`],
    /// and the client's last sighting in the same transaction.
    pub async fn ingest_from_client(
        &self,
        report: &Report,
        text: &str,
        client: &str,
    ) -> Result<Ingested, StoreError> {
        self.ingest_inner(report, text, &format!("agent:{client}"), Some(client))
            .await
    }

    async fn ingest_inner(
        &self,
        report: &Report,
        text: &str,
        actor: &str,
        client: Option<&str>,
    ) -> Result<Ingested, StoreError> {
        let received = jiff::Timestamp::now();
        check_report(report, received)?;
        let _one_at_a_time = self.ingest_lock.lock().await;
        let mut tx = self.write_tx().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(POSTGRES_INGEST_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(client) = client {
            sqlx::query("UPDATE api_clients SET last_seen = $1 WHERE name = $2")
                .bind(stamp(received))
                .bind(client)
                .execute(&mut *tx)
                .await?;
        }
        let scan_id = report.scan_id.to_string();
        let known = sqlx::query("SELECT 1 FROM scans WHERE scan_id = $1")
            .bind(&scan_id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_some() {
            tx.commit().await?;
            return Ok(Ingested::AlreadyKnown);
        }
        let seen = stamp(report.finished_at);
        sqlx::query(
            "INSERT INTO scans (scan_id, agent_id, started_at, finished_at, received_at, report) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&scan_id)
        .bind(&report.agent.id)
        .bind(stamp(report.started_at))
        .bind(&seen)
        .bind(stamp(received))
        .bind(text)
        .execute(&mut *tx)
        .await?;

        let candidates = daicho_merge::candidates(report);
        let known = known_keys(&mut tx, self.backend, &candidates).await?;
        let since = stamp(report.finished_at - SAME_HOST_WINDOW);
        let mut addresses = known_addresses(&mut tx, self.backend, &candidates, &since).await?;
        addresses.named = named_devices(&mut tx, self.backend, &known).await?;
        let decisions = daicho_merge::merge(&known, &addresses, &report.agent.id, &candidates);
        let next_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM devices")
            .fetch_one(&mut *tx)
            .await?
            .get(0);

        let mut writes = Writes::default();
        let mut created: BTreeMap<usize, DeviceId> = BTreeMap::new();
        let mut joined = 0;
        for decision in &decisions {
            let candidate = &candidates[decision.candidate];
            let (device, is_new) = match decision.target {
                Target::Existing(id) => {
                    joined += 1;
                    writes
                        .touched
                        .entry(id)
                        .or_insert_with(|| (candidate.name.clone(), candidate.facts.clone()));
                    (id, false)
                }
                Target::New(n) => match created.get(&n) {
                    Some(id) => (*id, false),
                    None => {
                        let id = next_id + created.len() as i64;
                        created.insert(n, id);
                        writes.new_devices.push((
                            id,
                            candidate.name.clone(),
                            candidate.facts.clone(),
                        ));
                        (id, true)
                    }
                },
            };
            writes.add(device, is_new, candidate, &decision.reasons);
            for link in &decision.links {
                let other = match link.to {
                    Target::Existing(id) => Some(id),
                    Target::New(n) => created.get(&n).copied(),
                };
                if let Some(other) = other.filter(|other| *other != device) {
                    let pair = (other.min(device), other.max(device));
                    writes
                        .links
                        .insert(pair, (link.confidence.as_str(), link.evidence.clone()));
                }
            }
        }
        let linked = writes.links.len();
        writes
            .apply(&mut tx, self.backend, &scan_id, &report.agent.id, &seen)
            .await?;
        let detail = Says::of(Text::AuditIngest)
            .with("scan", scan_id.as_str())
            .with("agent", report.agent.id.as_str())
            .value("observations", report.observations.len())
            .value("created", created.len())
            .value("joined", joined)
            .value("links", linked);
        self.audit(&mut tx, actor, "ingest", &detail).await?;
        tx.commit().await?;
        Ok(Ingested::Stored {
            created: created.len(),
            joined,
        })
    }
}

/// How close in time a host's address and another segment's sighting of
/// it must be to join them: DHCP hands an address to the next device, but
/// not within the night both were seen.
const SAME_HOST_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// How far ahead of the collector's clock a report may end: agents' clocks
/// drift, but a report from tomorrow would stay its agent's latest.
pub const MAX_CLOCK_AHEAD: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// How old a report may be (air-gapped segments' reports come late, not
/// years late).
pub const MAX_REPORT_AGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 730);
/// How long one scan may take.
pub const MAX_SCAN_DURATION: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);
/// Longest agent id and interface name kept (ids are names, interfaces
/// are kernel names of at most 15 bytes).
const MAX_NAME_BYTES: usize = 64;

/// What a report must satisfy before anything of it is written.
fn check_report(report: &Report, now: jiff::Timestamp) -> Result<(), StoreError> {
    let (started, finished) = (report.started_at, report.finished_at);
    let time = |what: String| Err(StoreError::BadTime(what));
    if finished < started {
        return time(format!(
            "it finished ({finished}) before it started ({started})"
        ));
    }
    if finished.duration_since(now) > MAX_CLOCK_AHEAD {
        return time(format!(
            "it finished at {finished}, more than {} hours after the collector's clock ({now})",
            MAX_CLOCK_AHEAD.as_hours()
        ));
    }
    if now.duration_since(started) > MAX_REPORT_AGE {
        return time(format!(
            "it started at {started}, more than {} days before the collector's clock ({now})",
            MAX_REPORT_AGE.as_hours() / 24
        ));
    }
    if finished.duration_since(started) > MAX_SCAN_DURATION {
        return time(format!(
            "the scan took from {started} to {finished}, longer than {} days",
            MAX_SCAN_DURATION.as_hours() / 24
        ));
    }
    let bad_name = |what: &str, name: &str| {
        Err(StoreError::BadReport(format!(
            "{what} {:?} is not a name (1-{MAX_NAME_BYTES} bytes, no control characters)",
            name.chars().take(80).collect::<String>()
        )))
    };
    let is_name = |name: &str| {
        (1..=MAX_NAME_BYTES).contains(&name.len()) && !name.chars().any(char::is_control)
    };
    if !is_name(&report.agent.id) {
        return bad_name("the agent id", &report.agent.id);
    }
    for interface in report
        .segments
        .iter()
        .map(|s| s.interface.as_str())
        .chain(report.observations.iter().map(|o| &*o.interface))
    {
        if !is_name(interface) {
            return bad_name("the interface", interface);
        }
    }
    Ok(())
}

/// Everything one report writes, gathered so that each table gets a few
/// many-row statements.
#[derive(Default)]
struct Writes {
    new_devices: Vec<(DeviceId, Option<String>, Facts)>,
    /// Known devices this report saw, with a name to fill in if they have
    /// none, and the facts it gave.
    touched: BTreeMap<DeviceId, (Option<String>, Facts)>,
    /// A key already owned by another device stays with it (the merge stated
    /// the conflict); the first claim in a report wins within it.
    keys: BTreeMap<Key, DeviceId>,
    /// (device, address, interface, MAC seen with it).
    addresses: BTreeSet<(DeviceId, String, String, Option<String>)>,
    /// Each device's identification (JSON), from the candidate that said
    /// most about it.
    /// (how many of kind, maker, model and OS it names, JSON).
    identities: BTreeMap<DeviceId, (usize, String)>,
    /// (device, kind, value) → (why, detail): identities that join nothing.
    shared: BTreeMap<(DeviceId, &'static str, String), (&'static str, String)>,
    /// (older device, newer device) → (confidence, evidence): links.
    links: BTreeMap<(DeviceId, DeviceId), (&'static str, Vec<Says>)>,
    /// (device, address, how, interface): addresses shown as its own.
    claims: BTreeSet<(DeviceId, String, &'static str, String)>,
    decisions: Vec<Cell>,
}

impl Writes {
    fn add(&mut self, device: DeviceId, created: bool, candidate: &Candidate, reasons: &[Says]) {
        let i = &candidate.identity;
        let said = [
            i.kind.is_some(),
            i.maker.is_some(),
            i.model.is_some(),
            i.os.is_some(),
        ]
        .into_iter()
        .filter(|b| *b)
        .count();
        if said > 0
            && self
                .identities
                .get(&device)
                .is_none_or(|(old, _)| said > *old)
        {
            let json = serde_json::to_string(i).unwrap_or_default();
            self.identities.insert(device, (said, json));
        }
        for key in &candidate.keys {
            self.keys.entry(key.clone()).or_insert(device);
        }
        if let Some(ip) = candidate.ip {
            self.addresses.insert((
                device,
                ip.to_string(),
                candidate.interface.clone(),
                candidate.facts.mac.clone(),
            ));
        }
        for (key, why) in &candidate.unusable {
            let why = match why {
                Unusable::Placeholder(source) => ("placeholder", (*source).to_owned()),
                Unusable::Shared { interface, .. } => ("shared", interface.clone()),
            };
            self.shared
                .insert((device, key.kind.as_str(), key.value.clone()), why);
        }
        for claim in &candidate.claims {
            self.claims.insert((
                device,
                claim.ip.to_string(),
                claim.source.as_str(),
                candidate.interface.clone(),
            ));
        }
        self.decisions.extend([
            Cell::Int(device),
            candidate.interface.as_str().into(),
            candidate.ip.map(|ip| ip.to_string()).into(),
            Cell::Int(created.into()),
            serde_json::to_string(reasons).unwrap_or_default().into(),
        ]);
    }

    async fn apply(
        self,
        conn: &mut AnyConnection,
        backend: Backend,
        scan_id: &str,
        agent_id: &str,
        seen: &str,
    ) -> Result<(), sqlx::Error> {
        let devices: Vec<Cell> = self
            .new_devices
            .into_iter()
            .flat_map(|(id, name, facts)| {
                [Cell::Int(id), name.into(), seen.into(), seen.into()]
                    .into_iter()
                    .chain(fact_cells(facts))
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO devices (id, name, first_seen, last_seen, mac, maker, model, serial, os, kind)",
            "",
            10,
            &devices,
        )
        .await?;

        // Known devices: last seen moves forward only (an old report
        // imported late must not make a device look older), a name fills a
        // gap but never replaces one, and a fact a probe gave replaces the
        // older one (an OS upgrade, a new MAC).
        let touched: Vec<Cell> = self
            .touched
            .into_iter()
            .flat_map(|(id, (name, facts))| {
                [Cell::Int(id), name.into(), seen.into()]
                    .into_iter()
                    .chain(fact_cells(facts))
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "UPDATE devices SET \
               last_seen = CASE WHEN devices.last_seen < v.column3 THEN v.column3 ELSE devices.last_seen END, \
               name = COALESCE(devices.name, v.column2), \
               mac = COALESCE(v.column4, devices.mac), \
               maker = COALESCE(v.column5, devices.maker), \
               model = COALESCE(v.column6, devices.model), \
               serial = COALESCE(v.column7, devices.serial), \
               os = COALESCE(v.column8, devices.os), \
               kind = COALESCE(v.column9, devices.kind) \
             FROM (",
            ") AS v WHERE devices.id = v.column1",
            9,
            &touched,
        )
        .await?;

        // The latest identification of each device, sources and all.
        let identities: Vec<Cell> = self
            .identities
            .into_iter()
            .flat_map(|(id, (_, json))| [Cell::Int(id), json.into()])
            .collect();
        execute_rows(
            conn,
            backend,
            "UPDATE devices SET identity = v.column2 FROM (",
            ") AS v WHERE devices.id = v.column1",
            2,
            &identities,
        )
        .await?;

        let keys: Vec<Cell> = self
            .keys
            .into_iter()
            .flat_map(|(key, device)| {
                [
                    key.kind.as_str().into(),
                    key.value.into(),
                    Cell::Int(device),
                    seen.into(),
                    seen.into(),
                ]
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO device_keys (kind, value, device_id, first_seen, last_seen)",
            &format!(
                "ON CONFLICT (kind, value) DO UPDATE SET {}",
                seen_range_upsert("device_keys")
            ),
            5,
            &keys,
        )
        .await?;

        let addresses: Vec<Cell> = self
            .addresses
            .into_iter()
            .flat_map(|(device, ip, interface, mac)| {
                [
                    Cell::Int(device),
                    ip.into(),
                    agent_id.into(),
                    interface.into(),
                    seen.into(),
                    seen.into(),
                    mac.into(),
                ]
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO device_addresses (device_id, ip, agent_id, interface, first_seen, last_seen, mac)",
            &format!(
                "ON CONFLICT (device_id, ip, agent_id, interface) DO UPDATE SET {}, \
                 mac = COALESCE(excluded.mac, device_addresses.mac)",
                seen_range_upsert("device_addresses")
            ),
            7,
            &addresses,
        )
        .await?;

        let shared: Vec<Cell> = self
            .shared
            .into_iter()
            .flat_map(|((device, kind, value), (why, detail))| {
                [
                    Cell::Int(device),
                    kind.into(),
                    value.into(),
                    why.into(),
                    detail.into(),
                    seen.into(),
                    seen.into(),
                ]
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO shared_identities (device_id, kind, value, why, detail, first_seen, last_seen)",
            &format!(
                "ON CONFLICT (device_id, kind, value) DO UPDATE SET {}, why = excluded.why, detail = excluded.detail",
                seen_range_upsert("shared_identities")
            ),
            7,
            &shared,
        )
        .await?;

        // A link's evidence is the latest report's; its state (a person's
        // decision) stays.
        let links: Vec<Cell> = self
            .links
            .into_iter()
            .flat_map(|((a, b), (confidence, evidence))| {
                [
                    Cell::Int(a),
                    Cell::Int(b),
                    confidence.into(),
                    serde_json::to_string(&evidence).unwrap_or_default().into(),
                    seen.into(),
                    seen.into(),
                ]
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO device_links (device_a, device_b, confidence, evidence, first_seen, last_seen)",
            &format!(
                "ON CONFLICT (device_a, device_b) DO UPDATE SET {}, \
                 confidence = excluded.confidence, evidence = excluded.evidence",
                seen_range_upsert("device_links")
            ),
            6,
            &links,
        )
        .await?;

        let claims: Vec<Cell> = self
            .claims
            .into_iter()
            .flat_map(|(device, ip, source, interface)| {
                [
                    Cell::Int(device),
                    ip.into(),
                    source.into(),
                    agent_id.into(),
                    interface.into(),
                    seen.into(),
                    seen.into(),
                ]
            })
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO address_claims (device_id, ip, source, agent_id, interface, first_seen, last_seen)",
            &format!(
                "ON CONFLICT (device_id, ip, source, agent_id, interface) DO UPDATE SET {}",
                seen_range_upsert("address_claims")
            ),
            7,
            &claims,
        )
        .await?;

        let decisions: Vec<Cell> = self
            .decisions
            .chunks(5)
            .flat_map(|row| std::iter::once(Cell::from(scan_id)).chain(row.iter().cloned()))
            .collect();
        execute_rows(
            conn,
            backend,
            "INSERT INTO merge_decisions (scan_id, device_id, interface, ip, created, reasons)",
            "",
            6,
            &decisions,
        )
        .await?;
        Ok(())
    }
}

fn fact_cells(facts: Facts) -> [Cell; 6] {
    [
        facts.mac.into(),
        facts.maker.into(),
        facts.model.into(),
        facts.serial.into(),
        facts.os.into(),
        facts.kind.into(),
    ]
}

/// An upsert that widens a row's first/last seen to include the new sighting.
pub(crate) fn seen_range_upsert(table: &str) -> String {
    format!(
        "first_seen = CASE WHEN excluded.first_seen < {table}.first_seen THEN excluded.first_seen ELSE {table}.first_seen END, \
         last_seen = CASE WHEN excluded.last_seen > {table}.last_seen THEN excluded.last_seen ELSE {table}.last_seen END"
    )
}

/// The ledger's owners of the candidates' keys, in one query per few hundred keys.
async fn known_keys(
    conn: &mut AnyConnection,
    backend: Backend,
    candidates: &[Candidate],
) -> Result<KnownKeys, StoreError> {
    let wanted: BTreeSet<&Key> = candidates.iter().flat_map(|c| &c.keys).collect();
    let cells: Vec<Cell> = wanted
        .iter()
        .flat_map(|key| [key.kind.as_str().into(), key.value.as_str().into()])
        .collect();
    let rows = execute_rows(
        conn,
        backend,
        "SELECT kind, value, device_id FROM device_keys WHERE (kind, value) IN (",
        ")",
        2,
        &cells,
    )
    .await?;
    let mut known = KnownKeys::new();
    for row in rows {
        let kind: String = row.get(0);
        let Some(kind) = daicho_merge::KeyKind::from_name(&kind) else {
            continue;
        };
        known.insert(
            Key {
                kind,
                value: row.get(1),
            },
            row.get(2),
        );
    }
    Ok(known)
}

/// Who in the ledger, seen since `since`, holds the addresses the
/// candidates claim, and who claims the addresses the candidates have.
async fn known_addresses(
    conn: &mut AnyConnection,
    backend: Backend,
    candidates: &[Candidate],
    since: &str,
) -> Result<KnownAddresses, StoreError> {
    let mut known = KnownAddresses::default();
    // Collected before the queries: a borrowing iterator held across an
    // await would make the ingest future not `Send` for the API's handler.
    let claimed: BTreeSet<String> = candidates
        .iter()
        .flat_map(|c| c.claims.iter().map(|claim| claim.ip.to_string()))
        .collect();
    let query =
        "SELECT device_id, ip, agent_id, interface, last_seen FROM device_addresses WHERE ip IN (";
    for (ip, device, place, _) in recent(conn, backend, query, claimed, since).await? {
        known.held.entry(ip).or_default().push((device, place));
    }
    let held: BTreeSet<String> = candidates
        .iter()
        .filter_map(|c| c.ip.map(|ip| ip.to_string()))
        .collect();
    let query = "SELECT device_id, ip, agent_id, interface, last_seen, source FROM address_claims WHERE ip IN (";
    for (ip, device, place, source) in recent(conn, backend, query, held, since).await? {
        if let Some(source) = source.as_deref().and_then(ClaimSource::from_name) {
            known
                .claimed
                .entry(ip)
                .or_default()
                .push((device, place, source));
        }
    }
    Ok(known)
}

/// The MACs and places of the devices that own the candidates' names:
/// what a link on a shared name looks at.
async fn named_devices(
    conn: &mut AnyConnection,
    backend: Backend,
    known: &KnownKeys,
) -> Result<BTreeMap<DeviceId, NamedDevice>, StoreError> {
    let ids: BTreeSet<DeviceId> = known
        .iter()
        .filter(|(key, _)| !key.kind.is_strong())
        .map(|(_, id)| *id)
        .collect();
    let mut named: BTreeMap<DeviceId, NamedDevice> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(named);
    }
    let cells: Vec<Cell> = ids.into_iter().map(Cell::Int).collect();
    let macs = execute_rows(
        conn,
        backend,
        "SELECT device_id, value FROM device_keys WHERE kind = 'mac' AND device_id IN (",
        ")",
        1,
        &cells,
    )
    .await?;
    for row in macs {
        if let Ok(mac) = row.get::<String, _>(1).parse() {
            named.entry(row.get(0)).or_default().macs.push(mac);
        }
    }
    let places = execute_rows(
        conn,
        backend,
        "SELECT DISTINCT device_id, agent_id, interface FROM device_addresses WHERE device_id IN (",
        ")",
        1,
        &cells,
    )
    .await?;
    for row in places {
        named.entry(row.get(0)).or_default().places.push(Place {
            agent: row.get(1),
            interface: row.get(2),
        });
    }
    Ok(named)
}

/// The rows of `query` (device, ip, agent, interface, last seen, and a
/// sixth column if it has one) for `ips`, last seen since `since`.
async fn recent(
    conn: &mut AnyConnection,
    backend: Backend,
    query: &str,
    ips: BTreeSet<String>,
    since: &str,
) -> Result<Vec<(std::net::IpAddr, DeviceId, Place, Option<String>)>, StoreError> {
    if ips.is_empty() {
        return Ok(Vec::new());
    }
    let cells: Vec<Cell> = ips.into_iter().map(Cell::from).collect();
    let rows = execute_rows(conn, backend, query, ")", 1, &cells).await?;
    Ok(rows
        .into_iter()
        .filter(|row| row.get::<String, _>(4).as_str() >= since)
        .filter_map(|row| {
            let ip = row.get::<String, _>(1).parse().ok()?;
            let place = Place {
                agent: row.get(2),
                interface: row.get(3),
            };
            let extra = (row.columns().len() > 5).then(|| row.get::<String, _>(5));
            Some((ip, row.get(0), place, extra))
        })
        .collect())
}
