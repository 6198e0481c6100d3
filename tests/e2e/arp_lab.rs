//! End to end: the real `daicho-agent` binary sweeps a namespace lab of two
//! segments. Needs root (CI runs as root); see `daicho_lab::can_run`.

use std::collections::BTreeSet;
use std::process::Output;

use daicho_lab::{Capture, Host, Lab, Segment};
use daicho_report::{ArpSeenAs, FindingKind, Flag, Report};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");

/// (segment, name, IP, MAC, vendor the IEEE registry gives for the MAC)
const HOSTS: &[(usize, &str, &str, &str, &str)] = &[
    (
        0,
        "pc1",
        "198.18.1.10",
        "00:1b:21:00:01:0a",
        "Intel Corporate",
    ),
    (
        0,
        "printer",
        "198.18.1.20",
        "00:00:74:00:01:14",
        "RICOH COMPANY LTD.",
    ),
    (
        0,
        "ecg",
        "198.18.1.30",
        "00:40:d1:00:01:1e",
        "FUKUDA DENSHI CO., LTD.",
    ),
    (
        1,
        "switch",
        "198.18.2.1",
        "00:1a:eb:00:02:01",
        "Allied Telesis K.K.",
    ),
    (
        1,
        "ward-pc",
        "198.18.2.10",
        "e4:46:b0:00:02:0a",
        "Fujitsu Client Computing Limited",
    ),
    (1, "dup-a", "198.18.2.50", "d0:43:1e:00:02:32", "Dell Inc."),
    (1, "dup-b", "198.18.2.50", "84:ba:3b:00:02:32", "CANON INC."),
];
/// A fragile device that must receive no packet: excluded from the scan.
const FRAGILE: (&str, &str) = ("198.18.1.40", "b0:49:5f:00:01:28");
/// A host that never answers ARP (arp_ignore=8) but asks for a missing
/// neighbour every second: found only by listening.
const SILENT: (&str, &str) = ("198.18.1.50", "00:1b:21:00:01:32");

struct TwoSegments {
    lab: Lab,
    agent: Host,
    fragile: Host,
}

fn two_segments(tag: &str) -> TwoSegments {
    let mut lab = Lab::new(tag).unwrap();
    let segments: Vec<Segment> = ["out", "ward"]
        .iter()
        .map(|n| lab.segment(n).unwrap())
        .collect();
    let agent = lab.host("agent").unwrap();
    lab.attach(
        &agent,
        &segments[0],
        "eth1",
        Some("02:00:00:00:01:02"),
        &["198.18.1.2/24"],
    )
    .unwrap();
    lab.attach(
        &agent,
        &segments[1],
        "eth2",
        Some("02:00:00:00:02:02"),
        &["198.18.2.2/24"],
    )
    .unwrap();
    for (segment, name, ip, mac, _) in HOSTS {
        let host = lab.host(name).unwrap();
        let prefix = format!("{ip}/24");
        lab.attach(&host, &segments[*segment], "eth0", Some(mac), &[&prefix])
            .unwrap();
    }
    let fragile = lab.host("fragile").unwrap();
    lab.attach(
        &fragile,
        &segments[0],
        "eth0",
        Some(FRAGILE.1),
        &[&format!("{}/24", FRAGILE.0)],
    )
    .unwrap();
    let silent = lab.host("silent").unwrap();
    lab.attach(
        &silent,
        &segments[0],
        "eth0",
        Some(SILENT.1),
        &[&format!("{}/24", SILENT.0)],
    )
    .unwrap();
    silent.sysctl("net.ipv4.conf.all.arp_ignore=8").unwrap();
    silent.sysctl("net.ipv4.conf.eth0.arp_ignore=8").unwrap();
    lab.spawn(
        &silent,
        "ping",
        &["-q", "-i", "0.2", "-w", "60", "198.18.1.99"],
    )
    .unwrap();
    TwoSegments {
        lab,
        agent,
        fragile,
    }
}

fn agent(host: &Host, args: &[&str]) -> Output {
    host.command(AGENT).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sweep_finds_exactly_the_lab_hosts_and_spares_the_excluded_one() {
    if !daicho_lab::can_run("sweep_finds_exactly_the_lab_hosts") {
        return;
    }
    let lab = two_segments("arp");
    let dir = lab.lab.dir().to_owned();
    let pcap = dir.join("fragile.pcap");
    let capture = Capture::start(
        &lab.fragile,
        "eth0",
        // No ARP request for it, and no packet of any probe to it (the port
        // check's SYNs, NetBIOS, SNMP, HTTP, SSH): only multicast reaches it.
        &format!("arp dst host {0} or ip dst host {0}", FRAGILE.0),
        &pcap,
    )
    .unwrap();
    let report_path = dir.join("report.json");

    let out = agent(
        &lab.agent,
        &[
            "scan",
            "--segment",
            "eth1=198.18.1.0/24",
            "--segment",
            "eth2=198.18.2.0/24",
            "--exclude",
            FRAGILE.0,
            "--timeout",
            "400ms",
            "--output",
            report_path.to_str().unwrap(),
            "--format",
            "table",
        ],
    );
    assert!(out.status.success(), "agent failed: {}", stderr(&out));
    let requests_to_fragile = capture.stop().unwrap();
    assert_eq!(
        requests_to_fragile, 0,
        "the excluded host received ARP requests for its address or probe packets"
    );

    let report = Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap();
    let found: BTreeSet<(String, String, String)> = report
        .observations
        .iter()
        .filter(|o| o.source == daicho_report::Source::Arp)
        .map(|o| {
            (
                o.interface.to_string(),
                o.ip.unwrap().to_string(),
                o.mac.unwrap().to_string(),
            )
        })
        .collect();
    let mut expected: BTreeSet<(String, String, String)> = HOSTS
        .iter()
        .map(|(seg, _, ip, mac, _)| {
            (
                ["eth1", "eth2"][*seg].to_owned(),
                ip.to_string(),
                mac.to_string(),
            )
        })
        .collect();
    expected.insert(("eth1".into(), SILENT.0.into(), SILENT.1.into()));
    assert_eq!(found, expected);

    for (_, _, ip, mac, vendor) in HOSTS {
        let o = report
            .observations
            .iter()
            .find(|o| o.mac.unwrap().to_string() == *mac)
            .unwrap();
        assert_eq!(o.vendor.as_deref(), Some(*vendor), "vendor of {mac}");
        assert_eq!(o.arp.as_ref().unwrap().seen_as, ArpSeenAs::Reply, "{ip}");
        assert_eq!(
            o.flags.contains(&Flag::IpConflict),
            *ip == "198.18.2.50",
            "{ip}"
        );
    }
    let silent = report
        .observations
        .iter()
        .find(|o| o.ip.unwrap().to_string() == SILENT.0)
        .unwrap();
    assert_eq!(silent.arp.as_ref().unwrap().seen_as, ArpSeenAs::Request);

    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert_eq!(report.findings[0].kind, FindingKind::IpConflict);
    assert!(
        report.findings[0]
            .summary
            .render(daicho_report::Lang::En)
            .contains("198.18.2.50")
    );
    assert_eq!(report.segments.len(), 2);
    assert_eq!(report.segments[0].excluded[0].to_string(), "198.18.1.40/32");
    // One ARP run per segment, then the identity probes (NetBIOS here).
    let arp_runs = report
        .probe_runs
        .iter()
        .filter(|r| r.probe == daicho_report::Source::Arp)
        .count();
    assert_eq!(arp_runs, 2);

    // The table on stdout names the hosts and the conflict.
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("FUKUDA DENSHI") && table.contains("IP CONFLICT"),
        "{table}"
    );
}

#[test]
fn without_cap_net_raw_the_agent_says_how_to_fix_it_and_unprivileged_mode_works() {
    if !daicho_lab::can_run("without_cap_net_raw") {
        return;
    }
    let lab = two_segments("caps");
    let no_raw = |args: &[&str]| -> Output {
        lab.agent
            .command("setpriv")
            .args([
                "--bounding-set=-net_raw",
                "--inh-caps=-net_raw",
                "--",
                AGENT,
            ])
            .args(args)
            .output()
            .unwrap()
    };

    let out = no_raw(&["scan", "--segment", "eth1=198.18.1.0/24"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("CAP_NET_RAW") && err.contains("setcap cap_net_raw+ep"),
        "{err}"
    );
    assert!(
        err.contains("AmbientCapabilities=CAP_NET_RAW") && err.contains("--unprivileged"),
        "{err}"
    );

    let out = no_raw(&[
        "scan",
        "--unprivileged",
        "--segment",
        "eth1=198.18.1.0/24",
        "--exclude",
        FRAGILE.0,
        "--timeout",
        "300ms",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = Report::from_json(&out.stdout).unwrap();
    let found: BTreeSet<String> = report
        .observations
        .iter()
        .map(|o| o.ip.unwrap().to_string())
        .collect();
    // The silent host is found here too: its own requests complete the
    // kernel's pending neighbour entry that our datagram created.
    let mut expected: BTreeSet<String> = HOSTS
        .iter()
        .filter(|h| h.0 == 0)
        .map(|h| h.2.to_string())
        .collect();
    expected.insert(SILENT.0.to_owned());
    assert_eq!(found, expected);
}

#[test]
fn out_of_scope_networks_are_refused_before_any_packet() {
    if !daicho_lab::can_run("out_of_scope_networks_are_refused") {
        return;
    }
    let lab = two_segments("scope");
    let out = agent(&lab.agent, &["scan", "--segment", "eth1=198.18.5.0/24"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not directly connected"),
        "{}",
        stderr(&out)
    );

    let out = agent(&lab.agent, &["scan"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no segment to scan"),
        "{}",
        stderr(&out)
    );
}
