//! Identity-probe benchmark: a whole `daicho-agent scan` (ARP, SNMP, mDNS,
//! NetBIOS, SSDP, HTTP, SSH) of a lab segment of real daemons, and nmap's
//! `broadcast-dns-service-discovery`, `broadcast-upnp-info`, `nbstat` and
//! `http-title` run side by side on the same segment, in one run. Prints wall
//! times and what each found (service instances, TXT records, NetBIOS names,
//! UPnP devices, page titles) as a Markdown table. Run by
//! `tests/bench/identity.sh` (root).

use std::process::Output;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use daicho_lab::{Host, Lab, sibling_binary};

const SCANNER: &str = "198.18.1.2";
const IPP: &str = r#"<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group><name>RICOH IM C3000 [3F]</name>
<service><type>_ipp._tcp</type><port>631</port>
<txt-record>ty=RICOH IM C3000</txt-record><txt-record>product=(RICOH IM C3000)</txt-record>
<txt-record>usb_MFG=RICOH</txt-record><txt-record>usb_MDL=IM C3000</txt-record></service>
<service><type>_http._tcp</type><port>80</port><txt-record>path=/</txt-record></service>
</service-group>"#;
const SMB: &str = r#"<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group><name>NAS-PACS</name>
<service><type>_smb._tcp</type><port>445</port></service>
<service><type>_ssh._tcp</type><port>22</port></service>
<service><type>_device-info._tcp</type><port>0</port><txt-record>model=Xserve</txt-record></service>
</service-group>"#;

struct Bench {
    _lab: Lab,
    scanner: Host,
    agent: std::path::PathBuf,
    dir: std::path::PathBuf,
    hosts: Vec<String>,
}

impl Bench {
    fn new() -> Result<Bench> {
        let mut lab = Lab::new("idbench")?;
        let lan = lab.segment("lan")?;
        let carrier = lab.segment("carrier")?;
        let scanner = lab.host("scanner")?;
        lab.attach(&scanner, &lan, "eth0", None, &[&format!("{SCANNER}/24")])?;
        let mut hosts = Vec::new();
        let mut host = |lab: &mut Lab, name: &str, ip: &str| -> Result<Host> {
            let host = lab.host(name)?;
            lab.attach(&host, &lan, "eth0", None, &[&format!("{ip}/24")])?;
            hosts.push(ip.to_owned());
            Ok(host)
        };
        let printer = host(&mut lab, "printer", "198.18.1.20")?;
        lab.avahi(&printer, "printer-3f", &["eth0"], &[("ipp", IPP)])?;
        lab.lighttpd(
            &printer,
            80,
            &[(
                "index.html",
                b"<title>RICOH IM C3000 Web Image Monitor</title>",
            )],
            "",
        )?;
        for (name, ip, netbios) in [
            ("pc1", "198.18.1.40", "PC-3F-NURSE"),
            ("pc2", "198.18.1.41", "PC-RECEPTION"),
        ] {
            let pc = host(&mut lab, name, ip)?;
            lab.nmbd(&pc, ip, netbios, "HOSPITAL")?;
            lab.avahi(&pc, &name.replace("pc", "pc-"), &["eth0"], &[])?;
        }
        let nas = host(&mut lab, "nas", "198.18.1.50")?;
        lab.nmbd(&nas, "198.18.1.50", "NAS-PACS", "HOSPITAL")?;
        lab.avahi(&nas, "nas-pacs", &["eth0"], &[("smb", SMB)])?;
        lab.sshd(&nas, "ed25519", "")?;
        let router = host(&mut lab, "router", "198.18.1.1")?;
        lab.attach(&router, &carrier, "wwan0", None, &["198.18.3.2/30"])?;
        lab.miniupnpd(
            &router,
            "eth0",
            "wwan0",
            "friendly_name=MR-LTE 4G Router\nmodel_name=MR-LTE",
        )?;
        lab.lighttpd(
            &router,
            8080,
            &[("index.html", b"<title>LTE Router Admin</title>")],
            "",
        )?;
        lab.snmpd(
            &router,
            "198.18.1.1",
            "rocommunity bench-ro default\nsysName lte-router\n",
        )?;
        let dir = lab.dir().to_owned();
        Ok(Bench {
            agent: sibling_binary("daicho-agent")?,
            _lab: lab,
            scanner,
            dir,
            hosts,
        })
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(Duration, Output)> {
        let start = Instant::now();
        let out = self.scanner.command(program).args(args).output()?;
        if !out.status.success() {
            bail!("{program} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok((start.elapsed(), out))
    }

    fn daicho(&self) -> Result<(Duration, Counts)> {
        let config = self.dir.join("agent.toml");
        std::fs::write(
            &config,
            "[[snmp.profile]]\nname = \"ro\"\nversion = \"2c\"\ncommunity = \"bench-ro\"\n",
        )?;
        std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        let report = self.dir.join("report.json");
        let (wall, _) = self.run(
            self.agent.to_str().context("agent path")?,
            &[
                "scan",
                "--segment",
                "eth0=198.18.1.0/24",
                "--config",
                config.to_str().context("path")?,
                "--state-dir",
                self.dir.join("state").to_str().context("path")?,
                "--format",
                "summary",
                "--output",
                report.to_str().context("path")?,
            ],
        )?;
        std::fs::remove_dir_all(self.dir.join("state")).ok();
        if std::env::var_os("BENCH_KEEP").is_some() {
            std::fs::copy(&report, "/tmp/identity-bench-report.json")?;
        }
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
        let mut counts = Counts::default();
        for o in report["observations"].as_array().context("observations")? {
            let list = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
            for service in list(&o["mdns"]["services"]) {
                counts.instances += 1;
                counts.txt += service["txt"].as_object().map_or(0, |t| t.len());
            }
            counts.names += usize::from(o["netbios"]["computer_name"].is_string());
            counts.upnp += list(&o["ssdp"]["devices"]).len().min(1);
            counts.titles += list(&o["http"]["banners"])
                .iter()
                .filter(|b| b["title"].is_string())
                .count();
        }
        Ok((wall, counts))
    }

    /// The four nmap scripts at once, as four processes side by side.
    fn nmap(&self) -> Result<(Duration, Vec<Duration>, Counts)> {
        let hosts: Vec<&str> = self.hosts.iter().map(String::as_str).collect();
        let runs: Vec<Vec<String>> = vec![
            [
                "-sn",
                "-n",
                "-e",
                "eth0",
                "--script",
                "broadcast-dns-service-discovery",
            ]
            .map(String::from)
            .to_vec(),
            ["-sn", "-n", "-e", "eth0", "--script", "broadcast-upnp-info"]
                .map(String::from)
                .to_vec(),
            ["-sU", "-p137", "-n", "--script", "nbstat"]
                .iter()
                .map(|s| s.to_string())
                .chain(hosts.iter().map(|h| h.to_string()))
                .collect(),
            ["-p80,443,8080,8443", "-n", "--script", "http-title"]
                .iter()
                .map(|s| s.to_string())
                .chain(hosts.iter().map(|h| h.to_string()))
                .collect(),
        ];
        let start = Instant::now();
        let outputs: Vec<Result<(Duration, Output)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .iter()
                .map(|args| {
                    scope.spawn(move || {
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        self.run("nmap", &args)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("nmap thread"))
                .collect()
        });
        let wall = start.elapsed();
        let mut each = Vec::new();
        let mut texts = Vec::new();
        for (i, output) in outputs.into_iter().enumerate() {
            let (time, out) = output?;
            if std::env::var_os("BENCH_KEEP").is_some() {
                std::fs::write(format!("/tmp/identity-bench-nmap-{i}.txt"), &out.stdout)?;
            }
            each.push(time);
            texts.push(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        let lines =
            |text: &str, keep: &dyn Fn(&str) -> bool| text.lines().filter(|l| keep(l)).count();
        // broadcast-dns-service-discovery prints one `Address=` line per
        // service instance, and TXT entries as other `key=value` lines.
        let key_value = |l: &str| {
            let t = l.trim_start_matches(['|', '_', ' ']);
            t.split_once('=').is_some_and(|(key, _)| {
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            })
        };
        let address = |l: &str| {
            l.trim_start_matches(['|', '_', ' '])
                .starts_with("Address=")
        };
        let counts = Counts {
            instances: lines(&texts[0], &address),
            txt: lines(&texts[0], &|l| key_value(l) && !address(l)),
            upnp: lines(&texts[1], &|l| l.contains("Location:")),
            names: lines(&texts[2], &|l| l.contains("NetBIOS name:")),
            titles: lines(&texts[3], &|l| l.contains("http-title:")),
        };
        Ok((wall, each, counts))
    }
}

#[derive(Debug, Default)]
struct Counts {
    instances: usize,
    txt: usize,
    names: usize,
    upnp: usize,
    titles: usize,
}

/// The table's count columns.
impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self;
        write!(
            f,
            "{} | {} | {} | {} | {}",
            c.instances, c.txt, c.names, c.upnp, c.titles
        )
    }
}

fn main() -> Result<()> {
    let bench = Bench::new()?;
    println!(
        "Identity probes: one lab segment, {} hosts of real daemons (avahi, nmbd, miniupnpd, \
         lighttpd, sshd, snmpd)\n",
        bench.hosts.len()
    );
    println!(
        "| run | tool | wall s | mDNS instances | TXT records | NetBIOS names | UPnP devices | page titles |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for round in 1..=3 {
        let (wall, c) = bench.daicho()?;
        println!(
            "| {round} | daicho-agent scan (ARP+SNMP+mDNS+NetBIOS+SSDP+HTTP+SSH) | {:.2} | {c} |",
            wall.as_secs_f64()
        );
        let (wall, each, c) = bench.nmap()?;
        let each: Vec<String> = each
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64()))
            .collect();
        println!(
            "| {round} | nmap 4 scripts side by side (each: {} s) | {:.2} | {c} |",
            each.join(" / "),
            wall.as_secs_f64()
        );
    }
    Ok(())
}
