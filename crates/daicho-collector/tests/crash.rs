//! Nothing lost: the collector is killed with SIGKILL while 200 uploads
//! are in flight. After a restart every acknowledged report is in the ledger
//! exactly once, no report is there in part, and the agents' spools deliver
//! the rest. On every ledger backend at hand.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use daicho_agent::upload::{Delivery, Spool, UploadConfig, Uploader, flush};
use daicho_store::scratch;
use daicho_store::scratch::synthetic_report;
use support::{Collector, add_client};

const AGENTS: usize = 10;
const REPORTS_PER_AGENT: usize = 20;
const DEVICES_PER_REPORT: u32 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_200_uploads_loses_and_duplicates_nothing() {
    for ledger in scratch::ledgers("crash").await {
        let at = ledger.location.clone();
        let work = std::env::temp_dir().join(format!(
            "daicho-crash-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        // Each agent: a token and a spool holding its 20 reports.
        let mut agents = Vec::new();
        for a in 0..AGENTS {
            let name = format!("crash-agent-{a}");
            let config = UploadConfig {
                token: Some(
                    daicho_process::Secret::resolve(&add_client(&at, "agent", &name)).unwrap(),
                ),
                attempts: 1,
                timeout: Duration::from_secs(30),
                ..UploadConfig::default()
            };
            let spool = Spool::open(&work.join(&name)).unwrap();
            for _ in 0..REPORTS_PER_AGENT {
                spool
                    .put(&synthetic_report(
                        &name,
                        uuid::Uuid::now_v7(),
                        (a as u32 + 10) * 256,
                        DEVICES_PER_REPORT,
                    ))
                    .unwrap();
            }
            agents.push((config, spool));
        }

        // Every report at once; kill -9 once a quarter are acknowledged.
        let server = Collector::start(&at, &[]);
        let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
        let acked = Arc::new(AtomicUsize::new(0));
        let mut uploads = tokio::task::JoinSet::new();
        for (config, spool) in &agents {
            let uploader = Arc::new(Uploader::new(&server.url, config).unwrap());
            for path in spool.pending().unwrap() {
                let (uploader, acknowledged, acked) =
                    (uploader.clone(), acknowledged.clone(), acked.clone());
                uploads.spawn(async move {
                    let json = std::fs::read(&path).unwrap();
                    if uploader.send(json).await == Delivery::Acknowledged {
                        // What the agent's flush does on an acknowledgement.
                        std::fs::remove_file(&path).unwrap();
                        let scan = path.file_stem().unwrap().to_string_lossy().into_owned();
                        acknowledged.lock().unwrap().push(scan);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while acked.load(Ordering::SeqCst) < AGENTS * REPORTS_PER_AGENT / 4 {
            assert!(tokio::time::Instant::now() < deadline, "uploads too slow");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.kill();
        while uploads.join_next().await.is_some() {}
        let acknowledged = acknowledged.lock().unwrap().clone();
        let waiting: usize = agents.iter().map(|(_, s)| s.pending().unwrap().len()).sum();
        assert_eq!(acknowledged.len() + waiting, AGENTS * REPORTS_PER_AGENT);
        assert!(waiting > 0, "the kill came after every upload");

        // Restart on the same ledger: the spools deliver the rest.
        let server = Collector::start(&at, &[]);
        for (config, spool) in &agents {
            let uploader = Uploader::new(&server.url, config).unwrap();
            let flushed = flush(spool, &uploader, config).await.unwrap();
            assert_eq!((flushed.refused, flushed.waiting), (0, 0), "{flushed:?}");
            assert!(spool.pending().unwrap().is_empty());
        }
        drop(server);

        let store = ledger.open().await;
        assert_eq!(
            store.scan_count().await.unwrap() as usize,
            AGENTS * REPORTS_PER_AGENT
        );
        for scan in &acknowledged {
            assert!(
                store.has_scan(scan).await.unwrap(),
                "acknowledged {scan} lost"
            );
        }
        // One device per PC, and each merged exactly once from each report
        // of its agent: no report half-stored or stored twice.
        let devices = store.devices().await.unwrap();
        assert_eq!(devices.len(), AGENTS * DEVICES_PER_REPORT as usize);
        for device in devices {
            let why = store.explain(device.id).await.unwrap().unwrap();
            assert_eq!(
                why.decisions.len(),
                REPORTS_PER_AGENT,
                "device #{}",
                device.id
            );
        }
        store.close().await;
        ledger.remove().await;
        std::fs::remove_dir_all(&work).unwrap();
    }
}
