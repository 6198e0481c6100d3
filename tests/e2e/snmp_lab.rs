//! End to end: `daicho-agent snmp-test` against net-snmp's snmpd in a lab
//! namespace — v2c and v3 (SHA/AES, SHA-256/AES) that work, and each kind of
//! wrong credential with the diagnosis a person can act on. Needs root.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use daicho_lab::{Capture, Host, Lab, Segment};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");
const DEVICE: &str = "198.18.1.20";

const SNMPD_CONF: &str = r#"
rocommunity lab-ro-community default
createUser sha1user SHA "sha1-auth-secret" AES "sha1-priv-secret"
createUser sha256user SHA-256 "sha256-auth-secret" AES "sha256-priv-secret"
rouser sha1user priv
rouser sha256user priv
sysName printer-3f
sysLocation 3F Nurse Station
sysContact it-desk
sysDescr RICOH IM C3000 <script>alert(1)</script>
sysObjectID .1.3.6.1.4.1.367.1.1
"#;

/// Every secret of the lab; none may ever be printed.
const SECRETS: &[&str] = &[
    "lab-ro-community",
    "wrong-community-x",
    "sha1-auth-secret",
    "sha1-priv-secret",
    "sha256-auth-secret",
    "sha256-priv-secret",
    "not-the-auth-secret",
    "not-the-priv-secret",
];

const AGENT_TOML: &str = r#"
[snmp]
timeout = "1s"
retries = 0

[[snmp.profile]]
name = "ro"
version = "2c"
community = "lab-ro-community"

[[snmp.profile]]
name = "wrong-community"
version = "2c"
community = "wrong-community-x"

[[snmp.profile]]
name = "v3-sha"
version = "3"
user = "sha1user"
auth = "sha"
auth_password = "sha1-auth-secret"
privacy = "aes"
priv_password = "sha1-priv-secret"

[[snmp.profile]]
name = "v3-sha256"
version = "3"
user = "sha256user"
auth = "sha256"
auth_password = "sha256-auth-secret"
privacy = "aes"
priv_password = "sha256-priv-secret"

[[snmp.profile]]
name = "wrong-user"
version = "3"
user = "nobody-here"
auth = "sha"
auth_password = "sha1-auth-secret"
privacy = "aes"
priv_password = "sha1-priv-secret"

[[snmp.profile]]
name = "wrong-auth"
version = "3"
user = "sha1user"
auth = "sha"
auth_password = "not-the-auth-secret"
privacy = "aes"
priv_password = "sha1-priv-secret"

[[snmp.profile]]
name = "wrong-priv"
version = "3"
user = "sha1user"
auth = "sha"
auth_password = "sha1-auth-secret"
privacy = "aes"
priv_password = "not-the-priv-secret"
"#;

fn lab() -> (Lab, Segment, Host) {
    let mut lab = Lab::new("snmp").unwrap();
    let segment = lab.segment("lan").unwrap();
    let agent = lab.host("agent").unwrap();
    lab.attach(&agent, &segment, "eth0", None, &["198.18.1.2/24"])
        .unwrap();
    let device = lab.host("printer").unwrap();
    lab.attach(&device, &segment, "eth0", None, &[&format!("{DEVICE}/24")])
        .unwrap();
    lab.snmpd(&device, DEVICE, SNMPD_CONF).unwrap();
    (lab, segment, agent)
}

fn line<'a>(out: &'a str, profile: &str) -> &'a str {
    let tag = format!("profile {profile:?} ");
    out.lines()
        .find(|l| l.contains(&tag))
        .unwrap_or_else(|| panic!("no line for {profile}:\n{out}"))
}

fn assert_no_secrets(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        for secret in SECRETS {
            assert!(!text.contains(secret), "secret {secret} printed:\n{text}");
        }
    }
}

#[test]
fn snmp_test_reports_what_works_and_why_the_rest_fails() {
    if !daicho_lab::can_run("snmp_test_reports_what_works") {
        return;
    }
    let (lab, _, agent) = lab();
    let config = lab.dir().join("agent.toml");
    std::fs::write(&config, AGENT_TOML).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = agent
        .command(AGENT)
        .args(["snmp-test", DEVICE, "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_secrets(&out);

    assert!(line(&stdout, "ro").ends_with("(v2c): OK"), "{stdout}");
    assert!(
        line(&stdout, "v3-sha").ends_with("(authPriv): OK"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "v3-sha256").ends_with("(authPriv): OK"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "wrong-community").contains("no answer"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "wrong-community").contains("wrong community"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "wrong-user").contains("unknown user name"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "wrong-auth").contains("wrong digest"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "wrong-priv").contains("decryption error"),
        "{stdout}"
    );

    assert!(stdout.contains("sysName: printer-3f"), "{stdout}");
    assert!(stdout.contains("sysLocation: 3F Nurse Station"), "{stdout}");
    assert!(
        stdout.contains("sysObjectID: 1.3.6.1.4.1.367.1.1"),
        "{stdout}"
    );
}

#[test]
fn a_world_readable_config_with_secrets_gets_a_warning_and_nothing_works_gives_exit_1() {
    if !daicho_lab::can_run("a_world_readable_config_with_secrets") {
        return;
    }
    let (lab, _, agent) = lab();
    let config = lab.dir().join("agent.toml");
    std::fs::write(&config, AGENT_TOML).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();

    let out = agent
        .command(AGENT)
        .args(["snmp-test", DEVICE, "--profile", "wrong-auth", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_no_secrets(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("readable by other users") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(stderr.contains("no profile worked"), "{stderr}");
    // The engine ID is learned from the v3 discovery exchange, which needs
    // no valid credential: a stable identity even for a device we cannot read.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("snmpEngineID (v3 discovery): 80001f88"),
        "{stdout}"
    );
}

const SWITCH: &str = "198.18.1.30";
const SWITCH_CONF: &str = r#"
createUser sha256user SHA-256 "sha256-auth-secret" AES "sha256-priv-secret"
rouser sha256user priv
sysName core-sw-1
sysObjectID .1.3.6.1.4.1.207.1.4.1
override .1.3.6.1.2.1.47.1.1.1.1.5.1 integer 3
override .1.3.6.1.2.1.47.1.1.1.1.10.1 octet_str "AlliedWare Plus 5.5.2"
override .1.3.6.1.2.1.47.1.1.1.1.11.1 octet_str "SN-AT-0042"
override .1.3.6.1.2.1.47.1.1.1.1.12.1 octet_str "Allied Telesis"
override .1.3.6.1.2.1.47.1.1.1.1.13.1 octet_str "x530L-28GTX"
"#;
const LOOPING_PASS_SCRIPT: &str = "#!/bin/sh
case \"$1\" in
  -n) printf '%s\\n' .1.3.6.1.2.1.31.1.1.1.18.1 string looping ;;
  -g) [ \"$2\" = .1.3.6.1.2.1.31.1.1.1.18.1 ] && printf '%s\\n' \"$2\" string looping ;;
esac
exit 0
";
const LTE: &str = "198.18.1.60";
const PC: &str = "198.18.1.40";
const FRAGILE: &str = "198.18.1.50";

#[test]
fn scan_asks_found_hosts_over_snmp_and_never_the_excluded_one() {
    if !daicho_lab::can_run("scan_asks_found_hosts_over_snmp") {
        return;
    }
    let (mut lab, lan, agent) = lab();
    // The switch routes, with a leg in a network the agent cannot see, a
    // default route on that side, and a far host in its ARP cache.
    let other = lab.segment("other").unwrap();
    let switch = lab.host("switch").unwrap();
    let switch_ip = format!("{SWITCH}/24");
    lab.attach(
        &switch,
        &lan,
        "eth0",
        Some("00:1a:eb:00:01:1e"),
        &[&switch_ip],
    )
    .unwrap();
    lab.attach(
        &switch,
        &other,
        "eth1",
        Some("00:1a:eb:00:01:1f"),
        &["198.18.2.30/24", "2001:db8:2::30/64"],
    )
    .unwrap();
    switch.sysctl("net.ipv4.ip_forward=1").unwrap();
    switch
        .ip(&["route", "add", "default", "via", "198.18.2.254"])
        .unwrap();
    let far = lab.host("far").unwrap();
    lab.attach(
        &far,
        &other,
        "eth0",
        Some("00:00:74:00:02:28"),
        &["198.18.2.40/24"],
    )
    .unwrap();
    switch
        .exec("ping", &["-c", "1", "-W", "2", "198.18.2.40"])
        .unwrap();
    // The far host announces itself over LLDP; the switch's lldpd hears it
    // and serves LLDP-MIB through snmpd (AgentX), as a managed switch does.
    lab.forward_lldp(&other).unwrap();
    lab.lldpd(&far, "eth0", "far-gateway", None, &[]).unwrap();
    let agentx = lab.dir().join("agentx-switch.sock");
    // Its ifAlias column is served by a script that answers every GETNEXT
    // with the same OID, as broken agents do: the walk must stop, not loop.
    let looping = lab.dir().join("looping-ifalias.sh");
    std::fs::write(&looping, LOOPING_PASS_SCRIPT).unwrap();
    std::fs::set_permissions(&looping, std::fs::Permissions::from_mode(0o755)).unwrap();
    let switch_conf = format!(
        "{SWITCH_CONF}pass .1.3.6.1.2.1.31.1.1.1.18 {}\nmaster agentx\nagentXSocket {}\n",
        looping.display(),
        agentx.display()
    );
    lab.snmpd(&switch, SWITCH, &switch_conf).unwrap();
    let lldp_control = lab
        .lldpd(&switch, "eth1", "core-sw-1", Some(&agentx), &[])
        .unwrap();
    daicho_lab::wait_for_lldp_neighbour(&switch, &lldp_control, "far-gateway").unwrap();
    // A Teltonika-style LTE router: its own uplink wwan0 holds the default
    // route, and its snmpd says ifType 243 (3GPP WWAN) for it, as such routers do.
    let carrier = lab.segment("carrier").unwrap();
    let lte = lab.host("lte").unwrap();
    let lte_ip = format!("{LTE}/24");
    lab.attach(&lte, &lan, "eth0", Some("00:1e:42:00:01:3c"), &[&lte_ip])
        .unwrap();
    lab.attach(&lte, &carrier, "wwan0", None, &["198.18.3.2/30"])
        .unwrap();
    lte.ip(&["route", "add", "default", "via", "198.18.3.1"])
        .unwrap();
    let wwan_index = lte.if_index("wwan0").unwrap();
    let lte_conf = format!(
        "rocommunity lab-ro-community default\n\
         sysObjectID .1.3.6.1.4.1.48690.1.1\n\
         override .1.3.6.1.2.1.2.2.1.3.{wwan_index} integer 243\n"
    );
    lab.snmpd(&lte, LTE, &lte_conf).unwrap();
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", None, &[&format!("{PC}/24")])
        .unwrap();
    let fragile = lab.host("fragile").unwrap();
    lab.attach(&fragile, &lan, "eth0", None, &[&format!("{FRAGILE}/24")])
        .unwrap();
    lab.snmpd(&fragile, FRAGILE, SNMPD_CONF).unwrap();
    let capture = Capture::start(
        &fragile,
        "eth0",
        "udp port 161",
        &lab.dir().join("fragile.pcap"),
    )
    .unwrap();
    let to_switch = Capture::start(
        &switch,
        "eth0",
        "udp dst port 161",
        &lab.dir().join("switch.pcap"),
    )
    .unwrap();

    // Profiles in order: a wrong community first, as a hospital might list them.
    let profiles: String = AGENT_TOML
        .split("[[snmp.profile]]")
        .filter(|p| {
            p.contains("[snmp]")
                || p.contains("name = \"wrong-community\"")
                || p.contains("name = \"ro\"")
                || p.contains("name = \"v3-sha256\"")
        })
        .collect::<Vec<_>>()
        .join("[[snmp.profile]]")
        .replace("[snmp]\n", "[snmp]\nhost_rate = 20\n");
    let config = lab.dir().join("agent.toml");
    std::fs::write(&config, profiles).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let report_path = lab.dir().join("report.json");
    let state_dir = lab.dir().join("state");
    let scan = || {
        let out = agent
            .command(AGENT)
            .args([
                "scan",
                "-v",
                "--segment",
                "eth0=198.18.1.0/24",
                "--exclude",
                FRAGILE,
                "--timeout",
                "300ms",
            ])
            .args(["--format", "summary", "--config"])
            .arg(&config)
            .arg("--output")
            .arg(&report_path)
            .arg("--state-dir")
            .arg(&state_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_secrets(&out);
        out
    };
    let out = scan();
    assert_eq!(
        capture.stop().unwrap(),
        0,
        "the excluded host received SNMP packets"
    );
    // host_rate = 20: never two requests to one host within 50 ms.
    let times = to_switch.stop_timestamps().unwrap();
    assert!(times.len() >= 10, "{times:?}");
    let closest = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::MAX, f64::min);
    assert!(closest >= 0.045, "two requests {closest} s apart");
    // -v says, per host, what worked and why the rest failed.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{SWITCH}: SNMP profile \"wrong-community\" failed: no answer"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{SWITCH}: SNMP profile \"v3-sha256\" worked")),
        "{stderr}"
    );

    let text = std::fs::read_to_string(&report_path).unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "secret {secret} in the report");
    }
    let report = daicho_report::Report::from_json(text.as_bytes()).unwrap();
    let snmp: Vec<_> = report
        .observations
        .iter()
        .filter(|o| o.source == daicho_report::Source::Snmp)
        .map(|o| (o.ip.unwrap().to_string(), o.snmp.clone().unwrap()))
        .collect();
    assert_eq!(snmp.len(), 3, "{snmp:#?}");
    let printer = &snmp.iter().find(|(ip, _)| ip == DEVICE).unwrap().1;
    assert_eq!(printer.profile.as_deref(), Some("ro"));
    assert_eq!(printer.security.as_deref(), Some("v2c"));
    assert_eq!(printer.sys_name.as_deref(), Some("printer-3f"));
    assert_eq!(printer.enterprise_name.as_deref(), Some("RICOH Co. Ltd."));
    assert_eq!(
        printer.sys_descr.as_deref(),
        Some("RICOH IM C3000 <script>alert(1)</script>")
    );
    let switch = &snmp.iter().find(|(ip, _)| ip == SWITCH).unwrap().1;
    assert_eq!(switch.profile.as_deref(), Some("v3-sha256"));
    assert_eq!(switch.security.as_deref(), Some("authPriv"));
    assert_eq!(
        switch.sys_object_id.as_deref(),
        Some("1.3.6.1.4.1.207.1.4.1")
    );
    // ipAddrTable and ipAddressTable show both legs, each on its interface,
    // IPv6 included (and the EUI-64 link-locals that embed each NIC's MAC).
    // Over SNMPv3 net-snmp answers genErr when a GETBULK answer would exceed
    // the 1472 bytes we advertise; these tables arrive only because the walk
    // then asks for less.
    let legs: Vec<(String, Option<u8>, Option<String>)> = switch
        .addresses
        .iter()
        .filter(|a| !a.ip.is_loopback())
        .map(|a| {
            (
                a.ip.to_string(),
                a.prefix_len,
                interface_name(switch, a.if_index),
            )
        })
        .collect();
    assert_eq!(
        legs,
        vec![
            (SWITCH.to_owned(), Some(24), Some("eth0".to_owned())),
            ("198.18.2.30".to_owned(), Some(24), Some("eth1".to_owned())),
            (
                "2001:db8:2::30".to_owned(),
                Some(64),
                Some("eth1".to_owned())
            ),
            (
                "fe80::21a:ebff:fe00:11e".to_owned(),
                Some(64),
                Some("eth0".to_owned())
            ),
            (
                "fe80::21a:ebff:fe00:11f".to_owned(),
                Some(64),
                Some("eth1".to_owned())
            ),
        ]
    );
    // LLDP-MIB (served by lldpd through AgentX): the far host on eth1.
    let neighbour = switch
        .lldp
        .iter()
        .find(|n| n.sys_name.as_deref() == Some("far-gateway"))
        .unwrap_or_else(|| panic!("{:?} {:?}", switch.lldp, switch.notes));
    assert_eq!(neighbour.chassis_id.as_deref(), Some("00:00:74:00:02:28"));
    assert_eq!(neighbour.port_id.as_deref(), Some("00:00:74:00:02:28"));
    assert_eq!(neighbour.port_descr.as_deref(), Some("eth0"));
    assert!(
        neighbour
            .addresses
            .iter()
            .any(|a| a.to_string() == "198.18.2.40"),
        "{neighbour:?}"
    );
    // HOST-RESOURCES: installed software (a Debian host lists its packages)
    // and devices.
    assert!(
        switch.software.iter().any(|s| s.name.starts_with("snmpd")),
        "{:?}",
        &switch.software[..switch.software.len().min(5)]
    );
    assert!(
        switch
            .devices
            .iter()
            .any(|d| d.kind.as_deref() == Some("processor")),
        "{:?}",
        switch.devices
    );
    let eth1 = switch
        .interfaces
        .iter()
        .find(|i| i.name.as_deref() == Some("eth1"))
        .unwrap();
    assert_eq!(eth1.mac.unwrap().to_string(), "00:1a:eb:00:01:1f");
    assert_eq!((eth1.if_type, eth1.oper_up), (Some(6), Some(true)));
    assert_eq!(switch.ip_forwarding, Some(true));
    // ENTITY-MIB: the chassis with model and serial (the ledger's 機種, シリアル番号).
    let chassis = switch
        .entities
        .iter()
        .find(|e| e.class == Some(3))
        .unwrap_or_else(|| panic!("no chassis: {:?} {:?}", switch.entities, switch.notes));
    assert_eq!(chassis.model.as_deref(), Some("x530L-28GTX"));
    assert_eq!(chassis.serial.as_deref(), Some("SN-AT-0042"));
    assert_eq!(chassis.maker.as_deref(), Some("Allied Telesis"));
    assert_eq!(
        chassis.software_rev.as_deref(),
        Some("AlliedWare Plus 5.5.2")
    );
    assert!(
        switch
            .notes
            .iter()
            .any(|n| n.starts_with("ifAlias: ") && n.contains("not increasing")),
        "the looping ifAlias column: {:?}",
        switch.notes
    );
    let far = switch
        .neighbours
        .iter()
        .find(|n| n.ip.to_string() == "198.18.2.40")
        .unwrap();
    assert_eq!(far.mac.unwrap().to_string(), "00:00:74:00:02:28");
    assert_eq!(far.if_index, eth1.index);
    let default = switch
        .routes
        .iter()
        .find(|r| r.destination.is_unspecified())
        .unwrap();
    assert_eq!(default.next_hop.unwrap().to_string(), "198.18.2.254");
    assert_eq!(default.prefix_len, Some(0));
    // The printer is no router.
    assert_eq!(printer.ip_forwarding, Some(false));
    // Each snmpd has its own engine ID (net-snmp's enterprise 8072 format).
    let (a, b) = (
        printer.engine_id.clone().unwrap(),
        switch.engine_id.clone().unwrap(),
    );
    assert!(
        a.starts_with("80001f88") && b.starts_with("80001f88") && a != b,
        "{a} {b}"
    );
    let run = report
        .probe_runs
        .iter()
        .find(|r| r.probe == daicho_report::Source::Snmp)
        .unwrap();
    let lte = &snmp.iter().find(|(ip, _)| ip == LTE).unwrap().1;
    assert!(
        lte.sys_object_id
            .as_deref()
            .unwrap()
            .starts_with("1.3.6.1.4.1.48690.")
    );
    assert_eq!(
        (lte.enterprise, lte.enterprise_name.as_deref()),
        (Some(48690), Some("Teltonika"))
    );
    let wwan = lte
        .interfaces
        .iter()
        .find(|i| i.name.as_deref() == Some("wwan0"))
        .unwrap();
    assert_eq!(wwan.if_type, Some(243), "the WWAN ifType override");
    let default = lte
        .routes
        .iter()
        .find(|r| r.destination.is_unspecified())
        .unwrap();
    assert_eq!(
        (default.next_hop.unwrap().to_string(), default.if_index),
        ("198.18.3.1".to_owned(), Some(wwan.index))
    );
    // Detection: the LTE router is a mobile router (its WWAN interface holds
    // the default route); the routing switch, with legs in two networks, is
    // a router and not called 2枚挿し.
    let kinds: Vec<(daicho_report::FindingKind, String)> = report
        .findings
        .iter()
        .map(|f| (f.kind, f.subjects[0].ip.unwrap().to_string()))
        .collect();
    assert_eq!(
        kinds,
        [(daicho_report::FindingKind::MobileRouter, LTE.to_owned())],
        "{:#?}",
        report.findings
    );
    // Asked the printer, the switch, the LTE router and the PC; not the excluded host.
    assert_eq!(
        run.notes,
        vec!["3 of 4 hosts answered SNMP with a configured profile".to_owned()]
    );

    // The next scan asks each host the profile that worked last time first:
    // the switch no longer waits out two wrong communities.
    let remembered = std::fs::read_to_string(state_dir.join("snmp-profiles.json")).unwrap();
    let remembered: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&remembered).unwrap();
    assert_eq!(
        remembered.get(SWITCH).map(String::as_str),
        Some("v3-sha256")
    );
    assert_eq!(remembered.get(DEVICE).map(String::as_str), Some("ro"));
    let first_packets = run.packets_sent;
    scan();
    let report = daicho_report::Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap();
    let again = report
        .probe_runs
        .iter()
        .find(|r| r.probe == daicho_report::Source::Snmp)
        .unwrap();
    assert!(
        again.packets_sent < first_packets,
        "{} packets, then {}",
        first_packets,
        again.packets_sent
    );
}

fn interface_name(device: &daicho_report::SnmpFacts, index: Option<u32>) -> Option<String> {
    device
        .interfaces
        .iter()
        .find(|i| Some(i.index) == index)?
        .name
        .clone()
}

/// The kernel's index of an interface inside a lab host.
/// Serves lldpRemSysName for 10,005 neighbours through snmpd's pass_persist
/// protocol (one long-lived script, not a process per value).
const HUGE_TABLE_SCRIPT: &str = r#"#!/bin/sh
ROOT=.1.0.8802.1.1.2.1.4.1.1
BASE=$ROOT.9.0.1
while read -r cmd; do
  case "$cmd" in
    PING) echo PONG ;;
    get) read -r oid; echo NONE ;;
    set) read -r oid; read -r value; echo not-writable ;;
    getnext)
      read -r oid
      case "$oid" in
        $BASE.*) i=${oid#$BASE.}; next=$((${i%%.*} + 1)) ;;
        $ROOT|$ROOT.[1-8]|$ROOT.[1-8].*|$ROOT.9|$ROOT.9.0|$ROOT.9.0.1) next=1 ;;
        *) next=0 ;;
      esac
      if [ "$next" -ge 1 ] && [ "$next" -le 10005 ]; then
        printf '%s\nstring\nneighbour-%s\n' "$BASE.$next" "$next"
      else
        echo NONE
      fi ;;
  esac
done
"#;

#[test]
fn a_huge_table_is_cut_at_the_row_cap_with_a_note() {
    if !daicho_lab::can_run("a_huge_table_is_cut") {
        return;
    }
    let (mut lab, _, agent) = lab();
    let switch = lab.host("huge").unwrap();
    let segment = lab.segment("lan2").unwrap();
    lab.attach(&agent, &segment, "eth1", None, &["198.18.4.2/24"])
        .unwrap();
    lab.attach(&switch, &segment, "eth0", None, &["198.18.4.30/24"])
        .unwrap();
    let script = lab.dir().join("huge-lldp.sh");
    std::fs::write(&script, HUGE_TABLE_SCRIPT).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = format!(
        "rocommunity lab-ro-community default\npass_persist .1.0.8802.1.1.2.1.4.1.1 {}\n",
        script.display()
    );
    lab.snmpd(&switch, "198.18.4.30", &conf).unwrap();
    let config = lab.dir().join("huge.toml");
    std::fs::write(
        &config,
        "[snmp]\nhost_rate = 1000\nread = [\"lldp\"]\n\
         [[snmp.profile]]\nname = \"ro\"\nversion = \"2c\"\ncommunity = \"lab-ro-community\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = agent
        .command(AGENT)
        .args(["snmp-test", "198.18.4.30", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "note: lldpRemSysName: cut at {} rows",
            daicho_snmp::MAX_ROWS
        )),
        "{stdout}"
    );
}
