use std::sync::Arc;

use daicho_report::{Observation, Source};
use serde_json::json;

use super::*;

fn observation(value: serde_json::Value) -> Observation {
    let mut base = json!({"source": "snmp", "interface": "eth0", "at": "2026-11-28T00:00:00Z",
                          "ip": "198.18.1.10"});
    base.as_object_mut()
        .unwrap()
        .extend(value.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn identify_one(observations: &[Observation]) -> Identity {
    let refs: Vec<&Observation> = observations.iter().collect();
    identify(&refs, &Tables::builtin())
}

#[test]
fn a_windows_sysdescr_gives_the_os_family_version_and_a_pc() {
    let pc = observation(json!({"snmp": {"sys_descr":
        "Hardware: Intel64 Family 6 Model 158 Stepping 10 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 19045 Multiprocessor Free)"}}));
    let identity = identify_one(&[pc]);
    let os = identity.os.expect("an OS");
    assert_eq!(os.source, "recog:snmp_sysdescr");
    assert!(os.value.family.contains("Windows"), "{os:?}");
    assert_eq!(identity.kind.map(|k| k.value), Some(Kind::Workstation));
}

#[test]
fn a_printer_mib_a_cellular_router_and_an_ssh_server_are_told_apart() {
    let printer = observation(
        json!({"snmp": {"sys_descr": "Brother NC-8300w, Firmware Ver.1.07", "printer": {}}}),
    );
    assert_eq!(identify_one(&[printer]).kind.unwrap().value, Kind::Printer);

    let teltonika =
        observation(json!({"snmp": {"sys_object_id": "1.3.6.1.4.1.48690.1", "enterprise": 48690}}));
    assert_eq!(
        identify_one(&[teltonika]).kind.unwrap().value,
        Kind::MobileRouter
    );

    let ssh = observation(
        json!({"source": "ssh", "ssh": {"port": 22, "banner": "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}}),
    );
    let identity = identify_one(&[ssh]);
    assert_eq!(
        identity.os.as_ref().unwrap().value.family,
        "Linux",
        "{identity:?}"
    );
    assert!(
        identity
            .software
            .iter()
            .any(|s| s.value.product == "OpenSSH")
    );
}

#[test]
fn a_medical_maker_by_its_ieee_name_is_a_medical_device_unless_a_banner_says_more() {
    let mut monitor = Observation::new(Source::Arp, Arc::from("eth0"), None);
    monitor.vendor = Some("FUKUDA DENSHI CO., LTD.".into());
    let identity = identify_one(std::slice::from_ref(&monitor));
    assert_eq!(
        identity.maker.as_ref().unwrap().value,
        "フクダ電子 (Fukuda Denshi)"
    );
    assert_eq!(identity.maker.as_ref().unwrap().source, "oui");
    let kind = identity.kind.unwrap();
    assert_eq!(
        (kind.value, kind.value.ledger_kind()),
        (Kind::MedicalMonitor, "医療機器")
    );

    // The registry names a printer maker; a camera-and-imaging maker alone
    // gives no kind.
    monitor.vendor = Some("FUJIFILM Business Innovation Corp.".into());
    assert_eq!(
        identify_one(std::slice::from_ref(&monitor))
            .kind
            .unwrap()
            .value,
        Kind::Printer
    );
    monitor.vendor = Some("FUJIFILM Corporation".into());
    assert!(identify_one(&[monitor]).kind.is_none());
}

#[test]
fn a_site_file_adds_makers_and_object_ids_and_a_bad_one_says_where() {
    let site = Tables::builtin()
        .with_site_file(
            "identify.toml",
            "[[maker]]\nmatch = \"ACME IMAGING\"\nname = \"Acme\"\nkind = \"medical_imaging\"\n\
             [[object_id]]\nprefix = \"1.3.6.1.4.1.99999\"\nkind = \"medical_imaging\"\n",
        )
        .unwrap();
    assert_eq!(
        site.kind_of_object_id("1.3.6.1.4.1.99999.1.2"),
        Some(Kind::MedicalImaging)
    );
    assert_eq!(
        site.kind_of_object_id("1.3.6.1.4.1.999990"),
        None,
        "a prefix ends at a dot"
    );
    assert_eq!(site.maker("Acme Imaging GmbH").unwrap().name, "Acme");
    let bad = Tables::builtin()
        .with_site_file(
            "identify.toml",
            "[[maker]]\nmatch = \"x\"\nname = \"y\"\nkind = \"toaster\"\n",
        )
        .unwrap_err();
    assert!(bad.to_string().contains("identify.toml"), "{bad}");
    assert!(bad.to_string().contains("medical_imaging"), "{bad}");
}

#[test]
fn every_kind_has_its_names_and_the_tables_name_only_known_kinds() {
    for kind in Kind::ALL {
        assert_eq!(Kind::from_name(kind.as_str()), Some(kind));
        assert!(!kind.japanese().is_ascii() && kind.english().is_ascii());
    }
    for (file, text, column) in [
        ("makers.tsv", include_str!("../data/makers.tsv"), 2),
        (
            "sysobjectid-kinds.tsv",
            include_str!("../data/sysobjectid-kinds.tsv"),
            1,
        ),
        (
            "recog-device-kinds.tsv",
            include_str!("../data/recog-device-kinds.tsv"),
            1,
        ),
        (
            "upnp-device-kinds.tsv",
            include_str!("../data/upnp-device-kinds.tsv"),
            1,
        ),
        (
            "mdns-service-kinds.tsv",
            include_str!("../data/mdns-service-kinds.tsv"),
            1,
        ),
    ] {
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let kind = line.split('\t').nth(column).unwrap_or("").trim();
            assert!(
                kind.is_empty() || Kind::from_name(kind).is_some(),
                "{file}: {line:?} names no kind"
            );
        }
    }
}

#[test]
fn a_netbios_name_is_a_weak_sign_of_a_pc_that_a_printer_service_beats() {
    let pc =
        observation(json!({"source": "netbios", "netbios": {"computer_name": "UKETSUKE-PC01"}}));
    let kind = identify_one(std::slice::from_ref(&pc)).kind.unwrap();
    assert_eq!(
        (kind.value, kind.source.as_str()),
        (Kind::Workstation, "netbios")
    );
    let printer = observation(json!({"source": "mdns", "mdns": {"host": "mfp.local",
        "services": [{"service_type": "_ipp._tcp.local.", "instance": "MFP", "port": 631}]}}));
    assert_eq!(
        identify_one(&[pc, printer]).kind.unwrap().value,
        Kind::Printer
    );
}

#[test]
fn a_dicom_node_is_imaging_equipment_with_its_toolkit_as_software() {
    let node = observation(json!({"source": "dicom", "dicom": {"port": 104,
        "called_ae_title": "ANY-SCP", "accepted": true,
        "implementation_version_name": "OFFIS_DCMTK_368", "echo_status": 0}}));
    let identity = identify_one(&[node]);
    assert_eq!(identity.kind.unwrap().value, Kind::MedicalImaging);
    assert_eq!(identity.software[0].value.product, "OFFIS_DCMTK_368");
}

#[test]
fn a_favicon_hash_recog_knows_names_the_maker_and_kind() {
    // An HP printer's /favicon.ico, as Recog's favicons.xml lists its MD5.
    let printer = observation(json!({"source": "http", "http": {"banners": [
        {"port": 80, "tls": false, "status": 200,
         "favicon_md5": "3d79fa32f03540637418f85d19c3ed60"}]}}));
    let identity = identify_one(&[printer]);
    assert_eq!(
        identity.maker.as_ref().map(|m| m.value.as_str()),
        Some("HP")
    );
    let kind = identity.kind.expect("a kind");
    assert_eq!(
        (kind.value, kind.source.as_str()),
        (Kind::Printer, "recog:favicons")
    );
}
