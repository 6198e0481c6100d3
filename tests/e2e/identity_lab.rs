//! End to end: the identity probes of `daicho-agent scan` against real
//! daemons from Debian in lab namespaces — Samba's nmbd for NetBIOS. Needs root.

use daicho_lab::{Capture, Lab};
use daicho_report::{Report, Source};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");
const PC: &str = "198.18.1.40";
const SILENT: &str = "198.18.1.41";
const FRAGILE: &str = "198.18.1.50";

#[test]
fn netbios_names_the_windows_style_hosts_and_spares_the_excluded_one() {
    if !daicho_lab::can_run("netbios_names_the_windows_style_hosts") {
        return;
    }
    let mut lab = Lab::new("nbt").unwrap();
    let lan = lab.segment("lan").unwrap();
    let agent = lab.host("agent").unwrap();
    lab.attach(&agent, &lan, "eth0", None, &["198.18.1.2/24"])
        .unwrap();
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", None, &[&format!("{PC}/24")])
        .unwrap();
    lab.nmbd(&pc, PC, "PC-3F-NURSE", "HOSPITAL").unwrap();
    // A host with no NetBIOS at all: no observation, no error.
    let silent = lab.host("silent").unwrap();
    lab.attach(&silent, &lan, "eth0", None, &[&format!("{SILENT}/24")])
        .unwrap();
    let fragile = lab.host("fragile").unwrap();
    lab.attach(&fragile, &lan, "eth0", None, &[&format!("{FRAGILE}/24")])
        .unwrap();
    lab.nmbd(&fragile, FRAGILE, "ECG-MONITOR", "HOSPITAL")
        .unwrap();
    let capture = Capture::start(
        &fragile,
        "eth0",
        "udp dst port 137 and not broadcast",
        &lab.dir().join("fragile.pcap"),
    )
    .unwrap();

    let report_path = lab.dir().join("report.json");
    let out = agent
        .command(AGENT)
        .args([
            "scan",
            "--segment",
            "eth0=198.18.1.0/24",
            "--exclude",
            FRAGILE,
        ])
        .args(["--timeout", "300ms", "--format", "table", "--output"])
        .arg(&report_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        capture.stop().unwrap(),
        0,
        "the excluded host got NetBIOS queries"
    );
    // The terminal table names the PC, with its workgroup.
    let row = stdout
        .lines()
        .find(|l| l.contains(PC))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("PC-3F-NURSE (HOSPITAL)"), "{row}");

    let report = Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap();
    let netbios: Vec<_> = report
        .observations
        .iter()
        .filter(|o| o.source == Source::Netbios)
        .collect();
    assert_eq!(netbios.len(), 1, "{netbios:#?}");
    assert_eq!(netbios[0].ip.unwrap().to_string(), PC);
    let facts = netbios[0].netbios.as_deref().unwrap();
    assert_eq!(facts.computer_name.as_deref(), Some("PC-3F-NURSE"));
    assert_eq!(facts.workgroup.as_deref(), Some("HOSPITAL"));
    assert!(
        facts
            .names
            .iter()
            .any(|n| n.name == "PC-3F-NURSE" && n.suffix == 0x20 && !n.group),
        "the file server name: {:?}",
        facts.names
    );
    let run = report
        .probe_runs
        .iter()
        .find(|r| r.probe == Source::Netbios)
        .unwrap();
    assert_eq!(
        run.notes,
        ["1 of 2 hosts answered NetBIOS node status".to_owned()]
    );

    // A segment that skips NetBIOS sends none.
    let capture = Capture::start(
        &pc,
        "eth0",
        "udp dst port 137 and not broadcast",
        &lab.dir().join("pc.pcap"),
    )
    .unwrap();
    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        "[[segment]]\ninterface = \"eth0\"\nnetworks = [\"198.18.1.0/24\"]\n\
         exclude = [\"198.18.1.50\"]\nskip = [\"netbios\"]\n",
    )
    .unwrap();
    let out = agent
        .command(AGENT)
        .args([
            "scan",
            "--timeout",
            "300ms",
            "--format",
            "summary",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        capture.stop().unwrap(),
        0,
        "skip = [\"netbios\"] was ignored"
    );
}

const IPP_SERVICE: &str = r#"<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>&lt;script&gt;alert(1)&lt;/script&gt; RICOH [3F]</name>
  <service>
    <type>_ipp._tcp</type>
    <port>631</port>
    <txt-record>ty=RICOH IM C3000</txt-record>
    <txt-record>product=(RICOH IM C3000)</txt-record>
    <txt-record>usb_MFG=RICOH</txt-record>
    <txt-record>note==HYPERLINK("http://x")</txt-record>
  </service>
</service-group>
"#;

#[test]
fn mdns_names_hosts_models_and_a_dual_homed_pc_on_both_segments() {
    if !daicho_lab::can_run("mdns_names_hosts_models") {
        return;
    }
    let mut lab = Lab::new("mdns").unwrap();
    let lan = lab.segment("lan").unwrap();
    let ward = lab.segment("ward").unwrap();
    let agent = lab.host("agent").unwrap();
    lab.attach(&agent, &lan, "eth0", None, &["198.18.1.2/24"])
        .unwrap();
    lab.attach(&agent, &ward, "eth1", None, &["198.18.2.2/24"])
        .unwrap();
    let printer = lab.host("printer").unwrap();
    lab.attach(&printer, &lan, "eth0", None, &["198.18.1.20/24"])
        .unwrap();
    lab.avahi(&printer, "printer-3f", &["eth0"], &[("ipp", IPP_SERVICE)])
        .unwrap();
    // The 2枚挿し PC: one avahi on both legs.
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", None, &[&format!("{PC}/24")])
        .unwrap();
    lab.attach(&pc, &ward, "eth1", None, &["198.18.2.40/24"])
        .unwrap();
    lab.avahi(&pc, "pc-7", &["eth0", "eth1"], &[]).unwrap();

    let report_path = lab.dir().join("report.json");
    let out = agent
        .command(AGENT)
        .args(["scan", "--segment", "eth0=198.18.1.0/24"])
        .args(["--segment", "eth1=198.18.2.0/24", "--timeout", "300ms"])
        .args(["--skip-probe", "netbios", "--format", "table", "--output"])
        .arg(&report_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("198.18.1.20 "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        row.contains("printer-3f") && row.contains("RICOH IM C3000"),
        "{row}"
    );

    let report = Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap();
    let mdns: Vec<(&str, String, &daicho_report::MdnsFacts)> = report
        .observations
        .iter()
        .filter(|o| o.source == Source::Mdns)
        .map(|o| {
            (
                &*o.interface,
                o.ip.unwrap().to_string(),
                o.mdns.as_deref().unwrap(),
            )
        })
        .collect();
    let printer = mdns
        .iter()
        .find(|(_, _, m)| m.host == "printer-3f.local.")
        .unwrap_or_else(|| panic!("{mdns:#?}"));
    assert_eq!((printer.0, printer.1.as_str()), ("eth0", "198.18.1.20"));
    let ipp = printer
        .2
        .services
        .iter()
        .find(|s| s.service_type == "_ipp._tcp.local.")
        .unwrap();
    assert_eq!(ipp.port, 631);
    assert_eq!(ipp.txt["ty"], "RICOH IM C3000");
    assert_eq!(ipp.txt["usb_MFG"], "RICOH");
    // Hostile strings are kept as data, verbatim (escaping is the reader's job).
    assert_eq!(ipp.txt["note"], "=HYPERLINK(\"http://x\")");
    assert!(
        ipp.instance
            .starts_with("<script>alert(1)</script> RICOH [3F]")
    );
    // The dual-homed PC answers on each segment with that segment's address,
    // under one host name: what dual-homed detection (#5) joins.
    let mut pc: Vec<(&str, &str)> = mdns
        .iter()
        .filter(|(_, _, m)| m.host == "pc-7.local.")
        .map(|(interface, ip, _)| (*interface, ip.as_str()))
        .collect();
    pc.sort();
    assert_eq!(pc, [("eth0", PC), ("eth1", "198.18.2.40")]);
    let runs = report
        .probe_runs
        .iter()
        .filter(|r| r.probe == Source::Mdns)
        .count();
    assert_eq!(runs, 2);
}
