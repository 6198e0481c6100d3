//! The declared ledger from the command line, as hospital IT staff use it:
//! import the sample 機器台帳 (config/declared-ledger.csv), see what differs
//! from a scan, accept one item and ignore another with notes, export the
//! ledger (CSV in CP932, XLSX) and write the HTML report; hostile device
//! names stay inert throughout. On every ledger backend at hand.

mod support;

use daicho_store::scratch;
use support::{SAMPLE, collector, import_reports, outpatient_report, run, scratch_dir};

#[tokio::test]
async fn import_diff_settle_export_and_report() {
    for ledger in scratch::ledgers("ledger").await {
        let at = ledger.location.as_str();
        let dir = scratch_dir("ledger-cli");
        import_reports(at, &dir, &[outpatient_report(Vec::new())]);
        let imported = run(
            at,
            &[
                "ledger",
                "import",
                SAMPLE,
                "--by",
                "鈴木一郎",
                "--note",
                "年次棚卸し",
            ],
        );
        assert!(imported.contains("12 devices"), "{imported}");

        let diff: serde_json::Value =
            serde_json::from_str(&run(at, &["diff", "--format", "json"])).unwrap();
        let items: Vec<(String, String)> = diff["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    serde_json::from_value::<daicho_report::Says>(i["detail"].clone())
                        .unwrap()
                        .render(daicho_report::Lang::En),
                )
            })
            .collect();
        let id_of = |needle: &str| {
            items
                .iter()
                .find(|(_, d)| d.contains(needle))
                .unwrap_or_else(|| panic!("{needle}: {items:#?}"))
                .0
                .clone()
        };
        let moved = id_of("the ledger says \"198.18.1.13\"");
        assert!(moved.ends_with("-ip"), "{moved}");
        let formula = id_of("HYPERLINK");
        let image = id_of("<img");
        // Declared in use but not on the scanned network: the printer and
        // the ward's devices; never the excluded ECG, never a stopped PC.
        for missing in ["MPR-021", "MSV-201", "MPC-111"] {
            assert!(
                items.iter().any(|(id, _)| id == missing),
                "{missing}: {items:#?}"
            );
        }
        assert!(
            !items
                .iter()
                .any(|(id, _)| id == "MME-031" || id == "MPC-099"),
            "{items:#?}"
        );

        // Settle: the doctor's PC moved (accept), one device is the vendor's
        // (ignore), the other is added to the ledger (accept).
        let refused = collector(
            at,
            &["diff", "accept", &moved, "--by", "鈴木一郎", "--note", " "],
        );
        assert!(!refused.status.success(), "a note is required");
        run(
            at,
            &[
                "diff",
                "accept",
                &moved,
                "--by",
                "鈴木一郎",
                "--note",
                "DHCP 予約を変更済み",
            ],
        );
        run(
            at,
            &[
                "diff",
                "ignore",
                &image,
                "--by",
                "鈴木一郎",
                "--note",
                "業者の持込み端末（11/28 のみ）",
            ],
        );
        run(
            at,
            &[
                "diff",
                "accept",
                &formula,
                "--by",
                "鈴木一郎",
                "--note",
                "新規導入の検査端末",
            ],
        );
        let table = run(at, &["diff"]);
        for settled in [&moved, &image, &formula] {
            assert!(
                !table.contains(&format!("  {settled} ")),
                "{settled} still open: {table}"
            );
        }
        assert!(table.contains("(1 ignored items hidden)"), "{table}");
        let unknown = collector(at, &["diff", "accept", "U9999", "--by", "x", "--note", "y"]);
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no open item"));

        let history = run(at, &["ledger", "history"]);
        assert_eq!(
            history.lines().count(),
            3,
            "import + two accepts: {history}"
        );
        let audit = run(at, &["--lang", "ja", "audit"]);
        assert!(
            audit.contains("台帳の取り込み") && audit.matches("差分の処理").count() == 3,
            "{audit}"
        );
        assert!(audit.contains("業者の持込み端末"), "{audit}");

        // Exports: the accepted values, formulas neutralized, CP932 strict.
        let csv = dir.join("ledger.csv");
        run(
            at,
            &[
                "ledger",
                "export",
                "--format",
                "csv",
                "--encoding",
                "cp932",
                "-o",
                csv.to_str().unwrap(),
            ],
        );
        let bytes = std::fs::read(&csv).unwrap();
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!bad);
        assert!(
            text.contains("PC-012,Dell,Win10,○○電子カルテ,1.2,198.18.1.12,"),
            "{text}"
        );
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            "{text}"
        );
        let xlsx = dir.join("ledger.xlsx");
        run(at, &["ledger", "export", "-o", xlsx.to_str().unwrap()]);
        let back = daicho_ledger::read_file(
            "ledger.xlsx",
            &std::fs::read(&xlsx).unwrap(),
            daicho_ledger::Encoding::Auto,
            &daicho_ledger::Mapping::default(),
        )
        .unwrap();
        assert_eq!(back.ledger.devices.len(), 13);
        // 最終更新日 / 最終更新者 above the table: the latest version's day
        // (in the site's zone) and who made it.
        let updated = back.ledger.updated.expect("最終更新日 above the table");
        assert!(
            updated.date.ends_with('日') && updated.date.contains('年'),
            "{updated:?}"
        );
        assert!(!updated.by.is_empty(), "{updated:?}");

        for lang in ["ja", "en"] {
            let html = dir.join(format!("report-{lang}.html"));
            run(
                at,
                &["report", "-o", html.to_str().unwrap(), "--lang", lang],
            );
            let html = std::fs::read_to_string(&html).unwrap();
            assert!(
                !html.contains("<img src=x") && !html.contains("<script"),
                "{html}"
            );
            assert!(
                html.contains("鈴木一郎") && html.contains("outpatient"),
                "{html}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
        ledger.remove().await;
    }
}

/// A wrong file never silently replaces the ledger: the import says what
/// it would change and refuses to lose rows or columns without --replace.
#[tokio::test]
async fn an_import_that_would_lose_rows_is_refused_until_replace() {
    for ledger in scratch::ledgers("ledger-replace").await {
        let at = ledger.location.as_str();
        run(at, &["ledger", "import", SAMPLE, "--by", "suzuki"]);
        let dir = scratch_dir("ledger-replace");
        let other = dir.join("other-layout.csv");
        std::fs::write(
            &other,
            "id,ip address,hostname,status\nX-1,198.18.9.1,pc,active\n",
        )
        .unwrap();
        let out = collector(
            at,
            &["ledger", "import", other.to_str().unwrap(), "--by", "sato"],
        );
        assert_eq!(out.status.code(), Some(1));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stdout.contains("1 rows added, 12 removed"), "{stdout}");
        assert!(
            stderr.contains("--replace") && stderr.contains("nothing imported"),
            "{stderr}"
        );
        let history = run(at, &["ledger", "history"]);
        assert_eq!(history.lines().count(), 1, "{history}");
        // An unclosed quote: refused, by line, before any comparison.
        let broken = dir.join("broken.csv");
        std::fs::write(
            &broken,
            "管理番号,IPアドレス,コンピュータ名\nA,198.18.1.1,\"pc\nB,198.18.1.2,pc2\n",
        )
        .unwrap();
        let out = collector(
            at,
            &["ledger", "import", broken.to_str().unwrap(), "--by", "sato"],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
        // Asked for: a new inventory replaces the old one.
        let replaced = run(
            at,
            &[
                "ledger",
                "import",
                other.to_str().unwrap(),
                "--by",
                "sato",
                "--replace",
            ],
        );
        assert!(
            replaced.contains("ledger version 2: 1 devices"),
            "{replaced}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        ledger.remove().await;
    }
}
