use super::*;
use proptest::prelude::*;

fn eth(name: &str, addrs: &[&str]) -> InterfaceFacts {
    InterfaceFacts {
        name: name.into(),
        addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        is_up: true,
    }
}

fn lab() -> Vec<InterfaceFacts> {
    vec![eth("lo", &["127.0.0.1/8"]), eth("eth1", &["198.18.1.2/24"])]
}

fn segment(arg: &str, exclude: &[&str]) -> SegmentScope {
    let mut seg = parse_segment_arg(arg).unwrap();
    seg.exclude = exclude.iter().map(|e| parse_exclude(e).unwrap()).collect();
    seg
}

#[test]
fn segment_argument_forms() {
    let seg = parse_segment_arg("eth1=198.18.1.0/24, 198.18.2.0/25").unwrap();
    assert_eq!(seg.interface, "eth1");
    assert_eq!(seg.networks.len(), 2);
    for bad in [
        "eth1",
        "=198.18.1.0/24",
        "eth1=",
        "eth1=198.18.1.0/33",
        "eth1=x",
        "eth1=198.18.1.1",
    ] {
        assert!(parse_segment_arg(bad).is_err(), "{bad} accepted");
    }
    assert_eq!(
        parse_exclude("198.18.1.9").unwrap().to_string(),
        "198.18.1.9/32"
    );
    assert_eq!(
        parse_exclude("2001:db8::1").unwrap().to_string(),
        "2001:db8::1/128"
    );
    assert!(parse_exclude("198.18.1.300").is_err());
}

#[test]
fn targets_skip_own_network_broadcast_and_excluded() {
    let seg = segment("eth1=198.18.1.0/24", &["198.18.1.9", "198.18.1.128/30"]);
    let resolved = seg.resolve(&lab(), &Policy::default()).unwrap();
    let t = &resolved.targets;
    assert_eq!(t.len(), 254 - 1 - 1 - 4);
    for never in [
        "198.18.1.0",
        "198.18.1.255",
        "198.18.1.2",
        "198.18.1.9",
        "198.18.1.129",
    ] {
        assert!(!t.contains(&never.parse().unwrap()), "{never} is a target");
    }
    assert!(t.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(resolved.own_address.to_string(), "198.18.1.2/24");
}

#[test]
fn overlapping_networks_are_swept_once() {
    let seg = segment("eth1=198.18.1.0/24,198.18.1.0/25", &[]);
    let resolved = seg.resolve(&lab(), &Policy::default()).unwrap();
    assert_eq!(resolved.targets.len(), 253);
}

#[test]
fn a_network_not_on_the_link_is_refused_with_the_reason() {
    let err = segment("eth1=198.18.5.0/24", &[])
        .resolve(&lab(), &Policy::default())
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ScopeError::NotConnected { .. }));
    assert!(
        text.contains("not directly connected") && text.contains("198.18.1.2/24"),
        "{text}"
    );
    assert!(text.contains("ARP"));
}

#[test]
fn a_network_wider_than_the_link_is_refused() {
    let err = segment("eth1=198.18.0.0/16", &[])
        .resolve(&lab(), &Policy::default())
        .unwrap_err();
    assert!(matches!(err, ScopeError::NotConnected { .. }));
}

#[test]
fn unknown_and_down_interfaces_are_refused() {
    let err = segment("eth9=198.18.1.0/24", &[])
        .resolve(&lab(), &Policy::default())
        .unwrap_err();
    assert!(err.to_string().contains("lo, eth1"));
    let mut down = lab();
    down[1].is_up = false;
    let err = segment("eth1=198.18.1.0/24", &[])
        .resolve(&down, &Policy::default())
        .unwrap_err();
    assert!(matches!(err, ScopeError::InterfaceDown { .. }));
}

#[test]
fn public_space_needs_explicit_permission() {
    let ifaces = vec![eth("wan0", &["203.0.114.10/24"])];
    let seg = segment("wan0=203.0.114.0/24", &[]);
    let err = seg.resolve(&ifaces, &Policy::default()).unwrap_err();
    assert!(matches!(err, ScopeError::Public { .. }));
    assert!(err.to_string().contains("--allow-public"));
    let allowed = Policy {
        allow_public: true,
        ..Policy::default()
    };
    assert_eq!(seg.resolve(&ifaces, &allowed).unwrap().targets.len(), 253);
}

#[test]
fn private_and_test_ranges_are_not_public() {
    // Classification only: these strings are parsed, never probed.
    for net in [
        "10.1.0.0/16",    // private (RFC 1918)
        "172.20.0.0/24",  // private (RFC 1918)
        "192.168.3.0/24", // private (RFC 1918)
        "198.19.0.0/16",
        "100.64.1.0/24",
    ] {
        assert!(is_non_public(&net.parse().unwrap()), "{net}");
    }
    for net in ["8.8.8.0/24", "172.32.0.0/24", "198.20.0.0/24", "11.0.0.0/8"] {
        assert!(!is_non_public(&net.parse().unwrap()), "{net}");
    }
}

#[test]
fn loopback_and_multicast_are_never_scanned() {
    let ifaces = vec![eth("lo", &["127.0.0.1/8"])];
    let err = segment("lo=127.0.0.0/24", &[])
        .resolve(&ifaces, &Policy::default())
        .unwrap_err();
    assert!(matches!(
        err,
        ScopeError::Unscannable {
            what: "loopback",
            ..
        }
    ));
}

#[test]
fn oversized_sweeps_are_refused() {
    let ifaces = vec![eth("eth0", &["198.18.0.1/15"])];
    let err = segment("eth0=198.18.0.0/15", &[])
        .resolve(&ifaces, &Policy::default())
        .unwrap_err();
    assert!(matches!(err, ScopeError::TooLarge { .. }));
    let ok = segment("eth0=198.19.0.0/16", &[])
        .resolve(&ifaces, &Policy::default())
        .unwrap();
    assert_eq!(ok.targets.len(), 65_534);
}

proptest! {
    /// Whatever the networks and exclusions, no excluded address is ever a target
    /// and every target lies in a listed network.
    #[test]
    fn excluded_addresses_are_never_targets(
        prefix in 22u8..=30,
        host_bits in any::<u32>(),
        excludes in proptest::collection::vec((any::<u32>(), 24u8..=32), 0..6),
    ) {
        let base = u32::from(std::net::Ipv4Addr::new(198, 18, 0, 0));
        let net = Ipv4Net::new((base | (host_bits & 0x0001_ffff)).into(), prefix).unwrap().trunc();
        let own = Ipv4Net::new(net.hosts().next().unwrap(), prefix).unwrap();
        let ifaces = vec![InterfaceFacts { name: "e".into(), addresses: vec![own], is_up: true }];
        let exclude: Vec<IpNet> = excludes
            .iter()
            .map(|(bits, len)| IpNet::V4(Ipv4Net::new((base | (bits & 0x0001_ffff)).into(), *len).unwrap().trunc()))
            .collect();
        let seg = SegmentScope { interface: "e".into(), networks: vec![net], exclude: exclude.clone(), skip: Vec::new() };
        let resolved = seg.resolve(&ifaces, &Policy::default()).unwrap();
        for target in &resolved.targets {
            prop_assert!(net.contains(target));
            prop_assert!(!exclude.iter().any(|ex| ex.contains(&std::net::IpAddr::V4(*target))));
            prop_assert_ne!(*target, own.addr());
        }
    }
}

#[test]
fn explicit_targets_follow_the_same_rules() {
    let policy = Policy::default();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert!(check_explicit_target(ip("198.18.9.1"), &[], &policy).is_ok());
    assert!(check_explicit_target(ip("2001:db8::1"), &[], &policy).is_ok());
    let err = check_explicit_target(ip("127.0.0.1"), &[], &policy).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(check_explicit_target(ip("ff02::1"), &[], &policy).is_err());
    let exclude = [parse_exclude("198.18.9.0/24").unwrap()];
    let err = check_explicit_target(ip("198.18.9.1"), &exclude, &policy).unwrap_err();
    assert!(err.to_string().contains("excluded"), "{err}");
    let err = check_explicit_target(ip("8.8.8.8"), &[], &policy).unwrap_err();
    assert!(err.to_string().contains("public"), "{err}");
    assert!(check_explicit_target(ip("2606:4700::1"), &[], &policy).is_err());
    let open = Policy {
        allow_public: true,
        ..Policy::default()
    };
    assert!(check_explicit_target(ip("8.8.8.8"), &[], &open).is_ok());
}

#[test]
fn flux_targets_follow_the_same_rules_and_skip_the_segments_own_network() {
    let seg = segment("eth1=198.18.1.0/24", &["198.18.2.50"]);
    let resolved = seg.resolve(&lab(), &Policy::default()).unwrap();
    let nets =
        |list: &[&str]| -> Vec<Ipv4Net> { list.iter().map(|n| n.parse().unwrap()).collect() };
    let flux = resolved
        .flux(
            &nets(&["198.18.2.0/24", "198.18.1.0/24"]),
            &Policy::default(),
        )
        .unwrap();
    assert_eq!(flux.interface, "eth1");
    assert_eq!(
        flux.networks,
        nets(&["198.18.2.0/24"]),
        "its own network is swept already"
    );
    assert_eq!(
        flux.own_address, resolved.own_address,
        "asked as the segment's own address"
    );
    assert_eq!(flux.targets.len(), 253, "254 hosts less the excluded one");
    assert!(!flux.targets.contains(&"198.18.2.50".parse().unwrap()));
    let public = resolved
        .flux(&nets(&["203.0.114.0/24"]), &Policy::default())
        .unwrap_err();
    assert!(matches!(public, ScopeError::Public { .. }), "{public}");
    let huge = resolved
        .flux(
            &nets(&["198.19.0.0/16"]),
            &Policy {
                max_addresses: 1024,
                ..Policy::default()
            },
        )
        .unwrap_err();
    assert!(matches!(huge, ScopeError::TooLarge { .. }), "{huge}");
    let reserved = resolved
        .flux(&nets(&["224.0.0.0/24"]), &Policy::default())
        .unwrap_err();
    assert!(
        matches!(reserved, ScopeError::Unscannable { .. }),
        "{reserved}"
    );
}
