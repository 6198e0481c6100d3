//! The API's clients and their bearer tokens.
//!
//! A token is `NAME.SECRET`, SECRET 256 random bits in hex, printed once.
//! Only SHA-256 of the secret is stored: a secret this random needs no slow
//! password hash (nothing to guess), and checking stays cheap per request.
//! The comparison is constant-time.

use daicho_report::{Says, Text};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::{Store, StoreError, stamp};

/// What a client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Posts its own reports.
    Agent,
    /// Reads the ledger (devices, scans, findings).
    Reader,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Reader => "reader",
        }
    }
}

/// A registered client, as listed (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiClient {
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub last_seen: Option<String>,
}

/// A new client's bearer token: shown once, never stored.
#[derive(Debug)]
pub struct Token(pub String);

/// 256 random bits from the OS, in hex: API secrets, session cookies,
/// CSRF tokens.
pub fn random_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl Store {
    /// Registers a client and returns its token.
    pub async fn add_client(&self, name: &str, role: Role) -> Result<Token, StoreError> {
        if !valid_name(name) {
            return Err(StoreError::BadName(name.to_owned()));
        }
        let secret = random_token()?;
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO api_clients (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hash(&secret))
        .bind(stamp(jiff::Timestamp::now()))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::ClientExists(name.to_owned()));
        }
        self.audit(
            &mut tx,
            "admin",
            "client-add",
            &Says::of(Text::AuditNameRole)
                .with("role", role.as_str())
                .with("name", name),
        )
        .await?;
        tx.commit().await?;
        Ok(Token(format!("{name}.{secret}")))
    }

    /// The client a bearer token belongs to, if it is valid.
    pub async fn authenticate(&self, token: &str) -> Result<Option<ApiClient>, StoreError> {
        let Some((name, secret)) = token.rsplit_once('.') else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT name, role, created_at, last_seen, token_hash FROM api_clients WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored: String = row.get(4);
        if !bool::from(hash(secret).as_bytes().ct_eq(stored.as_bytes())) {
            return Ok(None);
        }
        Ok(Some(client(&row)))
    }

    /// Every client, by name.
    pub async fn clients(&self) -> Result<Vec<ApiClient>, StoreError> {
        Ok(
            sqlx::query("SELECT name, role, created_at, last_seen FROM api_clients ORDER BY name")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(client)
                .collect(),
        )
    }

    /// Removes a client (its token stops working at once). False if unknown.
    pub async fn remove_client(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let removed = sqlx::query("DELETE FROM api_clients WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed > 0 {
            self.audit(
                &mut tx,
                "admin",
                "client-remove",
                &Says::of(Text::AuditName).with("name", name),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Writes one audit log entry on its own.
    pub async fn record(&self, actor: &str, action: &str, detail: &Says) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.audit(&mut conn, actor, action, detail).await?;
        Ok(())
    }

    pub(crate) async fn audit(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &str,
        action: &str,
        detail: &Says,
    ) -> Result<(), sqlx::Error> {
        let detail = serde_json::to_string(detail).unwrap_or_default();
        sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(stamp(jiff::Timestamp::now()))
            .bind(crate::storable(actor))
            .bind(action)
            .bind(detail)
            .execute(conn)
            .await?;
        Ok(())
    }
}

fn client(row: &sqlx::any::AnyRow) -> ApiClient {
    let role: String = row.get(1);
    ApiClient {
        name: row.get(0),
        role: if role == "agent" {
            Role::Agent
        } else {
            Role::Reader
        },
        created_at: row.get(2),
        last_seen: row.get(3),
    }
}
