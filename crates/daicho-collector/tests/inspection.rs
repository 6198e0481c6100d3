//! The inspection packet from the command line: the 2-② register filled
//! and read back from the exported workbook, MDS/SDS recorded per maker,
//! a sign-off with target dates, and the report answering 2-①②③ from
//! them — in Japanese, with every write in the audit log. On every ledger
//! backend at hand.

mod support;

use daicho_ledger::{Question, read_register};
use daicho_store::scratch;
use support::{SAMPLE, collector, import_reports, outpatient_report, run, scratch_dir};

#[tokio::test]
async fn register_disclosures_and_sign_off_make_the_inspection_report() {
    for ledger in scratch::ledgers("inspection").await {
        let at = ledger.location.as_str();
        let dir = scratch_dir("inspection");
        import_reports(at, &dir, &[outpatient_report(Vec::new())]);
        run(at, &["ledger", "import", SAMPLE, "--by", "鈴木一郎"]);

        // The sample ledger declares remote maintenance (有) for ME-031:
        // it is in the register, every question open but its vendor's.
        let listed = run(at, &["--lang", "ja", "register", "list"]);
        assert!(
            listed.contains("ME-031") && listed.contains("台帳のリモートメンテナンス欄が「有」"),
            "{listed}"
        );
        run(
            at,
            &[
                "register",
                "set",
                "ME-031",
                "--maintainer",
                "○○メディカル",
                "--method",
                "VPN",
                "--source-restriction",
                "保守センターの固定 IP のみ",
                "--id-holder",
                "個人",
                "--authentication",
                "=HYPERLINK(\"http://evil\")",
                "--by",
                "鈴木一郎",
            ],
        );
        // No answer at all is refused, with what to give.
        let none = collector(at, &["register", "set", "ME-031", "--by", "x"]);
        assert!(!none.status.success());
        assert!(String::from_utf8_lossy(&none.stderr).contains("--maintainer"));

        // The exported workbook carries the register as its own sheet;
        // importing it back records the same answers.
        let book = dir.join("ledger.xlsx");
        run(at, &["ledger", "export", "-o", book.to_str().unwrap()]);
        let bytes = std::fs::read(&book).unwrap();
        let sheet = read_register("ledger.xlsx", &bytes).unwrap();
        let me031 = sheet.iter().find(|e| e.device == "ME-031").unwrap();
        assert_eq!(me031.answer(Question::Method), Some("VPN"));
        assert_eq!(
            me031.answer(Question::Authentication),
            Some("=HYPERLINK(\"http://evil\")"),
            "a formula-like answer is neutralized in the sheet and read back as written"
        );
        assert_eq!(me031.unanswered().len(), 4);
        let imported = run(
            at,
            &[
                "register",
                "import",
                book.to_str().unwrap(),
                "--by",
                "鈴木一郎",
            ],
        );
        assert!(
            imported.contains(&format!("{} devices", sheet.len())),
            "{imported}"
        );

        // 2-③ per maker; a sign-off with a target date for what is still いいえ.
        run(
            at,
            &[
                "disclosure",
                "set",
                "Nihon Kohden",
                "--status",
                "submitted",
                "--version",
                "6.0",
                "--received",
                "2026-11-20",
                "--file",
                "MDS/nihon-kohden-2026.pdf",
                "--by",
                "鈴木一郎",
            ],
        );
        run(
            at,
            &[
                "disclosure",
                "set",
                "<b>B社</b>",
                "--status",
                "requested",
                "--by",
                "鈴木一郎",
            ],
        );
        let bad = collector(
            at,
            &[
                "sign-off",
                "--reviewer",
                "院長",
                "--date",
                "2026-12-07",
                "--target",
                "2-9=2027-03-31",
                "--by",
                "x",
            ],
        );
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("2-1, 2-2 or 2-3"));
        run(
            at,
            &[
                "sign-off",
                "--reviewer",
                "院長",
                "--date",
                "2026-12-07",
                "--note",
                "情報システム委員会（第12回）",
                "--target",
                "2-2=2027-03-31",
                "--target",
                "2-3=2027-01-31",
                "--by",
                "鈴木一郎",
            ],
        );

        let html = dir.join("report.html");
        run(at, &["report", "-o", html.to_str().unwrap()]);
        let page = std::fs::read_to_string(&html).unwrap();
        for expected in [
            "チェックリスト 2-①②③ の回答",
            "リモートメンテナンス（保守）を利用している機器の有無を事業者に確認した",
            "いいえ",
            "2027/03/31",
            "2027/01/31",
            "2-② リモート保守の記録",
            "保守センターの固定 IP のみ",
            "提出済",
            "依頼中",
            "&#60;b&#62;B社&#60;/b&#62;",
            "院長",
            "情報システム委員会（第12回）",
            "台帳の機器（種別ごと）",
        ] {
            assert!(page.contains(expected), "{expected} not in the report");
        }
        assert!(!page.contains("<b>B社"), "a maker's name is escaped");

        let audit = run(at, &["--lang", "ja", "audit"]);
        for expected in [
            "リモート保守の記録の編集",
            "リモート保守の記録の取り込み",
            "MDS/SDS の状況の記録",
            "確認記録",
            "院長 が 2026/12/07 に確認",
        ] {
            assert!(audit.contains(expected), "{expected} not in {audit}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        ledger.remove().await;
    }
}
