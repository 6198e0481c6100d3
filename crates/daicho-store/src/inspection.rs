//! What the inspection asks beyond the ledger: the 2-② remote-maintenance
//! register (answers per device), the makers' MDS/SDS (2-③) and the
//! sign-offs (確認記録). The latest answer per device and per maker counts;
//! every write is audited, so the history stays in the audit log.

use std::collections::BTreeMap;

use daicho_report::{Says, Text};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Store, StoreError, stamp, storable};

/// A disclosure's statuses as stored: 提出済, 依頼中, 未提出.
pub const DISCLOSURE_STATUSES: [&str; 3] = ["submitted", "requested", "missing"];

/// One maker's (or system's) security disclosure (MDS/SDS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    pub maker: String,
    /// One of [`DISCLOSURE_STATUSES`].
    pub status: String,
    /// The form it follows: `6.0` or `5.2` (empty when not known).
    pub version: String,
    /// The day it was received (YYYY-MM-DD), empty if not yet.
    pub received: String,
    /// Where the document is kept (a file path or name).
    pub file: String,
    pub note: String,
    pub actor: String,
    pub at: String,
}

/// A review of the ledger, the register and the MDS/SDS status by the
/// people responsible (e.g. at a meeting), with the target dates set for
/// the checklist items still answered いいえ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub reviewer: String,
    /// The day of the review (YYYY-MM-DD).
    pub day: String,
    pub note: String,
    /// Checklist item (`2-1`, `2-2`, `2-3`) → the target date for it.
    pub targets: BTreeMap<String, String>,
    pub actor: String,
    pub at: String,
}

impl Store {
    /// Stores a device's register answers (replacing its earlier ones), audited.
    pub async fn save_register_entry(
        &self,
        device: &str,
        answers: &BTreeMap<String, String>,
        actor: &str,
        action: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let json = storable(&serde_json::to_string(answers).unwrap_or_default());
        sqlx::query(
            "INSERT INTO remote_register (device, answers, actor, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (device) DO UPDATE SET answers = excluded.answers, actor = excluded.actor, at = excluded.at",
        )
        .bind(storable(device))
        .bind(&json)
        .bind(storable(actor))
        .bind(stamp(jiff::Timestamp::now()))
        .execute(&mut *tx)
        .await?;
        let fields: Vec<String> = answers
            .iter()
            .filter(|(_, a)| !a.trim().is_empty())
            .map(|(q, a)| format!("{q}={a}"))
            .collect();
        let detail = Says::of(Text::AuditRegister)
            .with("device", device)
            .with("fields", fields);
        self.audit(&mut tx, actor, action, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every device's register answers: (device, question → answer).
    pub async fn register(&self) -> Result<Vec<(String, BTreeMap<String, String>)>, StoreError> {
        Ok(
            sqlx::query("SELECT device, answers FROM remote_register ORDER BY device")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    let answers: String = r.get(1);
                    (r.get(0), serde_json::from_str(&answers).unwrap_or_default())
                })
                .collect(),
        )
    }

    /// Stores a maker's MDS/SDS status (replacing the earlier one), audited.
    pub async fn save_disclosure(&self, d: &Disclosure) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO disclosures (maker, status, version, received, file, note, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (maker) DO UPDATE SET status = excluded.status, version = excluded.version, \
             received = excluded.received, file = excluded.file, note = excluded.note, \
             actor = excluded.actor, at = excluded.at",
        )
        .bind(storable(&d.maker))
        .bind(&d.status)
        .bind(storable(&d.version))
        .bind(storable(&d.received))
        .bind(storable(&d.file))
        .bind(storable(&d.note))
        .bind(storable(&d.actor))
        .bind(stamp(jiff::Timestamp::now()))
        .execute(&mut *tx)
        .await?;
        let status = Says::named("disclosure", &d.status);
        let detail = Says::of(Text::AuditDisclosure)
            .with("maker", d.maker.as_str())
            .with("status", status);
        self.audit(&mut tx, &d.actor, "disclosure-edit", &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every maker's MDS/SDS status, by maker.
    pub async fn disclosures(&self) -> Result<Vec<Disclosure>, StoreError> {
        Ok(sqlx::query(
            "SELECT maker, status, version, received, file, note, actor, at FROM disclosures ORDER BY maker",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Disclosure {
            maker: r.get(0),
            status: r.get(1),
            version: r.get(2),
            received: r.get(3),
            file: r.get(4),
            note: r.get(5),
            actor: r.get(6),
            at: r.get(7),
        })
        .collect())
    }

    /// Records a sign-off, audited.
    pub async fn sign_off(&self, s: &SignOff) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sign_offs (reviewer, day, note, targets, actor, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(storable(&s.reviewer))
        .bind(storable(&s.day))
        .bind(storable(&s.note))
        .bind(storable(&serde_json::to_string(&s.targets).unwrap_or_default()))
        .bind(storable(&s.actor))
        .bind(stamp(jiff::Timestamp::now()))
        .execute(&mut *tx)
        .await?;
        let detail = Says::of(Text::AuditSignOff)
            .with("reviewer", s.reviewer.as_str())
            .with("date", s.day.as_str())
            .with("note", s.note.as_str());
        self.audit(&mut tx, &s.actor, "sign-off", &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every sign-off, oldest first.
    pub async fn sign_offs(&self) -> Result<Vec<SignOff>, StoreError> {
        Ok(
            sqlx::query(
                "SELECT reviewer, day, note, targets, actor, at FROM sign_offs ORDER BY id",
            )
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let targets: String = r.get(3);
                SignOff {
                    reviewer: r.get(0),
                    day: r.get(1),
                    note: r.get(2),
                    targets: serde_json::from_str(&targets).unwrap_or_default(),
                    actor: r.get(4),
                    at: r.get(5),
                }
            })
            .collect(),
        )
    }
}

/// One day's counts, for the charts over time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounts {
    pub devices: i64,
    pub undeclared: i64,
    pub flagged: i64,
}

impl Store {
    /// Keeps `day`'s counts (the latest of the day replaces earlier ones).
    /// Unchanged counts are not written again: the pages reconcile often,
    /// and a write would wait for an ingest holding SQLite's write lock.
    pub async fn record_counts(&self, day: &str, counts: DayCounts) -> Result<(), StoreError> {
        let kept =
            sqlx::query("SELECT devices, undeclared, flagged FROM daily_counts WHERE day = $1")
                .bind(day)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| DayCounts {
                    devices: r.get(0),
                    undeclared: r.get(1),
                    flagged: r.get(2),
                });
        if kept == Some(counts) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO daily_counts (day, devices, undeclared, flagged, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (day) DO UPDATE SET devices = excluded.devices, undeclared = excluded.undeclared, \
             flagged = excluded.flagged, at = excluded.at",
        )
        .bind(day)
        .bind(counts.devices)
        .bind(counts.undeclared)
        .bind(counts.flagged)
        .bind(stamp(jiff::Timestamp::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last `days` days with counts, oldest first.
    pub async fn daily_counts(&self, days: i64) -> Result<Vec<(String, DayCounts)>, StoreError> {
        let mut rows: Vec<(String, DayCounts)> = sqlx::query(
            "SELECT day, devices, undeclared, flagged FROM daily_counts ORDER BY day DESC LIMIT $1",
        )
        .bind(days)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            (
                r.get(0),
                DayCounts {
                    devices: r.get(1),
                    undeclared: r.get(2),
                    flagged: r.get(3),
                },
            )
        })
        .collect();
        rows.reverse();
        Ok(rows)
    }
}
