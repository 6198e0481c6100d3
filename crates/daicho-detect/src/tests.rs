use serde_json::{Value, json};

use super::*;

fn report(agent: &str, observations: Value) -> Report {
    let text = json!({
        "schema_version": daicho_report::SCHEMA_VERSION,
        "agent": {"id": agent, "hostname": agent, "version": "0.1.0"},
        "scan_id": "01a22164-44af-7185-9795-d0f99a55200c",
        "started_at": "2026-11-28T00:00:00Z",
        "finished_at": "2026-11-28T00:00:05Z",
        "segments": [],
        "observations": observations,
    });
    Report::from_json(text.to_string().as_bytes()).unwrap()
}

fn at(source: &str, interface: &str, ip: &str, extra: Value) -> Value {
    let mut o =
        json!({"source": source, "interface": interface, "at": "2026-11-28T00:00:01Z", "ip": ip});
    o.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    o
}

fn kinds(findings: &[Finding]) -> Vec<(FindingKind, f32)> {
    findings.iter().map(|f| (f.kind, f.confidence)).collect()
}

#[test]
fn an_address_table_with_two_networks_is_dual_homed_unless_the_host_routes() {
    let snmp = |forwarding: bool| {
        json!({"snmp": {"profile": "ro", "ip_forwarding": forwarding,
            "interfaces": [{"index": 2, "name": "eth0"}, {"index": 3, "name": "eth1"}],
            "addresses": [
                {"ip": "198.18.1.40", "prefix_len": 24, "if_index": 2},
                {"ip": "198.18.2.40", "prefix_len": 24, "if_index": 3},
                {"ip": "127.0.0.1", "prefix_len": 8, "if_index": 1}]}})
    };
    let pc = report("a", json!([at("snmp", "eth0", "198.18.1.40", snmp(false))]));
    let findings = detect(&[&pc], &Fingerprints::builtin());
    assert_eq!(kinds(&findings), [(FindingKind::DualHomed, 0.9)]);
    assert_eq!(
        findings[0].evidence[0].text.render(daicho_report::Lang::En),
        "the address table of 198.18.1.40 lists 198.18.2.40/24 on eth1 (ifIndex 3) — an interface on another network"
    );
    let router = report("a", json!([at("snmp", "eth0", "198.18.1.40", snmp(true))]));
    assert!(detect(&[&router], &Fingerprints::builtin()).is_empty());
    // Dual-stack is not dual-homed: an IPv6 address (say, from a router
    // advertisement) on the interface we reached; on another one it is.
    let stack = |if_index: u32| {
        json!({"snmp": {"profile": "ro", "ip_forwarding": false,
            "interfaces": [{"index": 2, "name": "eth0"}, {"index": 3, "name": "eth1"}],
            "addresses": [
                {"ip": "198.18.1.41", "prefix_len": 24, "if_index": 2},
                {"ip": "2001:db8:2::41", "prefix_len": 64, "if_index": if_index}]}})
    };
    let dual_stack = report("a", json!([at("snmp", "eth0", "198.18.1.41", stack(2))]));
    assert!(detect(&[&dual_stack], &Fingerprints::builtin()).is_empty());
    // Nor is an IPv6 address on another interface (a tunnel, a second
    // NIC with only IPv6): the hospital's other network is IPv4.
    let other_nic = report("a", json!([at("snmp", "eth0", "198.18.1.41", stack(3))]));
    assert!(detect(&[&other_nic], &Fingerprints::builtin()).is_empty());
}

#[test]
fn unknown_forwarding_is_unknown_a_device_that_routes_is_not_called_2_mai_zashi() {
    let device = |extra: Value| {
        let mut snmp = json!({"profile": "ro",
            "interfaces": [{"index": 2, "name": "eth0"}, {"index": 3, "name": "eth1"}],
            "addresses": [
                {"ip": "198.18.1.40", "prefix_len": 24, "if_index": 2},
                {"ip": "198.18.7.40", "prefix_len": 24, "if_index": 3},
                {"ip": "0.0.0.0", "prefix_len": 0, "if_index": 9}]});
        snmp.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        report(
            "a",
            json!([at("snmp", "eth0", "198.18.1.40", json!({"snmp": snmp}))]),
        )
    };
    let fingerprints = Fingerprints::builtin();
    // Nothing says it routes: a finding, softer, saying what is unknown.
    let quiet = detect(&[&device(json!({}))], &fingerprints);
    assert_eq!(kinds(&quiet), [(FindingKind::DualHomed, 0.6)]);
    assert!(quiet[0].evidence.iter().any(|e| {
        e.text
            .render(daicho_report::Lang::En)
            .contains("ipForwarding unreadable")
    }));
    // sysServices with layer 3 (a router's 6 or 78), or next hops out of
    // two interfaces: cannot tell it from a router, no finding.
    for routing in [
        json!({"sys_services": 78}),
        json!({"routes": [
            {"destination": "0.0.0.0", "prefix_len": 0, "next_hop": "198.18.1.1", "if_index": 2},
            {"destination": "198.18.64.0", "prefix_len": 18, "next_hop": "198.18.7.1", "if_index": 3}]}),
    ] {
        assert!(
            detect(&[&device(routing.clone())], &fingerprints).is_empty(),
            "{routing}"
        );
    }
    // A host's sysServices (net-snmp: 72, layers 4 and 7) is no routing.
    assert_eq!(
        kinds(&detect(
            &[&device(json!({"sys_services": 72}))],
            &fingerprints
        ))
        .len(),
        1
    );
}

#[test]
fn one_ssh_key_on_two_segments_even_from_two_agents_is_one_dual_homed_host() {
    let ssh = |ip: &str, interface: &str| {
        at(
            "ssh",
            interface,
            ip,
            json!({"ssh": {"port": 22, "banner": "SSH-2.0-x", "fingerprint": "SHA256:same"}}),
        )
    };
    let outpatient = report("agent-1f", json!([ssh("198.18.1.33", "eth0")]));
    let ward = report("agent-3f", json!([ssh("198.18.2.33", "eth0")]));
    let findings = detect(&[&outpatient, &ward], &Fingerprints::builtin());
    assert_eq!(kinds(&findings), [(FindingKind::DualHomed, 0.9)]);
    assert!(
        findings[0].evidence[0]
            .text.render(daicho_report::Lang::En)
            .contains("SSH host key SHA256:same answered at 198.18.1.33 on agent-1f/eth0, 198.18.2.33 on agent-3f/eth0"),
        "{findings:?}"
    );
}

#[test]
fn weak_signs_count_only_together() {
    let name = |ip: &str, interface: &str| {
        at(
            "mdns",
            interface,
            ip,
            json!({"mdns": {"host": "dual-pc.local."}}),
        )
    };
    let mac = |ip: &str, interface: &str, mac: &str| at("arp", interface, ip, json!({"mac": mac}));
    let name_only = report(
        "a",
        json!([name("198.18.1.33", "eth1"), name("198.18.2.33", "eth2")]),
    );
    assert!(
        detect(&[&name_only], &Fingerprints::builtin()).is_empty(),
        "one weak sign"
    );
    let both = report(
        "a",
        json!([
            name("198.18.1.33", "eth1"),
            mac("198.18.1.33", "eth1", "00:1b:21:00:01:33"),
            name("198.18.2.33", "eth2"),
            mac("198.18.2.33", "eth2", "00:1b:21:00:01:34"),
        ]),
    );
    let findings = detect(&[&both], &Fingerprints::builtin());
    assert_eq!(kinds(&findings), [(FindingKind::DualHomed, 0.6)]);
    assert_eq!(findings[0].evidence.len(), 2, "{findings:?}");
    // Adjacent means the same first five bytes and at most 2 apart, found
    // past other copies of the same MAC and never across a gap of 3.
    let many = report(
        "a",
        json!([
            name("198.18.1.33", "eth1"),
            mac("198.18.1.33", "eth1", "00:1b:21:00:01:33"),
            mac("198.18.1.34", "eth1", "00:1b:21:00:01:33"),
            mac("198.18.1.35", "eth1", "00:1b:21:00:01:33"),
            name("198.18.2.33", "eth2"),
            mac("198.18.2.33", "eth2", "00:1b:21:00:01:35"),
            name("198.18.3.33", "eth3"),
            mac("198.18.3.33", "eth3", "00:1b:21:00:01:38"),
        ]),
    );
    let findings = detect(&[&many], &Fingerprints::builtin());
    let pairs: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{:?}-{:?}",
                f.subjects[0].ip.unwrap(),
                f.subjects[1].ip.unwrap()
            )
        })
        .collect();
    assert_eq!(pairs, ["198.18.1.33-198.18.2.33"], "{findings:#?}");
}

#[test]
fn a_wwan_interface_or_an_own_uplink_makes_a_mobile_router_a_maker_alone_does_not() {
    let lte = report(
        "a",
        json!([at(
            "snmp",
            "eth0",
            "198.18.2.254",
            json!({"snmp": {"profile": "ro", "enterprise": 48690,
            "interfaces": [{"index": 4, "name": "wwan0", "if_type": 243}],
            "routes": [{"destination": "0.0.0.0", "prefix_len": 0, "if_index": 4}]}})
        )]),
    );
    let findings = detect(&[&lte], &Fingerprints::builtin());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::MobileRouter);
    assert!(
        findings[0].evidence[0]
            .text
            .render(daicho_report::Lang::En)
            .contains("wwan0 (ifIndex 4) of ifType 243")
    );
    assert!(
        findings[0].evidence[0]
            .text
            .render(daicho_report::Lang::En)
            .contains("default route goes out through it")
    );
    assert!(
        findings[0].evidence[1]
            .text
            .render(daicho_report::Lang::En)
            .contains("Teltonika")
    );

    // With a LAN leg too, it is still said once, as a mobile router.
    let with_lan = report(
        "a",
        json!([at(
            "snmp",
            "eth0",
            "198.18.2.254",
            json!({"snmp": {"profile": "ro", "ip_forwarding": false,
            "interfaces": [{"index": 2, "name": "eth0"}, {"index": 4, "name": "wwan0", "if_type": 243}],
            "addresses": [
                {"ip": "198.18.2.254", "prefix_len": 24, "if_index": 2},
                {"ip": "198.18.3.2", "prefix_len": 30, "if_index": 4}]}})
        )]),
    );
    let findings = detect(&[&with_lan], &Fingerprints::builtin());
    assert_eq!(kinds(&findings), [(FindingKind::MobileRouter, 0.9)]);

    let maker_only = report(
        "a",
        json!([at(
            "snmp",
            "eth0",
            "198.18.2.254",
            json!({"snmp": {"profile": "ro", "enterprise": 48690}})
        )]),
    );
    assert!(detect(&[&maker_only], &Fingerprints::builtin()).is_empty());

    let gateway = report(
        "a",
        json!([at(
            "ssdp",
            "eth0",
            "198.18.2.254",
            json!({"ssdp": {"uplink": {"external_ip": "100.64.3.4", "kind": "carrier_nat"}}})
        )]),
    );
    let findings = detect(&[&gateway], &Fingerprints::builtin());
    assert_eq!(kinds(&findings), [(FindingKind::MobileRouter, 0.8)]);
    assert!(
        findings[0].evidence[0]
            .text
            .render(daicho_report::Lang::En)
            .contains("100.64.3.4 (carrier-grade NAT")
    );
}

#[test]
fn sites_add_their_own_fingerprints_and_bad_files_are_named() {
    let dir = std::env::temp_dir().join(format!("daicho-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("site.toml");
    std::fs::write(&file, "version = 1\n[[enterprise]]\nnumber = 99999\nmaker = \"Local LTE\"\nsource = \"our vendor\"\n").unwrap();
    let tables = Fingerprints::with_file(&file).unwrap();
    assert_eq!(tables.cellular_maker(99999), Some("Local LTE"));
    assert_eq!(tables.cellular_maker(48690), Some("Teltonika"));
    std::fs::write(&file, "version = 2\n").unwrap();
    assert!(
        Fingerprints::with_file(&file)
            .unwrap_err()
            .0
            .contains("version 2")
    );
    std::fs::write(
        &file,
        "version = 1\n[[enterprise]]\nnumber = 1\nmaker = \"x\"\nsource = \"\"\n",
    )
    .unwrap();
    assert!(
        Fingerprints::with_file(&file)
            .unwrap_err()
            .0
            .contains("no source")
    );
    assert!(
        Fingerprints::with_file(&dir.join("missing.toml"))
            .unwrap_err()
            .0
            .contains("missing.toml")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn banner(title: &str) -> Value {
    json!({"http": {"banners": [{"port": 443, "tls": true, "status": 200, "title": title}]}})
}

#[test]
fn a_vpn_portal_is_remote_access_and_an_ordinary_page_is_not() {
    let fingerprints = Fingerprints::builtin();
    let r = report(
        "a",
        json!([
            at(
                "http",
                "eth0",
                "198.18.1.60",
                banner("FortiGate - SSL-VPN Portal")
            ),
            at("http", "eth0", "198.18.1.61", banner("電子カルテ ログイン")),
            // A VPN maker's number alone is a hint, not a finding.
            at(
                "snmp",
                "eth0",
                "198.18.1.62",
                json!({"snmp": {"profile": "ro", "enterprise": 12356}})
            ),
        ]),
    );
    let findings = detect(&[&r], &fingerprints);
    assert_eq!(kinds(&findings), [(FindingKind::RemoteAccess, 0.8)]);
    assert_eq!(
        findings[0].subjects[0].ip,
        Some("198.18.1.60".parse().unwrap())
    );
    assert!(
        findings[0].evidence[0]
            .text
            .render(daicho_report::Lang::En)
            .contains("Fortinet FortiGate")
    );
}

#[test]
fn a_site_file_adds_a_banner_and_changes_the_weights() {
    let dir = std::env::temp_dir().join(format!("daicho-fp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("site.toml");
    std::fs::write(
        &file,
        "version = 1\n[[remote_access.banner]]\npattern = \"Hoshu-Gateway\"\nproduct = \"our vendor's maintenance box\"\n\
         source = \"vendor manual p. 12\"\n[scores]\nremote_access_enterprise = 0.8\n",
    )
    .unwrap();
    let site = Fingerprints::with_file(&file).unwrap();
    let r = report(
        "a",
        json!([
            at("http", "eth0", "198.18.1.70", banner("hoshu-gateway login")),
            at(
                "snmp",
                "eth0",
                "198.18.1.62",
                json!({"snmp": {"profile": "ro", "enterprise": 12356}})
            ),
        ]),
    );
    assert_eq!(detect(&[&r], &site).len(), 2);
    assert!(detect(&[&r], &Fingerprints::builtin()).is_empty());
    std::fs::write(
        &file,
        "version = 1\n[[remote_access.banner]]\npattern = \"x\"\nproduct = \"y\"\nsource = \"\"\n",
    )
    .unwrap();
    let err = Fingerprints::with_file(&file).unwrap_err();
    assert!(err.to_string().contains("no source"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unsanctioned_dhcp_server_or_gateway_is_a_finding_and_the_sanctioned_one_is_not() {
    let offer = |sanctioned: Option<bool>, unexpected: &[&str]| {
        json!({"dhcp": {"offers": [{"server_id": "198.18.1.254", "offered": "198.18.1.150",
            "routers": ["198.18.1.254"], "sanctioned": sanctioned, "unexpected_routers": unexpected}]}})
    };
    let fingerprints = Fingerprints::builtin();
    let r = report(
        "a",
        json!([
            at("dhcp", "eth0", "198.18.1.1", offer(Some(true), &[])),
            at(
                "dhcp",
                "eth0",
                "198.18.1.254",
                offer(Some(false), &["198.18.1.254"])
            ),
        ]),
    );
    let findings = detect(&[&r], &fingerprints);
    assert_eq!(kinds(&findings), [(FindingKind::RogueDhcp, 0.95)]);
    assert_eq!(
        findings[0].subjects[0].ip,
        Some("198.18.1.254".parse().unwrap())
    );
    assert_eq!(findings[0].evidence.len(), 3, "{:#?}", findings[0].evidence);
    // Without a sanctioned list: two servers on one segment are suspect.
    let unconfigured = report(
        "a",
        json!([
            at("dhcp", "eth0", "198.18.1.1", offer(None, &[])),
            at("dhcp", "eth0", "198.18.1.254", offer(None, &[])),
        ]),
    );
    assert_eq!(detect(&[&unconfigured], &fingerprints).len(), 2);
    let alone = report(
        "a",
        json!([at("dhcp", "eth0", "198.18.1.1", offer(None, &[]))]),
    );
    assert!(detect(&[&alone], &fingerprints).is_empty());
    // Heard passively, answering another client.
    let mut heard = offer(Some(false), &[]);
    heard["dhcp"]["offers"][0]["heard_for"] = json!("52:54:00:12:34:56");
    let heard = report("a", json!([at("listen", "eth0", "198.18.1.254", heard)]));
    let findings = detect(&[&heard], &fingerprints);
    assert!(
        findings[0].evidence[0].text.render(daicho_report::Lang::En).starts_with("198.18.1.254 on eth0 was heard answering client 52:54:00:12:34:56 offering 198.18.1.150"),
        "{findings:#?}"
    );
}

#[test]
fn an_unsanctioned_ipv6_router_is_a_finding_and_with_a_cellular_mac_a_mobile_router() {
    let advert = |mac: &str, lifetime: u16, sanctioned: Option<bool>| {
        let mut o = at(
            "listen",
            "eth0",
            "fe80::21e:42ff:fe0a:b0c",
            json!({"mac": mac, "router_advert": {"router_lifetime": lifetime,
                "prefixes": ["2001:db8:7::/64"], "sanctioned": sanctioned}}),
        );
        if sanctioned.is_none() {
            o["router_advert"]
                .as_object_mut()
                .unwrap()
                .remove("sanctioned");
        }
        o
    };
    let arp = |mac: &str| at("arp", "eth0", "198.18.1.60", json!({"mac": mac}));
    let fingerprints = Fingerprints::builtin();
    // Teltonika's OUI (00:1e:42) and an advert nobody sanctioned: two signs.
    let lte = report(
        "a",
        json!([
            arp("00:1e:42:0a:0b:0c"),
            advert("00:1e:42:0a:0b:0c", 1800, None)
        ]),
    );
    let findings = detect(&[&lte], &fingerprints);
    let found: Vec<(FindingKind, f32)> = kinds(&findings)
        .into_iter()
        .map(|(kind, confidence)| (kind, (confidence * 100.0).round() / 100.0))
        .collect();
    assert_eq!(
        found,
        [
            (FindingKind::MobileRouter, 0.7),
            (FindingKind::RogueDhcp, 0.7)
        ],
        "{findings:#?}"
    );
    for finding in &findings {
        assert_eq!(
            finding.subjects[0].ip,
            Some("198.18.1.60".parse().unwrap()),
            "known by its IPv4 address"
        );
    }
    let rogue = findings
        .iter()
        .find(|f| f.kind == FindingKind::RogueDhcp)
        .unwrap();
    assert_eq!(
        rogue.evidence[0].text.render(daicho_report::Lang::En),
        "fe80::21e:42ff:fe0a:b0c (00:1e:42:0a:0b:0c) on eth0 advertises itself as IPv6 default router for 1800 s, \
         handing out prefix 2001:db8:7::/64 — no IPv6 router is sanctioned for this segment ([dhcp] sanctioned_ipv6_routers is empty)"
    );
    // An ordinary maker's router (a home router plugged in, say) with its
    // own DHCP server and advert: rogue on both counts, but nothing
    // cellular about it, so not a mobile router.
    let dhcp = at(
        "dhcp",
        "eth0",
        "198.18.1.60",
        json!({"dhcp": {"offers": [{"offered": "198.18.1.150", "routers": ["198.18.1.60"], "sanctioned": false}]}}),
    );
    let other = report(
        "a",
        json!([
            arp("52:54:00:0a:0b:0c"),
            advert("52:54:00:0a:0b:0c", 1800, None),
            dhcp
        ]),
    );
    // One device, one finding of the kind: both its DHCP offer and its
    // advertisement are the evidence.
    let rogue = detect(&[&other], &fingerprints);
    assert_eq!(kinds(&rogue), [(FindingKind::RogueDhcp, 0.95)]);
    assert!(rogue[0].evidence.iter().any(|e| e.source == Source::Dhcp));
    assert!(rogue[0].evidence.iter().any(|e| e.source == Source::Listen));
    let listed_elsewhere = report("a", json!([advert("52:54:00:0a:0b:0c", 1800, Some(false))]));
    assert_eq!(
        kinds(&detect(&[&listed_elsewhere], &fingerprints)),
        [(FindingKind::RogueDhcp, 0.95)]
    );
    // Sanctioned, or not offering a default route (lifetime 0): nothing.
    let sanctioned = report(
        "a",
        json!([
            arp("00:1e:42:0a:0b:0c"),
            advert("00:1e:42:0a:0b:0c", 1800, Some(true))
        ]),
    );
    assert!(detect(&[&sanctioned], &fingerprints).is_empty());
    let not_default = report("a", json!([advert("52:54:00:0a:0b:0c", 0, None)]));
    assert!(detect(&[&not_default], &fingerprints).is_empty());
}

#[test]
fn an_eui64_link_local_address_of_another_nic_is_a_weak_sign_that_counts_with_a_second() {
    let mdns =
        |host: &str, addresses: &[&str]| json!({"mdns": {"host": host, "addresses": addresses}});
    let arp = |mac: &str| json!({"mac": mac});
    let seen = |with_eui64: bool| {
        let mut addresses = vec!["198.18.1.33"];
        if with_eui64 {
            // fe80::21b:21ff:feaa:bbcc is made from 00:1b:21:aa:bb:cc.
            addresses.push("fe80::21b:21ff:feaa:bbcc");
        }
        report(
            "a",
            json!([
                at("arp", "eth0", "198.18.1.33", arp("00:1b:21:00:01:33")),
                at(
                    "mdns",
                    "eth0",
                    "198.18.1.33",
                    mdns("ward-pc.local.", &addresses)
                ),
                at("arp", "eth1", "198.18.2.77", arp("00:1b:21:aa:bb:cc")),
                at(
                    "mdns",
                    "eth1",
                    "198.18.2.77",
                    mdns("ward-pc.local.", &["198.18.2.77"])
                ),
            ]),
        )
    };
    let fingerprints = Fingerprints::builtin();
    assert!(
        detect(&[&seen(false)], &fingerprints).is_empty(),
        "one name alone is a hint"
    );
    let findings = detect(&[&seen(true)], &fingerprints);
    assert_eq!(kinds(&findings), [(FindingKind::DualHomed, 0.6)]);
    assert!(
        findings[0].evidence.iter().any(|e| e
            .text
            .render(daicho_report::Lang::En)
            .contains("fe80::21b:21ff:feaa:bbcc")
            && e.text.render(daicho_report::Lang::En).contains("EUI-64")),
        "{:#?}",
        findings[0].evidence
    );
}

/// The table of true and false cases, on recorded observations.
#[test]
fn true_and_false_cases_of_the_2_2_table() {
    let fingerprints = Fingerprints::builtin();
    let snmp = |interfaces: Value, routes: Value, addresses: Value| json!({"snmp": {"profile": "ro", "interfaces": interfaces, "routes": routes, "addresses": addresses}});
    let default_via = |index: u32| json!([{"destination": "0.0.0.0", "prefix_len": 0, "next_hop": "198.18.200.1", "if_index": index}]);
    let cases: Vec<(&str, Value, Vec<FindingKind>)> = vec![
        (
            "a printer with two addresses in one network",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.21",
                snmp(
                    json!([{"index": 2, "name": "eth0"}]),
                    json!([]),
                    json!([{"ip": "198.18.1.21", "prefix_len": 24, "if_index": 2},
                       {"ip": "198.18.1.22", "prefix_len": 24, "if_index": 2}])
                )
            )]),
            vec![],
        ),
        (
            "a phone with a randomized MAC",
            json!([at(
                "arp",
                "eth0",
                "198.18.1.80",
                json!({"mac": "da:a1:19:00:00:01", "flags": ["locally_administered"]})
            )]),
            vec![],
        ),
        (
            "a Huawei phone (no cellular router sign at all)",
            json!([at(
                "arp",
                "eth0",
                "198.18.1.81",
                json!({"mac": "00:e0:fc:12:34:56"})
            )]),
            vec![],
        ),
        (
            "a Huawei LTE router: a WWAN interface holding the default route",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.254",
                snmp(
                    json!([{"index": 2, "name": "eth0"}, {"index": 3, "name": "wwan0", "if_type": 243}]),
                    default_via(3),
                    json!([])
                )
            )]),
            vec![FindingKind::MobileRouter],
        ),
        (
            "a Teltonika router on the LAN: its MAC and its admin page",
            json!([
                at(
                    "arp",
                    "eth0",
                    "198.18.1.253",
                    json!({"mac": "00:1e:42:00:00:01"})
                ),
                at(
                    "http",
                    "eth0",
                    "198.18.1.253",
                    banner("Teltonika RUTX11 - Login")
                ),
            ]),
            vec![FindingKind::MobileRouter],
        ),
        (
            "a PC whose USB dongle holds the default route",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.60",
                snmp(
                    json!([{"index": 2, "name": "eth0"}, {"index": 5, "name": "usb0"}]),
                    default_via(5),
                    json!([])
                )
            )]),
            vec![FindingKind::MobileRouter],
        ),
        (
            "a PC with a USB network adapter that routes nothing",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.61",
                snmp(
                    json!([{"index": 2, "name": "eth0"}, {"index": 5, "name": "usb0"}]),
                    json!([]),
                    json!([])
                )
            )]),
            vec![],
        ),
    ];
    for (case, observations, expected) in cases {
        let r = report("a", observations);
        let found: Vec<FindingKind> = detect(&[&r], &fingerprints)
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(found, expected, "{case}");
    }
}

#[test]
fn one_key_at_thousands_of_addresses_is_shared_and_detection_stays_linear() {
    // A vendor's default SSH host key on 1,600 devices of two segments:
    // no host has a leg anywhere, and detection takes no quadratic time.
    let mut observations = Vec::new();
    for n in 0..1600u32 {
        let interface = if n % 2 == 0 { "eth0" } else { "eth1" };
        let ip = format!("198.18.{}.{}", 10 + n / 250, n % 250 + 1);
        let mac = format!("00:1b:21:00:{:02x}:{:02x}", n / 256, n % 256);
        observations.push(at("arp", interface, &ip, json!({"mac": mac})));
        observations.push(at(
            "ssh",
            interface,
            &ip,
            json!({"ssh": {"port": 22, "banner": "SSH-2.0-dropbear", "fingerprint": "SHA256:vendor-default"}}),
        ));
    }
    let fleet = report("a", Value::Array(observations));
    let started = std::time::Instant::now();
    let findings = detect(&[&fleet], &Fingerprints::builtin());
    assert!(
        findings.iter().all(|f| f.kind != FindingKind::DualHomed),
        "{:?}",
        kinds(&findings)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_key_two_macs_share_on_one_segment_joins_nothing_and_one_host_gives_one_finding() {
    let key =
        |fp: &str| json!({"ssh": {"port": 22, "banner": "SSH-2.0-OpenSSH_9.2", "fingerprint": fp}});
    // Two cloned VMs on eth0 with one key, and that key on eth1 too.
    let cloned = report(
        "a",
        json!([
            at(
                "arp",
                "eth0",
                "198.18.1.20",
                json!({"mac": "00:1b:21:00:00:20"})
            ),
            at("ssh", "eth0", "198.18.1.20", key("SHA256:clone")),
            at(
                "arp",
                "eth0",
                "198.18.1.21",
                json!({"mac": "00:1b:21:00:00:21"})
            ),
            at("ssh", "eth0", "198.18.1.21", key("SHA256:clone")),
            at(
                "arp",
                "eth1",
                "198.18.2.20",
                json!({"mac": "00:1b:21:00:01:20"})
            ),
            at("ssh", "eth1", "198.18.2.20", key("SHA256:clone")),
        ]),
    );
    assert!(detect(&[&cloned], &Fingerprints::builtin()).is_empty());
    // One PC: its key on both legs and its address table: one finding
    // with both kinds of evidence.
    let table = json!({"snmp": {"profile": "ro", "ip_forwarding": false,
        "interfaces": [{"index": 2, "name": "eth0"}, {"index": 3, "name": "eth1"}],
        "addresses": [
            {"ip": "198.18.1.33", "prefix_len": 24, "if_index": 2},
            {"ip": "198.18.2.33", "prefix_len": 24, "if_index": 3}]}});
    let pc = report(
        "a",
        json!([
            at(
                "arp",
                "eth0",
                "198.18.1.33",
                json!({"mac": "00:1b:21:00:00:33"})
            ),
            at("ssh", "eth0", "198.18.1.33", key("SHA256:pc-033")),
            at("snmp", "eth0", "198.18.1.33", table),
            at(
                "arp",
                "eth1",
                "198.18.2.33",
                json!({"mac": "00:1b:21:00:01:33"})
            ),
            at("ssh", "eth1", "198.18.2.33", key("SHA256:pc-033")),
        ]),
    );
    let findings = detect(&[&pc], &Fingerprints::builtin());
    assert_eq!(kinds(&findings), [(FindingKind::DualHomed, 0.9)]);
    let sources: Vec<Source> = findings[0].evidence.iter().map(|e| e.source).collect();
    assert!(
        sources.contains(&Source::Ssh) && sources.contains(&Source::Snmp),
        "{findings:#?}"
    );
}

/// Issue #22's classes of missed and false mobile routers, as recordings of
/// real devices show them.
#[test]
fn mobile_routers_real_devices_show_and_those_that_only_look_alike() {
    let fingerprints = Fingerprints::builtin();
    let snmp = |facts: Value| json!({"snmp": facts});
    let arp = |mac: &str, vendor: &str| json!({"mac": mac, "vendor": vendor});
    let default_via = |index: u32| json!([{"destination": "0.0.0.0", "prefix_len": 0, "next_hop": "100.64.0.1", "if_index": index}]);
    let cases: Vec<(&str, Value, bool)> = vec![
        (
            "Teltonika's newer MAC block (20:97:27) and its model in sysDescr",
            json!([
                at(
                    "arp",
                    "eth0",
                    "198.18.1.250",
                    arp("20:97:27:00:00:01", "TELTONIKA NETWORKS UAB")
                ),
                at(
                    "snmp",
                    "eth0",
                    "198.18.1.250",
                    snmp(json!({"profile": "ro", "enterprise": 8072,
                    "sys_descr": "Linux RUTX11 5.4.259 #0 SMP armv7l"}))
                ),
            ]),
            true,
        ),
        (
            "a Peplink under PePWave's enterprise number with a 'Cellular 1' link",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.249",
                snmp(json!({"profile": "ro", "enterprise": 27662,
                "interfaces": [{"index": 1, "name": "LAN"}, {"index": 2, "name": "Cellular 1"}]}))
            )]),
            true,
        ),
        (
            "a Cisco IR1101 whose hardware inventory lists a P-LTEA-EA module",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.248",
                snmp(json!({"profile": "ro", "enterprise": 9,
                "sys_descr": "Cisco IOS XE Software, IR1101 Software",
                "entities": [{"index": 1, "class": 3, "model": "IR1101-K9", "serial": "FCW1"},
                             {"index": 20, "class": 9, "model": "P-LTEA-EA", "serial": "FOC2"}]}))
            )]),
            true,
        ),
        (
            "a router with a Sierra Wireless EM7455 modem module",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.247",
                snmp(json!({"profile": "ro",
                "entities": [{"index": 7, "class": 9, "descr": "Sierra Wireless EM7455 LTE-A Modem", "serial": "X"}]}))
            )]),
            true,
        ),
        (
            "a FortiGate 3G4G model",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.246",
                snmp(json!({"profile": "ro", "enterprise": 12356,
                "sys_descr": "FortiGate-60E-3G4G v6.4.9"}))
            )]),
            true,
        ),
        (
            "a MikroTik whose lte1 holds the default route",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.245",
                snmp(json!({"profile": "ro", "enterprise": 14988,
                "interfaces": [{"index": 1, "name": "ether1"}, {"index": 7, "name": "lte1"}],
                "routes": default_via(7)}))
            )]),
            true,
        ),
        (
            "a Linux gateway whose rmnet_data0 holds the default route",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.244",
                snmp(json!({"profile": "ro",
                "interfaces": [{"index": 1, "name": "eth0"}, {"index": 9, "name": "rmnet_data0"}],
                "routes": default_via(9)}))
            )]),
            true,
        ),
        (
            "an IPv6 router nobody sanctioned that announces a NAT64 prefix",
            json!([at(
                "listen",
                "eth0",
                "fe80::1",
                json!({"mac": "52:54:00:00:00:09",
                "router_advert": {"router_lifetime": 1800, "pref64": ["64:ff9b::/96"]}})
            )]),
            true,
        ),
        (
            "pfSense: FreeBSD's IPsec enc0 has ifType 244",
            json!([at(
                "snmp",
                "eth0",
                "198.18.1.1",
                snmp(json!({"profile": "ro", "enterprise": 12325,
                "ip_forwarding": true,
                "interfaces": [{"index": 1, "name": "em0", "if_type": 6},
                               {"index": 5, "name": "enc0", "descr": "enc0", "if_type": 244}]}))
            )]),
            false,
        ),
        (
            "a Dell iDRAC with three usb interfaces",
            json!([
                at(
                    "arp",
                    "eth0",
                    "198.18.1.30",
                    arp("d0:94:66:00:00:30", "Dell Inc.")
                ),
                at(
                    "snmp",
                    "eth0",
                    "198.18.1.30",
                    snmp(json!({"profile": "ro", "enterprise": 674,
                    "interfaces": [{"index": 1, "name": "eth0"}, {"index": 2, "name": "usb0"},
                                   {"index": 3, "name": "usb1"}, {"index": 4, "name": "usb2"}]}))
                ),
            ]),
            false,
        ),
        (
            "an ordinary firewall and a switch",
            json!([
                at(
                    "snmp",
                    "eth0",
                    "198.18.1.2",
                    snmp(json!({"profile": "ro", "enterprise": 12356,
                    "ip_forwarding": true, "sys_descr": "FortiGate-100F v7.2.5"}))
                ),
                at(
                    "snmp",
                    "eth0",
                    "198.18.1.3",
                    snmp(json!({"profile": "ro", "enterprise": 2011,
                    "sys_descr": "Huawei Versatile Routing Platform Software, S5720-28X-LI-AC"}))
                ),
            ]),
            false,
        ),
    ];
    for (case, observations, mobile) in cases {
        let r = report("a", observations);
        let findings = detect(&[&r], &fingerprints);
        let found = findings.iter().any(|f| f.kind == FindingKind::MobileRouter);
        assert_eq!(found, mobile, "{case}: {findings:#?}");
    }
}
