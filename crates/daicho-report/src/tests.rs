use super::*;
use proptest::prelude::*;

fn sample() -> Report {
    let at: Timestamp = "2026-11-28T01:02:03Z".parse().unwrap();
    Report {
        schema_version: SCHEMA_VERSION,
        agent: AgentInfo {
            id: "ward-3f".into(),
            hostname: "agent01".into(),
            version: "0.1.0".into(),
        },
        scan_id: Uuid::now_v7(),
        started_at: at,
        finished_at: at,
        segments: vec![Segment {
            interface: "eth0".into(),
            networks: vec!["198.18.1.0/24".parse().unwrap()],
            excluded: vec!["198.18.1.9/32".parse().unwrap()],
            address: Some("198.18.1.2".parse().unwrap()),
            mac: Some("02:00:00:00:00:01".parse().unwrap()),
        }],
        observations: vec![Observation {
            at,
            mac: Some("00:1b:21:0a:0b:0c".parse().unwrap()),
            vendor: Some("Intel Corporate".into()),
            arp: Some(ArpFacts {
                seen_as: ArpSeenAs::Reply,
                frames: 1,
                reply_ms: Some(0.4),
            }),
            ..Observation::new(
                Source::Arp,
                "eth0".into(),
                Some("198.18.1.10".parse().unwrap()),
            )
        }],
        findings: vec![],
        probe_runs: vec![],
    }
}

#[test]
fn report_round_trips_through_json() {
    let report = sample();
    let json = serde_json::to_vec(&report).unwrap();
    assert_eq!(Report::from_json(&json).unwrap(), report);
}

#[test]
fn checked_in_schema_matches_the_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");
    let generated = json_schema();
    if std::env::var_os("DAICHO_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema/report.schema.json is out of date with the report types; \
         regenerate it with `DAICHO_UPDATE_SCHEMA=1 cargo test -p daicho-report` and commit it"
    );
}

#[test]
fn other_versions_are_refused_with_a_clear_message() {
    let mut value = serde_json::to_value(sample()).unwrap();
    value["schema_version"] = 99.into();
    let err = Report::from_json(value.to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, ReportError::UnsupportedVersion { found: 99 }));
    assert!(err.to_string().contains("version 99"));

    value.as_object_mut().unwrap().remove("schema_version");
    let err = Report::from_json(value.to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, ReportError::MissingVersion));
}

#[test]
fn a_version_1_reports_english_findings_are_kept_as_they_were_written() {
    let mut value = serde_json::to_value(sample()).unwrap();
    value["schema_version"] = 1.into();
    value["findings"] = serde_json::json!([{
        "kind": "dual_homed",
        "confidence": 0.9,
        "summary": "one host answers at 198.18.1.33 and at 198.18.2.33",
        "subjects": [{"ip": "198.18.1.33"}],
        "evidence": [{"source": "ssh", "text": "SSH host key SHA256:x answered at …"}],
    }]);
    let report = Report::from_json(value.to_string().as_bytes()).unwrap();
    let finding = &report.findings[0];
    assert_eq!(
        finding.summary,
        Says::verbatim("one host answers at 198.18.1.33 and at 198.18.2.33")
    );
    assert_eq!(
        finding.evidence[0].text.render(Lang::Ja),
        "SSH host key SHA256:x answered at …"
    );
}

#[test]
fn truncated_report_is_an_error_not_a_panic() {
    let json = serde_json::to_vec(&sample()).unwrap();
    for cut in [0, 1, json.len() / 2, json.len() - 1] {
        assert!(Report::from_json(&json[..cut]).is_err());
    }
}

#[test]
fn newer_agents_values_and_fields_are_read_as_unknown() {
    let mut value = serde_json::to_value(sample()).unwrap();
    value["observations"][0]["source"] = "lorawan".into();
    value["observations"][0]["flags"] = serde_json::json!(["teleported"]);
    value["observations"][0]["lorawan"] = serde_json::json!({"dev_eui": "x"});
    value["future_field"] = 1.into();
    let report = Report::from_json(value.to_string().as_bytes()).unwrap();
    assert_eq!(report.observations[0].source, Source::Unknown);
    assert_eq!(report.observations[0].flags, vec![Flag::Unknown]);
}

#[test]
fn mac_text_forms() {
    let mac: MacAddr = "00-1B-21-0A-0B-0C".parse().unwrap();
    assert_eq!(mac.to_string(), "00:1b:21:0a:0b:0c");
    assert!(!mac.is_locally_administered());
    assert!(
        "02:00:00:00:00:01"
            .parse::<MacAddr>()
            .unwrap()
            .is_locally_administered()
    );
    for bad in [
        "",
        "00:1b:21:0a:0b",
        "00:1b:21:0a:0b:0c:0d",
        "0:1b:21:0a:0b:0c",
        "zz:1b:21:0a:0b:0c",
        "001b210a0b0c",
    ] {
        assert!(bad.parse::<MacAddr>().is_err(), "{bad} parsed");
    }
}

proptest! {
    #[test]
    fn mac_display_parses_back(octets in any::<[u8; 6]>()) {
        let mac = MacAddr(octets);
        prop_assert_eq!(mac.to_string().parse::<MacAddr>().unwrap(), mac);
    }

    #[test]
    fn mac_parser_never_panics(text in ".{0,40}") {
        let _ = text.parse::<MacAddr>();
    }
}
