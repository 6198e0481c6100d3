//! Links: weak evidence that two devices are one host (a shared name, with
//! or without adjacent MACs), and a person's decision on each. Confirming
//! merges the newer device into the older one in one transaction;
//! rejecting keeps the pair apart for good. Both are audited.

use daicho_merge::DeviceId;
use daicho_report::{Says, Text};
use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError, stamp};

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkRow {
    /// The older device: the one kept when the link is confirmed.
    pub older: DeviceId,
    pub newer: DeviceId,
    /// `low` (a name on another segment) or `medium` (and adjacent MACs).
    pub confidence: String,
    pub evidence: Vec<Says>,
    pub state: LinkState,
    pub first_seen: String,
    pub last_seen: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

impl LinkRow {
    /// How people and URLs name it: `L3-7`.
    pub fn id(&self) -> String {
        format!("L{}-{}", self.older, self.newer)
    }

    pub fn involves(&self, device: DeviceId) -> bool {
        self.older == device || self.newer == device
    }
}

/// `L3-7` → (3, 7).
pub fn parse_link_id(id: &str) -> Option<(DeviceId, DeviceId)> {
    let (a, b) = id.trim().strip_prefix(['L', 'l'])?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Open,
    Confirmed,
    Rejected,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Open => "open",
            LinkState::Confirmed => "confirmed",
            LinkState::Rejected => "rejected",
        }
    }

    fn from_name(name: &str) -> LinkState {
        match name {
            "confirmed" => LinkState::Confirmed,
            "rejected" => LinkState::Rejected,
            _ => LinkState::Open,
        }
    }
}

const LINK_COLUMNS: &str = "SELECT device_a, device_b, confidence, evidence, state, first_seen, \
     last_seen, decided_by, decided_at, note FROM device_links";

fn link(row: &sqlx::any::AnyRow) -> LinkRow {
    let evidence: String = row.get(3);
    let state: String = row.get(4);
    LinkRow {
        older: row.get(0),
        newer: row.get(1),
        confidence: row.get(2),
        evidence: serde_json::from_str(&evidence).unwrap_or_default(),
        state: LinkState::from_name(&state),
        first_seen: row.get(5),
        last_seen: row.get(6),
        decided_by: row.get(7),
        decided_at: row.get(8),
        note: row.get(9),
    }
}

impl Store {
    /// Every link: open ones first, then by device.
    pub async fn links(&self) -> Result<Vec<LinkRow>, StoreError> {
        let mut links: Vec<LinkRow> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{LINK_COLUMNS} ORDER BY device_a, device_b"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(link)
        .collect();
        links.sort_by_key(|l| l.state);
        Ok(links)
    }

    /// A person's decision on an open link. Confirming moves everything the
    /// newer device has (identities, addresses, claims, merge decisions)
    /// to the older one and removes the newer; rejecting keeps them apart
    /// whatever later reports say.
    pub async fn decide_link(
        &self,
        id: &str,
        confirm: bool,
        actor: &str,
        note: &str,
    ) -> Result<LinkRow, StoreError> {
        let no_link = || StoreError::NoOpenLink(id.to_owned());
        let (a, b) = parse_link_id(id).ok_or_else(no_link)?;
        let mut tx = self.write_tx().await?;
        let current = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{LINK_COLUMNS} WHERE device_a = $1 AND device_b = $2"
        )))
        .bind(a)
        .bind(b)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| link(&r))
        .filter(|l| l.state == LinkState::Open)
        .ok_or_else(no_link)?;
        let state = if confirm {
            merge_devices(&mut tx, a, b).await?;
            LinkState::Confirmed
        } else {
            LinkState::Rejected
        };
        let at = stamp(jiff::Timestamp::now());
        sqlx::query(
            "UPDATE device_links SET state = $1, decided_by = $2, decided_at = $3, note = $4 \
             WHERE device_a = $5 AND device_b = $6",
        )
        .bind(state.as_str())
        .bind(crate::storable(actor))
        .bind(&at)
        .bind(crate::storable(note))
        .bind(a)
        .bind(b)
        .execute(&mut *tx)
        .await?;
        let (action, detail) = if confirm {
            ("link-confirm", Says::of(Text::AuditLinkConfirm))
        } else {
            ("link-reject", Says::of(Text::AuditLinkReject))
        };
        let detail = detail
            .with("link", current.id())
            .value("a", a)
            .value("b", b)
            .with("note", note);
        self.audit(&mut tx, actor, action, &detail).await?;
        tx.commit().await?;
        Ok(LinkRow {
            state,
            decided_by: Some(actor.to_owned()),
            decided_at: Some(at),
            note: Some(note.to_owned()),
            ..current
        })
    }
}

/// Device `b` into device `a`, in the caller's transaction.
async fn merge_devices(
    tx: &mut sqlx::AnyConnection,
    a: DeviceId,
    b: DeviceId,
) -> Result<(), StoreError> {
    // (statement, its parameters): $1 the kept device, $2 the other; a
    // statement naming only the removed one has it as $1.
    let statements: [(String, &[DeviceId]); 11] = [
        (
            "UPDATE device_keys SET device_id = $1 WHERE device_id = $2".into(),
            &[a, b],
        ),
        (
            format!(
                "INSERT INTO device_addresses (device_id, ip, agent_id, interface, first_seen, last_seen, mac) \
                 SELECT $1, ip, agent_id, interface, first_seen, last_seen, mac FROM device_addresses WHERE device_id = $2 \
                 ON CONFLICT (device_id, ip, agent_id, interface) DO UPDATE SET {}",
                crate::ingest::seen_range_upsert("device_addresses")
            ),
            &[a, b],
        ),
        (
            "DELETE FROM device_addresses WHERE device_id = $1".into(),
            &[b],
        ),
        (
            format!(
                "INSERT INTO address_claims (device_id, ip, source, agent_id, interface, first_seen, last_seen) \
                 SELECT $1, ip, source, agent_id, interface, first_seen, last_seen FROM address_claims WHERE device_id = $2 \
                 ON CONFLICT (device_id, ip, source, agent_id, interface) DO UPDATE SET {}",
                crate::ingest::seen_range_upsert("address_claims")
            ),
            &[a, b],
        ),
        (
            "DELETE FROM address_claims WHERE device_id = $1".into(),
            &[b],
        ),
        (
            "UPDATE merge_decisions SET device_id = $1 WHERE device_id = $2".into(),
            &[a, b],
        ),
        (
            format!(
                "INSERT INTO shared_identities (device_id, kind, value, why, detail, first_seen, last_seen) \
                 SELECT $1, kind, value, why, detail, first_seen, last_seen FROM shared_identities WHERE device_id = $2 \
                 ON CONFLICT (device_id, kind, value) DO UPDATE SET {}",
                crate::ingest::seen_range_upsert("shared_identities")
            ),
            &[a, b],
        ),
        (
            "DELETE FROM shared_identities WHERE device_id = $1".into(),
            &[b],
        ),
        // The kept device spans both; a fact it lacks comes from the other.
        (
            "UPDATE devices SET \
               first_seen = CASE WHEN o.first_seen < devices.first_seen THEN o.first_seen ELSE devices.first_seen END, \
               last_seen = CASE WHEN o.last_seen > devices.last_seen THEN o.last_seen ELSE devices.last_seen END, \
               name = COALESCE(devices.name, o.name), mac = COALESCE(devices.mac, o.mac), \
               maker = COALESCE(devices.maker, o.maker), model = COALESCE(devices.model, o.model), \
               serial = COALESCE(devices.serial, o.serial), os = COALESCE(devices.os, o.os) \
             FROM (SELECT * FROM devices WHERE id = $2) AS o WHERE devices.id = $1"
                .into(),
            &[a, b],
        ),
        ("DELETE FROM devices WHERE id = $1".into(), &[b]),
        // Other open links of the removed device are made again, from the
        // kept one, by the next report that has their evidence.
        (
            "DELETE FROM device_links WHERE state = 'open' AND (device_a = $2 OR device_b = $2) \
             AND NOT (device_a = $1 AND device_b = $2)"
                .into(),
            &[a, b],
        ),
    ];
    for (statement, parameters) in statements {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
        for id in parameters {
            query = query.bind(*id);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}
