//! Identification speed (issue #16: 100,000 devices' observations in ≤ 2 s
//! on one core): synthetic devices whose banners are Recog's own example
//! texts (so most match something, as on a real network), each device's
//! SNMP sysDescr and SSH banner made unique by its host name half of the
//! time (so the memo of repeated texts cannot do all the work), identified
//! one after another on one thread after the databases are compiled.
//! Usage: cargo run --release -p daicho-identify --example identify-bench [DEVICES]

use std::time::Instant;

use daicho_identify::{Tables, identify, recog::Database};
use daicho_report::Observation;

fn examples(name: &str, xml: &str) -> Vec<String> {
    Database::parse(name, xml)
        .unwrap()
        .fingerprints
        .iter()
        .flat_map(|f| f.examples.iter().map(|e| e.text.clone()))
        .collect()
}

fn main() {
    let devices: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data/recog/");
    let read = |file: &str| std::fs::read_to_string(format!("{data}{file}.xml")).unwrap();
    let sysdescr = examples("snmp_sysdescr", &read("snmp_sysdescr"));
    let servers = examples("http_servers", &read("http_servers"));
    let titles = examples("html_title", &read("html_title"));
    let ssh = examples("ssh_banners", &read("ssh_banners"));
    let tables = Tables::builtin();
    let compile = Instant::now();
    daicho_identify::warm_up();
    let compiled = compile.elapsed();

    let observations: Vec<Vec<Observation>> = (0..devices)
        .map(|n| {
            let unique = n % 2 == 0;
            let descr = &sysdescr[n % sysdescr.len()];
            let descr = if unique { format!("{descr} host-{n}") } else { descr.clone() };
            let banner = &ssh[n % ssh.len()];
            let banner = if unique { format!("SSH-2.0-{banner} h{n}") } else { format!("SSH-2.0-{banner}") };
            let json = serde_json::json!([
                {"source": "snmp", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": "198.18.1.1",
                 "snmp": {"sys_descr": descr, "sys_object_id": format!("1.3.6.1.4.1.{}.1", n % 60000)}},
                {"source": "http", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": "198.18.1.1",
                 "http": {"banners": [{"port": 80, "tls": false,
                    "server": servers[n % servers.len()], "title": titles[n % titles.len()]}]}},
                {"source": "ssh", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": "198.18.1.1",
                 "ssh": {"port": 22, "banner": banner}},
            ]);
            serde_json::from_value(json).unwrap()
        })
        .collect();

    let start = Instant::now();
    let mut identified = [0usize; 4];
    for device in &observations {
        let refs: Vec<&Observation> = device.iter().collect();
        let identity = identify(&refs, &tables);
        identified[0] += usize::from(identity.kind.is_some());
        identified[1] += usize::from(identity.maker.is_some());
        identified[2] += usize::from(identity.os.is_some());
        identified[3] += usize::from(identity.model.is_some());
    }
    let took = start.elapsed();
    println!(
        "identify-bench: {devices} devices (3 observations each: sysDescr, HTTP Server + title, SSH; \
         half the sysDescr and SSH banners unique) on one thread"
    );
    println!(
        "  compiling the built-in databases: {:.2} s",
        compiled.as_secs_f64()
    );
    println!(
        "  identifying: {:.2} s ({:.1} µs per device) — target ≤ 2.00 s for 100,000: {:.2}× the target",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / devices as f64,
        took.as_secs_f64() / (2.0 * devices as f64 / 100_000.0)
    );
    println!(
        "  with a kind: {}, a maker: {}, an OS: {}, a model: {}",
        identified[0], identified[1], identified[2], identified[3]
    );
}
