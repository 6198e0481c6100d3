//! One physical device, one row (issue #15), from the command line: a PC
//! seen by two agents under one name with adjacent MACs is a link that
//! staff confirm or reject; a flag settles only as sanctioned remote
//! maintenance, removed or false; `devices --format json` shows the
//! interfaces, identities, links and findings. On every ledger backend.

mod support;

use daicho_store::scratch;
use serde_json::Value;
use support::{SAMPLE, collector, lte_router, outpatient_report, run, ward_report};

fn refused(at: &str, args: &[&str]) -> String {
    let out = collector(at, args);
    assert!(!out.status.success(), "{args:?} was accepted");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn device_named<'a>(inventory: &'a Value, name: &str) -> &'a Value {
    inventory["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {inventory:#}"))
}

#[tokio::test]
async fn links_flags_and_the_inventory_from_the_command_line() {
    for ledger in scratch::ledgers("devices").await {
        let at = ledger.location.as_str();
        let dir = std::env::temp_dir().join(format!(
            "daicho-devices-cli-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut routers = lte_router("198.18.1.254", "00:1e:42:00:01:fe", "lte-gw");
        routers.extend(lte_router("198.18.1.253", "00:1e:42:00:01:fd", "lte-spare"));
        for (file, text) in [
            ("outpatient.json", outpatient_report(routers)),
            ("ward.json", ward_report()),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            run(at, &["import", path.to_str().unwrap()]);
        }
        run(at, &["ledger", "import", SAMPLE, "--by", "鈴木一郎"]);

        // The two legs are two devices and one open link.
        let listed = run(at, &["links"]);
        assert!(listed.contains("medium confidence, open"), "{listed}");
        assert!(listed.contains("is next to"), "{listed}");
        let inventory: Value =
            serde_json::from_str(&run(at, &["devices", "--format", "json"])).unwrap();
        assert_eq!(inventory["schema"], "daicho-inventory/1");
        let doctor = device_named(&inventory, "UKETSUKE-PC01");
        let link = doctor["links"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(doctor["links"][0]["state"], "open");
        assert_eq!(doctor["declared"]["row"], "PC-011");
        assert_eq!(doctor["interfaces"][0]["mac"], "e4:46:b0:00:01:0b");

        // Confirmed: one device with both interfaces; the ledger row it
        // matches now misses the second leg, a changed item on that row.
        refused(
            at,
            &["links", "confirm", &link, "--by", "鈴木一郎", "--note", " "],
        );
        let done = run(
            at,
            &[
                "links",
                "confirm",
                &link,
                "--by",
                "鈴木一郎",
                "--note",
                "NIC 2 枚の診察 PC",
            ],
        );
        assert!(done.contains("merged into"), "{done}");
        let again = refused(at, &["links", "reject", &link, "--by", "x", "--note", "y"]);
        assert!(again.contains("no open link"), "{again}");
        let inventory: Value =
            serde_json::from_str(&run(at, &["devices", "--format", "json"])).unwrap();
        let doctor = device_named(&inventory, "UKETSUKE-PC01");
        let ips: Vec<&str> = doctor["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["ip"].as_str().unwrap())
            .collect();
        assert_eq!(ips.len(), 2, "{doctor:#}");
        assert!(ips.contains(&"198.18.2.11"));
        assert_eq!(doctor["links"][0]["state"], "confirmed");
        let diff: Value = serde_json::from_str(&run(at, &["diff", "--format", "json"])).unwrap();
        let items = diff["items"].as_array().unwrap();
        let leg = items
            .iter()
            .find(|i| i["id"].as_str().unwrap().ends_with("-leg-198.18.2.11"))
            .unwrap_or_else(|| panic!("{items:#?}"));
        assert_eq!(leg["kind"], "changed");
        assert_eq!(leg["row_label"], "PC-011");
        assert!(
            !items
                .iter()
                .any(|i| i["kind"] == "undeclared"
                    && i["detail"].to_string().contains("198.18.2.11")),
            "the second leg is no undeclared device"
        );
        let leg_id = leg["id"].as_str().unwrap().to_owned();
        run(
            at,
            &[
                "diff",
                "accept",
                &leg_id,
                "--by",
                "鈴木一郎",
                "--note",
                "二枚目の NIC",
            ],
        );

        // Flags: never accepted; sanctioned needs who and how.
        let flag_of = |diff: &Value, name: &str| {
            diff["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["kind"] == "flagged" && i["device_name"] == name)
                .map(|i| i["id"].as_str().unwrap().to_owned())
        };
        let diff: Value = serde_json::from_str(&run(at, &["diff", "--format", "json"])).unwrap();
        let gw = flag_of(&diff, "lte-gw").unwrap();
        let spare = flag_of(&diff, "lte-spare").unwrap();
        let no_accept = refused(at, &["diff", "accept", &gw, "--by", "x", "--note", "y"]);
        assert!(
            no_accept.contains("sanctioned, removed, false_finding"),
            "{no_accept}"
        );
        let no_maintainer = refused(
            at,
            &[
                "diff",
                "sanctioned",
                &gw,
                "--by",
                "x",
                "--note",
                "y",
                "--maintainer",
                " ",
                "--method",
                "vpn",
            ],
        );
        assert!(no_maintainer.contains("保守事業者"), "{no_maintainer}");
        run(
            at,
            &[
                "diff",
                "removed",
                &gw,
                "--by",
                "鈴木一郎",
                "--note",
                "11/30 撤去予定",
            ],
        );
        let diff: Value = serde_json::from_str(&run(at, &["diff", "--format", "json"])).unwrap();
        let open = diff["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == gw.as_str())
            .expect("a removed flag stays open while scans see it");
        assert_eq!(open["settlement"]["action"], "removed");
        run(
            at,
            &[
                "diff",
                "sanctioned",
                &gw,
                "--by",
                "鈴木一郎",
                "--note",
                "保守契約 2026-031",
                "--maintainer",
                "○○メディカル",
                "--method",
                "mobile-router",
            ],
        );
        run(
            at,
            &[
                "diff",
                "false-finding",
                &spare,
                "--by",
                "鈴木一郎",
                "--note",
                "検証用の機器",
            ],
        );
        let diff: Value = serde_json::from_str(&run(at, &["diff", "--format", "json"])).unwrap();
        assert!(flag_of(&diff, "lte-gw").is_none() && flag_of(&diff, "lte-spare").is_none());
        assert_eq!(diff["sanctioned"][0]["id"], gw.as_str());
        assert_eq!(
            diff["sanctioned"][0]["settlement"]["maintenance"]["method"],
            "mobile_router"
        );
        assert_eq!(diff["ignored"][0]["id"], spare.as_str());
        let table = run(at, &["diff"]);
        assert!(table.contains("○○メディカル (LTE/5G router)"), "{table}");

        // The sanctioned router's row says so; the audit log has it all.
        let csv = dir.join("ledger.csv");
        run(
            at,
            &[
                "ledger",
                "export",
                "--format",
                "csv",
                "-o",
                csv.to_str().unwrap(),
            ],
        );
        let text = String::from_utf8(std::fs::read(&csv).unwrap()).unwrap();
        let row = text.lines().find(|l| l.contains("198.18.1.254")).unwrap();
        assert!(
            row.contains(",有,") && row.contains("○○メディカル"),
            "{row}"
        );
        let doctor_row = text.lines().find(|l| l.contains("PC-011")).unwrap();
        assert!(
            doctor_row.contains("198.18.2.11") && doctor_row.contains("e4:46:b0:00:01:0c"),
            "{doctor_row}"
        );
        let audit = run(at, &["--lang", "en", "audit"]);
        for expected in [
            "same device confirmed",
            "removed or disconnected",
            "sanctioned remote maintenance",
            "false finding",
            "maintained by ○○メディカル over LTE/5G router",
        ] {
            assert!(audit.contains(expected), "{expected}: {audit}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        ledger.remove().await;
    }
}
