//! SNMP benchmark: daicho-agent's SNMP step and net-snmp's `snmpbulkwalk`
//! side by side in one run, against 50 real `snmpd` hosts in a namespace lab.
//! Both read the same subtrees — system, interfaces (ifTable, ifXTable),
//! addresses (ipAddrTable, ipAddressTable) and ENTITY-MIB — with the same
//! number of hosts at a time and one request at a time per host; the agent
//! also keeps to its per-host rate. Prints a Markdown table with the ratio.
//! Run by `tests/bench/snmp.sh` (root).

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use daicho_lab::{Capture, Host, Lab, sibling_binary};

const HOSTS: usize = 50;
const CONCURRENCY: usize = 16;
const HOST_RATE: f64 = 50.0;
const COMMUNITY: &str = "bench-ro";
const SCANNER: &str = "198.18.10.2";
/// The subtrees both tools read.
const SUBTREES: &[&str] = &[
    "1.3.6.1.2.1.1",
    "1.3.6.1.2.1.2.2",
    "1.3.6.1.2.1.31.1.1",
    "1.3.6.1.2.1.4.20",
    "1.3.6.1.2.1.4.34",
    "1.3.6.1.2.1.47.1.1.1",
];

fn host_ip(i: usize) -> String {
    format!("198.18.10.{}", 10 + i)
}

fn snmpd_conf(i: usize) -> String {
    format!(
        "rocommunity {COMMUNITY} default\n\
         sysName bench-{i}\n\
         sysLocation rack {i}\n\
         override .1.3.6.1.2.1.47.1.1.1.1.5.1 integer 3\n\
         override .1.3.6.1.2.1.47.1.1.1.1.11.1 octet_str \"SN-{i:04}\"\n\
         override .1.3.6.1.2.1.47.1.1.1.1.13.1 octet_str \"Bench Switch 24\"\n"
    )
}

struct Bench {
    lab: Lab,
    scanner: Host,
    first_host: Host,
    agent: std::path::PathBuf,
}

impl Bench {
    fn new() -> Result<Bench> {
        let mut lab = Lab::new("snmpbench")?;
        let segment = lab.segment("bench")?;
        let scanner = lab.host("scanner")?;
        lab.attach(
            &scanner,
            &segment,
            "eth0",
            None,
            &[&format!("{SCANNER}/24")],
        )?;
        let mut first_host = None;
        for i in 0..HOSTS {
            let host = lab.host(&format!("h{i}"))?;
            let ip = host_ip(i);
            lab.attach(&host, &segment, "eth0", None, &[&format!("{ip}/24")])?;
            lab.snmpd(&host, &ip, &snmpd_conf(i))?;
            first_host.get_or_insert(host);
        }
        Ok(Bench {
            agent: sibling_binary("daicho-agent")?,
            first_host: first_host.context("no hosts")?,
            lab,
            scanner,
        })
    }

    /// The agent's scan; returns the SNMP step's wall time (from the report),
    /// the hosts that answered, the values read, and the closest two requests
    /// to the first host came.
    fn daicho(&self) -> Result<(Duration, usize, usize, f64)> {
        let dir = self.lab.dir();
        let config = dir.join("agent.toml");
        let read = r#"["interfaces", "addresses", "entities"]"#;
        std::fs::write(
            &config,
            format!(
                "[snmp]\nconcurrency = {CONCURRENCY}\nhost_rate = {HOST_RATE}\nread = {read}\n\
                 [[snmp.profile]]\nname = \"bench\"\nversion = \"2c\"\ncommunity = \"{COMMUNITY}\"\n"
            ),
        )?;
        let report = dir.join("report.json");
        let capture = Capture::start(
            &self.first_host,
            "eth0",
            "udp dst port 161",
            &dir.join("first-host.pcap"),
        )?;
        let out = self
            .scanner
            .command(&self.agent)
            .args([
                "scan",
                "--segment",
                "eth0=198.18.10.0/24",
                "--format",
                "summary",
            ])
            .arg("--config")
            .arg(&config)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .arg("--output")
            .arg(&report)
            .stdout(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!("agent failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let times = capture.stop_timestamps()?;
        let closest = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(f64::MAX, f64::min);
        // The profile memory would make later runs cheaper; each run starts cold.
        std::fs::remove_dir_all(dir.join("state")).ok();
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
        let run = report["probe_runs"]
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["probe"] == "snmp"))
            .context("no SNMP probe run in the report")?;
        let time = |key: &str| -> Result<jiff::Timestamp> {
            Ok(run[key].as_str().context("probe run time")?.parse()?)
        };
        let wall = Duration::try_from(time("finished_at")? - time("started_at")?)?;
        let answered: Vec<&serde_json::Value> = report["observations"]
            .as_array()
            .context("observations")?
            .iter()
            .filter(|o| o["source"] == "snmp" && o["snmp"]["profile"].is_string())
            .collect();
        let values: usize = answered
            .iter()
            .map(|o| {
                let facts = &o["snmp"];
                let count = |key: &str| facts[key].as_array().map_or(0, Vec::len);
                6 + count("interfaces") + count("addresses") + count("entities")
            })
            .sum();
        Ok((wall, answered.len(), values, closest))
    }

    /// `snmpbulkwalk` of each subtree of each host, one walk at a time per
    /// host, CONCURRENCY hosts at a time (xargs -P inside the scanner
    /// namespace, so no `ip netns exec` per walk). Returns the wall time and
    /// the lines (values) printed.
    fn net_snmp(&self) -> Result<(Duration, usize)> {
        let hosts: Vec<String> = (0..HOSTS).map(host_ip).collect();
        let walks = SUBTREES
            .iter()
            .map(|t| format!("snmpbulkwalk -v2c -c {COMMUNITY} -On -t 2 -r 1 \"$0\" {t};"))
            .collect::<String>();
        let script = format!(
            "printf '%s\\n' {} | xargs -P {CONCURRENCY} -n 1 sh -c '{walks}'",
            hosts.join(" ")
        );
        let start = Instant::now();
        let out = self
            .scanner
            .command("sh")
            .args(["-c", &script])
            .env("MIBS", "")
            .output()?;
        let wall = start.elapsed();
        if !out.status.success() {
            bail!(
                "snmpbulkwalk failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let lines = String::from_utf8_lossy(&out.stdout).lines().count();
        Ok((wall, lines))
    }
}

fn main() -> Result<()> {
    let bench = Bench::new()?;
    println!(
        "SNMP: {HOSTS} snmpd hosts (net-snmp, v2c), {CONCURRENCY} hosts at a time, one request \
         at a time per host; daicho host_rate {HOST_RATE}/s\n"
    );
    println!(
        "| run | daicho SNMP step | hosts | values | closest requests to one host | snmpbulkwalk | values | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 1..=3 {
        let (ours, hosts, values, closest) = bench.daicho()?;
        let (theirs, lines) = bench.net_snmp()?;
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
        ratios.push(ratio);
        println!(
            "| {round} | {:.2} s | {hosts}/{HOSTS} | {values} | {:.1} ms | {:.2} s | {lines} | {ratio:.2} |",
            ours.as_secs_f64(),
            closest * 1000.0,
            theirs.as_secs_f64(),
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nmedian ratio daicho/snmpbulkwalk: {:.2} (target ≤ 0.5)",
        ratios[ratios.len() / 2]
    );
    std::thread::sleep(Duration::from_millis(10));
    Ok(())
}
