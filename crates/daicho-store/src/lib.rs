//! The collector's ledger, stored with `sqlx`: one SQLite file (WAL) by
//! default, or a PostgreSQL database by URL for multi-site deployments — the
//! same queries on both (sqlx's `Any` driver; `$N` placeholders, which both
//! accept), each with its own checked-in migrations.
//!
//! Every report is kept verbatim; the devices the merge made of them, their
//! identities and addresses with first/last seen, every merge decision with
//! its reasons, the API's clients (token hashes) and an audit log. One
//! transaction per report, so a report is either wholly in the ledger or not
//! at all; a scan id already ingested changes nothing. Ingests are
//! serialized (in the process, and across collectors sharing a PostgreSQL
//! database by an advisory lock) because the merge reads the keys it joins.

mod clients;
mod ingest;
mod inspection;
mod ledger;
mod links;
mod read;
mod rows;
/// Throwaway ledgers for tests and benchmarks (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod scratch;
mod users;

use std::path::Path;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use clients::{ApiClient, Role, Token, random_token};
pub use ingest::Ingested;
pub use inspection::{DISCLOSURE_STATUSES, DayCounts, Disclosure, SignOff};
pub use ledger::{AuditEntry, DeviceFacts, LedgerVersion, NewVersion, SettlementRow};
pub use links::{LinkRow, LinkState, parse_link_id};
pub use read::{AddressRow, DeviceRow, Explanation, MergeRecord, ScanRow, SharedIdentity};
pub use users::{WebRole, WebSession, hash_password, password_matches};

/// Why the ledger could not do what was asked. Messages name the file or
/// scan and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the ledger database {location}: {source}\n\
         台帳データベース {location} を開けません"
    )]
    Open {
        location: String,
        source: sqlx::Error,
    },
    #[error("the report is not valid: {0}\n報告ファイルの内容が正しくありません")]
    BadReport(String),
    #[error(
        "an API client named {0:?} already exists; choose another name or remove it first\n\
         API クライアント {0:?} は既に登録されています"
    )]
    ClientExists(String),
    #[error(
        "{0:?} is not a usable name: use 1-64 letters, digits, '.', '_' or '-'\n\
         名前 {0:?} は使えません（英数字と . _ - で 64 文字まで）"
    )]
    BadName(String),
    #[error(
        "a user named {0:?} already exists; choose another name or remove it first\n\
         ユーザー {0:?} は既に登録されています"
    )]
    UserExists(String),
    #[error("the password cannot be used: {0}\nこのパスワードは使えません")]
    BadPassword(String),
    #[error(
        "the report is outside the time the collector accepts: {0}; check the agent's clock (NTP)\n\
         報告の日時が受け付けられる範囲外です。エージェントの時計（NTP）を確認してください"
    )]
    BadTime(String),
    #[error(
        "the ledger changed since it was read: {0}. Look at the differences again and settle once more\n\
         読み込んだ後に台帳が更新されました。差分を確認し直してから、もう一度操作してください"
    )]
    Conflict(String),
    #[error(
        "no open link {0:?}: `daicho-collector links` lists them (a link is decided once)\n\
         未判断のリンク {0:?} はありません（`daicho-collector links` で一覧できます）"
    )]
    NoOpenLink(String),
    #[error("ledger database error: {0}\n台帳データベースのエラー")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Whether sending the same thing again can never succeed: bad input,
    /// a value the database cannot hold, a broken constraint. Anything else
    /// (the database away, busy, out of connections) may pass later.
    pub fn is_permanent(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => {
                // SQLSTATE classes 22 (data exception), 23 (integrity), 54
                // (program limit, e.g. an index row too large) on
                // PostgreSQL; SQLite's TOOBIG (18), CONSTRAINT (19),
                // MISMATCH (20) and RANGE (25) with their extended codes.
                let code = e.code().unwrap_or_default();
                ["22", "23", "54"]
                    .iter()
                    .any(|class| code.starts_with(class))
                    || code
                        .parse::<i32>()
                        .is_ok_and(|n| [18, 19, 20, 25].contains(&(n & 0xff)))
            }
            StoreError::Database(_) | StoreError::Open { .. } => false,
            _ => true,
        }
    }
}

/// Which database holds the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// One ingest at a time: the merge reads the keys it then writes.
    ingest_lock: tokio::sync::Mutex<()>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the ledger at `location` — a file path (SQLite, created if
    /// missing, with its directory), a `sqlite:` URL or a `postgres://` URL —
    /// and brings its schema up to date.
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let fail = |source| StoreError::Open {
            location: location.to_owned(),
            source,
        };
        let (url, backend) = database_url(location).map_err(fail)?;
        let options: AnyConnectOptions = url.parse().map_err(fail)?;
        let pool = AnyPoolOptions::new()
            // Forty agents uploading at once each need a connection to be
            // authenticated; with four, a reader waited a second behind them.
            .max_connections(16)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers (the API) never wait for the ingest.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        // Writers queue for the lock rather than fail.
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(fail)?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|e| fail(e.into()))?;
        Ok(Store {
            pool,
            backend,
            ingest_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for running queries (clean shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a second writer then waits for it (busy timeout)
    /// instead of failing with "database is locked" when the read snapshot
    /// a deferred transaction started with has gone stale.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}

/// Text as both backends store it: PostgreSQL cannot hold NUL in text, so
/// it becomes U+2400 (SYMBOL FOR NUL) everywhere — the same bytes on either
/// backend; the verbatim report keeps the original (as a JSON escape).
pub(crate) fn storable(text: &str) -> String {
    text.replace('\0', "\u{2400}")
}

/// The sqlx URL for a location, and its backend.
fn database_url(location: &str) -> Result<(String, Backend), sqlx::Error> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok((location.to_owned(), Backend::Postgres));
    }
    if location.starts_with("sqlite:") {
        return Ok((location.to_owned(), Backend::Sqlite));
    }
    let path = Path::new(location);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    // sqlx decodes the path part of the URL: encode what would end it.
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b'%')
        .add(b'?')
        .add(b'#')
        .add(b' ');
    let encoded = percent_encoding::utf8_percent_encode(location, RESERVED);
    Ok((format!("sqlite://{encoded}?mode=rwc"), Backend::Sqlite))
}

/// Timestamps are stored as text of one fixed width, so that comparing the
/// text orders them in time on both backends.
fn stamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests;
