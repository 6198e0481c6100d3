//! The built-in demo: a small hospital in network namespaces, scanned by the
//! real daicho-agent. README command 1 runs this through `scripts/demo`.
//!
//! Two segments — the outpatient LAN (外来) and the ward LAN (病棟) — with PCs,
//! printers, a switch and medical devices; one PC plugged into both segments
//! (2枚挿し) and an LTE router on the ward LAN. The devices run the real
//! Debian daemons the probes talk to: snmpd on the switches and the router,
//! nmbd on the Windows-style PCs, avahi and a web page on the printers,
//! miniupnpd on the router. The ECG is marked fragile and excluded: it
//! receives no packet addressed to it. Everything is torn down on exit, on
//! error and on Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use anyhow::{Context, Result, bail};
use daicho_lab::{Host, Lab, sibling_binary};

/// (segment, name, role, MAC, addresses on that segment)
const DEVICES: &[(usize, &str, &str, &str, &str)] = &[
    (
        0,
        "sw-out",
        "switch / スイッチ",
        "00:1a:eb:00:01:01",
        "198.18.1.1/24",
    ),
    (
        0,
        "reception-pc",
        "reception PC / 受付PC",
        "e4:46:b0:00:01:0b",
        "198.18.1.11/24",
    ),
    (
        0,
        "doctor-pc",
        "doctor PC / 診察室PC",
        "d0:43:1e:00:01:0c",
        "198.18.1.12/24",
    ),
    (
        0,
        "printer-out",
        "printer / プリンタ",
        "58:38:79:00:01:15",
        "198.18.1.21/24",
    ),
    (
        0,
        "ecg",
        "ECG (fragile, excluded) / 心電計",
        "00:40:d1:00:01:1f",
        "198.18.1.31/24",
    ),
    (
        1,
        "sw-ward",
        "switch / スイッチ",
        "00:1a:eb:00:02:01",
        "198.18.2.1/24",
    ),
    (
        1,
        "nurse-pc",
        "nurse station PC / ナースステーションPC",
        "6c:e4:da:00:02:0b",
        "198.18.2.11/24",
    ),
    (
        1,
        "printer-ward",
        "printer / プリンタ",
        "84:ba:3b:00:02:15",
        "198.18.2.21/24",
    ),
    (
        1,
        "bp-monitor",
        "blood pressure monitor / 血圧計",
        "b0:49:5f:00:02:1f",
        "198.18.2.31/24",
    ),
    (
        1,
        "lte-router",
        "LTE router (vendor remote maintenance) / LTEルータ",
        "00:80:6d:00:02:fe",
        "198.18.2.254/24",
    ),
];
const FRAGILE: &str = "198.18.1.31";
/// One agent per segment: (agent id, interface=network).
const AGENTS: &[(&str, &str)] = &[
    ("outpatient", "eth1=198.18.1.0/24"),
    ("ward", "eth2=198.18.2.0/24"),
];
/// Where the collector listens: the agents' host's own loopback.
const COLLECTOR: &str = "127.0.0.1:8417";
/// The hospital's declared ledger (omits the dual-homed PC's second leg and
/// the LTE router).
const SAMPLE_LEDGER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../config/declared-ledger.csv"
);
/// The demo hospital's name, for the report's title.
const SITE_NAME: &str = "デモ病院 本院（daicho demo）";
/// The demo's read-only SNMP community (lab only).
const COMMUNITY: &str = "demo-ro";

fn printer_service(model: &str, place: &str) -> String {
    format!(
        "<?xml version=\"1.0\" standalone='no'?>\n\
         <!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n\
         <service-group><name>{model} [{place}]</name><service><type>_ipp._tcp</type>\
         <port>631</port><txt-record>ty={model}</txt-record><txt-record>usb_MFG=RICOH</txt-record>\
         </service></service-group>\n"
    )
}

/// What the network team wrote on the switch ports (ifAlias): the rooms.
const PORT_ALIASES: &[(&str, &str)] = &[
    ("reception-pc", "1階 受付"),
    ("doctor-pc", "1階 第1診察室"),
    ("nurse-pc", "3階 ナースステーション"),
    ("bp-monitor", "3階 301号室"),
    ("lte-router", "3階処置室"),
];

/// A switch's snmpd: its system group, its entity (model, serial), and the
/// rooms on its ports (`aliases`: ifIndex, text).
fn switch_config(name: &str, aliases: &[(u32, &str)]) -> String {
    let mut config = format!(
        "rocommunity {COMMUNITY} default\nsysName {name}\nsysLocation {}\n\
         sysObjectID .1.3.6.1.4.1.207.1.4.1\n\
         override .1.3.6.1.2.1.47.1.1.1.1.5.1 integer 3\n\
         override .1.3.6.1.2.1.47.1.1.1.1.13.1 octet_str \"x530L-28GTX\"\n\
         override .1.3.6.1.2.1.47.1.1.1.1.11.1 octet_str \"SN-{name}\"\n",
        if name == "sw-out" {
            "1F rack"
        } else {
            "3F rack"
        }
    );
    for (index, alias) in aliases {
        config.push_str(&format!(
            "override .1.3.6.1.2.1.31.1.1.1.18.{index} octet_str \"{alias}\"\n"
        ));
    }
    config
}

/// Starts what each device runs, by its name.
fn start_daemons(lab: &mut Lab, name: &str, host: &Host, address: &str) -> Result<()> {
    let ip = address.split('/').next().unwrap_or(address);
    match name {
        "reception-pc" => lab.nmbd(host, ip, "UKETSUKE-PC01", "HOSPITAL"),
        "doctor-pc" => lab.nmbd(host, ip, "SHINSATSU-PC02", "HOSPITAL"),
        "nurse-pc" => lab.nmbd(host, ip, "NURSE-PC03", "HOSPITAL"),
        "printer-out" | "printer-ward" => {
            let model = if name == "printer-out" {
                "RICOH IM C3000"
            } else {
                "RICOH IM C4500"
            };
            lab.avahi(
                host,
                name,
                &["eth0"],
                &[("ipp", &printer_service(model, name))],
            )?;
            let page = format!("<title>{model} Web Image Monitor</title>");
            lab.lighttpd(host, 80, &[("index.html", page.as_bytes())], "")
                .map(drop)
        }
        "lte-router" => {
            lab.miniupnpd(
                host,
                "eth0",
                "wwan0",
                "friendly_name=RUTX11 LTE Router\nmanufacturer_name=Teltonika\nmodel_name=RUTX11",
            )?;
            // Its own DHCP server and IPv6 router advertisements on the ward
            // LAN, handing out itself as the gateway: what a vendor's router
            // does out of the box.
            lab.radvd(host, "eth0", "2001:db8:2::/64")?;
            lab.dnsmasq(
                host,
                "eth0",
                "198.18.2.200,198.18.2.220,255.255.255.0",
                "198.18.2.254",
            )?;
            let index = host.if_index("wwan0")?;
            lab.snmpd(
                host,
                ip,
                &format!(
                    "rocommunity {COMMUNITY} default\nsysName lte-router\n\
                     sysObjectID .1.3.6.1.4.1.48690.1.1\n\
                     override .1.3.6.1.2.1.2.2.1.3.{index} integer 243\n"
                ),
            )
        }
        _ => Ok(()),
    }
}

fn build(lab: &mut Lab, cancel: &AtomicBool) -> Result<Host> {
    // The two switches are managed: each is its segment, and its snmpd
    // serves the forwarding table of its own ports.
    let mut switches = Vec::new();
    for (_, name, _, mac, address) in DEVICES.iter().filter(|d| d.1.starts_with("sw-")) {
        let vlan = (*name == "sw-ward").then_some(20);
        switches.push((
            *name,
            *address,
            lab.managed_switch(name, mac, address, vlan)?,
        ));
    }
    println!(
        "demo: building the hospital lab (namespaces {}-*)",
        lab.id()
    );
    let mut aliases: Vec<Vec<(u32, &str)>> = vec![Vec::new(); switches.len()];
    for (segment, name, _, mac, address) in DEVICES.iter().filter(|d| !d.1.starts_with("sw-")) {
        if cancel.load(Relaxed) {
            bail!("interrupted");
        }
        let host = lab.host(name)?;
        let switch = &switches[*segment].2;
        let port = lab.plug(&host, switch, "eth0", Some(mac), &[address])?;
        if let Some((_, alias)) = PORT_ALIASES.iter().find(|(n, _)| n == name) {
            aliases[*segment].push((switch.host.if_index(&port)?, alias));
        }
        if *name == "lte-router" {
            // Its own uplink: a "wwan0" towards a carrier namespace, holding the
            // default route. (A veth: this kernel may lack dummy links.)
            let carrier = lab.segment("carrier")?;
            lab.attach(&host, &carrier, "wwan0", None, &["198.18.200.2/30"])?;
            host.ip(&["route", "add", "default", "via", "198.18.200.1"])?;
        }
        start_daemons(lab, name, &host, address)
            .with_context(|| format!("starting the daemons of {name}"))?;
    }
    for ((name, address, switch), aliases) in switches.iter().zip(&aliases) {
        let ip = address.split('/').next().unwrap_or(address);
        lab.switch_snmpd(switch, ip, &switch_config(name, aliases))
            .with_context(|| format!("starting the snmpd of {name}"))?;
    }
    // The dual-homed PC: one NIC on each segment.
    let dual = lab.host("dual-pc")?;
    lab.plug(
        &dual,
        &switches[0].2,
        "eth0",
        Some("00:1b:21:00:01:33"),
        &["198.18.1.33/24"],
    )?;
    lab.plug(
        &dual,
        &switches[1].2,
        "eth1",
        Some("00:1b:21:00:01:34"),
        &["198.18.2.33/24"],
    )?;
    // One avahi on both NICs: the same host name answers on both segments.
    lab.avahi(&dual, "dual-pc", &["eth0", "eth1"], &[])?;

    let agent = lab.host("agent")?;
    lab.plug(
        &agent,
        &switches[0].2,
        "eth1",
        Some("02:da:1c:00:01:02"),
        &["198.18.1.2/24"],
    )?;
    lab.plug(
        &agent,
        &switches[1].2,
        "eth2",
        Some("02:da:1c:00:02:02"),
        &["198.18.2.2/24"],
    )?;
    Ok(agent)
}

fn run(output: PathBuf, cancel: Arc<AtomicBool>) -> Result<()> {
    let agent_bin = sibling_binary("daicho-agent")?;
    let collector_bin = sibling_binary("daicho-collector")?;
    let mut lab = Lab::new("demo")?;
    let agent = build(&mut lab, &cancel)?;
    std::fs::create_dir_all(&output).with_context(|| format!("creating {}", output.display()))?;
    let config = output.join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "# The demo's agent configuration (lab only).\n\
             [arp]\nflux_networks = [\"198.18.1.0/24\", \"198.18.2.0/24\"]\n\
             [dhcp]\nenabled = true\nlisten = \"6s\"\nsolicit_routers = true\n\
             sanctioned_servers = [\"198.18.2.1\"]\n\
             sanctioned_gateways = [\"198.18.1.1\", \"198.18.2.1\"]\n\
             [[snmp.profile]]\nname = \"demo\"\nversion = \"2c\"\ncommunity = \"{COMMUNITY}\"\n"
        ),
    )?;
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;

    println!("demo: devices");
    for (segment, name, role, mac, address) in DEVICES {
        println!(
            "  {} {name:<13} {address:<16} {mac}  {role}",
            ["外来/outpatient", "病棟/ward      "][*segment]
        );
    }
    println!("  both segments  dual-pc  198.18.1.33 + 198.18.2.33  dual-homed PC / 2枚挿しPC");

    // The collector, with a fresh SQLite ledger, on the agents' host's loopback.
    let ledger = output.join("ledger.db");
    for stale in ["ledger.db", "ledger.db-wal", "ledger.db-shm"] {
        let _ = std::fs::remove_file(output.join(stale));
    }
    let ledger = ledger
        .to_str()
        .context("the output path is UTF-8")?
        .to_owned();
    let collector = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new(&collector_bin)
            .args(["--ledger", &ledger, "--site-name", SITE_NAME])
            .args(args)
            .output()
            .context("running daicho-collector")?;
        if !out.status.success() {
            bail!(
                "daicho-collector {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    collector(&["init"])?;
    let tokens: Vec<String> = AGENTS
        .iter()
        .map(|(name, _)| collector(&["agent", "add", name]).map(|t| t.trim().to_owned()))
        .collect::<Result<_>>()?;
    lab.spawn(
        &agent,
        &collector_bin,
        &["--ledger", &ledger, "serve", "--listen", COLLECTOR],
    )?;
    daicho_lab::wait_for(std::time::Duration::from_secs(20), || {
        let (host, port) = COLLECTOR.split_once(':').expect("host:port");
        agent
            .exec("bash", &["-c", &format!("exec 3<>/dev/tcp/{host}/{port}")])
            .is_ok_and(|o| o.status.success())
    })?;
    println!("\ndemo: daicho-collector serving on {COLLECTOR} (ledger {ledger})");

    for ((name, segment), token) in AGENTS.iter().zip(&tokens) {
        if cancel.load(Relaxed) {
            bail!("interrupted");
        }
        println!(
            "\ndemo: daicho-agent scan --agent-id {name} --segment {segment} --upload http://{COLLECTOR} (ECG {FRAGILE} excluded: it gets no packet)\n"
        );
        let status = agent
            .command(&agent_bin)
            .env("DAICHO_UPLOAD_TOKEN", token)
            .args(["scan", "--agent-id", name, "--segment", segment])
            .args(["--exclude", FRAGILE, "--config"])
            .arg(&config)
            .arg("--state-dir")
            .arg(output.join(format!("state-{name}")))
            .arg("--output")
            .arg(output.join(format!("report-{name}.json")))
            .args(["--upload", &format!("http://{COLLECTOR}")])
            .status()
            .context("running daicho-agent in the lab")?;
        if !status.success() {
            bail!("daicho-agent {name} failed ({status})");
        }
    }

    println!("\ndemo: the hospital's declared ledger ({SAMPLE_LEDGER})");
    print!(
        "{}",
        collector(&[
            "ledger",
            "import",
            SAMPLE_LEDGER,
            "--by",
            "demo",
            "--note",
            "sample ledger"
        ])?
    );
    // Shown in the terminal's language; kept in both (the English ones are
    // what CI checks).
    let findings = collector(&["findings"])?;
    println!("\ndemo: findings across both agents (checklist 2-(2))\n{findings}");
    let diff = collector(&["diff"])?;
    println!("demo: the ledger against the network\n{diff}");
    for (lang, suffix) in [("en", ""), ("ja", "-ja")] {
        for (what, args) in [("findings", &["findings"][..]), ("diff", &["diff"][..])] {
            let text = collector(&[&["--lang", lang][..], args].concat())?;
            std::fs::write(output.join(format!("{what}{suffix}.txt")), text)?;
        }
    }
    std::fs::write(
        output.join("devices.json"),
        collector(&["devices", "--format", "json"])?,
    )?;
    // The inspection's records as IT staff would keep them: the 2-②
    // register for the ECG maintained over VPN, MDS/SDS for two makers, a
    // sign-off with target dates for what is still いいえ.
    collector(&[
        "register",
        "set",
        "ME-031",
        "--by",
        "demo",
        "--method",
        "VPN",
        "--source-restriction",
        "保守センターの固定 IP のみ",
        "--id-holder",
        "個人",
        "--authentication",
        "ID・パスワード＋ワンタイムパスワード",
        "--terminal-check",
        "月次でパッチ適用の報告を受領",
        "--timing",
        "事前に電話連絡の上で実施",
        "--checked-on",
        "2026/12/01",
        "--evidence",
        "保守契約書 ME-031.pdf",
    ])?;
    collector(&[
        "disclosure",
        "set",
        "Nihon Kohden",
        "--status",
        "submitted",
        "--version",
        "6.0",
        "--received",
        "2026-11-20",
        "--file",
        "MDS/nihon-kohden.pdf",
        "--by",
        "demo",
    ])?;
    collector(&[
        "disclosure",
        "set",
        "Fujitsu",
        "--status",
        "requested",
        "--by",
        "demo",
    ])?;
    collector(&[
        "sign-off",
        "--reviewer",
        "院長",
        "--date",
        "2026-12-07",
        "--note",
        "情報システム委員会（デモ）",
        "--target",
        "2-1=2027-01-31",
        "--target",
        "2-2=2027-03-31",
        "--target",
        "2-3=2027-03-31",
        "--by",
        "demo",
    ])?;
    let html = output.join("report.html");
    let xlsx = output.join("ledger.xlsx");
    collector(&["report", "-o", html.to_str().context("UTF-8 path")?])?;
    collector(&[
        "report",
        "--lang",
        "en",
        "-o",
        output
            .join("report-en.html")
            .to_str()
            .context("UTF-8 path")?,
    ])?;
    collector(&[
        "ledger",
        "export",
        "-o",
        xlsx.to_str().context("UTF-8 path")?,
    ])?;
    let diagram = output.join("site.svg");
    collector(&["diagram", "-o", diagram.to_str().context("UTF-8 path")?])?;
    println!(
        "demo: written to {}: report.html (report-en.html), ledger.xlsx, site.svg (構成図), diff.txt, findings.txt (and -ja.txt), devices.json, report-*.json, ledger.db",
        output.display()
    );
    let ledger_db = output.join("ledger.db");
    println!(
        "demo: to review it in the web pages (this machine's loopback only) / Web 画面で確認するには:\n  \
         sudo {bin} --ledger {db} user add admin --role editor   (type a password of 12+ characters)\n  \
         sudo {bin} --ledger {db} serve\n  \
         then open http://127.0.0.1:8417/ and sign in as admin",
        bin = collector_bin.display(),
        db = ledger_db.display()
    );
    Ok(())
    // The lab is dropped here: namespaces, links and processes removed.
}

fn main() -> ExitCode {
    let output = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("demo-output"), PathBuf::from);
    if !daicho_lab::can_run("daicho-demo") {
        eprintln!("demo: run it as root (scripts/demo uses sudo)");
        return ExitCode::FAILURE;
    }
    // Ctrl-C and SIGTERM only set a flag: the demo then unwinds normally, so the
    // lab's teardown always runs.
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Relaxed)) {
        eprintln!("demo: cannot install the Ctrl-C handler: {e}");
        return ExitCode::FAILURE;
    }
    match run(output, cancel) {
        Ok(()) => {
            println!("demo: lab removed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("demo: {e:#}\ndemo: lab removed");
            ExitCode::FAILURE
        }
    }
}
