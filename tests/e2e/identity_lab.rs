//! End to end: the identity probes of `daicho-agent scan` against real
//! daemons from Debian in lab namespaces — Samba's nmbd for NetBIOS. Needs root.

use daicho_lab::{Capture, Host, Lab, Segment};
use daicho_report::{Report, Source};

const AGENT: &str = env!("CARGO_BIN_EXE_daicho-agent");
const PC: &str = "198.18.1.40";
const SILENT: &str = "198.18.1.41";
const FRAGILE: &str = "198.18.1.50";

/// Runs `daicho-agent scan` of the LAN (198.18.1.0/24) from `agent` with
/// `args` added, as a table; checks it succeeded; returns what it printed and
/// the report it wrote.
fn scan_lan(lab: &Lab, agent: &Host, args: &[&str]) -> (String, Report) {
    let report_path = lab.dir().join("report.json");
    let out = agent
        .command(AGENT)
        .args([
            "scan",
            "--segment",
            "eth0=198.18.1.0/24",
            "--timeout",
            "300ms",
        ])
        .args(["--format", "table"])
        .args(args)
        .arg("--output")
        .arg(&report_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        stdout,
        Report::from_json(&std::fs::read(&report_path).unwrap()).unwrap(),
    )
}

/// The fragile device the scans exclude, on the LAN, and a capture of the
/// packets matching `filter` that reach it (expected: none).
fn fragile_host(lab: &mut Lab, lan: &Segment, filter: &str) -> (Host, Capture) {
    let fragile = lab.host("fragile").unwrap();
    lab.attach(&fragile, lan, "eth0", None, &[&format!("{FRAGILE}/24")])
        .unwrap();
    let capture =
        Capture::start(&fragile, "eth0", filter, &lab.dir().join("fragile.pcap")).unwrap();
    (fragile, capture)
}

/// A host on the LAN at `ip`.
fn lan_host(lab: &mut Lab, lan: &Segment, name: &str, ip: &str) -> Host {
    let host = lab.host(name).unwrap();
    lab.attach(&host, lan, "eth0", None, &[&format!("{ip}/24")])
        .unwrap();
    host
}

/// A lab with one LAN segment and the agent on it at 198.18.1.2.
fn lan_lab(tag: &str) -> (Lab, Segment, Host) {
    let mut lab = Lab::new(tag).unwrap();
    let lan = lab.segment("lan").unwrap();
    let agent = lab.host("agent").unwrap();
    lab.attach(&agent, &lan, "eth0", None, &["198.18.1.2/24"])
        .unwrap();
    (lab, lan, agent)
}

#[test]
fn netbios_names_the_windows_style_hosts_and_spares_the_excluded_one() {
    if !daicho_lab::can_run("netbios_names_the_windows_style_hosts") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("nbt");
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", None, &[&format!("{PC}/24")])
        .unwrap();
    lab.nmbd(&pc, PC, "PC-3F-NURSE", "HOSPITAL").unwrap();
    // A host with no NetBIOS at all: no observation, no error.
    let silent = lab.host("silent").unwrap();
    lab.attach(&silent, &lan, "eth0", None, &[&format!("{SILENT}/24")])
        .unwrap();
    let (fragile, capture) = fragile_host(&mut lab, &lan, "udp dst port 137 and not broadcast");
    lab.nmbd(&fragile, FRAGILE, "ECG-MONITOR", "HOSPITAL")
        .unwrap();

    let (stdout, report) = scan_lan(&lab, &agent, &["--exclude", FRAGILE]);
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
    let (mut lab, lan, agent) = lan_lab("mdns");
    let ward = lab.segment("ward").unwrap();
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

/// A self-signed certificate (EC P-256) for `cn`, with `sans` as written
/// for openssl's subjectAltName; returns (cert, key) paths.
fn certificate(dir: &std::path::Path, cn: &str, sans: &str) -> (String, String) {
    let (cert, key) = (dir.join(format!("{cn}.crt")), dir.join(format!("{cn}.key")));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "30", "-subj", &format!("/CN={cn}")])
        .args(["-addext", &format!("subjectAltName={sans}"), "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert.display().to_string(), key.display().to_string())
}

#[test]
fn http_banners_read_titles_realms_and_certificates_and_name_old_tls() {
    if !daicho_lab::can_run("http_banners") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("http");
    // An LTE router: admin page behind Basic auth, and HTTPS whose
    // certificate lists its WWAN address — another network.
    let router = lab.host("router").unwrap();
    lab.attach(&router, &lan, "eth0", None, &["198.18.1.1/24"])
        .unwrap();
    let (cert, key) = certificate(
        lab.dir(),
        "lte-router.local",
        "DNS:lte-router.local,IP:198.18.1.1,IP:100.64.12.34",
    );
    let pem = lab.dir().join("router.pem");
    let both = std::fs::read_to_string(&cert).unwrap() + &std::fs::read_to_string(&key).unwrap();
    std::fs::write(&pem, both).unwrap();
    let users = lab.dir().join("users");
    std::fs::write(&users, "admin:not-a-real-password\n").unwrap();
    lab.lighttpd(
        &router,
        80,
        &[("index.html", b"<html><title>LTE Router Admin</title></html>")],
        &format!(
            "auth.backend = \"plain\"\nauth.backend.plain.userfile = \"{}\"\n\
             auth.require = (\"/\" => (\"method\" => \"basic\", \"realm\" => \"MR-LTE 4G Router\", \"require\" => \"valid-user\"))\n\
             $SERVER[\"socket\"] == \":443\" {{ ssl.engine = \"enable\"\n ssl.pemfile = \"{}\" }}\n",
            users.display(),
            pem.display()
        ),
    )
    .unwrap();
    // A Japanese device whose page is in Shift_JIS, and an old TLS 1.1-only
    // endpoint as older printers and switches have.
    let printer = lab.host("printer").unwrap();
    lab.attach(&printer, &lan, "eth0", None, &["198.18.1.20/24"])
        .unwrap();
    let page = encoding_rs::SHIFT_JIS
        .encode("<html><head><title>受付プリンタ 設定</title></head></html>")
        .0
        .into_owned();
    // A favicon (any bytes: lighttpd serves them as they are).
    let favicon: &[u8] = b"\x00\x00\x01\x00\x01\x00\x10\x10daicho-lab-favicon";
    lab.lighttpd(
        &printer,
        80,
        &[("index.html", &page), ("favicon.ico", favicon)],
        "mimetype.assign = (\".html\" => \"text/html; charset=Shift_JIS\")\n",
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let (old_cert, old_key) = certificate(lab.dir(), "printer.local", "DNS:printer.local");
    lab.serve(
        &printer,
        8443,
        "openssl",
        &[
            "s_server",
            "-accept",
            "8443",
            "-www",
            "-tls1_1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
            "-cert",
            &old_cert,
            "-key",
            &old_key,
        ],
    )
    .unwrap();
    // A fragile device with a web server, excluded from HTTP only.
    let (fragile, capture) = fragile_host(&mut lab, &lan, "tcp dst port 80");
    lab.lighttpd(&fragile, 80, &[("index.html", b"<title>ECG</title>")], "")
        .unwrap();

    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        format!("[http]\nexclude = [\"{FRAGILE}\"]\n[mdns]\nenabled = false\n"),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (stdout, report) = scan_lan(
        &lab,
        &agent,
        &["--skip-probe", "netbios", "--config", config],
    );
    assert_eq!(capture.stop().unwrap(), 0, "[http] exclude was ignored");

    let http = |ip: &str| {
        report
            .observations
            .iter()
            .find(|o| o.source == Source::Http && o.ip.unwrap().to_string() == ip)
            .and_then(|o| o.http.as_deref())
            .unwrap_or_else(|| panic!("no HTTP for {ip}: {stdout}"))
    };
    let router = http("198.18.1.1");
    let admin = router.banners.iter().find(|b| b.port == 80).unwrap();
    assert_eq!(admin.status, Some(401));
    assert_eq!(admin.realm.as_deref(), Some("MR-LTE 4G Router"));
    assert!(admin.server.as_deref().unwrap().starts_with("lighttpd"));
    let tls = router.banners.iter().find(|b| b.port == 443).unwrap();
    let certificate = tls.certificate.as_ref().unwrap();
    assert_eq!(certificate.subject_cn.as_deref(), Some("lte-router.local"));
    assert!(certificate.self_signed);
    assert_eq!(certificate.sha256.len(), 64);
    let sans: Vec<String> = certificate.san_ip.iter().map(ToString::to_string).collect();
    assert_eq!(sans, ["198.18.1.1", "100.64.12.34"]);
    let printer = http("198.18.1.20");
    let page = printer.banners.iter().find(|b| b.port == 80).unwrap();
    assert_eq!(page.title.as_deref(), Some("受付プリンタ 設定"));
    // Its favicon's MD5 as coreutils' md5sum computes it from the file.
    let expected = {
        let file = lab.dir().join("favicon-bytes");
        std::fs::write(&file, favicon).unwrap();
        let out = std::process::Command::new("md5sum")
            .arg(&file)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()[..32].to_owned()
    };
    assert_eq!(page.favicon_md5.as_deref(), Some(expected.as_str()));
    // Behind the router's Basic auth the favicon is a 401 too: no hash.
    assert_eq!(admin.favicon_md5, None);
    let old = printer.banners.iter().find(|b| b.port == 8443).unwrap();
    assert!(
        old.error.as_deref().unwrap().contains("protocol version"),
        "{old:?}"
    );
    assert!(
        report
            .observations
            .iter()
            .all(|o| o.ip.unwrap().to_string() != FRAGILE || o.source != Source::Http)
    );
}

/// First SYN of each TCP connection (by its addresses and ports) in a
/// capture of `tcpdump -n -tt` lines, ascending.
fn first_syns(lines: &[String]) -> Vec<f64> {
    let mut first: std::collections::HashMap<(&str, &str), f64> = Default::default();
    for line in lines.iter().filter(|l| l.contains("Flags [S]")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(time), Some(from), Some(to)) = (fields.first(), fields.get(2), fields.get(4))
        else {
            continue;
        };
        let time: f64 = time.parse().unwrap();
        first.entry((from, to)).or_insert(time);
    }
    let mut times: Vec<f64> = first.into_values().collect();
    times.sort_by(f64::total_cmp);
    times
}

#[test]
fn the_port_check_gives_the_probes_only_open_ports_and_keeps_the_per_host_bound() {
    if !daicho_lab::can_run("port_check") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("ports");
    // A web server, on one of the HTTP ports only.
    let web = lan_host(&mut lab, &lan, "web", "198.18.1.61");
    lab.lighttpd(
        &web,
        8080,
        &[("index.html", b"<title>Nurse call</title>")],
        "",
    )
    .unwrap();
    // A web server behind a firewall that drops every SYN: silent, never asked.
    let walled = lan_host(&mut lab, &lan, "walled", "198.18.1.60");
    lab.lighttpd(&walled, 80, &[("index.html", b"<title>hidden</title>")], "")
        .unwrap();
    lab.drop_inbound(&walled, &["tcp flags & (syn | ack) == syn"])
        .unwrap();
    // Nothing listens: every port refuses.
    lan_host(&mut lab, &lan, "closed", "198.18.1.62");
    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        "[scan]\nper_host = 1\nconnect_timeout_floor = \"300ms\"\nconnect_timeout = \"300ms\"\n\
         connect_attempts = 2\n[http]\nfavicon = false\n[mdns]\nenabled = false\n",
    )
    .unwrap();
    // Half-open over the raw link, then (unprivileged) by the kernel's connects.
    for (mode, how) in [(None, "half-open"), (Some("--unprivileged"), "by connects")] {
        let syns_to = |host: &Host, name: &str| {
            let file = lab.dir().join(format!("{name}.pcap"));
            let syn = "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn";
            Capture::start(host, "eth0", syn, &file).unwrap()
        };
        let (to_walled, to_web) = (syns_to(&walled, "walled"), syns_to(&web, "web"));
        let mut args = vec![
            "--skip-probe",
            "netbios",
            "--skip-probe",
            "ssdp",
            "--config",
            config.to_str().unwrap(),
        ];
        args.extend(mode);
        let (stdout, report) = scan_lan(&lab, &agent, &args);
        // Every SYN: a retry may leave from the same port as the first try.
        let walled_syns = Capture::times(&to_walled.stop_lines().unwrap()).unwrap();
        let web_syns = first_syns(&to_web.stop_lines().unwrap());

        // The open port's page was read; nothing came of the others.
        let page = report
            .observations
            .iter()
            .filter(|o| o.source == Source::Http)
            .map(|o| (o.ip.unwrap().to_string(), o.http.as_deref().unwrap()))
            .collect::<Vec<_>>();
        assert_eq!(page.len(), 1, "{how}: {stdout}");
        assert_eq!(page[0].0, "198.18.1.61");
        assert_eq!(page[0].1.banners.len(), 1);
        assert_eq!(page[0].1.banners[0].port, 8080);
        assert_eq!(page[0].1.banners[0].title.as_deref(), Some("Nurse call"));
        assert!(
            report.observations.iter().all(|o| o.source != Source::Ssh),
            "{how}: {stdout}"
        );
        // The web server: five ports checked once each (they answered), and
        // one more connection for the page on the open one — no request to
        // a closed port.
        assert_eq!(web_syns.len(), 6, "{how}: {web_syns:?}");
        // The firewalled host: its five ports twice (silent, asked again),
        // one connection at a time, each waiting its 300 ms timeout.
        assert_eq!(walled_syns.len(), 10, "{how}: {walled_syns:?}");
        for pair in walled_syns.windows(2) {
            assert!(
                pair[1] - pair[0] >= 0.29,
                "{how}: two connections to the firewalled host at once: {walled_syns:?}"
            );
        }
        let notes: Vec<&String> = report
            .probe_runs
            .iter()
            .filter(|r| r.probe == Source::Http)
            .flat_map(|r| &r.notes)
            .collect();
        let expected = format!("TCP port check first (all TCP probes' ports, {how}): 1 open");
        assert!(notes.iter().any(|n| n.contains(&expected)), "{notes:?}");
    }
}

#[test]
fn ssh_host_keys_match_ssh_keygen_without_logging_in() {
    if !daicho_lab::can_run("ssh_host_keys") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("ssh");
    let modern = lan_host(&mut lab, &lan, "modern", "198.18.1.10");
    let ed25519 = lab.sshd(&modern, "ed25519", "").unwrap();
    // An appliance that only does NIST P-256: the other key exchange we start.
    let nist = lan_host(&mut lab, &lan, "nist", "198.18.1.11");
    let ecdsa = lab
        .sshd(
            &nist,
            "ecdsa",
            "KexAlgorithms ecdh-sha2-nistp256\nHostKeyAlgorithms ecdsa-sha2-nistp256",
        )
        .unwrap();
    // An old one with classic Diffie-Hellman only: the banner, and why no key.
    let old = lan_host(&mut lab, &lan, "old", "198.18.1.12");
    lab.sshd(&old, "rsa", "KexAlgorithms diffie-hellman-group14-sha256")
        .unwrap();

    let skip = ["netbios", "mdns", "http"]
        .map(|p| ["--skip-probe", p])
        .concat();
    let (_, report) = scan_lan(&lab, &agent, &skip);
    let ssh = |ip: &str| {
        report
            .observations
            .iter()
            .find(|o| o.source == Source::Ssh && o.ip.unwrap().to_string() == ip)
            .and_then(|o| o.ssh.as_deref())
            .unwrap_or_else(|| panic!("no SSH facts for {ip}"))
    };
    let m = ssh("198.18.1.10");
    assert_eq!(m.fingerprint.as_deref(), Some(ed25519.as_str()));
    assert_eq!(m.key_type.as_deref(), Some("ssh-ed25519"));
    assert!(m.banner.starts_with("SSH-2.0-OpenSSH_"), "{}", m.banner);
    let n = ssh("198.18.1.11");
    assert_eq!(n.fingerprint.as_deref(), Some(ecdsa.as_str()));
    assert_eq!(n.key_type.as_deref(), Some("ecdsa-sha2-nistp256"));
    let o = ssh("198.18.1.12");
    assert_eq!(o.fingerprint, None);
    assert!(o.banner.starts_with("SSH-2.0-OpenSSH_"));
    assert!(
        o.error
            .as_deref()
            .unwrap()
            .contains("diffie-hellman-group14-sha256"),
        "{o:?}"
    );
}

#[test]
fn ssdp_finds_a_gateway_with_its_own_uplink_and_spares_the_excluded_one() {
    if !daicho_lab::can_run("ssdp_finds_a_gateway") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("ssdp");
    let carrier = lab.segment("carrier").unwrap();
    // An LTE router someone installed for remote maintenance: UPnP IGD on
    // the LAN, its own uplink wwan0 to the carrier.
    let router = lab.host("lte").unwrap();
    lab.attach(&router, &lan, "eth0", None, &["198.18.1.1/24"])
        .unwrap();
    lab.attach(&router, &carrier, "wwan0", None, &["198.18.3.2/30"])
        .unwrap();
    lab.miniupnpd(
        &router,
        "eth0",
        "wwan0",
        "friendly_name=MR-LTE 4G Router\nmanufacturer_name=ExampleNet\nmodel_name=MR-LTE\n\
         model_number=MR-4G-200\nserial=SN-7\nuuid=3d3cec3a-8cf0-11e0-98ee-001a6baa6b01\nnotify_interval=2",
    )
    .unwrap();
    // An excluded device that also speaks UPnP: it hears the multicast
    // M-SEARCH like everyone, but its description is never fetched.
    let (fragile, capture) = fragile_host(&mut lab, &lan, "tcp dst port 5000 or udp dst port 5351");
    lab.attach(&fragile, &carrier, "eth1", None, &["198.18.3.6/30"])
        .unwrap();
    lab.miniupnpd(&fragile, "eth0", "eth1", "friendly_name=Fragile")
        .unwrap();

    let scan = |config: &str| {
        let path = lab.dir().join("agent.toml");
        std::fs::write(&path, config).unwrap();
        let path = path.to_str().unwrap();
        scan_lan(&lab, &agent, &["--exclude", FRAGILE, "--config", path])
    };
    let (stdout, report) =
        scan("[mdns]\nenabled = false\n[netbios]\nenabled = false\n[http]\nenabled = false\n");
    assert_eq!(
        capture.stop().unwrap(),
        0,
        "the excluded host's description or NAT-PMP was asked"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("198.18.1.1 "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        row.contains("MR-LTE 4G Router") && row.contains("ExampleNet MR-LTE MR-4G-200"),
        "{row}"
    );
    let ssdp = |report: &Report, ip: &str| {
        report
            .observations
            .iter()
            .find(|o| o.source == Source::Ssdp && o.ip.unwrap().to_string() == ip)
            .and_then(|o| o.ssdp.as_deref())
            .cloned()
    };
    let facts = ssdp(&report, "198.18.1.1").unwrap();
    let root = &facts.devices[0];
    assert!(
        root.device_type
            .as_deref()
            .unwrap()
            .contains("InternetGatewayDevice")
    );
    assert_eq!(
        root.udn.as_deref(),
        Some("uuid:3d3cec3a-8cf0-11e0-98ee-001a6baa6b01")
    );
    assert!(
        facts
            .devices
            .iter()
            .any(|d| d.services.iter().any(|s| s.contains("WANIPConnection")))
    );
    assert!(
        facts
            .announcements
            .iter()
            .any(|a| a.server.as_deref().is_some_and(|s| s.contains("MiniUPnPd")))
    );
    // Its uplink has a reserved address here (the lab never leaves
    // 198.18.0.0/15): miniupnpd then gives no external address and NAT-PMP
    // says "network failure" — both recorded, the kind "none".
    let uplink = facts.uplink.unwrap();
    assert_eq!(
        (uplink.kind.as_str(), uplink.natpmp_result),
        ("none", Some(3))
    );
    // The excluded host answered the multicast, and that is all we know.
    let fragile = ssdp(&report, FRAGILE).unwrap();
    assert!(fragile.devices.is_empty() && fragile.uplink.is_none());

    // Passive: no M-SEARCH, only the router's own NOTIFYs.
    let (_, report) = scan(
        "[ssdp]\npassive = true\nwindow = \"3s\"\n[mdns]\nenabled = false\n\
         [netbios]\nenabled = false\n[http]\nenabled = false\n",
    );
    let facts = ssdp(&report, "198.18.1.1").unwrap();
    assert!(!facts.announcements.is_empty());
    assert!(
        facts.announcements.iter().all(|a| a.kind == "notify"),
        "{facts:?}"
    );
}

#[test]
fn one_discover_finds_the_rogue_dhcp_server_and_takes_no_lease() {
    if !daicho_lab::can_run("one_discover_finds_the_rogue_dhcp_server") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("dhcp");
    // The hospital's DHCP server and gateway, and an LTE router that a
    // vendor plugged in with its own DHCP server.
    let sanctioned = lab.host("dhcpd").unwrap();
    lab.attach(&sanctioned, &lan, "eth0", None, &["198.18.1.1/24"])
        .unwrap();
    lab.dnsmasq(
        &sanctioned,
        "eth0",
        "198.18.1.100,198.18.1.150,255.255.255.0",
        "198.18.1.1",
    )
    .unwrap();
    let rogue = lab.host("lte").unwrap();
    lab.attach(&rogue, &lan, "eth0", None, &["198.18.1.254/24"])
        .unwrap();
    lab.dnsmasq(
        &rogue,
        "eth0",
        "198.18.1.200,198.18.1.220,255.255.255.0",
        "198.18.1.254",
    )
    .unwrap();
    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        "[dhcp]\nenabled = true\nwait = \"5s\"\nsanctioned_servers = [\"198.18.1.1\"]\n\
         sanctioned_gateways = [\"198.18.1.1\"]\n",
    )
    .unwrap();
    // Every DHCP message the agent sends goes to port 67: a REQUEST would too.
    let sent = Capture::start(
        &agent,
        "eth0",
        "udp dst port 67",
        &lab.dir().join("dhcp.pcap"),
    )
    .unwrap();

    let skip = daicho_lab::skip_probes(&["snmp", "netbios", "mdns", "http", "ssh", "ssdp"]);
    let config_arg = config.to_str().unwrap();
    let (stdout, report) = scan_lan(
        &lab,
        &agent,
        &[&["--config", config_arg][..], &skip].concat(),
    );
    assert_eq!(
        sent.stop().unwrap(),
        1,
        "exactly one DHCPDISCOVER, no REQUEST"
    );
    let servers: Vec<String> = report
        .observations
        .iter()
        .filter(|o| o.source == Source::Dhcp)
        .map(|o| o.ip.unwrap().to_string())
        .collect();
    assert_eq!(servers, ["198.18.1.1", "198.18.1.254"], "{stdout}");
    let rogue_findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == daicho_report::FindingKind::RogueDhcp)
        .collect();
    assert_eq!(rogue_findings.len(), 1, "{:#?}", report.findings);
    assert_eq!(
        rogue_findings[0].subjects[0].ip,
        Some("198.18.1.254".parse().unwrap())
    );
    assert!(
        rogue_findings[0].evidence.iter().any(|e| e
            .text
            .render(daicho_report::Lang::En)
            .contains("gateway 198.18.1.254, which is not among the sanctioned")),
        "{:#?}",
        rogue_findings[0].evidence
    );
    // No server committed a lease to the probe.
    for host in [&sanctioned, &rogue] {
        let leases = lab
            .dir()
            .join(format!("dnsmasq-{}", host.netns))
            .join("leases");
        let text = std::fs::read_to_string(&leases).unwrap_or_default();
        assert!(text.trim().is_empty(), "{} leased: {text}", host.netns);
    }
}

#[test]
fn arp_flux_finds_the_pc_with_a_leg_in_a_network_the_agent_is_not_on() {
    if !daicho_lab::can_run("arp_flux_finds_the_pc_with_a_leg_in_a_network") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("flx");
    let office = lab.segment("office").unwrap();
    // The 2枚挿し PC: a leg in the office network, which the agent is not on.
    let pc = lab.host("pc").unwrap();
    lab.attach(&pc, &lan, "eth0", None, &[&format!("{PC}/24")])
        .unwrap();
    lab.attach(&pc, &office, "eth1", None, &["198.18.2.40/24"])
        .unwrap();
    // The router between the two networks says (SNMP) that it forwards.
    let router = lab.host("router").unwrap();
    lab.attach(&router, &lan, "eth0", None, &["198.18.1.1/24"])
        .unwrap();
    lab.attach(&router, &office, "eth1", None, &["198.18.2.1/24"])
        .unwrap();
    router.sysctl("net.ipv4.ip_forward=1").unwrap();
    lab.snmpd(&router, "198.18.1.1", "rocommunity flux-ro\n")
        .unwrap();
    // An ordinary PC, only on the LAN.
    let plain = lab.host("plain").unwrap();
    lab.attach(&plain, &lan, "eth0", None, &[&format!("{SILENT}/24")])
        .unwrap();
    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        "[arp]\nflux_networks = [\"198.18.2.0/24\"]\n\
         [[snmp.profile]]\nname = \"lab\"\nversion = \"2c\"\ncommunity = \"flux-ro\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let skip = daicho_lab::skip_probes(&["netbios", "mdns", "http", "ssh", "ssdp"]);
    let (stdout, report) = scan_lan(
        &lab,
        &agent,
        &[&["--config", config.to_str().unwrap()][..], &skip].concat(),
    );
    let dual: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == daicho_report::FindingKind::DualHomed)
        .collect();
    assert_eq!(dual.len(), 1, "{stdout}\n{:#?}", report.findings);
    let ips: Vec<String> = dual[0]
        .subjects
        .iter()
        .filter_map(|s| s.ip.map(|ip| ip.to_string()))
        .collect();
    assert_eq!(ips, [PC, "198.18.2.40"], "{:#?}", dual[0]);
    assert!(
        dual[0].evidence[0]
            .text
            .render(daicho_report::Lang::En)
            .contains("asked on eth0 for 198.18.2.40")
    );
    // Neither the router nor the plain PC is called 2枚挿し; no probe but
    // ARP went to the other network.
    let router_ips: [std::net::IpAddr; 2] =
        ["198.18.1.1".parse().unwrap(), "198.18.2.1".parse().unwrap()];
    assert!(
        report
            .findings
            .iter()
            .flat_map(|f| &f.subjects)
            .all(|s| !s.ip.is_some_and(|ip| router_ips.contains(&ip))),
        "{:#?}",
        report.findings
    );
    // The router did answer for its office address: it is known to forward.
    assert!(report.observations.iter().any(|o| o.ip == Some(router_ips[1])
        && o.flags.contains(&daicho_report::Flag::ArpFlux)));
    assert!(
        report
            .observations
            .iter()
            .filter(|o| o
                .ip
                .is_some_and(|ip| ip.to_string().starts_with("198.18.2.")))
            .all(|o| o.source == Source::Arp)
    );
}

const MODALITY: &str = "198.18.1.60";
const REFUSING: &str = "198.18.1.61";
const STRICT: &str = "198.18.1.62";
const ORTHANC: &str = "198.18.1.63";

/// DICOM (opt-in): dcmtk's `storescp` as an accepting node and as one that
/// refuses every association, `dcmqrscp` strict about the called AE title,
/// and Orthanc; the agent's C-ECHO is accepted by the first (its implementation
/// named), the refusals still show DICOM nodes, and the excluded host gets
/// no packet.
#[test]
fn dicom_nodes_answer_a_c_echo_and_a_refusal_still_shows_a_node() {
    if !daicho_lab::can_run("dicom_nodes_answer_a_c_echo") {
        return;
    }
    if !["/usr/bin/storescp", "/usr/sbin/Orthanc"]
        .iter()
        .all(|p| std::path::Path::new(p).exists())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "storescp or Orthanc is missing: apt-get install dcmtk orthanc"
        );
        eprintln!("skipped: storescp or Orthanc is missing (apt-get install dcmtk orthanc)");
        return;
    }
    let (mut lab, lan, agent) = lan_lab("dcm");
    let modality = lab.host("modality").unwrap();
    lab.attach(&modality, &lan, "eth0", None, &[&format!("{MODALITY}/24")])
        .unwrap();
    let store = lab.dir().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let store_arg = store.to_str().unwrap();
    lab.serve(
        &modality,
        11112,
        "storescp",
        &["-aet", "CT-3F", "-od", store_arg, "11112"],
    )
    .unwrap();
    let refusing = lab.host("refusing").unwrap();
    lab.attach(&refusing, &lan, "eth0", None, &[&format!("{REFUSING}/24")])
        .unwrap();
    lab.serve(
        &refusing,
        104,
        "storescp",
        &["--refuse", "-od", store_arg, "104"],
    )
    .unwrap();
    // A PACS that knows one AE title only: ours ("ANY-SCP") is not it.
    let strict = lab.host("strict").unwrap();
    lab.attach(&strict, &lan, "eth0", None, &[&format!("{STRICT}/24")])
        .unwrap();
    let archive = lab.dir().join("pacs");
    std::fs::create_dir_all(&archive).unwrap();
    let qrscp = lab.dir().join("dcmqrscp.cfg");
    std::fs::write(
        &qrscp,
        format!(
            "NetworkTCPPort = 104\nMaxPDUSize = 16384\nMaxAssociations = 4\n\
             HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n\
             AETable BEGIN\nPACS-3F {} RW (10, 64mb) ANY\nAETable END\n",
            archive.display()
        ),
    )
    .unwrap();
    lab.serve(&strict, 104, "dcmqrscp", &["-c", qrscp.to_str().unwrap()])
        .unwrap();
    // An HL7 interface listening on MLLP: a listener that takes
    // connections and closes them (what an MLLP peer does with no message).
    lab.serve(
        &modality,
        2575,
        "python3",
        &[
            "-c",
            "import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('0.0.0.0', 2575))\ns.listen()\nwhile True:\n    s.accept()[0].close()\n",
        ],
    )
    .unwrap();
    // Orthanc, the open-source PACS, on its default port.
    let pacs = lab.host("orthanc").unwrap();
    lab.attach(&pacs, &lan, "eth0", None, &[&format!("{ORTHANC}/24")])
        .unwrap();
    let orthanc_dir = lab.dir().join("orthanc");
    std::fs::create_dir_all(&orthanc_dir).unwrap();
    let orthanc_config = orthanc_dir.join("orthanc.json");
    std::fs::write(
        &orthanc_config,
        serde_json::json!({
            "Name": "daicho-lab",
            "StorageDirectory": orthanc_dir.join("storage"),
            "IndexDirectory": orthanc_dir.join("index"),
            "DicomAet": "ORTHANC",
            "DicomPort": 4242,
            "DicomCheckCalledAet": false,
            "HttpServerEnabled": false,
            "RemoteAccessAllowed": false,
            "Plugins": [],
        })
        .to_string(),
    )
    .unwrap();
    lab.serve(
        &pacs,
        4242,
        "/usr/sbin/Orthanc",
        &[orthanc_config.to_str().unwrap()],
    )
    .unwrap();
    let (fragile, capture) = fragile_host(
        &mut lab,
        &lan,
        "tcp dst port 104 or tcp dst port 11112 or tcp dst port 4242 or tcp dst port 2575",
    );
    lab.serve(&fragile, 104, "storescp", &["-od", store_arg, "104"])
        .unwrap();
    let config = lab.dir().join("agent.toml");
    std::fs::write(
        &config,
        "[dicom]\nenabled = true\nports = [104, 11112, 4242]\nhl7_ports = [2575]\ntimeout = \"2s\"\n",
    )
    .unwrap();
    let skip = daicho_lab::skip_probes(&["snmp", "netbios", "mdns", "http", "ssh", "ssdp"]);
    let args = [
        &["--config", config.to_str().unwrap(), "--exclude", FRAGILE][..],
        &skip,
    ]
    .concat();
    let (stdout, report) = scan_lan(&lab, &agent, &args);
    assert_eq!(
        capture.stop().unwrap(),
        0,
        "the excluded host got DICOM packets"
    );
    let dicom: Vec<_> = report
        .observations
        .iter()
        .filter(|o| o.source == Source::Dicom)
        .collect();
    assert_eq!(dicom.len(), 4, "{stdout}\n{dicom:#?}");
    let hl7: Vec<_> = report
        .observations
        .iter()
        .filter_map(|o| Some((o.ip?.to_string(), o.hl7.as_deref()?.port)))
        .collect();
    assert_eq!(hl7, [(MODALITY.to_owned(), 2575)], "{stdout}");
    let at = |ip: &str| {
        dicom
            .iter()
            .find(|o| o.ip.unwrap().to_string() == ip)
            .and_then(|o| o.dicom.as_deref())
            .unwrap_or_else(|| panic!("no DICOM answer from {ip}: {dicom:#?}"))
    };
    let accepting = at(MODALITY);
    assert!(accepting.accepted, "{accepting:?}");
    assert_eq!(accepting.port, 11112);
    assert_eq!(accepting.echo_status, Some(0), "{accepting:?}");
    assert!(
        accepting
            .implementation_version_name
            .as_deref()
            .is_some_and(|n| n.starts_with("OFFIS_DCMTK")),
        "{accepting:?}"
    );
    assert!(accepting.implementation_class_uid.is_some());
    // Orthanc speaks DICOM through DCMTK: it names DCMTK's implementation
    // (OFFIS root 1.2.276.0.7230010.3), not its own.
    let orthanc = at(ORTHANC);
    assert!(
        orthanc.accepted && orthanc.echo_status == Some(0),
        "{orthanc:?}"
    );
    assert!(
        orthanc
            .implementation_class_uid
            .as_deref()
            .is_some_and(|uid| uid.starts_with("1.2.276.0.7230010.3")),
        "{orthanc:?}"
    );
    for node in [REFUSING, STRICT] {
        let refused = at(node);
        assert!(
            !refused.accepted && refused.rejected.is_some(),
            "{node}: {refused:?}"
        );
    }
    assert!(
        at(STRICT)
            .rejected
            .as_deref()
            .is_some_and(|r| r.contains("called AE title not recognized")),
        "the called AE title is why: {:?}",
        at(STRICT)
    );
    let run = report
        .probe_runs
        .iter()
        .find(|r| r.probe == Source::Dicom)
        .unwrap();
    assert!(
        run.notes[0].starts_with("4 DICOM answers")
            && run.notes[0].ends_with("1 HL7 MLLP ports open"),
        "{:?}",
        run.notes
    );
    // The modality is imaging equipment to the collector's identification.
    let observations: Vec<&daicho_report::Observation> = dicom
        .iter()
        .copied()
        .filter(|o| o.ip.unwrap().to_string() == MODALITY)
        .collect();
    let identity = daicho_identify::identify(&observations, &daicho_identify::Tables::builtin());
    assert_eq!(
        identity.kind.map(|k| k.value),
        Some(daicho_identify::Kind::MedicalImaging)
    );
    drop(fragile);
}

/// Passive DHCP client fingerprints: busybox `udhcpc` clients broadcasting
/// DISCOVERs (no server answers them) are heard while listening — their
/// option lists, vendor class and host names — without the agent sending
/// anything.
#[test]
fn dhcp_clients_are_heard_with_their_option_lists_and_vendor_class() {
    if !daicho_lab::can_run("dhcp_clients_are_heard") {
        return;
    }
    let (mut lab, lan, agent) = lan_lab("dhc");
    let plain = lab.host("plain").unwrap();
    const PLAIN_MAC: &str = "00:1b:21:00:0d:01";
    const WINDOWS_MAC: &str = "00:1b:21:00:0d:02";
    const DHCLIENT_MAC: &str = "00:1b:21:00:0d:03";
    lab.attach(&plain, &lan, "eth0", Some(PLAIN_MAC), &[])
        .unwrap();
    let windows_like = lab.host("winlike").unwrap();
    lab.attach(&windows_like, &lan, "eth0", Some(WINDOWS_MAC), &[])
        .unwrap();
    let workstation = lab.host("dhclient").unwrap();
    lab.attach(&workstation, &lan, "eth0", Some(DHCLIENT_MAC), &[])
        .unwrap();
    let config = lab.dir().join("agent.toml");
    std::fs::write(&config, "[dhcp]\nlisten = \"6s\"\n").unwrap();
    // The clients start once the agent listens; each gives up after three
    // DISCOVERs a second apart.
    lab.spawn(
        &plain,
        "sh",
        &["-c", "sleep 2; busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -x hostname:ward-tablet -s /bin/true"],
    )
    .unwrap();
    lab.spawn(
        &windows_like,
        "sh",
        &[
            "-c",
            "sleep 2; busybox udhcpc -i eth0 -f -q -n -t 3 -T 1 -V 'MSFT 5.0' -s /bin/true",
        ],
    )
    .unwrap();
    // Debian's own client (isc-dhcp-client) with its stock dhclient.conf,
    // its lease and pid files in the lab; it would retry for a minute.
    let leases = lab.dir().join("dhclient.leases");
    let pid = lab.dir().join("dhclient.pid");
    lab.spawn(
        &workstation,
        "sh",
        &[
            "-c",
            &format!(
                "sleep 2; timeout 6 dhclient -d -1 -sf /bin/true -lf {} -pf {} eth0",
                leases.display(),
                pid.display()
            ),
        ],
    )
    .unwrap();
    // Every DHCP packet on the wire that is not the clients' own.
    let sent = Capture::start(
        &agent,
        "eth0",
        &format!("(udp port 67 or udp port 68) and not ether src {PLAIN_MAC} and not ether src {WINDOWS_MAC} and not ether src {DHCLIENT_MAC}"),
        &lab.dir().join("agent-dhcp.pcap"),
    )
    .unwrap();
    let skip = daicho_lab::skip_probes(&["snmp", "netbios", "mdns", "http", "ssh", "ssdp"]);
    let args = [&["--config", config.to_str().unwrap()][..], &skip].concat();
    let (stdout, report) = scan_lan(&lab, &agent, &args);
    let clients: Vec<_> = report
        .observations
        .iter()
        .filter_map(|o| Some((o, o.dhcp_client.as_deref()?)))
        .collect();
    assert_eq!(clients.len(), 3, "{stdout}\n{clients:#?}");
    let heard_from = |mac: &str| {
        *clients
            .iter()
            .find(|(o, _)| o.mac.map(|m| m.to_string()).as_deref() == Some(mac))
            .unwrap_or_else(|| panic!("{mac}: {clients:#?}"))
    };
    let (_, heard) = heard_from(PLAIN_MAC);
    assert_eq!(heard.message, "discover");
    assert_eq!(heard.host_name.as_deref(), Some("ward-tablet"));
    assert!(!heard.parameter_list.is_empty());
    let tables = daicho_identify::Tables::builtin();
    let stack = tables.dhcp_stack(&heard.parameter_list);
    assert_eq!(
        stack.map(|s| s.os.as_str()),
        Some("Linux"),
        "udhcpc's list {:?} is in data/dhcp-parameter-lists.tsv",
        heard.parameter_list
    );
    let (_, dhclient) = heard_from(DHCLIENT_MAC);
    assert_ne!(dhclient.parameter_list, heard.parameter_list);
    assert_eq!(
        tables
            .dhcp_stack(&dhclient.parameter_list)
            .map(|s| s.os.as_str()),
        Some("Linux"),
        "dhclient's list {:?} is in data/dhcp-parameter-lists.tsv",
        dhclient.parameter_list
    );
    let (windows_observation, windows) = heard_from(WINDOWS_MAC);
    assert_eq!(windows.vendor_class.as_deref(), Some("MSFT 5.0"));
    let identity = daicho_identify::identify(&[windows_observation], &tables);
    assert_eq!(
        identity.os.map(|o| o.value.family),
        Some("Windows".to_owned()),
        "Recog's dhcp_vendor_class knows MSFT 5.0"
    );
    // Listening sends nothing.
    assert_eq!(
        sent.stop().unwrap(),
        0,
        "the agent sent DHCP packets while listening"
    );
}
