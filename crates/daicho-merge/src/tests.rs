use std::sync::Arc;

use daicho_report::{
    AgentInfo, MacAddr, MdnsFacts, NetbiosFacts, Observation, Report, SCHEMA_VERSION, SnmpFacts,
    Source, SshFacts,
};

use super::*;

fn observation(source: Source, interface: &str, ip: &str) -> Observation {
    Observation::new(source, Arc::from(interface), Some(ip.parse().unwrap()))
}

fn arp(interface: &str, ip: &str, mac: &str) -> Observation {
    let mut o = observation(Source::Arp, interface, ip);
    o.mac = Some(mac.parse::<MacAddr>().unwrap());
    if o.mac.unwrap().is_locally_administered() {
        o.flags.push(Flag::LocallyAdministered);
    }
    o
}

fn ssh(interface: &str, ip: &str, fingerprint: &str) -> Observation {
    let mut o = observation(Source::Ssh, interface, ip);
    o.ssh = Some(Box::new(SshFacts {
        port: 22,
        banner: "SSH-2.0-OpenSSH_9.2".into(),
        key_type: Some("ssh-ed25519".into()),
        fingerprint: Some(fingerprint.into()),
        error: None,
    }));
    o
}

fn snmp_engine(interface: &str, ip: &str, engine: &str) -> Observation {
    let mut o = observation(Source::Snmp, interface, ip);
    o.snmp = Some(Box::new(SnmpFacts {
        profile: Some("ro".into()),
        engine_id: Some(engine.into()),
        sys_name: Some("core-sw".into()),
        ..SnmpFacts::default()
    }));
    o
}

fn names(interface: &str, ip: &str, netbios: &str, mdns: &str) -> Vec<Observation> {
    let mut a = observation(Source::Netbios, interface, ip);
    a.netbios = Some(Box::new(NetbiosFacts {
        computer_name: Some(netbios.into()),
        ..NetbiosFacts::default()
    }));
    let mut b = observation(Source::Mdns, interface, ip);
    b.mdns = Some(Box::new(MdnsFacts {
        host: mdns.into(),
        ..MdnsFacts::default()
    }));
    vec![a, b]
}

fn report(observations: Vec<Observation>) -> Report {
    report_from("agent-1", observations)
}

fn report_from(agent: &str, observations: Vec<Observation>) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        scan_id: uuid::Uuid::nil(),
        agent: AgentInfo {
            id: agent.into(),
            version: "0.1.0".into(),
            hostname: "agent".into(),
        },
        started_at: "2026-11-28T00:00:00Z".parse().unwrap(),
        finished_at: "2026-11-28T00:00:01Z".parse().unwrap(),
        segments: Vec::new(),
        observations,
        findings: Vec::new(),
        probe_runs: Vec::new(),
    }
}

/// Runs a sequence of reports through merge, applying each report's
/// decisions to a ledger as the collector does; returns, per report, the
/// device of each candidate (by IP) and the ledger's device count.
fn ingest(reports: &[Report]) -> (Vec<BTreeMap<String, DeviceId>>, usize) {
    let (seen, devices, _) = ingest_with_links(reports);
    (seen, devices)
}

/// A link: (the linked candidate's address, the device it links to, how
/// sure).
type Linked = (String, DeviceId, Confidence);

/// [`ingest`], with the links each report's decisions made.
fn ingest_with_links(reports: &[Report]) -> (Vec<BTreeMap<String, DeviceId>>, usize, Vec<Linked>) {
    let mut known = KnownKeys::new();
    let mut links = Vec::new();
    let mut addresses = KnownAddresses::default();
    let mut next_id = 1;
    let mut per_report = Vec::new();
    for report in reports {
        let found = candidates(report);
        let decisions = merge(&known, &addresses, &report.agent.id, &found);
        let mut created: BTreeMap<usize, DeviceId> = BTreeMap::new();
        let mut where_ = BTreeMap::new();
        for decision in decisions {
            let id = match decision.target {
                Target::Existing(id) => id,
                Target::New(n) => *created.entry(n).or_insert_with(|| {
                    next_id += 1;
                    next_id - 1
                }),
            };
            let candidate = &found[decision.candidate];
            for key in &candidate.keys {
                known.entry(key.clone()).or_insert(id);
            }
            let place = Place {
                agent: report.agent.id.clone(),
                interface: candidate.interface.clone(),
            };
            let ip = candidate.ip.unwrap();
            let named = addresses.named.entry(id).or_default();
            named.places.push(place.clone());
            named.macs.extend(
                candidate
                    .keys
                    .iter()
                    .filter(|k| k.kind == KeyKind::Mac)
                    .map(|k| k.value.parse::<daicho_report::MacAddr>().unwrap()),
            );
            for link in &decision.links {
                let to = match link.to {
                    Target::Existing(id) => id,
                    Target::New(n) => created[&n],
                };
                links.push((ip.to_string(), to, link.confidence));
            }
            addresses
                .held
                .entry(ip)
                .or_default()
                .push((id, place.clone()));
            for claim in &candidate.claims {
                let claims = addresses.claimed.entry(claim.ip).or_default();
                claims.push((id, place.clone(), claim.source));
            }
            where_.insert(ip.to_string(), id);
        }
        per_report.push(where_);
    }
    (per_report, (next_id - 1) as usize, links)
}

#[test]
fn one_router_with_many_addresses_is_one_device() {
    let mut observations = Vec::new();
    for ip in ["198.18.1.1", "198.18.2.1", "198.18.3.1"] {
        observations.push(arp("eth0", ip, "00:1a:eb:00:00:01"));
        observations.push(snmp_engine("eth0", ip, "80001f8880aa"));
    }
    let (seen, devices) = ingest(&[report(observations)]);
    assert_eq!(devices, 1, "{seen:?}");
}

#[test]
fn a_dhcp_address_reused_by_another_device_stays_two_devices() {
    let first = report(vec![arp("eth0", "198.18.1.50", "00:1b:21:00:00:01")]);
    let later = report(vec![arp("eth0", "198.18.1.50", "00:1b:21:00:00:02")]);
    let (seen, devices) = ingest(&[first, later]);
    assert_eq!(devices, 2);
    assert_ne!(seen[0]["198.18.1.50"], seen[1]["198.18.1.50"]);
}

#[test]
fn randomized_macs_identify_nothing_but_two_agreeing_names_do() {
    let phone = |mac: &str| report(vec![arp("eth0", "198.18.1.60", mac)]);
    let (_, devices) = ingest(&[phone("02:11:22:33:44:55"), phone("06:aa:bb:cc:dd:ee")]);
    assert_eq!(devices, 2, "each randomized MAC alone is no identity");

    let mut first = names("eth0", "198.18.1.61", "PC-7", "pc-7.local.");
    first.push(arp("eth0", "198.18.1.61", "02:11:22:33:44:55"));
    let mut later = names("eth0", "198.18.1.99", "pc-7", "PC-7.local.");
    later.push(arp("eth0", "198.18.1.99", "06:aa:bb:cc:dd:ee"));
    let (seen, devices) = ingest(&[report(first), report(later)]);
    assert_eq!(devices, 1, "NetBIOS and mDNS names agree");
    assert_eq!(seen[0]["198.18.1.61"], seen[1]["198.18.1.99"]);
}

#[test]
fn one_name_alone_does_not_join_and_says_so() {
    let mut a = names("eth0", "198.18.1.61", "PC-7", "pc-7.local.");
    a.truncate(1);
    let mut b = names("eth0", "198.18.1.62", "PC-7", "other.local.");
    b.truncate(1);
    let found = candidates(&report(vec![a.remove(0), b.remove(0)]));
    let decisions = merge(
        &KnownKeys::new(),
        &KnownAddresses::default(),
        "agent-1",
        &found,
    );
    assert_eq!(decisions[1].target, Target::New(1));
    assert!(
        decisions[1].reasons[0]
            .render(daicho_report::Lang::En)
            .contains("a name alone does not join"),
        "{decisions:?}"
    );
}

#[test]
fn a_device_that_changes_its_nic_but_keeps_its_ssh_key_stays_one() {
    let before = report(vec![
        arp("eth0", "198.18.1.70", "00:1b:21:00:00:70"),
        ssh("eth0", "198.18.1.70", "SHA256:abc"),
    ]);
    let after = report(vec![
        arp("eth0", "198.18.1.71", "00:1b:21:00:00:71"),
        ssh("eth0", "198.18.1.71", "SHA256:abc"),
    ]);
    let (seen, devices) = ingest(&[before, after]);
    assert_eq!(devices, 1);
    assert_eq!(seen[0]["198.18.1.70"], seen[1]["198.18.1.71"]);
}

#[test]
fn a_dual_homed_host_seen_on_two_segments_in_one_report_is_one_device() {
    let found = candidates(&report(vec![
        arp("eth1", "198.18.1.33", "00:1b:21:00:01:33"),
        ssh("eth1", "198.18.1.33", "SHA256:dual"),
        arp("eth2", "198.18.2.33", "00:1b:21:00:01:34"),
        ssh("eth2", "198.18.2.33", "SHA256:dual"),
    ]));
    let decisions = merge(
        &KnownKeys::new(),
        &KnownAddresses::default(),
        "agent-1",
        &found,
    );
    assert_eq!(decisions[0].target, Target::New(0));
    assert_eq!(decisions[1].target, Target::New(0));
    assert!(
        decisions[1].reasons[0]
            .render(daicho_report::Lang::En)
            .contains("SSH host key SHA256:dual matches a device first seen in this report"),
        "{decisions:?}"
    );
}

#[test]
fn strong_keys_pointing_at_two_devices_join_the_oldest_and_state_the_conflict() {
    let mut known = KnownKeys::new();
    known.insert(Key::new(KeyKind::Mac, "00:1b:21:00:00:01").unwrap(), 7);
    known.insert(Key::new(KeyKind::SshHostKey, "SHA256:x").unwrap(), 3);
    let found = candidates(&report(vec![
        arp("eth0", "198.18.1.5", "00:1b:21:00:00:01"),
        ssh("eth0", "198.18.1.5", "SHA256:x"),
    ]));
    let decisions = merge(&known, &KnownAddresses::default(), "agent-1", &found);
    assert_eq!(decisions[0].target, Target::Existing(3));
    assert!(
        decisions[0]
            .reasons
            .iter()
            .map(|r| r.render(daicho_report::Lang::En))
            .any(|r| r.starts_with("conflict:") && r.contains("device #7"))
    );
}

#[test]
fn printers_and_upses_give_their_own_tables_and_platform_enterprises_no_maker() {
    let snmp = |facts: SnmpFacts| {
        let mut o = Observation::new(
            Source::Snmp,
            "eth0".into(),
            Some("198.18.1.21".parse().unwrap()),
        );
        o.snmp = Some(Box::new(facts));
        o
    };
    let printer = snmp(SnmpFacts {
        enterprise: Some(367),
        enterprise_name: Some("Ricoh Co. Ltd.".into()),
        printer: Some(daicho_report::SnmpPrinter {
            name: Some("RICOH IM C3000".into()),
            serial: Some("3100R123456".into()),
        }),
        ..SnmpFacts::default()
    });
    let found = candidates(&report(vec![printer]));
    assert_eq!(found[0].facts.model.as_deref(), Some("RICOH IM C3000"));
    assert_eq!(found[0].facts.serial.as_deref(), Some("3100R123456"));
    assert!(
        found[0]
            .keys
            .iter()
            .any(|k| k.kind == KeyKind::SerialNumber)
    );

    let ups = snmp(SnmpFacts {
        enterprise: Some(318),
        enterprise_name: Some("American Power Conversion Corp.".into()),
        ups: Some(daicho_report::SnmpUps {
            maker: Some("APC".into()),
            model: Some("Smart-UPS 1500".into()),
            ..Default::default()
        }),
        ..SnmpFacts::default()
    });
    let found = candidates(&report(vec![ups]));
    assert_eq!(found[0].facts.maker.as_deref(), Some("APC"));
    assert_eq!(found[0].facts.model.as_deref(), Some("Smart-UPS 1500"));

    // A Teltonika answering as net-snmp: the maker is its MAC's (as
    // daicho's maker table names it), not net-snmp.
    let mut arp = Observation::new(
        Source::Arp,
        "eth0".into(),
        Some("198.18.1.21".parse().unwrap()),
    );
    arp.mac = Some("20:97:27:00:00:01".parse().unwrap());
    arp.vendor = Some("TELTONIKA NETWORKS UAB".into());
    let netsnmp = snmp(SnmpFacts {
        enterprise: Some(8072),
        enterprise_name: Some("net-snmp".into()),
        ..SnmpFacts::default()
    });
    let found = candidates(&report(vec![arp, netsnmp]));
    assert_eq!(found[0].facts.maker.as_deref(), Some("Teltonika"));
    assert_eq!(found[0].facts.kind.as_deref(), Some("mobile_router"));
}

/// An answer to the ARP-flux probe: on `interface`, `mac` answered for
/// `ip`, an address of another network.
fn flux(interface: &str, ip: &str, mac: &str) -> Observation {
    let mut o = arp(interface, ip, mac);
    o.flags.push(Flag::ArpFlux);
    o
}

fn snmp_addresses(interface: &str, ip: &str, addresses: &[&str], forwarding: bool) -> Observation {
    let mut o = observation(Source::Snmp, interface, ip);
    o.snmp = Some(Box::new(SnmpFacts {
        profile: Some("ro".into()),
        ip_forwarding: Some(forwarding),
        addresses: addresses
            .iter()
            .map(|a| daicho_report::SnmpAddress {
                ip: a.parse().unwrap(),
                prefix_len: Some(24),
                if_index: None,
            })
            .collect(),
        ..SnmpFacts::default()
    }));
    o
}

fn upnp(interface: &str, ip: &str, udn: &str, serial: &str) -> Observation {
    let mut o = observation(Source::Ssdp, interface, ip);
    o.ssdp = Some(Box::new(daicho_report::SsdpFacts {
        devices: vec![daicho_report::UpnpDevice {
            manufacturer: Some("Acme".into()),
            serial_number: Some(serial.into()),
            udn: Some(udn.into()),
            ..Default::default()
        }],
        ..Default::default()
    }));
    o
}

fn tls(interface: &str, ip: &str, sha256: &str) -> Observation {
    let mut o = observation(Source::Http, interface, ip);
    o.http = Some(Box::new(daicho_report::HttpFacts {
        banners: vec![daicho_report::HttpBanner {
            port: 443,
            tls: true,
            certificate: Some(daicho_report::TlsCertificate {
                sha256: sha256.into(),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }));
    o
}

/// The merge corpus (issue #15): the legs of one host join, whatever says
/// so; what only looks alike stays apart.
#[test]
fn the_legs_of_one_host_join_and_lookalikes_stay_apart() {
    struct Case {
        name: &'static str,
        reports: Vec<Report>,
        /// Devices the ledger ends with.
        devices: usize,
        /// Addresses that must be one device.
        together: &'static [&'static str],
    }
    let pc_leg1 = || arp("eth1", "198.18.1.33", "00:1b:21:00:01:33");
    let pc_leg2 = || arp("eth2", "198.18.2.33", "00:1b:21:00:02:33");
    let cases = vec![
        Case {
            name: "two-NIC PC answering ARP for its other leg (one agent, two segments)",
            reports: vec![report(vec![
                pc_leg1(),
                pc_leg2(),
                flux("eth1", "198.18.2.33", "00:1b:21:00:01:33"),
            ])],
            devices: 1,
            together: &["198.18.1.33", "198.18.2.33"],
        },
        Case {
            name: "the same, the other leg seen first by another agent",
            reports: vec![
                report_from(
                    "ward-2",
                    vec![arp("eth0", "198.18.2.33", "00:1b:21:00:02:33")],
                ),
                report_from(
                    "ward-1",
                    vec![pc_leg1(), flux("eth1", "198.18.2.33", "00:1b:21:00:01:33")],
                ),
            ],
            devices: 1,
            together: &["198.18.1.33", "198.18.2.33"],
        },
        Case {
            name: "the same, the flux answer reported first",
            reports: vec![
                report_from(
                    "ward-1",
                    vec![pc_leg1(), flux("eth1", "198.18.2.33", "00:1b:21:00:01:33")],
                ),
                report_from(
                    "ward-2",
                    vec![arp("eth0", "198.18.2.33", "00:1b:21:00:02:33")],
                ),
            ],
            devices: 1,
            together: &["198.18.1.33", "198.18.2.33"],
        },
        Case {
            name: "a host whose SNMP address table lists its other leg",
            reports: vec![report(vec![
                arp("eth1", "198.18.1.40", "00:1b:21:00:01:40"),
                snmp_addresses(
                    "eth1",
                    "198.18.1.40",
                    &["198.18.1.40", "198.18.2.40"],
                    false,
                ),
                arp("eth2", "198.18.2.40", "00:1b:21:00:02:40"),
            ])],
            devices: 1,
            together: &["198.18.1.40", "198.18.2.40"],
        },
        Case {
            name: "one SSH host key on two segments",
            reports: vec![report(vec![
                pc_leg1(),
                ssh("eth1", "198.18.1.33", "SHA256:pc033"),
                pc_leg2(),
                ssh("eth2", "198.18.2.33", "SHA256:pc033"),
            ])],
            devices: 1,
            together: &["198.18.1.33", "198.18.2.33"],
        },
        Case {
            name: "two routers with miniupnpd's default UDN and serial 00000000",
            reports: vec![report(vec![
                arp("eth1", "198.18.1.1", "00:1a:eb:00:00:01"),
                upnp(
                    "eth1",
                    "198.18.1.1",
                    "uuid:00000000-0000-0000-0000-000000000000",
                    "00000000",
                ),
                arp("eth2", "198.18.2.1", "00:1a:eb:00:00:02"),
                upnp(
                    "eth2",
                    "198.18.2.1",
                    "uuid:00000000-0000-0000-0000-000000000000",
                    "00000000",
                ),
            ])],
            devices: 2,
            together: &[],
        },
        Case {
            name: "two cloned VMs with one SSH host key on one segment",
            reports: vec![report(vec![
                arp("eth1", "198.18.1.81", "00:50:56:00:00:81"),
                ssh("eth1", "198.18.1.81", "SHA256:golden-image"),
                arp("eth1", "198.18.1.82", "00:50:56:00:00:82"),
                ssh("eth1", "198.18.1.82", "SHA256:golden-image"),
            ])],
            devices: 2,
            together: &[],
        },
        Case {
            name: "two printers with one factory certificate",
            reports: vec![report(vec![
                arp("eth1", "198.18.1.91", "00:00:74:00:00:91"),
                tls("eth1", "198.18.1.91", "f00d"),
                arp("eth1", "198.18.1.92", "00:00:74:00:00:92"),
                tls("eth1", "198.18.1.92", "f00d"),
            ])],
            devices: 2,
            together: &[],
        },
        Case {
            name: "a proxy-ARP router answering for a range claims none of it",
            reports: vec![report(vec![
                arp("eth1", "198.18.1.1", "00:1a:eb:00:00:01"),
                flux("eth1", "198.18.2.10", "00:1a:eb:00:00:01"),
                flux("eth1", "198.18.2.11", "00:1a:eb:00:00:01"),
                flux("eth1", "198.18.2.12", "00:1a:eb:00:00:01"),
                arp("eth2", "198.18.2.10", "00:1b:21:00:02:10"),
                arp("eth2", "198.18.2.11", "00:1b:21:00:02:11"),
            ])],
            devices: 3,
            together: &[],
        },
        Case {
            name: "a router that forwards is not claimed by its flux answer",
            reports: vec![report(vec![
                arp("eth1", "198.18.1.1", "00:1a:eb:00:00:01"),
                snmp_addresses("eth1", "198.18.1.1", &["198.18.1.1"], true),
                flux("eth1", "198.18.2.10", "00:1a:eb:00:00:01"),
                arp("eth2", "198.18.2.10", "00:1b:21:00:02:10"),
            ])],
            devices: 2,
            together: &[],
        },
        Case {
            name: "an address reused by DHCP the next night",
            reports: vec![
                report(vec![arp("eth0", "198.18.1.50", "00:1b:21:00:00:01")]),
                report(vec![arp("eth0", "198.18.1.50", "00:1b:21:00:00:02")]),
            ],
            devices: 2,
            together: &[],
        },
    ];
    for case in cases {
        let (seen, devices) = ingest(&case.reports);
        assert_eq!(devices, case.devices, "{}: {seen:?}", case.name);
        let ids: BTreeSet<DeviceId> = case
            .together
            .iter()
            .map(|ip| {
                seen.iter()
                    .find_map(|r| r.get(*ip))
                    .copied()
                    .unwrap_or_else(|| panic!("{}: {ip} not seen", case.name))
            })
            .collect();
        assert!(ids.len() <= 1, "{}: {seen:?}", case.name);
    }
}

/// Weak evidence links, never joins: a name and an adjacent MAC of one
/// maker on another segment is a likely link, a name alone there an
/// unlikely one, and on one segment (a NIC swap) no link at all.
#[test]
fn a_shared_name_on_another_segment_links_and_adjacent_macs_make_it_likelier() {
    let mut leg1 = names("eth1", "198.18.1.60", "WS-60", "ws-60");
    leg1.push(arp("eth1", "198.18.1.60", "00:1b:21:00:00:60"));
    let mut leg2 = names("eth2", "198.18.2.60", "WS-60", "ws-other");
    leg2.push(arp("eth2", "198.18.2.60", "00:1b:21:00:00:61"));
    let (_, devices, links) = ingest_with_links(&[report(leg1.clone()), report(leg2)]);
    assert_eq!(devices, 2, "a link is not a join");
    assert_eq!(
        links,
        vec![("198.18.2.60".to_owned(), 1, Confidence::Medium)]
    );

    let mut far = names("eth2", "198.18.2.70", "WS-60", "ws-70");
    far.push(arp("eth2", "198.18.2.70", "3c:22:fb:00:00:70"));
    let (_, devices, links) = ingest_with_links(&[report(leg1.clone()), report(far)]);
    assert_eq!(devices, 2);
    assert_eq!(links, vec![("198.18.2.70".to_owned(), 1, Confidence::Low)]);

    let mut swapped = names("eth1", "198.18.1.61", "WS-60", "ws-61");
    swapped.push(arp("eth1", "198.18.1.61", "00:1b:21:00:00:62"));
    let (_, devices, links) = ingest_with_links(&[report(leg1), report(swapped)]);
    assert_eq!(devices, 2);
    assert!(links.is_empty(), "{links:?}");
}

#[test]
fn a_flux_answer_is_no_device_and_the_join_says_why() {
    let found = candidates(&report(vec![
        arp("eth1", "198.18.1.33", "00:1b:21:00:01:33"),
        flux("eth1", "198.18.2.33", "00:1b:21:00:01:33"),
        arp("eth2", "198.18.2.33", "00:1b:21:00:02:33"),
    ]));
    assert_eq!(found.len(), 2, "{found:?}");
    let decisions = merge(
        &KnownKeys::new(),
        &KnownAddresses::default(),
        "agent-1",
        &found,
    );
    assert_eq!(decisions[1].target, Target::New(0));
    assert!(
        decisions[1].reasons[0]
            .render(daicho_report::Lang::En)
            .contains("ARP answer")
            && decisions[1].reasons[0]
                .render(daicho_report::Lang::En)
                .contains("198.18.2.33"),
        "{decisions:?}"
    );
}

#[test]
fn placeholders_are_kept_aside_with_the_reason() {
    let found = candidates(&report(vec![
        arp("eth1", "198.18.1.1", "00:1a:eb:00:00:01"),
        upnp(
            "eth1",
            "198.18.1.1",
            "uuid:00000000-0000-0000-0000-000000000000",
            "00000000",
        ),
    ]));
    assert!(
        found[0].keys.iter().all(|k| k.kind == KeyKind::Mac),
        "{found:?}"
    );
    assert_eq!(found[0].unusable.len(), 2);
    let decisions = merge(
        &KnownKeys::new(),
        &KnownAddresses::default(),
        "agent-1",
        &found,
    );
    assert!(
        decisions[0]
            .reasons
            .iter()
            .map(|r| r.render(daicho_report::Lang::En))
            .any(|r| r.contains("default value") && r.contains("not used to join")),
        "{decisions:?}"
    );
}

#[test]
fn clients_heard_without_an_address_are_one_candidate_each() {
    let heard = |mac: &str| {
        let mut o = Observation::new(Source::Listen, Arc::from("eth0"), None);
        o.mac = Some(mac.parse::<MacAddr>().unwrap());
        o.dhcp_client = Some(Box::new(daicho_report::DhcpClientFacts {
            message: "discover".into(),
            parameter_list: vec![1, 3, 6],
            vendor_class: None,
            host_name: None,
            client_id: None,
            requested: None,
        }));
        o
    };
    let found = candidates(&report(vec![
        heard("00:1b:21:00:00:01"),
        heard("00:1b:21:00:00:02"),
        heard("00:1b:21:00:00:01"),
    ]));
    let macs: Vec<Vec<&str>> = found
        .iter()
        .map(|c| {
            c.keys
                .iter()
                .filter(|k| k.kind == KeyKind::Mac)
                .map(|k| k.value.as_str())
                .collect()
        })
        .collect();
    assert_eq!(
        macs,
        [["00:1b:21:00:00:01"], ["00:1b:21:00:00:02"]],
        "{found:?}"
    );
}

#[test]
fn a_client_heard_without_an_address_joins_the_address_its_mac_answered() {
    let mut heard = Observation::new(Source::Listen, Arc::from("eth0"), None);
    heard.mac = Some("00:1b:21:00:00:05".parse().unwrap());
    let mut randomized = heard.clone();
    randomized.mac = Some("5a:00:00:00:00:06".parse().unwrap());
    let found = candidates(&report(vec![
        heard,
        arp("eth0", "198.18.1.50", "00:1b:21:00:00:05"),
        randomized,
    ]));
    // One candidate at .50; the randomized MAC with no address identifies
    // nothing to find it by again, and makes no device.
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].ip, Some("198.18.1.50".parse().unwrap()));
}
