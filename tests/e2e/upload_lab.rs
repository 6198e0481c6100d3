//! End to end (issue #6): two agents on two segments upload to a running
//! collector; a PC with a leg in both segments (one SSH host key) becomes one
//! device with both addresses, its merge explained and flagged dual-homed
//! across the agents; an agent whose collector is away keeps its report in
//! the spool until `daicho-agent flush`. Needs root (CI runs as root).

use std::process::Output;
use std::time::Duration;

use daicho_lab::{Host, Lab, sibling_binary, wait_for};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");

const PORT: &str = "8417";

/// A scan that uploads; the token reaches the agent through its
/// environment, as from a systemd credential.
fn scan(
    lab: &Lab,
    agent: &Host,
    name: &str,
    token: &str,
    segment: &str,
    collector: &str,
) -> Output {
    agent
        .command(AGENT)
        .env("DAICHO_UPLOAD_TOKEN", token.trim())
        .args([
            "scan",
            "--agent-id",
            name,
            "--segment",
            segment,
            "--timeout",
            "300ms",
        ])
        .args([
            "--skip-probe",
            "mdns",
            "--skip-probe",
            "ssdp",
            "--format",
            "summary",
        ])
        .args(["--upload", &format!("http://{collector}:{PORT}")])
        .arg("--state-dir")
        .arg(lab.dir().join(name))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a collector command on `ledger`; its stdout.
fn collector_cli(bin: &std::path::Path, ledger: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(bin)
        .args(["--ledger", ledger])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the collector accepts connections at `address`:PORT, as
/// seen from `host`.
fn wait_listening(host: &Host, address: &str) {
    wait_for(Duration::from_secs(20), || {
        host.exec(
            "bash",
            &["-c", &format!("exec 3<>/dev/tcp/{address}/{PORT}")],
        )
        .is_ok_and(|o| o.status.success())
    })
    .unwrap();
}

#[test]
fn two_agents_upload_and_the_dual_homed_pc_is_one_device() {
    if !daicho_lab::can_run("two_agents_upload_and_the_dual_homed_pc_is_one_device") {
        return;
    }
    let collector_bin = sibling_binary("daicho-collector").unwrap();
    let mut lab = Lab::new("upl").unwrap();
    let ward = lab.segment("ward").unwrap();
    let office = lab.segment("office").unwrap();
    let agent_ward = lab.host("agw").unwrap();
    lab.attach(&agent_ward, &ward, "eth0", None, &["198.18.1.2/24"])
        .unwrap();
    let agent_office = lab.host("ago").unwrap();
    lab.attach(&agent_office, &office, "eth0", None, &["198.18.2.2/24"])
        .unwrap();
    // The collector server has a leg in each segment.
    let server = lab.host("col").unwrap();
    lab.attach(&server, &ward, "eth0", None, &["198.18.1.250/24"])
        .unwrap();
    lab.attach(&server, &office, "eth1", None, &["198.18.2.250/24"])
        .unwrap();
    // The 2枚挿し PC: one sshd, one host key, an address in each segment.
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &ward, "eth0", None, &["198.18.1.40/24"])
        .unwrap();
    lab.attach(&pc, &office, "eth1", None, &["198.18.2.40/24"])
        .unwrap();
    lab.sshd(&pc, "ed25519", "").unwrap();
    // An ordinary PC on the office segment.
    let clerk = lab.host("clerk").unwrap();
    lab.attach(&clerk, &office, "eth0", None, &["198.18.2.30/24"])
        .unwrap();

    let ledger = lab.dir().join("ledger.db");
    let ledger = ledger.to_str().unwrap();
    let collector = |args: &[&str]| collector_cli(&collector_bin, ledger, args);
    collector(&["init"]);
    let ward_token = collector(&["agent", "add", "ward-agent"]);
    let office_token = collector(&["agent", "add", "office-agent"]);
    // The office agent scans while the collector is down: the report waits.
    let away = scan(
        &lab,
        &agent_office,
        "office-agent",
        &office_token,
        "eth0=198.18.2.0/24",
        "198.18.2.250",
    );
    assert!(!away.status.success(), "{}", text(&away));
    assert!(text(&away).contains("wait in the spool"), "{}", text(&away));
    let spool = lab.dir().join("office-agent").join("spool");
    assert_eq!(
        std::fs::read_dir(&spool)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_file())
            .count(),
        1
    );

    lab.spawn(
        &server,
        &collector_bin,
        &[
            "--ledger",
            ledger,
            "serve",
            "--listen",
            &format!("0.0.0.0:{PORT}"),
            "--allow-plaintext",
        ],
    )
    .unwrap();
    wait_listening(&agent_ward, "198.18.1.250");

    let out = scan(
        &lab,
        &agent_ward,
        "ward-agent",
        &ward_token,
        "eth0=198.18.1.0/24",
        "198.18.1.250",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("1 report(s) delivered"),
        "{}",
        text(&out)
    );

    let flushed = agent_office
        .command(AGENT)
        .env("DAICHO_UPLOAD_TOKEN", office_token.trim())
        .args(["flush", "--upload", &format!("http://198.18.2.250:{PORT}")])
        .arg("--state-dir")
        .arg(lab.dir().join("office-agent"))
        .output()
        .unwrap();
    assert!(flushed.status.success(), "{}", text(&flushed));
    assert!(
        text(&flushed).contains("1 report(s) delivered"),
        "{}",
        text(&flushed)
    );

    // One device for the PC, with both addresses and why.
    let devices = collector(&["devices"]);
    let pc_line = devices
        .lines()
        .find(|l| l.contains("198.18.1.40"))
        .unwrap_or_else(|| panic!("{devices}"));
    assert!(
        pc_line.contains("198.18.2.40"),
        "one device, two legs: {devices}"
    );
    assert_eq!(
        devices.lines().filter(|l| l.contains(".40")).count(),
        1,
        "{devices}"
    );
    assert!(devices.contains("198.18.2.30"), "{devices}");
    let id = pc_line
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap();
    let why = collector(&["explain", id]);
    assert!(why.contains("SSH host key"), "{why}");
    let findings = collector(&["findings"]);
    assert!(findings.contains("DualHomed"), "{findings}");
    assert!(
        findings.contains("198.18.1.40") && findings.contains("198.18.2.40"),
        "{findings}"
    );
    assert!(
        !findings.contains("198.18.2.30"),
        "no finding on the clerk's PC: {findings}"
    );
}

/// `daicho-agent run --every`: scans on schedule, uploads each report,
/// stops cleanly on SIGTERM, and `status` tells the last scan and upload.
#[test]
fn run_every_scans_on_schedule_and_stops_on_sigterm() {
    if !daicho_lab::can_run("run_every_scans_on_schedule_and_stops_on_sigterm") {
        return;
    }
    let collector_bin = sibling_binary("daicho-collector").unwrap();
    let mut lab = Lab::new("run").unwrap();
    let lan = lab.segment("lan").unwrap();
    let agent = lab.host("agent").unwrap();
    lab.attach(&agent, &lan, "eth0", None, &["198.18.1.2/24"])
        .unwrap();
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", None, &["198.18.1.40/24"])
        .unwrap();
    let ledger = lab.dir().join("ledger.db");
    let ledger = ledger.to_str().unwrap();
    let collector = |args: &[&str]| collector_cli(&collector_bin, ledger, args);
    collector(&["init"]);
    let token = collector(&["agent", "add", "timer-agent"]);
    // The collector on the agent's own loopback.
    lab.spawn(
        &agent,
        &collector_bin,
        &[
            "--ledger",
            ledger,
            "serve",
            "--listen",
            &format!("127.0.0.1:{PORT}"),
        ],
    )
    .unwrap();
    wait_listening(&agent, "127.0.0.1");

    let state = lab.dir().join("timer-state");
    let skip = daicho_lab::skip_probes(&["snmp", "netbios", "mdns", "http", "ssh", "ssdp"]);
    let mut run = agent
        .command(AGENT)
        .env("DAICHO_UPLOAD_TOKEN", token.trim())
        .args(["run", "--every", "1s", "--agent-id", "timer-agent"])
        .args([
            "--segment",
            "eth0=198.18.1.0/24",
            "--timeout",
            "200ms",
            "--format",
            "summary",
        ])
        .args(&skip)
        .args(["--upload", &format!("http://127.0.0.1:{PORT}")])
        .arg("--state-dir")
        .arg(&state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ingested = || {
        collector(&["--lang", "en", "audit"])
            .lines()
            .filter(|l| l.contains(" report stored "))
            .count()
    };
    let waited = wait_for(Duration::from_secs(60), || ingested() >= 2);
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(run.id() as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = run.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = run.kill();
            panic!("daicho-agent run did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    waited.expect("two scheduled scans uploaded within 60 s");
    assert!(status.success(), "a clean stop: {status}");

    let out = agent
        .command(AGENT)
        .arg("status")
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("agent timer-agent, 1 hosts"), "{shown}");
    assert!(shown.contains("0 report(s) waiting"), "{shown}");
    assert!(!shown.contains("last accepted: never"), "{shown}");
}
