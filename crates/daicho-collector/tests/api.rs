//! The HTTP API of a real `daicho-collector serve` on loopback, on every
//! ledger backend at hand: who may post and read, what a bad upload gets
//! (a clear 4xx and nothing written), TLS, and the agent's spool delivering
//! through it.

mod support;

use daicho_agent::upload::{Spool, UploadConfig, Uploader, flush};
use daicho_store::scratch;
use daicho_store::scratch::synthetic_report;
use reqwest::StatusCode;
use serde_json::Value;
use support::{Collector, add_client, collector};

async fn post(
    url: &str,
    token: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/api/v1/reports"))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the collector answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str, token: &str, path: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the collector answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn uploads_are_authenticated_validated_and_stored_once() {
    for ledger in scratch::ledgers("api").await {
        let at = ledger.location.as_str();
        let agent = add_client(at, "agent", "ward-3f");
        let other = add_client(at, "agent", "ward-4f");
        let reader = add_client(at, "reader", "it-staff");
        let server = Collector::start(at, &["--max-report-mb", "1"]);
        let url = server.url.as_str();
        let good = serde_json::to_vec(&synthetic_report(
            "ward-3f",
            uuid::Uuid::now_v7(),
            (3) * 256,
            4,
        ))
        .unwrap();

        // Who may post.
        let (status, body) = post(url, None, good.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(body["error"].as_str().unwrap().contains("no bearer token"));
        assert!(body["error_ja"].as_str().unwrap().contains("トークン"));
        let wrong = format!("ward-3f.{}", "0".repeat(64));
        assert_eq!(
            post(url, Some(&wrong), good.clone()).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            post(url, Some(&reader), good.clone()).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, body) = post(url, Some(&other), good.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            body["error"].as_str().unwrap().contains("\"ward-4f\""),
            "{body}"
        );

        // What is refused, with a reason.
        let (status, body) = post(url, Some(&agent), "{\"schema_version\": 1, \"agent\":").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("nothing was stored")
        );
        let truncated = good[..good.len() / 2].to_vec();
        assert_eq!(
            post(url, Some(&agent), truncated).await.0,
            StatusCode::BAD_REQUEST
        );
        let (status, body) = post(url, Some(&agent), "{\"schema_version\": 99}").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("schema_version 99"),
            "{body}"
        );
        assert_eq!(
            post(url, Some(&agent), "{\"schema_version\": 1}").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let huge = serde_json::to_vec(&synthetic_report(
            "ward-3f",
            uuid::Uuid::now_v7(),
            (3) * 256,
            6000,
        ))
        .unwrap();
        assert!(huge.len() > 1 << 20);
        let (status, body) = post(url, Some(&agent), huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            body["error"].as_str().unwrap().contains("--max-report-mb"),
            "{body}"
        );
        // A body without a length that grows past the cap.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            (0..3).map(|_| Ok(vec![b' '; 600_000])).collect();
        let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        assert_eq!(
            post(url, Some(&agent), stream).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let (_, scans) = get(url, &reader, "/api/v1/scans").await;
        assert_eq!(
            scans["scans"].as_array().unwrap().len(),
            0,
            "nothing written: {scans}"
        );

        // A good report: stored, then acknowledged again without a copy.
        let (status, body) = post(url, Some(&agent), good.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["created"], 4);
        let (status, body) = post(url, Some(&agent), good.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "already_stored");

        // Reading.
        assert_eq!(
            get(url, &agent, "/api/v1/devices").await.0,
            StatusCode::FORBIDDEN
        );
        let (status, devices) = get(url, &reader, "/api/v1/devices?limit=3").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(devices["devices"].as_array().unwrap().len(), 3);
        let next = devices["next_after"].as_i64().unwrap();
        let (_, rest) = get(url, &reader, &format!("/api/v1/devices?after={next}")).await;
        assert_eq!(rest["devices"].as_array().unwrap().len(), 1);
        assert!(rest["next_after"].is_null());
        let (status, device) = get(url, &reader, "/api/v1/devices/1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(device["device"]["name"], "PC-768");
        assert!(device["decisions"][0]["reasons"].as_array().is_some());
        assert_eq!(
            get(url, &reader, "/api/v1/devices/999").await.0,
            StatusCode::NOT_FOUND
        );
        let (status, scans) = get(url, &reader, "/api/v1/scans").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(scans["scans"].as_array().unwrap().len(), 1);
        assert_eq!(
            get(url, &reader, "/api/v1/findings").await.0,
            StatusCode::OK
        );
        let (status, inventory) = get(url, &reader, "/api/v1/inventory").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(inventory["schema"], "daicho-inventory/1");
        assert_eq!(inventory["devices"].as_array().unwrap().len(), 4);
        assert!(inventory["devices"][0]["interfaces"][0]["ip"].is_string());
        assert_eq!(
            get(url, &agent, "/api/v1/inventory").await.0,
            StatusCode::FORBIDDEN
        );

        // The agent's last contact is kept; a removed token stops working.
        let listed = collector(at, &["agent", "list"]);
        let listed = String::from_utf8_lossy(&listed.stdout);
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with("ward-3f") && !l.ends_with("never")),
            "{listed}"
        );
        assert!(
            collector(at, &["agent", "remove", "ward-3f"])
                .status
                .success()
        );
        assert_eq!(
            post(url, Some(&agent), good).await.0,
            StatusCode::UNAUTHORIZED
        );

        assert!(server.stop().success(), "a clean stop on SIGTERM");
        ledger.remove().await;
    }
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let ledger = scratch::sqlite("plaintext");
    let out = collector(&ledger.location, &["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve plain HTTP") && err.contains("--tls-cert"),
        "{err}"
    );
    ledger.remove().await;
}

/// The agent's spool through a TLS collector: unreachable → kept; refused →
/// set aside with the reason; wrong token → kept; then delivered, once.
#[tokio::test]
async fn the_spool_keeps_reports_until_the_collector_takes_them() {
    let ledger = scratch::sqlite("spool");
    let dir = std::path::Path::new(&ledger.location)
        .parent()
        .unwrap()
        .to_owned();
    let (ca, cert, key) = certificates(&dir);
    let token = add_client(&ledger.location, "agent", "ward-5f");
    let spool = Spool::open(&dir.join("spool")).unwrap();
    let config = UploadConfig {
        token: Some(daicho_process::Secret::resolve(&token).unwrap()),
        ca_file: Some(ca),
        attempts: 2,
        retry_delay: std::time::Duration::from_millis(50),
        ..UploadConfig::default()
    };
    let first = synthetic_report("ward-5f", uuid::Uuid::now_v7(), 5 * 256, 3);
    let second = synthetic_report("ward-5f", uuid::Uuid::now_v7(), 5 * 256, 3);
    spool.put(&first).unwrap();
    spool.put(&second).unwrap();

    // Nobody listens on this port (bound, then released).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let away = Uploader::new(&format!("https://{closed}"), &config).unwrap();
    let flushed = flush(&spool, &away, &config).await.unwrap();
    assert_eq!((flushed.delivered, flushed.waiting), (0, 2), "{flushed:?}");
    assert_eq!(spool.pending().unwrap().len(), 2);

    let server = Collector::start(
        &ledger.location,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(server.url.starts_with("https://"));
    // Under TLS, browsers are told to stay on it.
    let pem = std::fs::read(dir.join("ca.pem")).unwrap();
    let https = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .build()
        .unwrap();
    let health = https
        .get(format!("{}/api/v1/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let bad_token = UploadConfig {
        token: Some(
            daicho_process::Secret::resolve(&format!("ward-5f.{}", "1".repeat(64))).unwrap(),
        ),
        ..config.clone()
    };
    let wrong = Uploader::new(&server.url, &bad_token).unwrap();
    let flushed = flush(&spool, &wrong, &bad_token).await.unwrap();
    assert_eq!(
        flushed.waiting, 2,
        "a token problem keeps every report: {flushed:?}"
    );
    let problem = flushed.last_problem.unwrap();
    assert!(problem.contains("401"), "{problem}");

    // A report from another agent id: refused for good, kept aside with why.
    spool
        .put(&synthetic_report(
            "ward-6f",
            uuid::Uuid::now_v7(),
            (6) * 256,
            1,
        ))
        .unwrap();
    let uploader = Uploader::new(&server.url, &config).unwrap();
    let flushed = flush(&spool, &uploader, &config).await.unwrap();
    assert_eq!(
        (flushed.delivered, flushed.refused, flushed.waiting),
        (2, 1, 0),
        "{flushed:?}"
    );
    assert!(spool.pending().unwrap().is_empty());
    let rejected = spool.rejected().unwrap();
    assert_eq!(rejected.len(), 1);
    let reason = std::fs::read_to_string(rejected[0].with_extension("reason.txt")).unwrap();
    assert!(
        reason.contains("403") && reason.contains("ward-6f"),
        "{reason}"
    );

    // Sent again by hand (as after a lost acknowledgement): no duplicate.
    spool.put(&first).unwrap();
    let flushed = flush(&spool, &uploader, &config).await.unwrap();
    assert_eq!(flushed.delivered, 1);
    drop(server);
    let store = ledger.open().await;
    assert_eq!(store.scan_count().await.unwrap(), 2);
    assert_eq!(store.devices().await.unwrap().len(), 3);
    store.close().await;
    ledger.remove().await;
}

/// A private CA (what the agent trusts) and the collector's certificate for
/// 127.0.0.1 signed by it, made with openssl as an administrator would.
fn certificates(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-subj",
                "/CN=daicho test CA",
                "-days",
                "1",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=collector",
                "-keyout",
                "key.pem",
                "-out",
                "collector.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "collector.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}
