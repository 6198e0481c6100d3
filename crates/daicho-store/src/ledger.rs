//! The declared ledger's versions, the settlements of differences, and the
//! discovered devices as the diff reads them. Rows are kept as JSON text:
//! their shape belongs to `daicho-ledger`, the store keeps them whole.

use std::collections::BTreeMap;

use daicho_report::{Says, Text};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;

use crate::rows::{Cell, execute_rows};
use crate::{Store, StoreError, stamp};

/// One imported or updated version of the declared ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerVersion {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// The file it came from, or the settled item that made it.
    pub source: String,
    pub note: String,
}

/// A settled difference, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementRow {
    pub item: String,
    pub action: String,
    pub fingerprint: String,
    pub actor: String,
    pub note: String,
    pub at: String,
    /// What the decision records beyond its note, as JSON (a sanctioned
    /// flag's maintainer and connection method); `{}` if nothing.
    pub detail: String,
}

/// A new ledger version: (sheet, row as JSON) in order.
pub struct NewVersion<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub note: &'a str,
    pub rows: &'a [(String, String)],
    /// The version these rows were made from (None: there was none). If
    /// another version was saved since, nothing is saved: two editors
    /// settling at once must not silently undo each other.
    pub based_on: Option<i64>,
}

/// A discovered device with what the diff compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceFacts {
    pub id: i64,
    pub name: Option<String>,
    pub mac: Option<String>,
    pub maker: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    /// 種別 as daicho-identify names it (`workstation`, `printer` …).
    pub kind: Option<String>,
    /// The identification with every value's source, as JSON.
    pub identity: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// (ip, last seen), newest first.
    pub addresses: Vec<(String, String)>,
    /// Each interface, newest first.
    pub interfaces: Vec<crate::AddressRow>,
    /// Identity keys (kind, value): MACs and names among them.
    pub keys: Vec<(String, String)>,
}

/// An audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: Says,
}

impl Store {
    /// Stores a new version of the declared ledger; returns its id.
    pub async fn save_ledger_version(&self, version: NewVersion<'_>) -> Result<i64, StoreError> {
        self.save_version(version, "ledger-import").await
    }

    /// Stores a version made by editing a row in the pages (audited as
    /// such); returns its id.
    pub async fn save_edited_version(&self, version: NewVersion<'_>) -> Result<i64, StoreError> {
        self.save_version(version, "ledger-edit").await
    }

    async fn save_version(&self, version: NewVersion<'_>, action: &str) -> Result<i64, StoreError> {
        let mut tx = self.write_tx().await?;
        let id = insert_version(&mut tx, self.backend, &version).await?;
        let detail = Says::of(Text::AuditLedgerVersion)
            .value("version", id)
            .with("source", version.source)
            .value("rows", version.rows.len())
            .with("note", version.note);
        self.audit(&mut tx, version.actor, action, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The newest version and its rows, if any was imported.
    pub async fn latest_ledger(
        &self,
    ) -> Result<Option<(LedgerVersion, Vec<(String, String)>)>, StoreError> {
        let Some(version) = self.ledger_versions().await?.into_iter().next_back() else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT sheet, fields FROM ledger_rows WHERE version_id = $1 ORDER BY sheet, position",
        )
        .bind(version.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        Ok(Some((version, rows)))
    }

    /// Every version, oldest first.
    pub async fn ledger_versions(&self) -> Result<Vec<LedgerVersion>, StoreError> {
        Ok(
            sqlx::query("SELECT id, at, actor, source, note FROM ledger_versions ORDER BY id")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(version_row)
                .collect(),
        )
    }

    /// Records a settlement and, for an accept, the ledger version it made —
    /// both or neither.
    pub async fn settle(
        &self,
        settlement: &SettlementRow,
        new_version: Option<NewVersion<'_>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let detail = match &new_version {
            Some(version) => {
                let id = insert_version(&mut tx, self.backend, version).await?;
                Says::of(Text::AuditSettleNewVersion).value("version", id)
            }
            None => Says::of(Text::AuditSettle),
        };
        let detail = detail
            .with("action", settle_action(&settlement.action))
            .with("item", settlement.item.as_str())
            .with("note", settlement.note.as_str())
            .with("detail", maintenance_said(&settlement.detail));
        sqlx::query(
            "INSERT INTO settlements (item, action, fingerprint, actor, note, at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::storable(&settlement.item))
        .bind(&settlement.action)
        .bind(&settlement.fingerprint)
        .bind(crate::storable(&settlement.actor))
        .bind(crate::storable(&settlement.note))
        .bind(&settlement.at)
        .bind(crate::storable(&settlement.detail))
        .execute(&mut *tx)
        .await?;
        self.audit(&mut tx, &settlement.actor, "diff-settle", &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every settlement, oldest first.
    pub async fn settlements(&self) -> Result<Vec<SettlementRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT item, action, fingerprint, actor, note, at, detail FROM settlements ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| SettlementRow {
            item: r.get(0),
            action: r.get(1),
            fingerprint: r.get(2),
            actor: r.get(3),
            note: r.get(4),
            at: r.get(5),
            detail: r.get(6),
        })
        .collect())
    }

    /// Every device with its facts, addresses and identity keys.
    pub async fn device_facts(&self) -> Result<Vec<DeviceFacts>, StoreError> {
        // Rows are read as a stream, not collected: at 100,000 devices the
        // 300,000 rows held at once doubled the peak memory of a diff.
        let mut addresses: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
        let mut rows = sqlx::query(
            "SELECT device_id, ip, MAX(last_seen) FROM device_addresses GROUP BY device_id, ip \
             ORDER BY device_id, MAX(last_seen) DESC, ip",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            addresses
                .entry(r.get(0))
                .or_default()
                .push((r.get(1), r.get(2)));
        }
        drop(rows);
        let mut interfaces: BTreeMap<i64, Vec<crate::AddressRow>> = BTreeMap::new();
        let mut rows = sqlx::query(
            "SELECT device_id, ip, mac, agent_id, interface, first_seen, last_seen FROM device_addresses \
             ORDER BY device_id, last_seen DESC, ip",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            interfaces
                .entry(r.get(0))
                .or_default()
                .push(crate::AddressRow {
                    ip: r.get(1),
                    mac: r.get(2),
                    agent: r.get(3),
                    interface: r.get(4),
                    first_seen: r.get(5),
                    last_seen: r.get(6),
                });
        }
        drop(rows);
        let mut keys: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
        let mut rows = sqlx::query(
            "SELECT device_id, kind, value FROM device_keys ORDER BY device_id, kind, value",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            keys.entry(r.get(0)).or_default().push((r.get(1), r.get(2)));
        }
        drop(rows);
        let mut devices = Vec::new();
        let mut rows = sqlx::query(
            "SELECT id, name, mac, maker, model, serial, os, first_seen, last_seen, kind, identity FROM devices ORDER BY id",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            let id: i64 = r.get(0);
            devices.push(DeviceFacts {
                id,
                name: r.get(1),
                mac: r.get(2),
                maker: r.get(3),
                model: r.get(4),
                serial: r.get(5),
                os: r.get(6),
                first_seen: r.get(7),
                last_seen: r.get(8),
                kind: r.get(9),
                identity: r.get(10),
                addresses: addresses.remove(&id).unwrap_or_default(),
                interfaces: interfaces.remove(&id).unwrap_or_default(),
                keys: keys.remove(&id).unwrap_or_default(),
            });
        }
        Ok(devices)
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(
            sqlx::query("SELECT at, actor, action, detail FROM audit_log ORDER BY id")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| AuditEntry {
                    at: r.get(0),
                    actor: r.get(1),
                    action: r.get(2),
                    detail: stored_text(r.get(3)),
                })
                .collect(),
        )
    }
}

/// The advisory lock that orders ledger versions on PostgreSQL (SQLite's
/// writers are ordered by `BEGIN IMMEDIATE`): "daichol" in ASCII.
const POSTGRES_LEDGER_LOCK: i64 = 0x0064_6169_6368_6f6c;

async fn insert_version(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    version: &NewVersion<'_>,
) -> Result<i64, StoreError> {
    if backend == crate::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(POSTGRES_LEDGER_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let newer: Vec<LedgerVersion> = sqlx::query(
        "SELECT id, at, actor, source, note FROM ledger_versions WHERE id > $1 ORDER BY id",
    )
    .bind(version.based_on.unwrap_or(0))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(version_row)
    .collect();
    if !newer.is_empty() {
        let said: Vec<String> = newer
            .iter()
            .map(|v| format!("version {} ({}, {} by {})", v.id, v.source, v.at, v.actor))
            .collect();
        return Err(StoreError::Conflict(format!(
            "this change was made on version {} but {} was saved since",
            version
                .based_on
                .map_or_else(|| "(none)".to_owned(), |id| id.to_string()),
            said.join(", ")
        )));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO ledger_versions (at, actor, source, note) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(stamp(jiff::Timestamp::now()))
    .bind(crate::storable(version.actor))
    .bind(crate::storable(version.source))
    .bind(crate::storable(version.note))
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    let cells: Vec<Cell> = version
        .rows
        .iter()
        .enumerate()
        .flat_map(|(n, (sheet, json))| {
            [
                Cell::Int(id),
                sheet.as_str().into(),
                Cell::Int(n as i64),
                json.as_str().into(),
            ]
        })
        .collect();
    execute_rows(
        conn,
        backend,
        "INSERT INTO ledger_rows (version_id, sheet, position, fields)",
        "",
        4,
        &cells,
    )
    .await?;
    Ok(id)
}

fn version_row(r: &sqlx::any::AnyRow) -> LedgerVersion {
    LedgerVersion {
        id: r.get(0),
        at: r.get(1),
        actor: r.get(2),
        source: r.get(3),
        note: r.get(4),
    }
}

/// An audit entry's detail as stored: a text as JSON, or — written before
/// texts were data — an English sentence.
fn stored_text(stored: String) -> Says {
    serde_json::from_str(&stored).unwrap_or_else(|_| Says::verbatim(stored))
}

/// A settlement's action as a person reads it (`accept` → 承認（台帳を更新）).
fn settle_action(action: &str) -> daicho_report::Param {
    Says::named("settle", action).into()
}

/// A settlement's detail (`{"maintenance": {"maintainer", "method"}}`) as
/// a person reads it; nothing when it names no maintenance.
fn maintenance_said(detail: &str) -> daicho_report::Param {
    #[derive(serde::Deserialize)]
    struct Detail {
        maintenance: Option<Maintenance>,
    }
    #[derive(serde::Deserialize)]
    struct Maintenance {
        maintainer: String,
        method: String,
    }
    match serde_json::from_str::<Detail>(detail) {
        Ok(Detail {
            maintenance: Some(m),
        }) => Says::of(Text::AuditMaintenance)
            .with("maintainer", m.maintainer)
            .with("method", Says::named("method", &m.method))
            .into(),
        _ => "".into(),
    }
}

impl AuditEntry {
    /// What was done, as a person reads it (`diff-settle` → 差分の処理); an
    /// action this build does not name is shown as stored.
    pub fn action_says(&self) -> Says {
        Says::named("action", &self.action)
    }
}
