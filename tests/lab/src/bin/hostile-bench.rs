//! Collector under hostile load (issue #20), release build, loopback only,
//! on SQLite and PostgreSQL: its memory and a reader's latency while a
//! thousand connections are held or send token-less bodies; forty agents
//! uploading at once; a crowd of wrong passwords; and the findings of one
//! report carrying one SSH host key at 1,600 addresses. Run by
//! tests/bench/hostile.sh. There is no peer tool for these: the figures
//! stand against the targets.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use daicho_lab::sibling_binary;
use daicho_store::scratch::{self, ScratchLedger, synthetic_report};
use tokio::io::AsyncWriteExt;

fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// A running release collector.
struct Served {
    child: std::process::Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(collector: &std::path::Path, ledger: &str, extra: &[&str]) -> Result<Served> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(collector)
            .args(["--ledger", ledger, "serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("DAICHO_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting daicho-collector")?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("daicho-collector: listening on ")
            .context("the collector did not start")?
            .to_owned();
        Ok(Served { child, url })
    }

    fn rss(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib * 1024)
    }

    fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }
}

fn client(ledger: &str, collector: &std::path::Path, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new(collector)
        .args(["--ledger", ledger])
        .args(args)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// A reader asking every 50 ms on a thread of its own; (p50, p99, max).
struct Reader {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Duration>>,
}

impl Reader {
    fn start(url: &str, token: &str) -> Reader {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, token, stopping) = (url.to_owned(), token.to_owned(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let http = reqwest::Client::builder()
                    .local_address(loopback(1))
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("client");
                let mut latencies = Vec::new();
                while !stopping.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = http
                        .get(format!("{url}/api/v1/devices?limit=10"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    latencies.push(if ok {
                        started.elapsed()
                    } else {
                        Duration::from_secs(30)
                    });
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                latencies
            })
        });
        Reader { stop, thread }
    }

    fn finish(self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        let mut latencies = self.thread.join().unwrap_or_default();
        latencies.sort();
        let at = |q: usize| {
            latencies
                .get((latencies.len() * q).div_ceil(100).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        format!(
            "reader p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} requests)",
            at(50).as_secs_f64() * 1e3,
            at(99).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            latencies.len()
        )
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let collector = sibling_binary("daicho-collector")?;
    for ledger in scratch::ledgers("hostile-bench").await {
        println!("\n== {:?}", ledger.backend());
        held_connections(&collector, &ledger).await?;
        concurrent_uploads(&collector, &ledger).await?;
        shared_key_findings(&collector, &ledger).await?;
        sign_in_crowd(&collector, &ledger).await?;
        ledger.remove().await;
    }
    Ok(())
}

async fn held_connections(collector: &std::path::Path, ledger: &ScratchLedger) -> Result<()> {
    let at = ledger.location.as_str();
    let reader = client(at, collector, &["reader", "add", "bench-reader"])?;
    let served = Served::start(collector, at, &[])?;
    let port = served.port();
    let idle = served.rss();
    let probe = Reader::start(&served.url, &reader);
    let mut attackers = tokio::task::JoinSet::new();
    for n in 0..1000u32 {
        let from = loopback(2 + (n % 16) as u8);
        attackers.spawn(async move {
            tokio::time::sleep(Duration::from_millis(u64::from(n))).await;
            let socket = tokio::net::TcpSocket::new_v4().ok()?;
            socket.bind((from, 0).into()).ok()?;
            let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.ok()?;
            if n % 2 == 0 {
                stream
                    .write_all(b"POST /api/v1/reports HTTP/1.1\r\nHost: c\r\n")
                    .await
                    .ok()?;
                tokio::time::sleep(Duration::from_secs(15)).await;
            } else {
                stream
                    .write_all(b"POST /api/v1/reports HTTP/1.1\r\nHost: c\r\nContent-Length: 67108864\r\n\r\n")
                    .await
                    .ok()?;
                let chunk = vec![b' '; 64 << 10];
                loop {
                    stream.write_all(&chunk).await.ok()?;
                }
            }
            Some(())
        });
    }
    let (mut peak, mut descriptors) = (0, 0);
    let until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < until {
        peak = peak.max(served.rss());
        descriptors = descriptors.max(
            std::fs::read_dir(format!("/proc/{}/fd", served.child.id()))
                .map(|d| d.count())
                .unwrap_or(0),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    attackers.abort_all();
    while attackers.join_next().await.is_some() {}
    println!(
        "1,000 held or token-less connections (16 addresses, 12 s): RSS {} MiB idle, {} MiB peak \
         (target <= 100 MB); {descriptors} descriptors at most; {}",
        idle >> 20,
        peak >> 20,
        probe.finish()
    );
    Ok(())
}

async fn concurrent_uploads(collector: &std::path::Path, ledger: &ScratchLedger) -> Result<()> {
    let at = ledger.location.as_str();
    let reader = client(at, collector, &["reader", "add", "bench-reader-2"])?;
    let mut bodies = Vec::new();
    for n in 0..40u32 {
        let name = format!("bench-ward-{n}");
        let token = client(at, collector, &["agent", "add", &name])?;
        let report = synthetic_report(&name, uuid::Uuid::now_v7(), (n + 1) * 1000, 500);
        bodies.push((token, serde_json::to_vec(&report)?));
    }
    let served = Served::start(collector, at, &[])?;
    let probe = Reader::start(&served.url, &reader);
    let started = Instant::now();
    let mut uploads = tokio::task::JoinSet::new();
    for (token, body) in bodies {
        let url = served.url.clone();
        uploads.spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/api/v1/reports"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
    }
    let (mut stored, mut errors) = (0, 0);
    while let Some(done) = uploads.join_next().await {
        if done? == 201 {
            stored += 1;
        } else {
            errors += 1;
        }
    }
    println!(
        "40 concurrent uploads of 500-device reports: {stored} stored, {errors} errors in {:.2} s (target 40 / 0); {}",
        started.elapsed().as_secs_f64(),
        probe.finish()
    );
    Ok(())
}

async fn shared_key_findings(collector: &std::path::Path, ledger: &ScratchLedger) -> Result<()> {
    let at = ledger.location.as_str();
    let token = client(at, collector, &["agent", "add", "bench-fleet"])?;
    let reader = client(at, collector, &["reader", "add", "bench-reader-3"])?;
    let mut report: serde_json::Value = serde_json::to_value(synthetic_report(
        "bench-fleet",
        uuid::Uuid::now_v7(),
        200_000,
        0,
    ))?;
    let mut observations = Vec::new();
    for n in 0..1600u32 {
        let interface = if n % 2 == 0 { "eth0" } else { "eth1" };
        let ip = format!("198.18.{}.{}", 100 + n / 250, n % 250 + 1);
        let mac = format!("00:1b:21:7f:{:02x}:{:02x}", n / 256, n % 256);
        observations.push(serde_json::json!({"source": "arp", "interface": interface,
            "at": "2026-11-28T00:00:01Z", "ip": ip, "mac": mac}));
        observations.push(serde_json::json!({"source": "ssh", "interface": interface,
            "at": "2026-11-28T00:00:02Z", "ip": ip,
            "ssh": {"port": 22, "banner": "SSH-2.0-dropbear", "fingerprint": "SHA256:vendor-default"}}));
    }
    report["observations"] = observations.into();
    let body = serde_json::to_vec(&report)?;
    let served = Served::start(collector, at, &[])?;
    let http = reqwest::Client::new();
    let status = http
        .post(format!("{}/api/v1/reports", served.url))
        .bearer_auth(&token)
        .body(body.clone())
        .send()
        .await?
        .status();
    let started = Instant::now();
    let findings: serde_json::Value = http
        .get(format!("{}/api/v1/findings", served.url))
        .bearer_auth(&reader)
        .send()
        .await?
        .json()
        .await?;
    let took = started.elapsed();
    let findings = findings["findings"].as_array().cloned().unwrap_or_default();
    let mut per_subject: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for f in &findings {
        for s in f["subjects"].as_array().into_iter().flatten() {
            *per_subject
                .entry((f["kind"].to_string(), s["ip"].to_string()))
                .or_default() += 1;
        }
    }
    println!(
        "one SSH key at 1,600 addresses on two interfaces ({} KiB report, {status}): {} findings, \
         at most {} per (device, kind), GET /api/v1/findings {:.0} ms (before: 640,000 findings, 32 s)",
        body.len() >> 10,
        findings.len(),
        per_subject.values().max().copied().unwrap_or(0),
        took.as_secs_f64() * 1e3
    );
    Ok(())
}

async fn sign_in_crowd(collector: &std::path::Path, ledger: &ScratchLedger) -> Result<()> {
    let at = ledger.location.as_str();
    let mut add = std::process::Command::new(collector)
        .args(["--ledger", at, "user", "add", "bench-user"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let mut stdin = add.stdin.take().context("stdin")?;
    std::io::Write::write_all(&mut stdin, b"bench password, loopback only\n")?;
    drop(stdin);
    add.wait()?;
    let reader = client(at, collector, &["reader", "add", "bench-reader-4"])?;
    let served = Served::start(collector, at, &["--max-connections-per-address", "256"])?;
    let probe = Reader::start(&served.url, &reader);
    let started = Instant::now();
    let mut crowd = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let url = served.url.clone();
        crowd.spawn(async move { wrong_password(&url).await.unwrap_or(0) });
    }
    let mut checked = 0;
    let mut refused = 0;
    while let Some(status) = crowd.join_next().await {
        match status? {
            401 => checked += 1,
            429 => refused += 1,
            _ => {}
        }
    }
    println!(
        "100 simultaneous wrong passwords from one address: {checked} checked, {refused} refused at once \
         in {:.2} s (before: 88 checked, 1.75 GB); peak RSS {} MiB; {}",
        started.elapsed().as_secs_f64(),
        served.rss() >> 20,
        probe.finish()
    );
    Ok(())
}

/// One wrong password through the sign-in form from 127.0.0.2.
async fn wrong_password(url: &str) -> Result<u16> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(loopback(2))
        .build()?;
    let page = http.get(format!("{url}/login")).send().await?;
    let cookie = page
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("daicho_login="))
        .and_then(|v| v.split(';').next())
        .context("login cookie")?
        .to_owned();
    let html = page.text().await?;
    let marker = "name=\"login_token\" value=\"";
    let start = html.find(marker).context("login token")? + marker.len();
    let token = html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(http
        .post(format!("{url}/login"))
        .header("cookie", format!("daicho_login={cookie}"))
        .form(&[
            ("user", "bench-user"),
            ("password", "wrong password!"),
            ("login_token", &token),
        ])
        .send()
        .await?
        .status()
        .as_u16())
}
