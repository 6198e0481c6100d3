//! End to end: the mobile-router and rogue-gateway detections of
//! `daicho-agent scan` on one hospital LAN, against real daemons from
//! Debian: an LTE router (a cellular maker's MAC, a `wwan0` uplink holding
//! its default route, dnsmasq handing out itself as gateway, radvd
//! advertising an IPv6 default route, a RutOS-like admin page) beside an
//! ordinary router (forwarding, snmpd, the sanctioned dnsmasq and radvd), a
//! printer and a PC that takes a lease with busybox's udhcpc while the agent
//! listens. Needs root.

use std::time::Duration;

use daicho_lab::{Capture, Lab};
use daicho_report::{FindingKind, Report, Source};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");
const AGENT_MAC: &str = "02:da:1c:00:01:02";
const ROUTER: &str = "198.18.1.1";
const LTE: &str = "198.18.1.254";
const PRINTER: &str = "198.18.1.21";
const PC: &str = "198.18.1.40";
const PC_MAC: &str = "6c:e4:da:00:01:28";

#[test]
fn the_mobile_router_is_found_with_evidence_and_the_ordinary_router_printer_and_pc_are_not() {
    if !daicho_lab::can_run("the_mobile_router_is_found_with_evidence") {
        return;
    }
    let mut lab = Lab::new("mob").unwrap();
    let lan = lab.segment("lan").unwrap();
    let office = lab.segment("office").unwrap();
    let carrier = lab.segment("carrier").unwrap();

    // The hospital's router: between the LAN and the office network, the
    // sanctioned DHCP server and IPv6 router of the LAN.
    let router = lab.host("router").unwrap();
    lab.attach(
        &router,
        &lan,
        "eth0",
        Some("52:54:00:00:01:01"),
        &[&format!("{ROUTER}/24")],
    )
    .unwrap();
    lab.attach(&router, &office, "eth1", None, &["198.18.2.1/24"])
        .unwrap();
    router.sysctl("net.ipv4.ip_forward=1").unwrap();
    lab.snmpd(&router, ROUTER, "rocommunity mob-ro\nsysName core-router\n")
        .unwrap();
    lab.dnsmasq(
        &router,
        "eth0",
        "198.18.1.100,198.18.1.150,255.255.255.0",
        ROUTER,
    )
    .unwrap();
    lab.radvd(&router, "eth0", "2001:db8:1::/64").unwrap();

    // The LTE router a vendor plugged in for remote maintenance.
    let lte = lab.host("lte").unwrap();
    lab.attach(
        &lte,
        &lan,
        "eth0",
        Some("00:1e:42:00:01:fe"),
        &[&format!("{LTE}/24")],
    )
    .unwrap();
    lab.attach(&lte, &carrier, "wwan0", None, &["198.18.200.2/30"])
        .unwrap();
    lte.ip(&["route", "add", "default", "via", "198.18.200.1"])
        .unwrap();
    lab.dnsmasq(&lte, "eth0", "198.18.1.200,198.18.1.220,255.255.255.0", LTE)
        .unwrap();
    lab.radvd(&lte, "eth0", "2001:db8:ff::/64").unwrap();
    lab.lighttpd(
        &lte,
        80,
        &[("index.html", b"<title>Teltonika RUTX11 | Status</title>")],
        "",
    )
    .unwrap();

    let printer = lab.host("printer").unwrap();
    lab.attach(
        &printer,
        &lan,
        "eth0",
        Some("84:ba:3b:00:01:15"),
        &[&format!("{PRINTER}/24")],
    )
    .unwrap();
    lab.lighttpd(
        &printer,
        80,
        &[(
            "index.html",
            b"<title>RICOH IM C3000 Web Image Monitor</title>",
        )],
        "",
    )
    .unwrap();
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", Some(PC_MAC), &[&format!("{PC}/24")])
        .unwrap();

    // The agent's own kernel must not solicit routers: the one solicitation
    // on the wire is to be daicho's.
    let agent = lab.host("agent").unwrap();
    agent
        .sysctl("net.ipv6.conf.default.router_solicitations=0")
        .unwrap();
    lab.attach(&agent, &lan, "eth0", Some(AGENT_MAC), &["198.18.1.2/24"])
        .unwrap();
    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[dhcp]\nlisten = \"8s\"\nsolicit_routers = true\n\
             sanctioned_servers = [\"{ROUTER}\"]\nsanctioned_gateways = [\"{ROUTER}\"]\n\
             sanctioned_ipv6_routers = [\"52:54:00:00:01:01\"]\n\
             [[snmp.profile]]\nname = \"lab\"\nversion = \"2c\"\ncommunity = \"mob-ro\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let sent = Capture::start(
        &agent,
        "eth0",
        &format!("ether src {AGENT_MAC} and (udp dst port 67 or (icmp6 and ip6[40] = 133))"),
        &lab.dir().join("agent-sent.pcap"),
    )
    .unwrap();

    // radvd answers a solicitation no sooner than 3 s after its previous
    // advert (its first goes out at start); a solicitation inside that
    // window goes unanswered until the next periodic advert.
    std::thread::sleep(Duration::from_millis(3500));
    let report_path = lab.dir().join("report.json");
    let skip = daicho_lab::skip_probes(&["netbios", "mdns", "ssh", "ssdp"]);
    let scan = agent
        .command(AGENT)
        .args([
            "scan",
            "--segment",
            "eth0=198.18.1.0/24",
            "--timeout",
            "300ms",
        ])
        .args(["--format", "table", "--config"])
        .arg(&config)
        .args(&skip)
        .arg("--output")
        .arg(&report_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While the agent listens, the PC takes a lease the ordinary way
    // (broadcast replies requested, as many clients do).
    std::thread::sleep(Duration::from_secs(2));
    let lease = pc
        .exec(
            "busybox",
            &[
                "udhcpc",
                "-i",
                "eth0",
                "-B",
                "-f",
                "-q",
                "-n",
                "-t",
                "3",
                "-T",
                "1",
                "-s",
                "/bin/true",
            ],
        )
        .unwrap();
    assert!(
        lease.status.success(),
        "{}",
        String::from_utf8_lossy(&lease.stderr)
    );
    let out = scan.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sent.stop().unwrap(),
        1,
        "one router solicitation and no DHCP message from the agent"
    );
    let report = Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap();

    // Heard: both DHCP servers answering the PC, both routers' adverts.
    let heard: Vec<String> = report
        .observations
        .iter()
        .filter(|o| o.source == Source::Listen)
        .map(|o| {
            let what = if o.dhcp.is_some() { "dhcp" } else { "ra" };
            format!("{what} {}", o.mac.unwrap())
        })
        .collect();
    for expected in [
        "dhcp 52:54:00:00:01:01",
        "dhcp 00:1e:42:00:01:fe",
        "ra 52:54:00:00:01:01",
        "ra 00:1e:42:00:01:fe",
    ] {
        assert!(
            heard.iter().any(|h| h == expected),
            "{expected} not in {heard:?}\n{stdout}"
        );
    }
    let to_pc = report
        .observations
        .iter()
        .filter_map(|o| o.dhcp.as_deref())
        .flat_map(|d| &d.offers)
        .filter(|offer| offer.heard_for.is_some_and(|m| m.to_string() == PC_MAC))
        .count();
    assert!(
        to_pc >= 2,
        "offers to the PC from both servers: {:#?}",
        report.observations
    );

    // Exactly the LTE router, as a mobile router and as a rogue gateway.
    let about = |ip: &str| -> Vec<FindingKind> {
        let mut kinds: Vec<FindingKind> = report
            .findings
            .iter()
            .filter(|f| {
                f.subjects
                    .iter()
                    .any(|s| s.ip.is_some_and(|a| a.to_string() == ip))
            })
            .map(|f| f.kind)
            .collect();
        kinds.sort_by_key(|k| format!("{k:?}"));
        kinds.dedup();
        kinds
    };
    assert_eq!(
        about(LTE),
        [FindingKind::MobileRouter, FindingKind::RogueDhcp],
        "{:#?}",
        report.findings
    );
    for ordinary in [ROUTER, PRINTER, PC] {
        assert_eq!(about(ordinary), [], "{ordinary}: {:#?}", report.findings);
    }
    assert!(
        report.findings.iter().all(|f| f
            .subjects
            .iter()
            .all(|s| s.ip.is_some_and(|a| a.to_string() == LTE))),
        "findings about anything else: {:#?}",
        report.findings
    );
    let evidence: Vec<String> = report
        .findings
        .iter()
        .flat_map(|f| &f.evidence)
        .map(|e| e.text.render(daicho_report::Lang::En))
        .collect();
    for expected in [
        "the MAC 00:1e:42:00:01:fe of 198.18.1.254 belongs to Teltonika",
        "Teltonika RutOS cellular router",
        "(00:1e:42:00:01:fe) on eth0 advertises itself as IPv6 default router",
        "was heard answering client 6c:e4:da:00:01:28",
        "gateway 198.18.1.254, which is not among the sanctioned gateways",
    ] {
        assert!(
            evidence.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {evidence:#?}"
        );
    }
}
