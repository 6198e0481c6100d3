//! Reading the ledger: devices, why they are what they are, the reports.

use std::collections::BTreeMap;

use daicho_merge::DeviceId;
use daicho_report::{Report, Says};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError};

/// A device as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub name: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub addresses: Vec<String>,
}

/// Why a device is what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub device: DeviceRow,
    /// (kind, value) of each identity.
    pub keys: Vec<(String, String)>,
    pub decisions: Vec<MergeRecord>,
    /// Links to other devices: open, confirmed or rejected.
    pub links: Vec<crate::LinkRow>,
}

/// One stored merge decision about a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeRecord {
    pub scan_id: String,
    pub interface: String,
    pub ip: Option<String>,
    /// This decision created the device (else it joined it).
    pub created: bool,
    pub reasons: Vec<Says>,
}

/// One address of a device, with the MAC it was seen with and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressRow {
    pub ip: String,
    pub mac: Option<String>,
    pub agent: String,
    pub interface: String,
    pub first_seen: String,
    pub last_seen: String,
}

/// An identity that joins nothing: `placeholder` (a known default value;
/// `detail` is the table's source) or `shared` (several devices with
/// different MACs showed it on one segment; `detail` is the segment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedIdentity {
    pub device: DeviceId,
    pub kind: String,
    pub value: String,
    pub why: String,
    pub detail: String,
}

/// A stored report, without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanRow {
    pub scan_id: String,
    pub agent_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub received_at: String,
}

const DEVICE_COLUMNS: &str = "SELECT id, name, first_seen, last_seen FROM devices";

impl Store {
    /// Every device with its addresses, by id.
    pub async fn devices(&self) -> Result<Vec<DeviceRow>, StoreError> {
        self.devices_page(0, i64::MAX).await
    }

    /// Up to `limit` devices with ids above `after`, by id.
    pub async fn devices_page(
        &self,
        after: DeviceId,
        limit: i64,
    ) -> Result<Vec<DeviceRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEVICE_COLUMNS} WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(Vec::new());
        };
        let (first, last): (DeviceId, DeviceId) = (first.get(0), last.get(0));
        let mut addresses: BTreeMap<DeviceId, Vec<String>> = BTreeMap::new();
        for row in sqlx::query(
            "SELECT DISTINCT device_id, ip FROM device_addresses \
             WHERE device_id BETWEEN $1 AND $2 ORDER BY device_id, ip",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?
        {
            addresses.entry(row.get(0)).or_default().push(row.get(1));
        }
        Ok(rows
            .iter()
            .map(|row| device_row(row, &mut addresses))
            .collect())
    }

    /// One device with its addresses.
    pub async fn device(&self, id: DeviceId) -> Result<Option<DeviceRow>, StoreError> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEVICE_COLUMNS} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let ips = sqlx::query(
            "SELECT DISTINCT ip FROM device_addresses WHERE device_id = $1 ORDER BY ip",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        Ok(Some(device_row(&row, &mut BTreeMap::from([(id, ips)]))))
    }

    /// Changes whenever a report is stored, a diff item settled or a
    /// ledger version saved: what a cached reconciliation depends on.
    pub async fn generation(&self) -> Result<(i64, i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM scans), \
             (SELECT COUNT(*) FROM settlements) + (SELECT COUNT(*) FROM device_links WHERE state <> 'open'), \
             (SELECT COALESCE(MAX(id), 0) FROM ledger_versions)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    /// A device's interfaces, newest first.
    pub async fn device_addresses(&self, id: DeviceId) -> Result<Vec<AddressRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT ip, mac, agent_id, interface, first_seen, last_seen FROM device_addresses \
             WHERE device_id = $1 ORDER BY last_seen DESC, ip",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| AddressRow {
            ip: r.get(0),
            mac: r.get(1),
            agent: r.get(2),
            interface: r.get(3),
            first_seen: r.get(4),
            last_seen: r.get(5),
        })
        .collect())
    }

    /// A device's identification (JSON: every value with its source).
    pub async fn device_identity(&self, id: DeviceId) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query("SELECT identity FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .and_then(|r| r.get(0)))
    }

    /// Identities devices showed that join nothing, by device.
    pub async fn shared_identities(&self) -> Result<Vec<SharedIdentity>, StoreError> {
        Ok(sqlx::query(
            "SELECT device_id, kind, value, why, detail FROM shared_identities \
             ORDER BY device_id, kind, value",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| SharedIdentity {
            device: r.get(0),
            kind: r.get(1),
            value: r.get(2),
            why: r.get(3),
            detail: r.get(4),
        })
        .collect())
    }

    /// A device's identities and every merge decision that touched it.
    pub async fn explain(&self, id: DeviceId) -> Result<Option<Explanation>, StoreError> {
        let Some(device) = self.device(id).await? else {
            return Ok(None);
        };
        let keys = sqlx::query(
            "SELECT kind, value FROM device_keys WHERE device_id = $1 ORDER BY kind, value",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        let decisions = sqlx::query(
            "SELECT scan_id, interface, ip, created, reasons FROM merge_decisions \
             WHERE device_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let created: i64 = r.get(3);
            let reasons: String = r.get(4);
            MergeRecord {
                scan_id: r.get(0),
                interface: r.get(1),
                ip: r.get(2),
                created: created != 0,
                reasons: stored_reasons(&reasons),
            }
        })
        .collect();
        let links = self
            .links()
            .await?
            .into_iter()
            .filter(|l| l.involves(id))
            .collect();
        Ok(Some(Explanation {
            device,
            keys,
            decisions,
            links,
        }))
    }

    /// Each agent's most recent report: what detection across agents reads.
    pub async fn latest_reports(&self) -> Result<Vec<Report>, StoreError> {
        let rows = sqlx::query(
            // One per agent even when two of its reports finished at the
            // same instant (then the one received last). A report cannot
            // have finished after it arrived: an agent clock running ahead
            // counts as the time of arrival, so it does not stay "latest".
            "SELECT s.report FROM scans s WHERE s.scan_id = \
             (SELECT t.scan_id FROM scans t WHERE t.agent_id = s.agent_id \
              ORDER BY CASE WHEN t.finished_at < t.received_at THEN t.finished_at ELSE t.received_at END DESC, \
                       t.received_at DESC, t.scan_id DESC LIMIT 1) \
             ORDER BY s.agent_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let text: String = row.get(0);
                Report::from_json(text.as_bytes()).map_err(|e| StoreError::BadReport(e.to_string()))
            })
            .collect()
    }

    /// Each of `agents`' report before its latest one (by the order
    /// [`Store::latest_reports`] uses), for what changed between scans.
    pub async fn previous_reports(&self, agents: &[String]) -> Result<Vec<Report>, StoreError> {
        let mut reports = Vec::new();
        for agent in agents {
            let row = sqlx::query(
                "SELECT report FROM scans WHERE agent_id = $1 \
                 ORDER BY CASE WHEN finished_at < received_at THEN finished_at ELSE received_at END DESC, \
                          received_at DESC, scan_id DESC LIMIT 1 OFFSET 1",
            )
            .bind(agent)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                let text: String = row.get(0);
                reports.push(
                    Report::from_json(text.as_bytes())
                        .map_err(|e| StoreError::BadReport(e.to_string()))?,
                );
            }
        }
        Ok(reports)
    }

    /// The stored reports, newest first.
    pub async fn scans(&self) -> Result<Vec<ScanRow>, StoreError> {
        Ok(sqlx::query(
            "SELECT scan_id, agent_id, started_at, finished_at, received_at FROM scans \
             ORDER BY finished_at DESC, scan_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| ScanRow {
            scan_id: r.get(0),
            agent_id: r.get(1),
            started_at: r.get(2),
            finished_at: r.get(3),
            received_at: r.get(4),
        })
        .collect())
    }

    /// Whether a scan id is in the ledger.
    pub async fn has_scan(&self, scan_id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM scans WHERE scan_id = $1")
            .bind(scan_id)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Reports stored, for tests and status.
    pub async fn scan_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM scans")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }
}

fn device_row(row: &AnyRow, addresses: &mut BTreeMap<DeviceId, Vec<String>>) -> DeviceRow {
    let id: DeviceId = row.get(0);
    DeviceRow {
        id,
        name: row.get(1),
        first_seen: row.get(2),
        last_seen: row.get(3),
        addresses: addresses.remove(&id).unwrap_or_default(),
    }
}

/// A merge decision's reasons as stored: a JSON list of texts, or — written
/// before texts were data — one English sentence a line.
fn stored_reasons(stored: &str) -> Vec<Says> {
    match serde_json::from_str(stored) {
        Ok(reasons) => reasons,
        Err(_) => stored.lines().map(Says::verbatim).collect(),
    }
}
