//! Throwaway ledgers for tests and benchmarks, on every backend at hand:
//! SQLite in a temporary directory always; PostgreSQL in a new database when
//! `DAICHO_TEST_POSTGRES` names a server (`scripts/test` starts one). Under
//! CI (`CI` set) a missing PostgreSQL is an error, not a silent skip.

use sqlx::{Connection, Executor};

use crate::{Backend, Store};

/// Where the scratch PostgreSQL server is: a URL whose database is the
/// maintenance one (`postgres`).
pub const POSTGRES_ENV: &str = "DAICHO_TEST_POSTGRES";

/// One scratch ledger; [`ScratchLedger::remove`] deletes it.
pub struct ScratchLedger {
    /// Where the ledger is: what `Store::open` and `--ledger` take.
    pub location: String,
    backend: Backend,
    /// The temporary directory (SQLite) or the database name (PostgreSQL).
    name: String,
}

impl ScratchLedger {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.location)
            .await
            .unwrap_or_else(|e| panic!("opening scratch ledger {}: {e}", self.location))
    }

    /// Deletes the ledger. Close every store on it first.
    pub async fn remove(self) {
        match self.backend {
            Backend::Sqlite => {
                let _ = std::fs::remove_dir_all(&self.name);
            }
            Backend::Postgres => {
                let mut admin = admin().await;
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    )))
                    .await;
            }
        }
    }
}

/// A new empty ledger on every backend at hand, each named after `label`.
pub async fn ledgers(label: &str) -> Vec<ScratchLedger> {
    let mut all = vec![sqlite(label)];
    if postgres_url().is_some() {
        all.push(postgres(label).await);
    } else if std::env::var_os("CI").is_some() {
        panic!("{POSTGRES_ENV} is not set: under CI the ledger is tested on PostgreSQL too");
    }
    all
}

/// A new empty SQLite ledger in a temporary directory.
pub fn sqlite(label: &str) -> ScratchLedger {
    let dir = std::env::temp_dir().join(format!(
        "daicho-{label}-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir).expect("creating a temporary directory");
    // An empty file is an empty SQLite database: the command line accepts
    // it as an existing ledger (it refuses paths that do not exist).
    std::fs::File::create(dir.join("ledger.db")).expect("creating the ledger file");
    ScratchLedger {
        location: dir.join("ledger.db").display().to_string(),
        backend: Backend::Sqlite,
        name: dir.display().to_string(),
    }
}

/// A new empty PostgreSQL database on the scratch server.
pub async fn postgres(label: &str) -> ScratchLedger {
    let name = format!("daicho_{}_{}", label.replace('-', "_"), unique());
    let mut admin = admin().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    let mut url = url::Url::parse(&postgres_url().expect("checked by the caller"))
        .expect("DAICHO_TEST_POSTGRES is a URL");
    url.set_path(&name);
    ScratchLedger {
        location: url.to_string(),
        backend: Backend::Postgres,
        name,
    }
}

fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())
}

async fn admin() -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let url = postgres_url().expect("DAICHO_TEST_POSTGRES is set");
    sqlx::AnyConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to the scratch PostgreSQL {url}: {e}"))
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A report from `agent` with `devices` PCs numbered from `first`: each
/// answers ARP (an Intel MAC) and NetBIOS (a computer name), at address
/// 198.18.0.0 + its number (the 198.18.0.0/15 test network holds 131,072).
pub fn synthetic_report(
    agent: &str,
    scan: uuid::Uuid,
    first: u32,
    devices: u32,
) -> daicho_report::Report {
    let observations: Vec<serde_json::Value> = (first..first + devices)
        .flat_map(|n| {
            let ip = std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0)) + (n & 0x1_ffff));
            let mac = format!("00:1b:21:{:02x}:{:02x}:{:02x}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
            [
                serde_json::json!({"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z",
                                   "ip": ip, "mac": mac}),
                serde_json::json!({"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:02Z",
                                   "ip": ip, "netbios": {"computer_name": format!("PC-{n}")}}),
            ]
        })
        .collect();
    // Dated now: the collector refuses reports far from its clock.
    let now = jiff::Timestamp::now();
    let json = serde_json::json!({
        "schema_version": daicho_report::SCHEMA_VERSION,
        "agent": {"id": agent, "hostname": agent, "version": env!("CARGO_PKG_VERSION")},
        "scan_id": scan.to_string(),
        "started_at": (now - jiff::SignedDuration::from_secs(5)).to_string(),
        "finished_at": now.to_string(),
        "segments": [],
        "observations": observations,
    });
    serde_json::from_value(json).expect("a valid report")
}
