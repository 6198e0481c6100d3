//! ARP sweep benchmark: daicho-agent and arp-scan side by side in one run,
//! against a lab responder that answers ARP for a /16 (dense) or a /20 inside
//! it (sparse, 1 in 16). Prints found, wall, CPU, packets/s, peak RSS and the
//! ratios as a Markdown table. Run by `tests/bench/arp.sh` (root).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use daicho_lab::{Host, Lab, sibling_binary};

const NETWORK: &str = "198.19.0.0/16";
const SCANNER: &str = "198.19.255.254";

/// One measured run of one tool.
struct Run {
    found: usize,
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
    /// Requests that reached the responder.
    received: u64,
    /// Requests per second at the responder, from its first to its last
    /// received request (sampled every millisecond).
    rate_at_responder: f64,
    /// The agent's own measure of its send rate (None for arp-scan).
    send_rate: Option<f64>,
}

struct Bench {
    _lab: Lab,
    scanner: Host,
    /// A process inside the responder namespace: /proc/PID/net/dev shows that
    /// namespace's counters without entering it.
    responder_pid: u32,
    agent: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Bench {
    fn new(answers: &str) -> Result<Bench> {
        let mut lab = Lab::new("bench")?;
        let (scanner, responder) = lab.scanner_and_responder(&format!("{SCANNER}/16"), answers)?;
        let responder_pid = lab.spawn(&responder, "sleep", &["3600"])?;
        let dir = lab.dir().to_owned();
        Ok(Bench {
            agent: sibling_binary("daicho-agent")?,
            _lab: lab,
            scanner,
            responder_pid,
            dir,
        })
    }

    /// Runs `program args` in the scanner namespace; measures it with wait4.
    fn measure(&self, program: &str, args: &[String]) -> Result<(Run, String)> {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (stop, pid) = (stop.clone(), self.responder_pid);
            std::thread::spawn(move || sample_rx(pid, &stop))
        };
        let measured = daicho_lab::measure(self.scanner.command(program).args(args));
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (received, rate_at_responder) = sampler.join().expect("sampler thread")?;
        let measured = measured?;
        let run = Run {
            found: 0,
            wall: measured.wall,
            cpu: measured.cpu,
            max_rss_kib: measured.max_rss_kib,
            received,
            rate_at_responder,
            send_rate: None,
        };
        Ok((run, measured.stdout))
    }

    fn daicho(&self, rate: u32, attempts: u32, timeout: Duration, network: &str) -> Result<Run> {
        let report = self.dir.join("report.json");
        let args: Vec<String> = [
            "scan",
            "--segment",
            &format!("eth0={network}"),
            "--rate",
            &rate.to_string(),
            "--retries",
            &attempts.to_string(),
            "--timeout",
            &format!("{}ms", timeout.as_millis()),
            "--format",
            "summary",
            "--skip-probe",
            "netbios",
            "--skip-probe",
            "mdns",
            "--output",
            report.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (mut run, _) = self.measure(self.agent.to_str().unwrap(), &args)?;
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
        run.found = report["observations"].as_array().map_or(0, Vec::len);
        run.send_rate = report["probe_runs"][0]["send_rate"].as_f64();
        Ok(run)
    }

    fn arp_scan(&self, pacing: &str, attempts: u32, timeout: Duration) -> Result<Run> {
        let args: Vec<String> = [
            "-I",
            "eth0",
            "-q",
            "-x",
            pacing,
            &format!("--retry={attempts}"),
            &format!("--timeout={}", timeout.as_millis()),
            NETWORK,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (mut run, stdout) = self.measure("arp-scan", &args)?;
        let mut ips: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        ips.sort_unstable();
        ips.dedup();
        run.found = ips.len();
        Ok(run)
    }
}

/// eth0 received packets in the namespace of `pid`.
fn rx_packets(pid: u32) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev"))?;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("eth0:"))
        .context("no eth0 in the responder")?;
    let fields: Vec<&str> = line
        .split(':')
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    Ok(fields.get(1).context("rx packets field")?.parse()?)
}

/// Samples the responder's counter until `stop`; returns the packets received
/// and their rate between the first and the last change.
fn sample_rx(pid: u32, stop: &std::sync::atomic::AtomicBool) -> Result<(u64, f64)> {
    let before = rx_packets(pid)?;
    let (mut first, mut last, mut count) = (None, None, before);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let now = rx_packets(pid)?;
        if now != count {
            first.get_or_insert((Instant::now(), count));
            last = Some((Instant::now(), now));
            count = now;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let rate = match (first, last) {
        (Some((t0, c0)), Some((t1, c1))) if t1 > t0 => (c1 - c0) as f64 / (t1 - t0).as_secs_f64(),
        _ => 0.0,
    };
    Ok((count - before, rate))
}

fn row(case: &str, tool: &str, run: &Run, expected: usize) {
    println!(
        "| {case} | {tool} | {}/{expected} | {:.2} | {:.2} | {:.0} | {} | {:.1} |",
        run.found,
        run.wall.as_secs_f64(),
        run.cpu.as_secs_f64(),
        run.rate_at_responder,
        run.send_rate.map_or("-".into(), |r| format!("{r:.0}")),
        run.max_rss_kib as f64 / 1024.0,
    );
}

fn header(title: &str) {
    println!("\n### {title}\n");
    println!(
        "| case | tool | found | wall s | CPU s | requests/s at responder | agent's send rate | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
}

fn main() -> Result<()> {
    if !daicho_lab::can_run("arp-bench") {
        bail!("run as root");
    }
    let timeout = Duration::from_millis(500);
    let dense_rate: u32 = std::env::var("DENSE_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);

    // Sparse: a /20 of the /16 answers.
    let sparse = Bench::new("198.19.0.0/20")?;
    header("Sparse /16 (4,096 of 65,536 answer), 10,000 packets/s, 1 attempt, 500 ms timeout");
    let d = sparse.daicho(10_000, 1, timeout, NETWORK)?;
    let a = sparse.arp_scan("--interval=100u", 1, timeout)?;
    // daicho never asks for the network address 198.19.0.0; arp-scan does.
    row("sparse", "daicho-agent", &d, 4095);
    row("sparse", "arp-scan --interval=100u", &a, 4096);
    let bound = 1.05 * (65_536.0 / 10_000.0 + timeout.as_secs_f64());
    println!(
        "\nratio daicho/arp-scan wall: {:.2}; daicho wall vs bound 1.05 × (65,536/10,000 + 0.5) = {bound:.2} s: {}",
        d.wall.as_secs_f64() / a.wall.as_secs_f64(),
        if d.wall.as_secs_f64() <= bound {
            "within"
        } else {
            "OVER"
        }
    );

    // Pacing accuracy over a range of rates, on the sparse responder.
    println!("\n### Pacing: requested vs achieved rate\n");
    println!("| requested/s | sent | agent's send rate | error | received at responder |");
    println!("|---|---|---|---|---|");
    for rate in [500u32, 1_000, 5_000, 10_000, 20_000, 50_000] {
        // About two seconds of sending at each rate.
        let prefix = (32 - ((rate * 2).next_power_of_two().trailing_zeros()).clamp(10, 16)) as u8;
        let network = format!("198.19.0.0/{prefix}");
        let run = sparse.daicho(rate, 1, Duration::from_millis(100), &network)?;
        let achieved = run.send_rate.unwrap_or(0.0);
        println!(
            "| {rate} | {} | {achieved:.0} | {:+.1}% | {} |",
            (1u64 << (32 - prefix)) - 3,
            100.0 * (achieved - f64::from(rate)) / f64::from(rate),
            run.received
        );
    }
    drop(sparse);

    let dense = Bench::new(NETWORK)?;
    header("Dense /16 (65,534 answer), 2 attempts, 500 ms timeout");
    let d = dense.daicho(dense_rate, 2, timeout, NETWORK)?;
    let a = dense.arp_scan("--bandwidth=50M", 2, timeout)?;
    let a100 = dense.arp_scan("--bandwidth=100M", 2, timeout)?;
    // daicho skips network, broadcast and its own address; arp-scan only its own.
    row(
        &format!("dense, daicho at {dense_rate}/s"),
        "daicho-agent",
        &d,
        65_533,
    );
    row(
        "dense, arp-scan best",
        "arp-scan --bandwidth=50M",
        &a,
        65_535,
    );
    row(
        "dense, arp-scan faster",
        "arp-scan --bandwidth=100M",
        &a100,
        65_535,
    );
    println!(
        "\nratio daicho/arp-scan packets/s at the responder: {:.2}; wall ratio arp-scan/daicho: {:.2}",
        d.rate_at_responder / a.rate_at_responder,
        a.wall.as_secs_f64() / d.wall.as_secs_f64()
    );
    Ok(())
}
