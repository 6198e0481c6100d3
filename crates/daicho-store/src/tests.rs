use serde_json::json;

use super::*;

/// Today (UTC): the collector refuses reports far from its clock.
fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

fn report(scan: u128, observations: serde_json::Value) -> Vec<u8> {
    report_from("ward-agent", scan, observations)
}

fn report_from(agent: &str, scan: u128, observations: serde_json::Value) -> Vec<u8> {
    let day = today();
    let report = json!({
        "schema_version": daicho_report::SCHEMA_VERSION,
        "agent": {"id": agent, "hostname": "agent", "version": "0.1.0"},
        "scan_id": uuid::Uuid::from_u128(scan).to_string(),
        "started_at": format!("{day}T00:00:00Z"),
        "finished_at": format!("{day}T00:00:{scan:02}Z"),
        "segments": [],
        "observations": observations,
    });
    serde_json::to_vec(&report).unwrap()
}

fn pc(ip: &str, mac: &str, fingerprint: &str) -> serde_json::Value {
    json!([
        {"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": ip, "mac": mac},
        {"source": "ssh", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": ip,
         "ssh": {"port": 22, "banner": "SSH-2.0-OpenSSH_9.2", "fingerprint": fingerprint}},
    ])
}

#[tokio::test]
async fn a_report_is_stored_once_and_a_nic_change_keeps_the_device() {
    for ledger in scratch::ledgers("store").await {
        let store = ledger.open().await;
        let first = report(1, pc("198.18.1.70", "00:1b:21:00:00:70", "SHA256:abc"));
        assert_eq!(
            store.ingest(&first, "test").await.unwrap(),
            Ingested::Stored {
                created: 1,
                joined: 0
            }
        );
        // The same scan again: nothing changes.
        assert_eq!(
            store.ingest(&first, "test").await.unwrap(),
            Ingested::AlreadyKnown
        );
        assert_eq!(store.scan_count().await.unwrap(), 1);
        // A new NIC and address, the same SSH key: the same device.
        let later = report(2, pc("198.18.1.71", "00:1b:21:00:00:71", "SHA256:abc"));
        assert_eq!(
            store.ingest(&later, "test").await.unwrap(),
            Ingested::Stored {
                created: 0,
                joined: 1
            }
        );
        let devices = store.devices().await.unwrap();
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].addresses, ["198.18.1.70", "198.18.1.71"]);
        assert_eq!(
            devices[0].last_seen,
            format!("{}T00:00:02.000000Z", today())
        );

        let why = store.explain(devices[0].id).await.unwrap().unwrap();
        assert!(
            why.keys
                .contains(&("mac".into(), "00:1b:21:00:00:71".into()))
        );
        assert!(
            why.decisions[0].created,
            "first decision created the device"
        );
        assert!(
            why.decisions[1].reasons[0]
                .render(daicho_report::Lang::En)
                .contains("SSH host key SHA256:abc matches device #1"),
            "{why:?}"
        );
        store.close().await;
        ledger.remove().await;
    }
}

#[tokio::test]
async fn a_bad_report_writes_nothing_and_says_why() {
    for ledger in scratch::ledgers("store").await {
        let store = ledger.open().await;
        let err = store
            .ingest(b"{\"schema_version\": 99}", "test")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not valid"), "{err}");
        let truncated = report(3, pc("198.18.1.5", "00:1b:21:00:00:05", "SHA256:x"));
        let err = store
            .ingest(&truncated[..truncated.len() / 2], "test")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not valid"), "{err}");
        assert_eq!(store.scan_count().await.unwrap(), 0);
        assert!(store.devices().await.unwrap().is_empty());
        assert!(store.explain(1).await.unwrap().is_none());
        store.close().await;
        ledger.remove().await;
    }
}

#[tokio::test]
async fn hostile_names_are_stored_as_data() {
    for ledger in scratch::ledgers("store").await {
        let store = ledger.open().await;
        let observations = json!([
            {"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": "198.18.1.9", "mac": "00:1b:21:00:00:09"},
            {"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:00Z", "ip": "198.18.1.9",
             "netbios": {"computer_name": "=HYPERLINK(\"x\");<script>'"}},
        ]);
        store
            .ingest(&report(4, observations), "test")
            .await
            .unwrap();
        let devices = store.devices().await.unwrap();
        assert_eq!(
            devices[0].name.as_deref(),
            Some("=HYPERLINK(\"x\");<script>'")
        );
        store.close().await;
        ledger.remove().await;
    }
}

#[tokio::test]
async fn latest_reports_gives_one_per_agent_even_when_two_finished_at_once() {
    for ledger in scratch::ledgers("latest").await {
        let store = ledger.open().await;
        // synthetic_report gives every report the same finished_at.
        for n in 0..3u32 {
            let report = scratch::synthetic_report(
                "same-time",
                uuid::Uuid::from_u128(u128::from(n) + 10),
                n * 10,
                10,
            );
            store
                .ingest(&serde_json::to_vec(&report).unwrap(), "test")
                .await
                .unwrap();
        }
        let latest = store.latest_reports().await.unwrap();
        assert_eq!(latest.len(), 1, "one report per agent");
        ledger.remove().await;
    }
}

#[tokio::test]
async fn two_agents_seeing_the_legs_of_one_host_make_one_device() {
    for ledger in scratch::ledgers("store").await {
        let store = ledger.open().await;
        // The ward agent sees the PC's second leg first ...
        let ward = report_from(
            "ward",
            10,
            json!([{"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:00Z",
                    "ip": "198.18.2.33", "mac": "00:1b:21:00:02:33"}]),
        );
        store.ingest(&ward, "test").await.unwrap();
        // ... then the outpatient agent hears the first leg answer for it.
        let outpatient = report_from(
            "outpatient",
            11,
            json!([
                {"source": "arp", "interface": "eth1", "at": "2026-11-28T00:00:00Z",
                 "ip": "198.18.1.33", "mac": "00:1b:21:00:01:33"},
                {"source": "arp", "interface": "eth1", "at": "2026-11-28T00:00:00Z",
                 "ip": "198.18.2.33", "mac": "00:1b:21:00:01:33", "flags": ["arp_flux"]},
            ]),
        );
        assert_eq!(
            store.ingest(&outpatient, "test").await.unwrap(),
            Ingested::Stored {
                created: 0,
                joined: 1
            }
        );
        let devices = store.devices().await.unwrap();
        assert_eq!(devices.len(), 1, "{devices:?}");
        assert_eq!(devices[0].addresses, ["198.18.1.33", "198.18.2.33"]);
        let why = store.explain(devices[0].id).await.unwrap().unwrap();
        assert!(
            why.decisions[1].reasons[0]
                .render(daicho_report::Lang::En)
                .contains("the same host as device #1"),
            "{why:?}"
        );
        // The next night, the claim made first: still one device.
        let again = report_from(
            "ward",
            12,
            json!([{"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:00Z",
                    "ip": "198.18.2.33", "mac": "00:1b:21:00:02:33"}]),
        );
        store.ingest(&again, "test").await.unwrap();
        assert_eq!(store.devices().await.unwrap().len(), 1);
        store.close().await;
        ledger.remove().await;
    }
}

/// A PC seen by two agents with one NetBIOS name and MACs one apart.
fn named_leg(agent: &str, scan: u128, ip: &str, mac: &str) -> Vec<u8> {
    report_from(
        agent,
        scan,
        json!([
            {"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:00Z",
             "ip": ip, "mac": mac},
            {"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:00Z",
             "ip": ip, "netbios": {"computer_name": "WS-60"}},
        ]),
    )
}

#[tokio::test]
async fn a_link_is_confirmed_into_one_device_or_rejected_for_good_and_both_are_audited() {
    for ledger in scratch::ledgers("links").await {
        let store = ledger.open().await;
        store
            .ingest(
                &named_leg("ward-1", 20, "198.18.1.60", "00:1b:21:00:00:60"),
                "test",
            )
            .await
            .unwrap();
        store
            .ingest(
                &named_leg("ward-2", 21, "198.18.2.60", "00:1b:21:00:00:61"),
                "test",
            )
            .await
            .unwrap();
        assert_eq!(store.devices().await.unwrap().len(), 2, "a link is no join");
        let links = store.links().await.unwrap();
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(
            (
                links[0].id().as_str(),
                links[0].confidence.as_str(),
                links[0].state
            ),
            ("L1-2", "medium", LinkState::Open)
        );
        assert!(
            links[0]
                .evidence
                .iter()
                .any(|e| e.render(daicho_report::Lang::En).contains("next to"))
        );
        // The interfaces keep their MACs.
        let facts = store.device_facts().await.unwrap();
        assert_eq!(facts.len(), 2);

        // Confirmed: one device with both legs; the link says who and why.
        let decided = store
            .decide_link("L1-2", true, "suzuki", "same workstation, two NICs")
            .await
            .unwrap();
        assert_eq!(decided.state, LinkState::Confirmed);
        let devices = store.devices().await.unwrap();
        assert_eq!(devices.len(), 1, "{devices:?}");
        assert_eq!(devices[0].addresses, ["198.18.1.60", "198.18.2.60"]);
        let why = store.explain(1).await.unwrap().unwrap();
        assert_eq!(why.decisions.len(), 2, "both legs' decisions stay");
        assert!(why.links.iter().any(|l| l.state == LinkState::Confirmed));
        // Decided once: a second decision is refused and says what to do.
        let again = store.decide_link("L1-2", false, "suzuki", "x").await;
        assert!(matches!(again, Err(StoreError::NoOpenLink(_))), "{again:?}");
        // The next report of the second leg joins the kept device.
        store
            .ingest(
                &named_leg("ward-2", 22, "198.18.2.60", "00:1b:21:00:00:61"),
                "test",
            )
            .await
            .unwrap();
        assert_eq!(store.devices().await.unwrap().len(), 1);
        let audit = store.audit_log().await.unwrap();
        assert!(audit.iter().any(|a| {
            a.action == "link-confirm"
                && a.actor == "suzuki"
                && a.detail
                    .render(daicho_report::Lang::En)
                    .contains("device #2 merged into #1")
        }));
        store.close().await;
        ledger.remove().await;
    }
    for ledger in scratch::ledgers("links-reject").await {
        let store = ledger.open().await;
        for (scan, agent, ip, mac) in [
            (30, "ward-1", "198.18.1.60", "00:1b:21:00:00:60"),
            (31, "ward-2", "198.18.2.60", "00:1b:21:00:00:61"),
        ] {
            store
                .ingest(&named_leg(agent, scan, ip, mac), "test")
                .await
                .unwrap();
        }
        store
            .decide_link("L1-2", false, "suzuki", "two PCs of one model, one image")
            .await
            .unwrap();
        // Later reports bring the same evidence: the link stays rejected.
        store
            .ingest(
                &named_leg("ward-2", 32, "198.18.2.60", "00:1b:21:00:00:61"),
                "test",
            )
            .await
            .unwrap();
        let links = store.links().await.unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].state, LinkState::Rejected);
        assert_eq!(store.devices().await.unwrap().len(), 2);
        assert!(
            store
                .audit_log()
                .await
                .unwrap()
                .iter()
                .any(|a| a.action == "link-reject")
        );
        store.close().await;
        ledger.remove().await;
    }
}
