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
