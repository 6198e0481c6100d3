//! End to end against recorded walks of real devices, served by snmpsim in
//! lab namespaces (issue #22):
//!
//! - snmpsim-data's recordings (PyPI; switches, routers, firewalls, UPSes,
//!   servers, cameras, NAS): every one that answers a v2c profile answers a
//!   v1 profile too, with the same system group;
//! - recordings written from what real devices do (below, one per case):
//!   CP932 and GBK strings, v1-only agents, odd address indexes, broadcast
//!   and 0.0.0.0 rows, equal-cost routes, Printer-MIB and UPS-MIB, and the
//!   cellular routers and look-alikes — scanned over v2c and over v1, with
//!   what the report says and which findings it makes.
//!
//! Needs root and snmpsim (`scripts/test` installs it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use daicho_lab::{Host, Lab, Segment};
use daicho_report::{FindingKind, Report};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");
const AGENT_ADDRESS: &str = "198.18.1.2";

/// One value of a recording: (OID, snmprec type, value). Types: 2 integer,
/// 4 octet string, 4x octet string in hex, 6 OID, 64 IP address, 66 gauge,
/// 67 time ticks.
type Row = (&'static str, &'static str, String);

fn text(oid: &'static str, value: &str) -> Row {
    (oid, "4", value.to_owned())
}

fn hex(oid: &'static str, bytes: &[u8]) -> Row {
    (
        oid,
        "4x",
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
    )
}

fn int(oid: &'static str, value: i64) -> Row {
    (oid, "2", value.to_string())
}

fn object(oid: &'static str, value: &str) -> Row {
    (oid, "6", value.to_owned())
}

fn address(oid: &'static str, value: &str) -> Row {
    (oid, "64", value.to_owned())
}

fn encoded(text: &str, label: &str) -> Vec<u8> {
    let (bytes, _, lossy) = encoding_rs::Encoding::for_label(label.as_bytes())
        .unwrap()
        .encode(text);
    assert!(!lossy);
    bytes.into_owned()
}

/// A recording's lines sorted as snmpsim walks them (by OID, arc by arc).
fn snmprec(rows: &[Row]) -> String {
    let mut rows: Vec<(Vec<u32>, String)> = rows
        .iter()
        .map(|(oid, kind, value)| {
            let arcs = oid.split('.').map(|a| a.parse().unwrap()).collect();
            (arcs, format!("{oid}|{kind}|{value}\n"))
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, line)| line).collect()
}

/// The system group every recording starts with; an snmpEngineID only for
/// the agents that would have one (v1-only agents have none).
fn system(descr: &str, object_id: &str, name: &str, services: i64) -> Vec<Row> {
    vec![
        text("1.3.6.1.2.1.1.1.0", descr),
        object("1.3.6.1.2.1.1.2.0", object_id),
        ("1.3.6.1.2.1.1.3.0", "67", "123456".to_owned()),
        text("1.3.6.1.2.1.1.4.0", "it-desk"),
        text("1.3.6.1.2.1.1.5.0", name),
        int("1.3.6.1.2.1.1.7.0", services),
    ]
}

/// One interface: ifIndex, name, ifType.
fn interface(index: u32, name: &str, if_type: i64) -> Vec<Row> {
    let oid = |column: u32| -> &'static str {
        Box::leak(format!("1.3.6.1.2.1.2.2.1.{column}.{index}").into_boxed_str())
    };
    let x = |column: u32| -> &'static str {
        Box::leak(format!("1.3.6.1.2.1.31.1.1.1.{column}.{index}").into_boxed_str())
    };
    vec![
        text(oid(2), name),
        int(oid(3), if_type),
        int(oid(7), 1),
        int(oid(8), 1),
        text(x(1), name),
    ]
}

/// An ipAddrTable row: the index (usually the address), the address,
/// its ifIndex and mask.
fn legacy_address(index: &str, ip: &str, if_index: i64, mask: &str) -> Vec<Row> {
    let oid = |column: u32| -> &'static str {
        Box::leak(format!("1.3.6.1.2.1.4.20.1.{column}.{index}").into_boxed_str())
    };
    vec![
        address(oid(1), ip),
        int(oid(2), if_index),
        address(oid(3), mask),
    ]
}

/// An inetCidrRouteTable row (IPv4): destination, prefix, next hop, ifIndex.
fn route(destination: &str, prefix: u8, next_hop: &str, if_index: i64) -> Row {
    let oid = format!("1.3.6.1.2.1.4.24.7.1.7.1.4.{destination}.{prefix}.2.0.0.1.4.{next_hop}");
    int(Box::leak(oid.into_boxed_str()), if_index)
}

/// The devices written for the cases of issue #22, each with its MAC
/// (the OUI matters) and address.
struct Case {
    name: &'static str,
    mac: &'static str,
    ip: &'static str,
    rows: Vec<Row>,
}

fn cases() -> Vec<Case> {
    let mut windows = system(
        "Hardware: Intel64 Family 6 Model 158 - Software: Windows Version 6.3 (Build 19045 Multiprocessor Free)",
        "1.3.6.1.4.1.311.1.1.3.1.1",
        "UKETSUKE-PC01",
        76,
    );
    windows.extend([
        hex(
            "1.3.6.1.2.1.1.6.0",
            &encoded("３階 ナースステーション", "shift_jis"),
        ),
        int("1.3.6.1.2.1.4.1.0", 2),
        hex(
            "1.3.6.1.2.1.25.6.3.1.2.1",
            &encoded("Microsoft Office 2019 日本語版", "shift_jis"),
        ),
        int("1.3.6.1.2.1.25.6.3.1.4.1", 4),
        text("1.3.6.1.2.1.25.6.3.1.2.2", "Google Chrome"),
        int("1.3.6.1.2.1.25.6.3.1.4.2", 4),
    ]);
    windows.extend(interface(11, "Intel(R) Ethernet Connection", 6));
    windows.extend(legacy_address(
        "198.18.1.11",
        "198.18.1.11",
        11,
        "255.255.255.0",
    ));

    let mut gbk = system("S5720-28X-LI-AC", "1.3.6.1.4.1.2011.2.23.300", "sw-gbk", 6);
    gbk.extend([
        hex("1.3.6.1.2.1.1.6.0", &encoded("病房三楼护士站", "gbk")),
        int("1.3.6.1.2.1.4.1.0", 1),
    ]);

    // A FortiGate indexes ipAddrTable with its VDOM after the address.
    let mut fortigate = system(
        "FortiGate-100F v7.2.5",
        "1.3.6.1.4.1.12356.101.1.1004",
        "fw-main",
        78,
    );
    fortigate.push(int("1.3.6.1.2.1.4.1.0", 1));
    fortigate.extend(interface(1, "port1", 6));
    fortigate.extend(interface(2, "port2", 6));
    fortigate.extend(legacy_address(
        "198.18.1.13.1",
        "198.18.1.13",
        1,
        "255.255.255.0",
    ));
    fortigate.extend(legacy_address(
        "198.18.77.1.2",
        "198.18.77.1",
        2,
        "255.255.255.0",
    ));

    // A printer: its idle ppp0 at 0.0.0.0 and the broadcast row of its
    // ipAddressTable are not its addresses; Printer-MIB has its serial.
    let mut printer = system(
        "RICOH IM C3000 1.01",
        "1.3.6.1.4.1.367.1.1",
        "printer-3f",
        72,
    );
    printer.push(int("1.3.6.1.2.1.4.1.0", 2));
    printer.extend(interface(1, "ncmac0", 6));
    printer.extend(interface(2, "ppp0", 23));
    printer.extend(legacy_address(
        "198.18.1.14",
        "198.18.1.14",
        1,
        "255.255.255.0",
    ));
    printer.extend(legacy_address("0.0.0.0", "0.0.0.0", 2, "0.0.0.0"));
    printer.extend([
        int("1.3.6.1.2.1.4.34.1.3.1.4.198.18.1.255", 1),
        int("1.3.6.1.2.1.4.34.1.4.1.4.198.18.1.255", 3),
        text("1.3.6.1.2.1.43.5.1.1.16.1", "RICOH IM C3000"),
        text("1.3.6.1.2.1.43.5.1.1.17.1", "3100R123456"),
    ]);

    // A router whose ipForwarding cannot be read: routing signs, equal-cost
    // routes and one network on two interfaces.
    let mut router = system("Vyatta VyOS 1.3", "1.3.6.1.4.1.44641.1", "rt-core", 78);
    router.extend(interface(1, "eth0", 6));
    router.extend(interface(2, "eth1", 6));
    router.extend(interface(3, "eth2", 6));
    router.extend(legacy_address(
        "198.18.1.15",
        "198.18.1.15",
        1,
        "255.255.255.0",
    ));
    router.extend(legacy_address(
        "198.18.60.1",
        "198.18.60.1",
        2,
        "255.255.255.0",
    ));
    router.extend([
        route("0.0.0.0", 0, "198.18.1.1", 1),
        route("198.18.64.0", 18, "198.18.60.5", 2),
        route("198.18.64.0", 18, "198.18.60.6", 2),
        route("198.18.128.0", 24, "198.18.60.5", 2),
        route("198.18.128.0", 24, "198.18.61.5", 3),
    ]);

    // A UPS card that speaks SNMPv1 only: no engine ID, no ipForwarding.
    let mut ups = system(
        "APC Web/SNMP Management Card",
        "1.3.6.1.4.1.318.1.3.27",
        "ups-1f",
        72,
    );
    ups.extend([
        text("1.3.6.1.2.1.33.1.1.1.0", "APC"),
        text("1.3.6.1.2.1.33.1.1.2.0", "Smart-UPS 1500"),
        text("1.3.6.1.2.1.33.1.1.3.0", "UPS 09.3"),
        text("1.3.6.1.2.1.33.1.1.4.0", "AOS 6.8.2"),
        text("1.3.6.1.2.1.33.1.1.5.0", "UPS 1F EPS"),
    ]);

    let mut teltonika = system(
        "Linux RUTX11 5.4.259 #0 SMP armv7l",
        "1.3.6.1.4.1.8072.3.2.10",
        "RUTX11",
        72,
    );
    teltonika.push(int("1.3.6.1.2.1.4.1.0", 1));
    teltonika.extend(interface(2, "br-lan", 6));
    teltonika.extend(interface(7, "qmimux0", 6));
    teltonika.extend(legacy_address(
        "198.18.1.20",
        "198.18.1.20",
        2,
        "255.255.255.0",
    ));
    teltonika.extend(legacy_address(
        "100.72.10.7",
        "100.72.10.7",
        7,
        "255.255.255.248",
    ));
    teltonika.push(route("0.0.0.0", 0, "100.72.10.1", 7));

    let mut peplink = system(
        "Peplink MAX BR1 Mini",
        "1.3.6.1.4.1.27662.200.1.1.1",
        "br1",
        72,
    );
    peplink.extend(interface(1, "LAN", 6));
    peplink.extend(interface(2, "Cellular 1", 6));

    let mut cisco = system(
        "Cisco IOS XE Software, IR1101 Software (ARMV8EL_LINUX_IOSD-UNIVERSALK9_IAS-M)",
        "1.3.6.1.4.1.9.1.2595",
        "ir1101",
        6,
    );
    cisco.push(int("1.3.6.1.2.1.4.1.0", 1));
    cisco.extend([
        text(
            "1.3.6.1.2.1.47.1.1.1.1.2.1",
            "Cisco IR1101 Industrial Integrated Services Router",
        ),
        int("1.3.6.1.2.1.47.1.1.1.1.5.1", 3),
        text("1.3.6.1.2.1.47.1.1.1.1.11.1", "FCW2345L0AB"),
        text("1.3.6.1.2.1.47.1.1.1.1.13.1", "IR1101-K9"),
        text("1.3.6.1.2.1.47.1.1.1.1.2.20", "P-LTEA-EA Module"),
        int("1.3.6.1.2.1.47.1.1.1.1.5.20", 9),
        text("1.3.6.1.2.1.47.1.1.1.1.11.20", "FOC23456ABC"),
        text("1.3.6.1.2.1.47.1.1.1.1.13.20", "P-LTEA-EA"),
    ]);

    let mut pfsense = system(
        "pfSense fw.hospital 2.7.2-RELEASE FreeBSD 14.0-CURRENT amd64",
        "1.3.6.1.4.1.12325.1.1.2.1.1",
        "fw-edge",
        76,
    );
    pfsense.push(int("1.3.6.1.2.1.4.1.0", 1));
    pfsense.extend(interface(1, "em0", 6));
    pfsense.extend(interface(2, "em1", 6));
    pfsense.extend(interface(5, "enc0", 244));

    let mut idrac = system("Dell iDRAC 9", "1.3.6.1.4.1.674.10892.5", "idrac-sv1", 72);
    idrac.push(int("1.3.6.1.2.1.4.1.0", 2));
    idrac.extend(interface(1, "eth0", 6));
    idrac.extend(interface(2, "usb0", 6));
    idrac.extend(interface(3, "usb1", 6));
    idrac.extend(interface(4, "usb2", 6));

    vec![
        Case {
            name: "win-jp",
            mac: "d0:94:66:00:01:0b",
            ip: "198.18.1.11",
            rows: windows,
        },
        Case {
            name: "sw-gbk",
            mac: "00:e0:fc:00:01:0c",
            ip: "198.18.1.12",
            rows: gbk,
        },
        Case {
            name: "fortigate",
            mac: "00:09:0f:00:01:0d",
            ip: "198.18.1.13",
            rows: fortigate,
        },
        Case {
            name: "printer",
            mac: "58:38:79:00:01:0e",
            ip: "198.18.1.14",
            rows: printer,
        },
        Case {
            name: "router",
            mac: "52:54:00:00:01:0f",
            ip: "198.18.1.15",
            rows: router,
        },
        Case {
            name: "ups",
            mac: "00:c0:b7:00:01:10",
            ip: "198.18.1.16",
            rows: ups,
        },
        Case {
            name: "teltonika",
            mac: "20:97:27:00:01:14",
            ip: "198.18.1.20",
            rows: teltonika,
        },
        Case {
            name: "peplink",
            mac: "10:56:ca:00:01:15",
            ip: "198.18.1.21",
            rows: peplink,
        },
        Case {
            name: "cisco",
            mac: "00:1e:bd:00:01:16",
            ip: "198.18.1.22",
            rows: cisco,
        },
        Case {
            name: "pfsense",
            mac: "52:54:00:00:01:17",
            ip: "198.18.1.23",
            rows: pfsense,
        },
        Case {
            name: "idrac",
            mac: "d0:94:66:00:01:18",
            ip: "198.18.1.24",
            rows: idrac,
        },
    ]
}

fn lab() -> (Lab, Segment, Host) {
    let mut lab = Lab::new("devices").unwrap();
    let segment = lab.segment("lan").unwrap();
    let agent = lab.host("agent").unwrap();
    lab.attach(
        &agent,
        &segment,
        "eth0",
        None,
        &[&format!("{AGENT_ADDRESS}/24")],
    )
    .unwrap();
    (lab, segment, agent)
}

/// A scan of the segment over SNMP only, with one profile.
fn scan(lab: &Lab, agent: &Host, version: &str, charset_profile: &str) -> Report {
    let config = lab.dir().join(format!("agent-{version}.toml"));
    std::fs::write(
        &config,
        format!(
            "[snmp]\ntimeout = \"2s\"\nretries = 1\n\
             [[snmp.profile]]\nname = \"{version}\"\nversion = \"{version}\"\ncommunity = \"public\"\n\
             {charset_profile}"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let report_path = lab.dir().join(format!("report-{version}.json"));
    let skip = daicho_lab::skip_probes(&["netbios", "mdns", "ssh", "ssdp", "http", "dhcp"]);
    let out = agent
        .command(AGENT)
        .args([
            "scan",
            "--segment",
            "eth0=198.18.1.0/24",
            "--timeout",
            "300ms",
            "--format",
            "summary",
        ])
        .arg("--config")
        .arg(&config)
        .args(&skip)
        .arg("--output")
        .arg(&report_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap()
}

fn snmp_of<'a>(report: &'a Report, ip: &str) -> &'a daicho_report::SnmpFacts {
    report
        .observations
        .iter()
        .filter(|o| o.ip.is_some_and(|i| i.to_string() == ip))
        .find_map(|o| o.snmp.as_deref().filter(|s| s.profile.is_some()))
        .unwrap_or_else(|| panic!("no SNMP answer from {ip}"))
}

fn flagged(report: &Report, kind: FindingKind) -> Vec<String> {
    let mut ips: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.kind == kind)
        .flat_map(|f| {
            f.subjects
                .iter()
                .filter_map(|s| s.ip.map(|ip| ip.to_string()))
        })
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

#[test]
fn devices_as_they_really_are_over_v2c_and_v1() {
    if !daicho_lab::can_run("devices_as_they_really_are_over_v2c_and_v1") {
        return;
    }
    let Some(venv) = daicho_lab::snmpsim_venv("devices_as_they_really_are_over_v2c_and_v1") else {
        return;
    };
    let (mut lab, segment, agent) = lab();
    let recordings = lab.dir().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    for case in cases() {
        let file = recordings.join(format!("{}.snmprec", case.name));
        std::fs::write(&file, snmprec(&case.rows)).unwrap();
        let host = lab.host(case.name).unwrap();
        lab.attach(
            &host,
            &segment,
            "eth0",
            Some(case.mac),
            &[&format!("{}/24", case.ip)],
        )
        .unwrap();
        lab.snmpsim(&venv, &host, case.ip, &[("public", &file)])
            .unwrap();
    }
    // The GBK switch's profile says its code page; everyone else is read
    // as the site default (CP932).
    let v2c = scan(&lab, &agent, "2c", "");
    let v1 = scan(&lab, &agent, "1", "");

    for (report, version) in [(&v2c, "v2c"), (&v1, "v1")] {
        for case in cases() {
            let snmp = snmp_of(report, case.ip);
            assert!(
                snmp.sys_descr.is_some(),
                "{version} {}: no system group",
                case.name
            );
        }
        // CP932 in sysLocation and software names: read, with the bytes kept.
        let windows = snmp_of(report, "198.18.1.11");
        assert_eq!(
            windows.sys_location.as_deref(),
            Some("３階 ナースステーション"),
            "{version}"
        );
        assert!(
            windows
                .software
                .iter()
                .any(|s| s.name == "Microsoft Office 2019 日本語版"),
            "{version}"
        );
        let raw: Vec<&str> = windows.raw_text.iter().map(|r| r.field.as_str()).collect();
        assert!(
            raw.contains(&"sysLocation.0") && raw.contains(&"hrSWInstalledName.1"),
            "{version} {raw:?}"
        );
        assert!(
            windows
                .raw_text
                .iter()
                .all(|r| r.charset == "Shift_JIS" && !r.lossy)
        );
        // GBK read as CP932 is said to be lossy or not, but its bytes stay.
        let gbk = snmp_of(report, "198.18.1.12");
        let location = gbk
            .raw_text
            .iter()
            .find(|r| r.field == "sysLocation.0")
            .unwrap();
        assert_eq!(
            location.hex,
            encoded("病房三楼护士站", "gbk")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        // Addresses: the FortiGate's VDOM-suffixed index read from
        // ipAdEntAddr; the printer's 0.0.0.0 and broadcast row left out.
        let fortigate: Vec<String> = snmp_of(report, "198.18.1.13")
            .addresses
            .iter()
            .map(|a| a.ip.to_string())
            .collect();
        assert_eq!(fortigate, ["198.18.1.13", "198.18.77.1"], "{version}");
        let printer = snmp_of(report, "198.18.1.14");
        let addresses: Vec<String> = printer.addresses.iter().map(|a| a.ip.to_string()).collect();
        assert_eq!(addresses, ["198.18.1.14"], "{version}");
        assert_eq!(
            printer.printer.as_ref().and_then(|p| p.serial.as_deref()),
            Some("3100R123456")
        );
        // Five routes, two of them equal-cost, one network on two interfaces.
        assert_eq!(snmp_of(report, "198.18.1.15").routes.len(), 5, "{version}");
        // The v1-only UPS card: maker and model from UPS-MIB.
        let ups = snmp_of(report, "198.18.1.16").ups.clone().unwrap();
        assert_eq!(
            (ups.maker.as_deref(), ups.model.as_deref()),
            (Some("APC"), Some("Smart-UPS 1500"))
        );

        // Detection: the three cellular routers, and nothing else.
        assert_eq!(
            flagged(report, FindingKind::MobileRouter),
            ["198.18.1.20", "198.18.1.21", "198.18.1.22"],
            "{version}: {:#?}",
            report.findings
        );
        // The router with unreadable ipForwarding is not called 2枚挿し,
        // nor the FortiGate (it forwards).
        assert!(
            flagged(report, FindingKind::DualHomed).is_empty(),
            "{version}: {:#?}",
            report.findings
        );
    }
    // Over v1 the same system group as over v2c.
    for case in cases() {
        let (a, b) = (snmp_of(&v2c, case.ip), snmp_of(&v1, case.ip));
        assert_eq!(
            (&a.sys_descr, &a.sys_object_id, &a.sys_name, &a.sys_location),
            (&b.sys_descr, &b.sys_object_id, &b.sys_name, &b.sys_location),
            "{}",
            case.name
        );
    }
    // A profile that names its devices' code page reads them so.
    let gbk = scan(&lab, &agent, "2c", "charset = \"gbk\"\n");
    assert_eq!(
        snmp_of(&gbk, "198.18.1.12").sys_location.as_deref(),
        Some("病房三楼护士站")
    );
}

/// The snmpsim-data recordings of real devices this test serves: the ones
/// small enough to start quickly (a few are tens of MB).
fn shipped_recordings(data: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![data.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().contains(".snmprec")
                && entry.metadata().is_ok_and(|m| m.len() <= 64 << 10)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_recorded_device_that_answers_v2c_answers_v1_with_the_same_system_group() {
    let test = "every_recorded_device_that_answers_v2c_answers_v1_with_the_same_system_group";
    if !daicho_lab::can_run(test) {
        return;
    }
    let Some(venv) = daicho_lab::snmpsim_venv(test) else {
        return;
    };
    let files = shipped_recordings(&daicho_lab::snmpsim_data(&venv).unwrap());
    assert!(files.len() >= 40, "{} recordings", files.len());
    let (mut lab, segment, agent) = lab();
    // One simulator serves them all, each under its own community.
    let device = lab.host("recorded").unwrap();
    lab.attach(&device, &segment, "eth0", None, &["198.18.1.50/24"])
        .unwrap();
    let communities: Vec<(String, &Path)> = files
        .iter()
        .enumerate()
        .map(|(n, f)| (format!("rec{n:03}"), f.as_path()))
        .collect();
    let served: Vec<(&str, &Path)> = communities.iter().map(|(c, f)| (c.as_str(), *f)).collect();
    lab.snmpsim(&venv, &device, "198.18.1.50", &served).unwrap();
    let mut config = String::from("[snmp]\ntimeout = \"2s\"\nretries = 1\nread = []\n");
    for (community, _) in &communities {
        for version in ["2c", "1"] {
            config.push_str(&format!(
                "[[snmp.profile]]\nname = \"{community}-v{version}\"\nversion = \"{version}\"\ncommunity = \"{community}\"\n"
            ));
        }
    }
    let path = lab.dir().join("recorded.toml");
    std::fs::write(&path, config).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut results: BTreeMap<String, (bool, bool, String, String)> = BTreeMap::new();
    for (community, file) in &communities {
        let system = |version: &str| {
            let out = agent
                .command(AGENT)
                .args(["snmp-test", "198.18.1.50", "--profile"])
                .arg(format!("{community}-v{version}"))
                .arg("--config")
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let system: Vec<&str> = text
                .lines()
                .filter(|l| {
                    [
                        "  sysName:",
                        "  sysDescr:",
                        "  sysObjectID:",
                        "  sysLocation:",
                        "  sysContact:",
                    ]
                    .iter()
                    .any(|p| l.starts_with(p))
                })
                .collect();
            (out.status.success(), system.join("\n"))
        };
        let (v2c_ok, v2c) = system("2c");
        let (v1_ok, v1) = system("1");
        results.insert(
            file.file_name().unwrap().to_string_lossy().into_owned(),
            (v2c_ok, v1_ok, v2c, v1),
        );
    }
    let answering: Vec<&String> = results
        .iter()
        .filter(|(_, r)| r.0)
        .map(|(f, _)| f)
        .collect();
    let failing: Vec<String> = results
        .iter()
        .filter(|(_, (v2c_ok, v1_ok, v2c, v1))| *v2c_ok && (!v1_ok || v2c != v1))
        .map(|(file, (_, v1_ok, v2c, v1))| {
            format!("{file}: v1 ok {v1_ok}\n  v2c {v2c:?}\n  v1  {v1:?}")
        })
        .collect();
    eprintln!(
        "{} recordings served, {} answer v2c, {} differ over v1",
        results.len(),
        answering.len(),
        failing.len()
    );
    assert!(answering.len() * 10 >= results.len() * 9, "{results:#?}");
    assert!(failing.is_empty(), "{}", failing.join("\n"));
}
