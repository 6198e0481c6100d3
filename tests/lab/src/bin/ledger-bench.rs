//! Collector benchmark (issue #6): ingest throughput on reports of 1,000
//! devices each, on SQLite and PostgreSQL; then a ledger of 100,000
//! devices served by the real `daicho-collector`: its memory (RSS), the
//! latency of device lookups through the API, and how long the web pages
//! (issue #9) take to answer a signed-in viewer. Run by tests/bench/ledger.sh
//! (release build, a scratch PostgreSQL on a Unix socket). Loopback only.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use daicho_lab::sibling_binary;
use daicho_store::scratch::{self, ScratchLedger, synthetic_report};

/// Devices per report, as the issue names.
const DEVICES: u32 = 1_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let collector = sibling_binary("daicho-collector")?;
    println!("== ingest: reports of {DEVICES} devices (2 observations each: ARP + NetBIOS)");
    for ledger in scratch::ledgers("bench").await {
        ingest_rounds(&ledger).await?;
        ledger.remove().await;
    }

    let total: u32 = std::env::var("LEDGER_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("\n== a ledger of {total} devices, served by daicho-collector");
    for ledger in scratch::ledgers("big").await {
        big_ledger(&ledger, total, &collector).await?;
        ledger.remove().await;
    }
    Ok(())
}

fn reports(agent: &str, first_device: u32, count: u32) -> Vec<Vec<u8>> {
    (0..count)
        .map(|n| {
            let report = synthetic_report(
                agent,
                uuid::Uuid::now_v7(),
                first_device + n * DEVICES,
                DEVICES,
            );
            serde_json::to_vec(&report).expect("serializes")
        })
        .collect()
}

/// Ingests `batch` and returns observations per second.
async fn ingest(store: &daicho_store::Store, batch: &[Vec<u8>]) -> Result<f64> {
    let started = Instant::now();
    for json in batch {
        store.ingest(json, "bench").await?;
    }
    let observations = batch.len() as f64 * f64::from(DEVICES) * 2.0;
    Ok(observations / started.elapsed().as_secs_f64())
}

async fn ingest_rounds(ledger: &ScratchLedger) -> Result<()> {
    let store = ledger.open().await;
    const REPORTS: u32 = 20;
    // First night: every device is new. Later nights: the same devices.
    let first = ingest(&store, &reports("bench-agent", 0, REPORTS)).await?;
    let again = ingest(&store, &reports("bench-agent", 0, REPORTS)).await?;
    println!(
        "{:?}: {REPORTS} reports of new devices {first:>8.0} obs/s; the same devices again {again:>8.0} obs/s",
        ledger.backend()
    );
    store.close().await;
    Ok(())
}

async fn big_ledger(ledger: &ScratchLedger, total: u32, collector: &std::path::Path) -> Result<()> {
    let store = ledger.open().await;
    let started = Instant::now();
    let batch = 10;
    let mut last_rate = 0.0;
    for first in (0..total).step_by((batch * DEVICES) as usize) {
        let count = batch.min((total - first).div_ceil(DEVICES));
        last_rate = ingest(&store, &reports("big-agent", first, count)).await?;
    }
    let devices = store.devices_page(0, i64::MAX).await?.len();
    println!(
        "{:?}: {devices} devices ingested in {:.1} s (last 10 reports at {last_rate:.0} obs/s)",
        ledger.backend(),
        started.elapsed().as_secs_f64()
    );
    let token = store
        .add_client("bench-reader", daicho_store::Role::Reader)
        .await?
        .0;
    let password = "bench password, loopback only";
    let hash = daicho_store::hash_password(password)?;
    store
        .add_user("bench-web", daicho_store::WebRole::Viewer, &hash)
        .await?;
    store.close().await;

    let mut server = std::process::Command::new(collector)
        .args([
            "--ledger",
            &ledger.location,
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("DAICHO_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting daicho-collector")?;
    let url = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.take().context("stdout")?).read_line(&mut line)?;
        line.trim()
            .strip_prefix("daicho-collector: listening on ")
            .context("the collector did not start")?
            .to_owned()
    };
    let pid = server.id();
    let mut result = lookups(&url, &token, devices as i64, pid).await;
    if result.is_ok() {
        result = pages(&url, "bench-web", password, devices as i64).await;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            println!(
                "  collector peak RSS after the pages: {}",
                peak.trim_start_matches("VmHWM:").trim()
            );
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    result
}

async fn lookups(url: &str, token: &str, devices: i64, pid: u32) -> Result<()> {
    let client = reqwest::Client::new();
    let one = |id: i64| {
        let request = client
            .get(format!("{url}/api/v1/devices/{id}"))
            .bearer_auth(token);
        async move {
            let started = Instant::now();
            let response = request.send().await?;
            anyhow::ensure!(
                response.status().is_success(),
                "lookup of #{id}: {}",
                response.status()
            );
            response.bytes().await?;
            Ok(started.elapsed())
        }
    };
    // A fixed pseudo-random walk over the ids (repeatable).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next_id = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % devices as u64) as i64 + 1
    };
    for _ in 0..200 {
        one(next_id()).await?;
    }
    let mut sequential = Vec::new();
    for _ in 0..5_000 {
        sequential.push(one(next_id()).await?);
    }
    // Eight clients at once.
    let mut concurrent = Vec::new();
    for _ in 0..625 {
        let ids: Vec<i64> = (0..8).map(|_| next_id()).collect();
        let answers = futures_util::future::join_all(ids.into_iter().map(&one)).await;
        for answer in answers {
            concurrent.push(answer?);
        }
    }
    // The whole ledger through the paged listing.
    let started = Instant::now();
    let mut after = 0i64;
    loop {
        let page: serde_json::Value = client
            .get(format!("{url}/api/v1/devices?after={after}&limit=10000"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    let listing = started.elapsed();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    println!(
        "  lookup GET /api/v1/devices/ID, one client: p50 {} p99 {} max {}",
        ms(percentile(&mut sequential, 0.50)),
        ms(percentile(&mut sequential, 0.99)),
        ms(percentile(&mut sequential, 1.0)),
    );
    println!(
        "  lookup, eight clients at once:       p50 {} p99 {} max {}",
        ms(percentile(&mut concurrent, 0.50)),
        ms(percentile(&mut concurrent, 0.99)),
        ms(percentile(&mut concurrent, 1.0)),
    );
    println!(
        "  listing every device (pages of 10,000): {:.2} s; collector RSS now {} MiB, peak {} MiB",
        listing.as_secs_f64(),
        field("VmRSS:"),
        field("VmHWM:")
    );
    Ok(())
}

/// Signs in through the form and times each page: the first request
/// (which reconciles) and the median of the next five (the reconciliation
/// cached), with its size.
async fn pages(url: &str, user: &str, password: &str, devices: i64) -> Result<()> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = client.get(format!("{url}/login")).send().await?;
    let login_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("daicho_login="))
        .and_then(|v| v.split(';').next())
        .context("no login cookie")?
        .to_owned();
    let answer = client
        .post(format!("{url}/login"))
        .header("cookie", format!("daicho_login={login_cookie}"))
        .form(&[
            ("user", user),
            ("password", password),
            ("login_token", &login_cookie),
        ])
        .send()
        .await?;
    let session = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("daicho_session="))
        .and_then(|v| v.split(';').next())
        .context("sign-in refused")?
        .to_owned();
    println!(
        "  web pages for a signed-in viewer (first request; median of the next 5; page size):"
    );
    for path in [
        "/".to_owned(),
        "/devices".to_owned(),
        "/devices?q=198.18.1.77".to_owned(),
        format!("/devices/{}", devices / 2),
        "/diff".to_owned(),
        "/findings".to_owned(),
    ] {
        let mut samples = Vec::new();
        let mut size = 0;
        for _ in 0..6 {
            let started = Instant::now();
            let response = client
                .get(format!("{url}{path}"))
                .header("cookie", format!("daicho_session={session}"))
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            size = response.bytes().await?.len();
            samples.push(started.elapsed());
        }
        let first = samples.remove(0);
        println!(
            "    GET {path:<24} {:>11} {:>10}  {:>5} KiB",
            ms(first),
            ms(percentile(&mut samples, 0.5)),
            size / 1024
        );
    }
    Ok(())
}

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
