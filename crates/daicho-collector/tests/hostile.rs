//! Hostile and careless input against a real `daicho-collector serve` on
//! loopback, on every ledger backend at hand: held and token-less
//! connections, crowds of uploads and of wrong passwords, open redirects,
//! reports from another time, bytes one backend cannot hold, a proxy that
//! pretends to be the collector, two editors at once, a closed pipe. Each
//! asserts the answer, that nothing was written where nothing should be,
//! and — while the attack runs — that a reader is still answered within
//! 100 ms (p99). Counts are bounded; everything stays on 127.0.0.0/8.

mod support;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use daicho_agent::upload::{Spool, UploadConfig, Uploader, flush};
use daicho_store::scratch;
use daicho_store::scratch::synthetic_report;
use reqwest::StatusCode;
use serde_json::Value;
use support::{Collector, add_client, add_user, attempt_from, client, collector};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "correct horse battery staple";

/// The tests run one at a time: on two cores, two attacks at once would
/// measure each other's load, not the collector.
static TIMED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// A reader asking for a page of devices every 50 ms while an attack runs,
/// on a thread and runtime of its own: what it measures is the collector,
/// not this test process's own load.
struct ReaderProbe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Duration>>,
}

impl ReaderProbe {
    async fn start(url: &str, token: &str) -> ReaderProbe {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, token, stopping) = (url.to_owned(), token.to_owned(), Arc::clone(&stop));
        let (ready, warm) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let http = reqwest::Client::builder()
                    .local_address(loopback(1))
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let ask = || {
                    http.get(format!("{url}/api/v1/devices?limit=10"))
                        .bearer_auth(&token)
                        .send()
                };
                // One request first: the connection and the pool are warm
                // before the attack starts.
                ask().await.expect("the reader is answered");
                let _ = ready.send(());
                let mut latencies = Vec::new();
                while !stopping.load(Ordering::Relaxed) && latencies.len() < 2000 {
                    let started = Instant::now();
                    let answer = ask().await.expect("the reader is answered");
                    assert_eq!(answer.status(), StatusCode::OK);
                    answer.bytes().await.unwrap();
                    latencies.push(started.elapsed());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                latencies
            })
        });
        warm.await.expect("the reader probe starts");
        ReaderProbe { stop, thread }
    }

    /// Stops and checks the 99th percentile.
    async fn assert_p99_within(self, limit: Duration, what: &str) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        let mut latencies = tokio::task::spawn_blocking(move || self.thread.join())
            .await
            .unwrap()
            .expect("the reader probe does not panic");
        assert!(latencies.len() >= 5, "{what}: too few reader samples");
        latencies.sort();
        let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
        assert!(
            p99 <= limit,
            "{what}: reader p99 {p99:?} over {limit:?} ({} samples)",
            latencies.len()
        );
        p99
    }
}

async fn scan_count(ledger: &scratch::ScratchLedger) -> i64 {
    let store = ledger.open().await;
    let count = store.scan_count().await.unwrap();
    store.close().await;
    count
}

/// A thousand connections — half hold their headers unfinished, half send
/// no token and a 64 MiB body — from 16 addresses: the collector stays
/// under 100 MB, closes what is over its caps, keeps nothing, and a reader
/// elsewhere is answered throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn held_and_token_less_connections_hold_neither_memory_nor_readers() {
    let _alone = TIMED.lock().await;
    for ledger in scratch::ledgers("hostile-held").await {
        let at = ledger.location.as_str();
        let reader = add_client(at, "reader", "it-staff");
        let server = Collector::start(at, &[]);
        let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
        let probe = ReaderProbe::start(&server.url, &reader).await;
        let mut attackers = tokio::task::JoinSet::new();
        for n in 0..1000u32 {
            let from = loopback(2 + (n % 16) as u8);
            // Opened over a second: a thousand held connections, not a
            // SYN flood.
            let delay = Duration::from_millis(u64::from(n));
            attackers.spawn(async move {
                tokio::time::sleep(delay).await;
                let socket = tokio::net::TcpSocket::new_v4().ok()?;
                socket.bind((from, 0).into()).ok()?;
                let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.ok()?;
                if n % 2 == 0 {
                    stream
                        .write_all(b"POST /api/v1/reports HTTP/1.1\r\nHost: collector\r\n")
                        .await
                        .ok()?;
                    tokio::time::sleep(Duration::from_secs(8)).await;
                } else {
                    stream
                        .write_all(
                            b"POST /api/v1/reports HTTP/1.1\r\nHost: collector\r\n\
                              Content-Type: application/json\r\nContent-Length: 67108864\r\n\r\n",
                        )
                        .await
                        .ok()?;
                    let chunk = vec![b' '; 64 << 10];
                    let until = Instant::now() + Duration::from_secs(8);
                    while Instant::now() < until {
                        stream.write_all(&chunk).await.ok()?;
                    }
                }
                Some(())
            });
        }
        let mut peak = 0;
        let until = Instant::now() + Duration::from_secs(8);
        while Instant::now() < until {
            peak = peak.max(server.rss());
            let open = std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
                .map(|d| d.count())
                .unwrap_or(0);
            assert!(open < 700, "{open} descriptors open: the caps do not hold");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        attackers.abort_all();
        while attackers.join_next().await.is_some() {}
        let p99 = probe
            .assert_p99_within(Duration::from_millis(100), "held connections")
            .await;
        assert!(
            peak <= 100 << 20,
            "collector RSS peaked at {} MiB",
            peak >> 20
        );
        eprintln!(
            "held/token-less x1000 ({:?}): peak RSS {} MiB, reader p99 {p99:?}",
            ledger.backend(),
            peak >> 20
        );
        drop(server);
        assert_eq!(scan_count(&ledger).await, 0, "nothing written");
        ledger.remove().await;
    }
}

/// Forty agents upload at once: forty reports stored, no refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_uploads_are_all_stored() {
    let _alone = TIMED.lock().await;
    for ledger in scratch::ledgers("hostile-concurrent").await {
        let at = ledger.location.as_str();
        let reader = add_client(at, "reader", "it-staff");
        let agents: Vec<(String, String)> = (0..40)
            .map(|n| {
                let name = format!("ward-{n}");
                let token = add_client(at, "agent", &name);
                (name, token)
            })
            .collect();
        // The bodies are made before the clock runs: the probe measures
        // the collector, not this process making forty reports.
        let bodies: Vec<(String, Vec<u8>)> = agents
            .into_iter()
            .enumerate()
            .map(|(n, (name, token))| {
                let report =
                    synthetic_report(&name, uuid::Uuid::now_v7(), (n as u32 + 1) * 1000, 500);
                (token, serde_json::to_vec(&report).unwrap())
            })
            .collect();
        let server = Collector::start(at, &[]);
        let probe = ReaderProbe::start(&server.url, &reader).await;
        let mut uploads = tokio::task::JoinSet::new();
        for (token, body) in bodies {
            let url = server.url.clone();
            uploads.spawn(async move {
                client()
                    .post(format!("{url}/api/v1/reports"))
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status())
            });
        }
        let mut statuses = Vec::new();
        while let Some(done) = uploads.join_next().await {
            statuses.push(done.unwrap().expect("the collector answers"));
        }
        probe
            .assert_p99_within(Duration::from_millis(100), "concurrent uploads")
            .await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::CREATED),
            "{statuses:?}"
        );
        drop(server);
        assert_eq!(scan_count(&ledger).await, 40);
        ledger.remove().await;
    }
}

/// A hundred simultaneous wrong passwords get five checks; names that do
/// not exist take as long as names that do, count, and are audited; a
/// stranger's guesses do not lock staff out at their own PCs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sign_in_guard_holds_under_a_crowd() {
    let _alone = TIMED.lock().await;
    for ledger in scratch::ledgers("hostile-sign-in").await {
        let at = ledger.location.as_str();
        assert!(add_user(at, "suzuki", "editor", PASSWORD).status.success());
        let reader = add_client(at, "reader", "it-staff");
        // One address opens a hundred connections at once here: the
        // per-address cap (64) would close some before the guard is asked.
        let server = Collector::start(at, &["--max-connections-per-address", "256"]);
        let base = server.url.clone();
        let probe = ReaderProbe::start(&base, &reader).await;

        let mut crowd = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let base = base.clone();
            crowd.spawn(async move {
                attempt_from(&base, "suzuki", "wrong password!", Some(loopback(2)))
                    .await
                    .status()
            });
        }
        let mut statuses = Vec::new();
        while let Some(done) = crowd.join_next().await {
            statuses.push(done.unwrap());
        }
        let checked = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((checked, refused), (5, 95), "{statuses:?}");
        // Staff at another PC are not locked out.
        let own_pc = attempt_from(&base, "suzuki", PASSWORD, Some(loopback(3))).await;
        assert_eq!(own_pc.status(), StatusCode::SEE_OTHER);

        // Wrong names and wrong passwords take alike.
        let timed = |user: &'static str, from: u8| {
            let base = base.clone();
            async move {
                let mut times = Vec::new();
                for _ in 0..3 {
                    let started = Instant::now();
                    let answer =
                        attempt_from(&base, user, "wrong password!", Some(loopback(from))).await;
                    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
                    times.push(started.elapsed());
                }
                times.sort();
                times[1]
            }
        };
        let known = timed("suzuki", 4).await;
        let unknown = timed("nobody-here", 5).await;
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        assert!(
            (0.33..3.0).contains(&ratio),
            "unknown name {unknown:?}, known name {known:?}"
        );

        // Made-up names from one address: counted, refused after twenty,
        // audited once — the table does not fill and forget.
        let mut outcomes = Vec::new();
        for n in 0..300 {
            let user = format!("made-up-{n}");
            outcomes.push(
                attempt_from(&base, &user, "x", Some(loopback(6)))
                    .await
                    .status(),
            );
        }
        assert_eq!(
            outcomes
                .iter()
                .filter(|s| **s == StatusCode::UNAUTHORIZED)
                .count(),
            20
        );
        probe
            .assert_p99_within(Duration::from_millis(100), "sign-in crowd")
            .await;
        let audit = collector(at, &["--lang", "en", "audit"]);
        let audit = String::from_utf8_lossy(&audit.stdout);
        assert_eq!(
            audit
                .lines()
                .filter(|l| l.contains("sign-in blocked") && l.contains("127.0.0.6"))
                .count(),
            1,
            "{audit}"
        );
        assert!(
            audit
                .lines()
                .any(|l| l.contains("sign-in blocked") && l.contains("\"suzuki\"")),
            "{audit}"
        );
        drop(server);
        ledger.remove().await;
    }
}

/// The language switch leads back only to the site's own pages.
#[tokio::test]
async fn the_language_switch_is_no_open_redirect() {
    let _alone = TIMED.lock().await;
    let ledger = scratch::sqlite("hostile-redirect");
    let server = Collector::start(&ledger.location, &[]);
    for (back, expected) in [
        ("/%09/evil.example", "/"),
        ("//evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("/devices/../..//evil.example", "/"),
        (
            "/devices?q=pc%20033&declared=no",
            "/devices?q=pc%20033&declared=no",
        ),
        ("/devices/12", "/devices/12"),
    ] {
        let answer = client()
            .get(format!("{}/lang", server.url))
            .query(&[("to", "en"), ("back", back)])
            .send()
            .await
            .unwrap();
        let location = answer.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(location, expected, "back={back}");
    }
    drop(server);
    ledger.remove().await;
}

fn dated(agent: &str, started: &str, finished: &str) -> Vec<u8> {
    let mut report: Value =
        serde_json::to_value(synthetic_report(agent, uuid::Uuid::now_v7(), 256, 2)).unwrap();
    report["started_at"] = started.into();
    report["finished_at"] = finished.into();
    serde_json::to_vec(&report).unwrap()
}

/// Reports from the far future or past, or ending before they start, are
/// refused with the reason and stored nowhere; bytes PostgreSQL cannot hold
/// are stored as on SQLite; bad query strings get JSON.
#[tokio::test]
async fn reports_out_of_time_are_refused_and_odd_bytes_are_stored_alike() {
    let _alone = TIMED.lock().await;
    for ledger in scratch::ledgers("hostile-time").await {
        let at = ledger.location.as_str();
        let agent = add_client(at, "agent", "ward-3f");
        let server = Collector::start(at, &[]);
        let post = |body: Vec<u8>| {
            let (url, agent) = (server.url.clone(), agent.clone());
            async move {
                let answer = client()
                    .post(format!("{url}/api/v1/reports"))
                    .bearer_auth(agent)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = answer.status();
                (status, answer.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        for (started, finished, says) in [
            (
                "9999-12-30T00:00:00Z",
                "9999-12-30T00:00:05Z",
                "after the collector's clock",
            ),
            (
                "0001-01-01T00:00:00Z",
                "0001-01-01T00:00:05Z",
                "before the collector's clock",
            ),
            (
                "2026-11-28T00:00:05Z",
                "2026-11-28T00:00:00Z",
                "before it started",
            ),
        ] {
            let (status, body) = post(dated("ward-3f", started, finished)).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            let error = body["error"].as_str().unwrap();
            assert!(error.contains(says) && error.contains("clock"), "{error}");
            assert!(
                body["error_ja"].as_str().unwrap().contains("時計"),
                "{body}"
            );
        }
        assert_eq!(scan_count(&ledger).await, 0);

        // NUL in a name and a 3,000-byte identity: stored, the same on
        // both backends.
        let mut report: Value =
            serde_json::to_value(synthetic_report("ward-3f", uuid::Uuid::now_v7(), 512, 1))
                .unwrap();
        let ip = report["observations"][0]["ip"].clone();
        report["observations"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "source": "ssh", "interface": "eth0", "at": "2026-11-28T00:00:03Z", "ip": ip,
                "ssh": {"port": 22, "banner": "SSH-2.0-x\u{0}y", "fingerprint": "F".repeat(3000)}}));
        report["observations"][1]["netbios"]["computer_name"] = "PC\u{0}512".into();
        let (status, body) = post(serde_json::to_vec(&report).unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let reader = add_client(at, "reader", "it-staff");
        let device = client()
            .get(format!("{}/api/v1/devices/1", server.url))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(device["device"]["name"], "PC\u{2400}512", "{device}");
        let keys = device["keys"].to_string();
        assert!(keys.contains("sha256:"), "{keys}");
        assert!(!keys.contains("FFFFFFFF"), "{keys}");

        // Bad query strings and paths: JSON, not a text page.
        for path in ["/api/v1/devices?limit=many", "/api/v1/devices/one"] {
            let answer = client()
                .get(format!("{}{path}", server.url))
                .bearer_auth(&reader)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path}");
            let body: Value = answer.json().await.expect("a JSON error");
            assert!(body["error"].as_str().is_some() && body["error_ja"].as_str().is_some());
        }
        drop(server);
        ledger.remove().await;
    }
}

/// What answers 2xx without naming the report, or redirects, is not the
/// collector: the spool keeps every report.
#[tokio::test]
async fn the_spool_empties_only_on_an_acknowledgement() {
    let _alone = TIMED.lock().await;
    let impostors = [
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n<html>ok</html",
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/api/v1/reports\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r\n{\"status\":\"stored\",\"scan_id\":\"someone-else\"}",
    ];
    for answer in impostors {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buffer = vec![0u8; 1 << 16];
                let _ = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buffer))
                    .await;
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        let dir = std::env::temp_dir().join(format!(
            "daicho-impostor-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        let spool = Spool::open(&dir).unwrap();
        spool
            .put(&synthetic_report("ward-3f", uuid::Uuid::now_v7(), 256, 1))
            .unwrap();
        let config = UploadConfig {
            token: Some(daicho_process::Secret::resolve("ward-3f.secret").unwrap()),
            attempts: 1,
            ..UploadConfig::default()
        };
        let uploader = Uploader::new(&format!("http://{address}"), &config).unwrap();
        let flushed = flush(&spool, &uploader, &config).await.unwrap();
        assert_eq!(
            (flushed.delivered, flushed.waiting),
            (0, 1),
            "{answer:?}: {flushed:?}"
        );
        assert_eq!(spool.pending().unwrap().len(), 1);
        let problem = flushed.last_problem.unwrap();
        assert!(
            problem.contains("not a daicho") || problem.contains("redirect"),
            "{problem}"
        );
        server.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Two editors settle items of one ledger version at once: the second is
/// refused, saying what changed, instead of undoing the first.
#[tokio::test]
async fn two_settlements_on_one_version_do_not_undo_each_other() {
    let _alone = TIMED.lock().await;
    use daicho_collector::reconcile::{reconcile, rows_from_ledger, settle};
    for ledger in scratch::ledgers("hostile-settle").await {
        let store = ledger.open().await;
        store
            .ingest(support::outpatient_report(Vec::new()).as_bytes(), "test")
            .await
            .unwrap();
        let imported = daicho_ledger::read_file(
            "declared-ledger.csv",
            include_bytes!("../../../config/declared-ledger.csv"),
            daicho_ledger::Encoding::Auto,
            &daicho_ledger::Mapping::default(),
        )
        .unwrap();
        store
            .save_ledger_version(daicho_store::NewVersion {
                actor: "setup",
                source: "declared-ledger.csv",
                note: "",
                rows: &rows_from_ledger(&imported.ledger),
                based_on: None,
            })
            .await
            .unwrap();
        let state = reconcile(&store, 30, 36).await.unwrap();
        let undeclared: Vec<String> = state
            .diff
            .items
            .iter()
            .filter(|i| i.kind == daicho_ledger::ItemKind::Undeclared)
            .map(|i| i.id.clone())
            .collect();
        assert!(undeclared.len() >= 2, "{undeclared:?}");
        let accept = daicho_ledger::SettlementAction::Accept;
        settle(
            &store,
            &state,
            &undeclared[0],
            accept,
            "sato",
            "first",
            None,
        )
        .await
        .unwrap();
        let second = settle(
            &store,
            &state,
            &undeclared[1],
            accept,
            "tanaka",
            "second",
            None,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            second.contains("changed since") && second.contains("sato"),
            "{second}"
        );
        let fresh = reconcile(&store, 30, 36).await.unwrap();
        assert_eq!(
            fresh.ledger.devices.len(),
            state.ledger.devices.len() + 1,
            "the first accept stands"
        );
        store.close().await;
        ledger.remove().await;
    }
}

/// `diff | head`: the closed pipe ends the command quietly.
#[tokio::test]
async fn a_closed_pipe_ends_a_command_quietly() {
    let _alone = TIMED.lock().await;
    let ledger = scratch::sqlite("hostile-pipe");
    let store = ledger.open().await;
    for n in 0..20u32 {
        let report = synthetic_report("ward-3f", uuid::Uuid::now_v7(), 1000 + n * 50, 50);
        store
            .ingest(&serde_json::to_vec(&report).unwrap(), "test")
            .await
            .unwrap();
    }
    store.close().await;
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --ledger '{}' diff | head -n 1",
            support::COLLECTOR,
            ledger.location
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Undeclared"));
    ledger.remove().await;
}
