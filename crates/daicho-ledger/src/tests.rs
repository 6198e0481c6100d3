use daicho_report::{Says, Text};

use super::*;

/// The MHLW example (seeds: 機器台帳の例), as staff save it from Excel: the
/// title lines above the header, daicho's extra columns on the right.
const EXAMPLE: &str = "最終更新日：,2024年7月1日\n最終更新者：,鈴木一郎\n\n\
管理番号,メーカー,OS,ソフトウェア,ソフトウェアバージョン,IPアドレス,コンピュータ名,設置場所,利用者,登録日,状態,説明,MACアドレス,リモートメンテナンス\n\
001,A社,Win11,○○電子カルテ,2.0,198.18.1.11,ROOM1-PC1,Room1,a医師（○○科）,2020/12/1,稼働,,00-1B-21-00-01-0B,無\n\
002,A社,Win11,○○電子カルテ,1.2,198.18.1.12,ROOM1-PC2,Room1,b医師（○○科）,2020/12/1,停止,メンテナンス,,\n\
003,A社,Win8,○○電子カルテ,2.0,198.18.1.13,ROOM2-PC1,Room2,c医師（△△科）,2014/10/1,稼働,,,\n\
004,B社,Win11,○○管理システム,5.0.1,198.18.1.14,ROOM3-PC1,Room3,\"a医師（○○科）、b医師（○○科）\",2021/8/1,稼働,,,有\n";

fn read(name: &str, bytes: &[u8]) -> Imported {
    read_file(name, bytes, Encoding::Auto, &Mapping::default()).unwrap()
}

#[test]
fn the_mhlw_example_reads_in_utf8_with_bom_and_in_shift_jis() {
    let utf8 = read(
        "ledger.csv",
        &[b"\xEF\xBB\xBF".as_slice(), EXAMPLE.as_bytes()].concat(),
    );
    assert!(utf8.errors.is_empty(), "{:?}", utf8.errors);
    assert_eq!(utf8.ledger.devices.len(), 4);
    let first = &utf8.ledger.devices[0];
    assert_eq!(first.get(Field::ManagementId), Some("001"));
    assert_eq!(first.get(Field::Mac), Some("00:1b:21:00:01:0b"));
    assert_eq!(first.get(Field::Registered), Some("2020/12/01"));
    assert_eq!(first.remote_maintenance(), Some(false));
    assert!(!utf8.ledger.devices[1].in_use(), "停止");
    assert_eq!(
        utf8.ledger.devices[3].get(Field::User),
        Some("a医師（○○科）、b医師（○○科）")
    );
    let (sjis, _, lossy) = encoding_rs::SHIFT_JIS.encode(EXAMPLE);
    assert!(!lossy);
    assert_eq!(read("ledger.csv", &sjis), utf8);
}

#[test]
fn bad_cells_are_named_by_row_and_column_and_their_rows_left_out() {
    let text = "管理番号,IPアドレス,コンピュータ名,MACアドレス,登録日,リモートメンテナンス\n\
                001,198.18.1.999,PC1,,,\n\
                002,198.18.1.2,PC2,zz:zz,2020/13/1,たぶん\n\
                001,198.18.1.3,PC3,,,\n\
                004,198.18.1.4,PC4,,,\n";
    let imported = read("bad.csv", text.as_bytes());
    let messages: Vec<String> = imported.errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 5, "{messages:#?}");
    assert!(
        messages[0].starts_with(
            "bad.csv: row 2, column IPアドレス: \"198.18.1.999\" is not an IP address"
        )
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("row 3, column MACアドレス"))
    );
    assert!(messages.iter().any(|m| m.contains("row 3, column 登録日")));
    assert!(messages.iter().any(|m| m.contains("row 3, column リモートメンテナンス") && m.contains("有 または 無")));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("row 4, column 管理番号") && m.contains("twice"))
    );
    assert_eq!(imported.ledger.devices.len(), 1, "only row 5 is right");
}

#[test]
fn a_file_that_is_no_ledger_says_so() {
    let err = read_file(
        "x.csv",
        b"a,b,c\n1,2,3\n",
        Encoding::Auto,
        &Mapping::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no header row"), "{err}");
    let err = read_file(
        "x.csv",
        b"\xff\xfe\xfd\x80",
        Encoding::Auto,
        &Mapping::default(),
    )
    .unwrap_err();
    assert!(matches!(err, FileError::Encoding { .. }), "{err}");
    let err = read_file(
        "x.xlsx",
        b"PK\x03\x04 not really",
        Encoding::Auto,
        &Mapping::default(),
    )
    .unwrap_err();
    assert!(matches!(err, FileError::Spreadsheet { .. }), "{err}");
}

#[test]
fn a_mapping_file_reads_another_layout() {
    let mapping = Mapping::parse(
        "[columns]\n\"資産No\" = \"management_id\"\n\"端末名\" = \"コンピュータ名\"\n",
    )
    .unwrap();
    let imported = read_file(
        "other.csv",
        "資産No,端末名,IPアドレス\nA-1,PC1,198.18.1.1\n".as_bytes(),
        Encoding::Auto,
        &mapping,
    )
    .unwrap();
    assert_eq!(
        imported.ledger.devices[0].get(Field::ComputerName),
        Some("PC1")
    );
    assert!(
        Mapping::parse("[columns]\nx = \"nonsense\"\n")
            .unwrap_err()
            .contains("not a ledger column")
    );
}

fn hostile_ledger() -> Ledger {
    let mut row = DeclaredRow::default();
    row.set(Field::ManagementId, "001");
    row.set(Field::ComputerName, "=HYPERLINK(\"http://x\",\"click\")");
    row.set(Field::Description, "保守〜夜間−当番");
    Ledger {
        devices: vec![row],
        cloud: vec![[("サービス提供事業者".to_owned(), "@SUM(1)".to_owned())].into()],
        updated: None,
    }
}

#[test]
fn csv_export_is_utf8_with_bom_or_strict_cp932_and_never_a_formula() {
    let ledger = hostile_ledger();
    let utf8 = to_csv(&ledger, CsvEncoding::Utf8Bom).unwrap();
    assert!(utf8.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(utf8[3..].to_vec()).unwrap();
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\""),
        "{text}"
    );
    let cp932 = to_csv(&ledger, CsvEncoding::Cp932).unwrap();
    let (back, _, errors) = encoding_rs::SHIFT_JIS.decode(&cp932);
    assert!(!errors);
    assert!(back.contains("保守～夜間－当番"), "normalized: {back}");
    assert!(!back.contains("&#"), "never numeric references: {back}");

    let mut unmappable = ledger.clone();
    unmappable.devices[0].set(Field::User, "𠮷田");
    let err = to_csv(&unmappable, CsvEncoding::Cp932).unwrap_err();
    assert_eq!(
        err,
        ExportError::Unmappable {
            row: 2,
            column: "利用者".into(),
            character: '𠮷',
            code: 0x20BB7
        }
    );
}

#[test]
fn xlsx_export_reads_back_with_both_sheets() {
    let bytes = to_xlsx(&hostile_ledger()).unwrap();
    let back = read("ledger.xlsx", &bytes);
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    assert_eq!(back.ledger.devices.len(), 1);
    assert_eq!(
        back.ledger.devices[0].get(Field::ComputerName),
        Some("'=HYPERLINK(\"http://x\",\"click\")")
    );
    assert_eq!(back.ledger.cloud[0]["サービス提供事業者"], "'@SUM(1)");
}

#[test]
fn the_last_update_stands_above_the_table_and_reads_back() {
    let mut ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    assert_eq!(
        ledger.updated,
        Some(Updated {
            date: "2024年7月1日".into(),
            by: "鈴木一郎".into()
        })
    );
    ledger.updated = Some(Updated {
        date: "2026年12月4日".into(),
        by: "=cmd".into(),
    });
    let csv = String::from_utf8(to_csv(&ledger, CsvEncoding::Utf8Bom).unwrap()).unwrap();
    assert!(
        csv.starts_with("\u{feff}最終更新日：,2026年12月4日\n最終更新者：,'=cmd\n管理番号,"),
        "{csv}"
    );
    for (name, bytes) in [
        ("back.csv", csv.into_bytes()),
        ("back.xlsx", to_xlsx(&ledger).unwrap()),
    ] {
        let back = read(name, &bytes);
        assert!(back.errors.is_empty(), "{name}: {:?}", back.errors);
        assert_eq!(back.ledger.devices, ledger.devices, "{name}");
        assert_eq!(back.ledger.updated.as_ref().unwrap().date, "2026年12月4日");
    }
}

#[test]
fn xlsx_export_prints_on_a4_landscape_with_the_header_on_every_page() {
    let bytes = to_xlsx(&hostile_ledger()).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    for sheet in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
        let xml = part(sheet);
        assert!(
            xml.contains(r#"paperSize="9""#) && xml.contains(r#"orientation="landscape""#),
            "{sheet}: {xml}"
        );
        assert!(xml.contains(r#"fitToHeight="0""#), "{sheet}: fit to width");
        assert!(
            xml.contains("<fitToPage/>") || xml.contains(r#"fitToPage="1""#),
            "{sheet}"
        );
        assert!(xml.contains("&amp;P / &amp;N"), "{sheet}: page numbers");
    }
    let workbook = part("xl/workbook.xml");
    for title in ["機器台帳!$1:$1", "クラウドサービス!$1:$1"] {
        assert!(
            workbook.contains("_xlnm.Print_Titles") && workbook.contains(title),
            "{title}: {workbook}"
        );
    }
}

#[test]
fn the_remote_maintenance_register_round_trips_through_its_sheet() {
    let lte = RegisterEntry {
        device: "NW-009".into(),
        answers: [
            (Question::Maintainer, "○○メディカル"),
            (Question::Method, "LTE・5G ルータ"),
            (Question::IdHolder, "共用"),
            (Question::Authentication, "=HYPERLINK(\"http://x\")"),
            (Question::CheckedOn, "2026/12/01"),
        ]
        .into_iter()
        .map(|(q, a)| (q, a.to_owned()))
        .collect(),
    };
    let blank = RegisterEntry {
        device: "#12".into(),
        answers: Default::default(),
    };
    let register = vec![lte.clone(), blank];
    let bytes = to_workbook(&hostile_ledger(), &register, &FoundCells::new()).unwrap();
    let back = read_register("ledger.xlsx", &bytes).unwrap();
    assert_eq!(back[0], lte, "a formula-like answer comes back as written");
    assert_eq!(back[1].device, "#12");
    assert_eq!(back[1].unanswered().len(), Question::ALL.len());
    assert_eq!(lte.unanswered().len(), 4);
    // The sheet prints like the others: its header on every page.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut workbook = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut workbook)
        .unwrap();
    assert!(workbook.contains("リモート保守!$1:$1"), "{workbook}");
    // A workbook without the sheet says which sheet to fill in.
    let plain = to_xlsx(&hostile_ledger()).unwrap();
    let err = read_register("plain.xlsx", &plain).unwrap_err().to_string();
    assert!(
        err.contains("リモート保守") && err.contains("plain.xlsx"),
        "{err}"
    );
}

#[test]
fn the_workbook_fills_what_the_network_shows_and_marks_what_differs() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    // Row 001, matched by its MAC: the network shows another address and a
    // model the row leaves empty.
    let mut pc = device(1, "ROOM1-PC1", "198.18.1.51", "00:1b:21:00:01:0b");
    pc.model = Some("OptiPlex 7010".into());
    let found_diff = diff(&ledger, std::slice::from_ref(&pc), &[], &options());
    let found = found_cells(&ledger, &found_diff, &[pc]);
    assert_eq!(
        found.get(&(0, Field::Model)),
        Some(&Found::Filled("OptiPlex 7010".into()))
    );
    assert_eq!(
        found.get(&(0, Field::Ip)),
        Some(&Found::Differs("198.18.1.51".into()))
    );
    let bytes = to_workbook(&ledger, &[], &found).unwrap();
    // The row keeps its address, gains the model; the notes say which is
    // which, and the header's says what the colours mean.
    let back = read("back.xlsx", &bytes).ledger;
    assert_eq!(back.devices[0].get(Field::Ip), Some("198.18.1.11"));
    assert_eq!(back.devices[0].get(Field::Model), Some("OptiPlex 7010"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let name = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .find(|n| n.starts_with("xl/comments"))
        .expect("the cells' notes");
    let mut notes = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(&name).unwrap(), &mut notes).unwrap();
    for expected in [
        "ネットワーク上は「198.18.1.51」",
        "ネットワーク上の検出値（台帳は空欄）",
        "青：",
        "橙：",
    ] {
        assert!(notes.contains(expected), "{expected} not in {notes}");
    }
}

fn device(id: i64, name: &str, ip: &str, mac: &str) -> Discovered {
    Discovered {
        id,
        name: Some(name.into()),
        names: vec![name.into()],
        macs: vec![mac.into()],
        ips: vec![ip.parse().unwrap()],
        last_seen: "2026-11-28T00:00:00Z".parse().unwrap(),
        ..Discovered::default()
    }
}

fn options() -> DiffOptions {
    DiffOptions {
        now: "2026-11-28T12:00:00Z".parse().unwrap(),
        missing_after_days: 30,
        not_scanned: Vec::new(),
    }
}

#[test]
fn the_diff_finds_undeclared_missing_changed_and_flagged_devices() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let mut pc1 = device(1, "ROOM1-PC1", "198.18.1.51", "00:1b:21:00:01:0b");
    pc1.os = Some("Windows 11 Pro".into());
    let mut pc3 = device(
        3,
        "room2-pc1.hospital.local",
        "198.18.1.13",
        "00:1b:21:00:01:0d",
    );
    pc3.os = Some("Windows 10 Pro".into());
    pc3.last_seen = "2026-09-01T00:00:00Z".parse().unwrap();
    let mut unknown = device(
        7,
        "<img src=x onerror=alert(1)>",
        "198.18.1.99",
        "00:1b:21:00:01:63",
    );
    unknown.flags.push(Flag {
        kind: "mobile_router".into(),
        summary: daicho_report::Says::verbatim("LTE router"),
        evidence: vec![daicho_report::Says::verbatim("ifType 243 on wwan0")],
    });
    let by_ip = device(4, "OTHER-NAME", "198.18.1.14", "00:1b:21:00:01:0e");
    let found = [pc1, pc3, unknown, by_ip];
    let diff = diff(&ledger, &found, &[], &options());
    let ids: Vec<&str> = diff.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "C1-ip",
            "C3-os",
            "U7",
            "F7-mobile_router",
            "C4-computer_name",
            "M003"
        ],
        "{:#?}",
        diff.items
    );
    assert_eq!(
        diff.matches,
        [
            (0, 1, MatchedBy::Mac),
            (2, 3, MatchedBy::ComputerName),
            (3, 4, MatchedBy::Ip)
        ]
    );
    assert_eq!(diff.items[1].declared.as_deref(), Some("Win8"));
    let renamed = &diff.items[4];
    assert!(
        renamed
            .detail
            .render(daicho_report::Lang::En)
            .contains("matched to the ledger by IP address only")
    );
    assert!(
        renamed
            .detail
            .render(daicho_report::Lang::Ja)
            .contains("IP アドレスのみ")
    );
    // An address the agents exclude (a fragile device) is never looked for.
    let excluded = DiffOptions {
        not_scanned: vec!["198.18.1.13/32".parse().unwrap()],
        ..options()
    };
    let unscanned = diff::diff(&ledger, &found, &[], &excluded);
    assert!(unscanned.items.iter().all(|i| i.id != "M003"));
    let flagged = &diff.items[3];
    assert_eq!(
        flagged.evidence,
        [daicho_report::Says::verbatim("ifType 243 on wwan0")]
    );
    assert_eq!(flagged.remote_maintenance_declared, None);
    assert!(
        flagged
            .detail
            .render(daicho_report::Lang::En)
            .contains("does not say")
    );
}

#[test]
fn ignore_hides_an_item_until_its_facts_change_and_accept_updates_the_ledger() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let moved = device(1, "ROOM1-PC1", "198.18.1.51", "00:1b:21:00:01:0b");
    let first = diff(&ledger, std::slice::from_ref(&moved), &[], &options());
    let item = first
        .items
        .iter()
        .find(|i| i.id == "C1-ip")
        .unwrap()
        .clone();
    let ignore = Settlement {
        item: item.id.clone(),
        action: SettlementAction::Ignore,
        maintenance: None,
        fingerprint: item.fingerprint.clone(),
        actor: "suzuki".into(),
        note: "DHCP 予約の変更待ち".into(),
        at: "2026-11-28".into(),
    };
    let again = diff(
        &ledger,
        std::slice::from_ref(&moved),
        std::slice::from_ref(&ignore),
        &options(),
    );
    assert!(again.items.iter().all(|i| i.id != "C1-ip"));
    assert_eq!(again.ignored.len(), 1);
    let moved_again = device(1, "ROOM1-PC1", "198.18.1.52", "00:1b:21:00:01:0b");
    let changed = diff(&ledger, &[moved_again], &[ignore], &options());
    assert!(
        changed.items.iter().any(|i| i.id == "C1-ip"),
        "new facts, shown again"
    );

    let today = jiff::civil::date(2026, 11, 28);
    let updated = accept(
        &ledger,
        &item,
        std::slice::from_ref(&moved),
        "suzuki",
        today,
    );
    assert_eq!(updated.devices[0].get(Field::Ip), Some("198.18.1.51"));
    assert!(
        updated.devices[0]
            .get(Field::Description)
            .unwrap()
            .contains("C1-ip (suzuki)")
    );
    let newcomer = device(9, "NEW-PC", "198.18.1.77", "00:1b:21:00:01:77");
    let undeclared = diff(&updated, std::slice::from_ref(&newcomer), &[], &options())
        .items
        .into_iter()
        .find(|i| i.id == "U9")
        .unwrap();
    let added = accept(&updated, &undeclared, &[newcomer], "suzuki", today);
    assert_eq!(added.devices.len(), 5);
    assert_eq!(added.devices[4].get(Field::ComputerName), Some("NEW-PC"));
    assert_eq!(added.devices[4].get(Field::Status), Some("稼働"));
}

#[test]
fn the_html_report_escapes_device_strings_and_runs_no_script() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let hostile = device(
        7,
        "<img src=x onerror=alert(1)>",
        "198.18.1.99",
        "00:1b:21:00:01:63",
    );
    let diff = diff(&ledger, &[hostile], &[], &options());
    for lang in [Lang::Ja, Lang::En] {
        let html = render_html(
            &ReportInput {
                generated_at: "2026-11-28 12:00".into(),
                ledger_version: Some("v1".into()),
                devices_discovered: 1,
                devices_declared: 4,
                missing_after_days: 30,
                diff: &diff,
                coverage: &[Coverage {
                    agent: "<script>alert(2)</script>".into(),
                    segments: "eth0".into(),
                    last_report: "2026-11-27".into(),
                    overdue: true,
                }],
                settlements: &[],
                diagram: None,
                site_name: None,
                inspection: &Inspection::default(),
                unchecked: &[],
            },
            lang,
        );
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&#60;img src=x onerror=alert(1)&#62;") || html.contains("&lt;img"),
            "{html}"
        );
    }
}

#[test]
fn csv_export_reads_back_equal_in_both_encodings() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    for encoding in [CsvEncoding::Utf8Bom, CsvEncoding::Cp932] {
        let bytes = to_csv(&ledger, encoding).unwrap();
        let back = read("back.csv", &bytes);
        assert!(back.errors.is_empty(), "{:?}", back.errors);
        assert_eq!(back.ledger.devices, ledger.devices, "{encoding:?}");
    }
    let back = read("back.xlsx", &to_xlsx(&ledger).unwrap());
    assert_eq!(back.ledger.devices, ledger.devices);
}

#[test]
fn script_and_formula_device_names_are_inert_everywhere() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let script = device(
        7,
        "<script>alert(1)</script>",
        "198.18.1.97",
        "00:1b:21:00:01:61",
    );
    let formula = device(
        8,
        "=HYPERLINK(\"http://x\",\"y\")",
        "198.18.1.98",
        "00:1b:21:00:01:62",
    );
    let found = [script.clone(), formula.clone()];
    let diff = diff(&ledger, &found, &[], &options());
    let html = render_html(
        &ReportInput {
            generated_at: "2026-11-28".into(),
            ledger_version: None,
            devices_discovered: 2,
            devices_declared: 4,
            missing_after_days: 30,
            diff: &diff,
            coverage: &[],
            settlements: &[],
            diagram: None,
            site_name: None,
            inspection: &Inspection::default(),
            unchecked: &[],
        },
        Lang::Ja,
    );
    assert!(!html.contains("<script"), "{html}");
    let today = jiff::civil::date(2026, 11, 28);
    let mut added = ledger;
    for item in diff.items.iter().filter(|i| i.kind == ItemKind::Undeclared) {
        added = accept(&added, item, &found, "suzuki", today);
    }
    let csv =
        String::from_utf8(to_csv(&added, CsvEncoding::Utf8Bom).unwrap()[3..].to_vec()).unwrap();
    assert!(
        csv.contains("<script>alert(1)</script>"),
        "text stays text: {csv}"
    );
    assert!(csv.contains("\"'=HYPERLINK("), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
    let back = read("back.xlsx", &to_xlsx(&added).unwrap()).ledger;
    let names: Vec<&str> = back
        .devices
        .iter()
        .filter_map(|r| r.get(Field::ComputerName))
        .collect();
    assert!(
        names.contains(&"'=HYPERLINK(\"http://x\",\"y\")"),
        "{names:?}"
    );
}

/// The report's HTML for fixed inputs, compared with the checked-in copy
/// (DAICHO_UPDATE_SNAPSHOTS=1 rewrites it): a change to the page is seen in
/// review.
#[test]
fn the_report_matches_its_snapshot() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let mut router = device(9, "lte-router", "198.18.1.254", "00:80:6d:00:02:fe");
    router.flags.push(Flag {
        kind: "mobile_router".into(),
        summary: Says::of(Text::MobileRouter).with("ip", "198.18.1.254"),
        evidence: vec![
            Says::of(Text::WwanInterfaceDefaultRoute)
                .with("ip", "198.18.1.254")
                .with("interface", "wwan0")
                .with("if_type", "243"),
        ],
    });
    let found = [
        device(1, "ROOM1-PC1", "198.18.1.51", "00:1b:21:00:01:0b"),
        router,
    ];
    let diff = diff(&ledger, &found, &[], &options());
    let settled = [Settlement {
        item: "C1-ip".into(),
        action: SettlementAction::Ignore,
        maintenance: None,
        fingerprint: "x".into(),
        actor: "鈴木一郎".into(),
        note: "DHCP 予約の変更待ち".into(),
        at: "2026-11-28 09:00:00 UTC".into(),
    }];
    let inspection = Inspection {
        answers: vec![ChecklistAnswer {
            item: "2-②",
            question: Says::verbatim("リモート保守の把握"),
            yes: false,
            evidence: Says::verbatim("未回答 4"),
            target: Some("2027/03/31".into()),
        }],
        register: vec![RegisterLine {
            entry: RegisterEntry {
                device: "004".into(),
                answers: [(Question::Maintainer, "<B社>".to_owned())].into(),
            },
            because: Says::verbatim("台帳に「有」"),
        }],
        disclosures: vec![DisclosureLine {
            maker: "B社".into(),
            status: Says::of(Text::DisclosureRequested),
            version: "6.0".into(),
            received: String::new(),
            file: String::new(),
            note: "=cmd".into(),
            devices: 1,
        }],
        makers_without: vec!["A社".into()],
        sign_offs: vec![SignOffLine {
            reviewer: "院長".into(),
            day: "2026/12/01".into(),
            note: "情報システム委員会".into(),
            targets: "2-②: 2027/03/31".into(),
        }],
        by_kind: vec![("PC".into(), 3)],
    };
    for (lang, name) in [(Lang::Ja, "report-ja.html"), (Lang::En, "report-en.html")] {
        let html = render_html(
            &ReportInput {
                generated_at: "2026-11-28 12:00 UTC".into(),
                ledger_version: Some("v1 — 2026-11-28 — ledger.csv (鈴木一郎)".into()),
                devices_discovered: found.len(),
                devices_declared: ledger.devices.len(),
                missing_after_days: 30,
                diff: &diff,
                coverage: &[Coverage {
                    agent: "outpatient".into(),
                    segments: "eth1 198.18.1.0/24".into(),
                    last_report: "2026-11-28 02:10 UTC".into(),
                    overdue: false,
                }],
                settlements: &settled,
                diagram: None,
                site_name: Some("○○病院 <本院>"),
                unchecked: &[Unchecked {
                    agent: "outpatient".into(),
                    network: "198.18.1.31/32".into(),
                    rows: vec!["003 (医療機器)".into()],
                }],
                inspection: &inspection,
            },
            lang,
        );
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(name);
        if std::env::var_os("DAICHO_UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &html).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} missing: run with DAICHO_UPDATE_SNAPSHOTS=1",
                path.display()
            )
        });
        assert_eq!(
            html, expected,
            "{name} changed: review it, then DAICHO_UPDATE_SNAPSHOTS=1"
        );
    }
}

/// The sample ledger, read as the current version the mistakes are
/// imported over.
fn sample() -> Ledger {
    read(
        "declared-ledger.csv",
        include_bytes!("../../../config/declared-ledger.csv"),
    )
    .ledger
}

#[test]
fn an_unclosed_quote_in_cp932_is_refused_with_its_line_not_swallowed() {
    let text = "管理番号,IPアドレス,コンピュータ名,説明\n\
                001,198.18.1.11,PC-1,\"受付の端末\n\
                002,198.18.1.12,PC-2,\n\
                003,198.18.1.13,PC-3,\n\
                004,198.18.1.14,PC-4,\n";
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let err = read_file("ledger.csv", &sjis, Encoding::Auto, &Mapping::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("line 2") && message.contains("row 2"),
        "{message}"
    );
    assert!(
        message.contains("3 line(s)") || message.contains("4 line(s)"),
        "{message}"
    );
    assert!(message.contains("引用符"), "{message}");
    // A quoted cell with a line break that is closed is fine.
    let fine = "管理番号,IPアドレス,コンピュータ名,説明\n001,198.18.1.11,PC-1,\"二行\nの説明\"\n002,198.18.1.12,PC-2,\n";
    assert_eq!(read("ledger.csv", fine.as_bytes()).ledger.devices.len(), 2);
}

#[test]
fn a_merged_header_cell_gives_each_column_its_name() {
    // Excel keeps a merged cell's text in its first cell: 「設置場所／利用者」
    // over two columns.
    let text = "管理番号,IPアドレス,コンピュータ名,設置場所／利用者,,状態\n\
                001,198.18.1.11,PC-1,外来受付,受付担当,稼働\n";
    let imported = read("ledger.csv", text.as_bytes());
    assert!(
        imported.unrecognised.is_empty(),
        "{:?}",
        imported.unrecognised
    );
    let row = &imported.ledger.devices[0];
    assert_eq!(row.get(Field::Location), Some("外来受付"));
    assert_eq!(row.get(Field::User), Some("受付担当"));
    // A header that names nothing is listed, not silently dropped.
    let odd = read(
        "ledger.csv",
        "管理番号,IPアドレス,コンピュータ名,担当課コード\n001,198.18.1.11,PC-1,X1\n".as_bytes(),
    );
    assert_eq!(odd.unrecognised, ["担当課コード"]);
}

#[test]
fn japanese_spreadsheet_habits_are_read_and_noted() {
    let text = "管理番号,IPアドレス,MACアドレス,コンピュータ名,登録日,状態,リモートメンテナンス\n\
                001,１９８．１８．２．３１,００：１Ｂ：２１：００：０２：１Ｆ,PC-1,令和元年4月1日,〇,有\n\
                002,198.18.2.32,,PC-2,R3.8.1,×,◯\n\
                003,198.18.2.33,,PC-3,H31/4/1,稼働,無\n\
                004,198.18.2.34,,PC-4,平成30年12月1日,稼働,無\n";
    let imported = read("ledger.csv", text.as_bytes());
    assert!(imported.errors.is_empty(), "{:?}", imported.errors);
    let rows = &imported.ledger.devices;
    assert_eq!(rows[0].get(Field::Ip), Some("198.18.2.31"));
    assert_eq!(rows[0].get(Field::Mac), Some("00:1b:21:00:02:1f"));
    assert_eq!(rows[0].get(Field::Registered), Some("2019/04/01"));
    assert_eq!(rows[0].get(Field::Status), Some("稼働"));
    assert_eq!(rows[1].get(Field::Registered), Some("2021/08/01"));
    assert_eq!(rows[1].get(Field::Status), Some("停止"));
    assert_eq!(rows[1].remote_maintenance(), Some(true));
    assert_eq!(rows[2].get(Field::Registered), Some("2019/04/01"));
    assert_eq!(rows[3].get(Field::Registered), Some("2018/12/01"));
    // Each folded cell is said, with what it became.
    let noted: Vec<(usize, &str)> = imported
        .notes
        .iter()
        .map(|n| (n.row, n.column.as_str()))
        .collect();
    assert!(
        noted.contains(&(2, "IPアドレス")) && noted.contains(&(2, "登録日")),
        "{noted:?}"
    );
    assert!(noted.contains(&(3, "状態")), "{noted:?}");
    assert!(imported.notes[0].to_string().contains("read as"));
}

#[test]
fn spreadsheet_rows_are_numbered_as_excel_shows_them() {
    // Two empty rows, a title, the header on row 4, a bad cell on row 6.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(2, 0, "機器台帳").unwrap();
    for (c, h) in ["管理番号", "IPアドレス", "コンピュータ名"]
        .iter()
        .enumerate()
    {
        sheet.write_string(3, c as u16, *h).unwrap();
    }
    for (r, ip) in [(4, "198.18.1.11"), (5, "198.18.1.999")] {
        sheet.write_string(r, 0, format!("00{r}")).unwrap();
        sheet.write_string(r, 1, ip).unwrap();
        sheet.write_string(r, 2, "PC").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let imported = read("ledger.xlsx", &bytes);
    assert_eq!(imported.errors.len(), 1);
    assert_eq!(imported.errors[0].row, 6, "{}", imported.errors[0]);
}

#[test]
fn an_import_says_what_it_changes_and_whether_it_loses_rows_or_columns() {
    let current = sample();
    // The same file: nothing changes.
    let same = compare(&current, &current);
    assert_eq!(
        (same.added, same.removed.len(), same.changed.len()),
        (0, 0, 0)
    );
    assert!(!same.loses_data());
    // An English-header file with one row: eleven rows would be gone.
    let english = read(
        "other.csv",
        "id,ip address,hostname,status\nX-1,198.18.9.1,pc,active\n".as_bytes(),
    );
    let changes = compare(&current, &english.ledger);
    assert_eq!(changes.removed.len(), 12, "{changes:?}");
    assert_eq!(changes.added, 1);
    assert!(changes.loses_data());
    assert!(
        changes.lines().iter().any(|l| l.contains("NW-001")),
        "{:?}",
        changes.lines()
    );
    // A file without the OS column: that column's values would be gone.
    let mut no_os = current.clone();
    for row in &mut no_os.devices {
        row.fields.remove(&Field::Os);
    }
    let changes = compare(&current, &no_os);
    assert_eq!(changes.lost_columns, [Field::Os]);
    assert_eq!(changes.removed.len(), 0);
    assert!(changes.loses_data());
    // One cell edited and one row added: an update, not a loss.
    let mut edited = current.clone();
    edited.devices[1].set(Field::Os, "Windows 11 Pro");
    let mut added = edited.devices[0].clone();
    added.set(Field::ManagementId, "NW-002");
    edited.devices.push(added);
    let changes = compare(&current, &edited);
    assert_eq!((changes.added, changes.changed.len()), (1, 1));
    assert_eq!(changes.changed[0], ("PC-011".into(), vec![Field::Os]));
    assert!(!changes.loses_data());
}

#[test]
fn full_width_and_indented_formulas_are_neutralized() {
    for cell in [
        "=1+1",
        "＝HYPERLINK(\"x\")",
        " =1",
        "\n=1",
        "\u{3000}＋1",
        "＠SUM(A1)",
        "－1",
    ] {
        assert!(neutralize(cell).starts_with('\''), "{cell:?}");
    }
    for cell in ["PC-1", "198.18.1.1", "a=b"] {
        assert_eq!(neutralize(cell), cell);
    }
}

/// A device with its interfaces: (ip, mac, segment), newest first.
fn multi_homed(id: i64, name: &str, legs: &[(&str, &str, &str)]) -> Discovered {
    let interfaces: Vec<Interface> = legs
        .iter()
        .map(|(ip, mac, segment)| Interface {
            ip: ip.parse().unwrap(),
            mac: Some((*mac).into()),
            segment: (*segment).into(),
        })
        .collect();
    Discovered {
        macs: legs.iter().map(|(_, mac, _)| (*mac).into()).collect(),
        ips: interfaces.iter().map(|i| i.ip).collect(),
        interfaces,
        ..device(id, name, legs[0].0, legs[0].1)
    }
}

#[test]
fn a_leg_the_ledger_lacks_is_a_change_on_its_row_and_accepting_adds_it() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let pc = multi_homed(
        1,
        "ROOM1-PC1",
        &[
            ("198.18.1.11", "00:1b:21:00:01:0b", "outpatient eth1"),
            ("198.18.2.11", "00:1b:21:00:02:0b", "outpatient eth2"),
            // The first segment's older DHCP address is no leg.
            ("198.18.1.99", "00:1b:21:00:01:0b", "outpatient eth1"),
        ],
    );
    let found = diff(&ledger, std::slice::from_ref(&pc), &[], &options());
    let ids: Vec<&str> = found
        .items
        .iter()
        .filter(|i| i.device == Some(1))
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(ids, ["C1-leg-198.18.2.11"], "{:#?}", found.items);
    let leg = &found.items[0];
    assert_eq!(leg.kind, ItemKind::Changed);
    assert_eq!(leg.row, Some(0), "on the declared row, not undeclared");
    assert!(
        leg.detail
            .render(daicho_report::Lang::En)
            .contains("198.18.2.11 / MAC 00:1b:21:00:02:0b")
    );
    assert!(
        leg.detail
            .render(daicho_report::Lang::Ja)
            .contains("別のインタフェース")
    );
    let today = jiff::civil::date(2026, 11, 28);
    let updated = accept(&ledger, leg, std::slice::from_ref(&pc), "suzuki", today);
    let row = &updated.devices[0];
    assert_eq!(row.get(Field::Ip), Some("198.18.1.11, 198.18.2.11"));
    assert_eq!(row.macs(), ["00:1b:21:00:01:0b", "00:1b:21:00:02:0b"]);
    // Settled: the next diff has nothing about the PC.
    let again = diff(&updated, &[pc], &[], &options());
    assert!(
        again.items.iter().all(|i| i.device != Some(1)),
        "{:#?}",
        again.items
    );
    // The row's MAC list survives an export and an import.
    let csv = to_csv(&updated, CsvEncoding::Utf8Bom).unwrap();
    let back = read("ledger.csv", &csv);
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    assert_eq!(back.ledger.devices[0].macs(), row.macs());
}

fn settlement(item: &Item, action: SettlementAction) -> Settlement {
    Settlement {
        item: item.id.clone(),
        action,
        fingerprint: item.fingerprint.clone(),
        actor: "suzuki".into(),
        note: "確認済み".into(),
        at: "2026-11-28 12:00:00 UTC".into(),
        maintenance: None,
    }
}

#[test]
fn a_flag_settles_as_sanctioned_removed_or_false_and_accepting_never_sanctions() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    let mut router = device(7, "lte-gw", "198.18.1.60", "00:1e:42:00:00:60");
    router.flags = vec![Flag {
        kind: "mobile_router".into(),
        summary: daicho_report::Says::verbatim("a mobile router"),
        evidence: vec![daicho_report::Says::verbatim("ifType 243 on wwan0")],
    }];
    let found = diff(&ledger, std::slice::from_ref(&router), &[], &options());
    let flag = found
        .items
        .iter()
        .find(|i| i.id == "F7-mobile_router")
        .unwrap();
    let undeclared = found.items.iter().find(|i| i.id == "U7").unwrap();
    assert_eq!(
        SettlementAction::allowed(flag.kind),
        [
            SettlementAction::Sanctioned,
            SettlementAction::Removed,
            SettlementAction::FalseFinding
        ]
    );
    let today = jiff::civil::date(2026, 11, 28);

    // Accepting the undeclared device adds its row, and says nothing of
    // remote maintenance: the flag stays open.
    let added = accept(
        &ledger,
        undeclared,
        std::slice::from_ref(&router),
        "suzuki",
        today,
    );
    assert_eq!(added.devices[4].get(Field::RemoteMaintenance), None);
    let after = diff(&added, std::slice::from_ref(&router), &[], &options());
    assert!(after.items.iter().any(|i| i.id == "F7-mobile_router"));

    // Sanctioned: the row says 有 and names the maintainer; the flag moves
    // to the register.
    let maintenance = RemoteMaintenance {
        maintainer: "○○メディカル保守".into(),
        method: ConnectionMethod::MobileRouter,
    };
    let sanctioned = sanction(
        &ledger,
        flag,
        std::slice::from_ref(&router),
        &maintenance,
        "suzuki",
        today,
    );
    let row = &sanctioned.devices[4];
    assert_eq!(row.get(Field::RemoteMaintenance), Some("有"));
    assert_eq!(row.get(Field::Maintainer), Some("○○メディカル保守"));
    assert!(
        row.get(Field::Description)
            .unwrap()
            .contains("LTE・5G ルータ")
    );
    let decision = Settlement {
        maintenance: Some(maintenance),
        ..settlement(flag, SettlementAction::Sanctioned)
    };
    let after = diff(
        &sanctioned,
        std::slice::from_ref(&router),
        &[decision],
        &options(),
    );
    assert!(
        after.items.iter().all(|i| i.device != Some(7)),
        "{:#?}",
        after.items
    );
    assert_eq!(after.sanctioned.len(), 1);
    assert!(
        after.sanctioned[0]
            .settlement
            .as_ref()
            .unwrap()
            .maintenance
            .is_some()
    );

    // Removed: still open, with the report, while scans see it.
    let removed = [settlement(flag, SettlementAction::Removed)];
    let after = diff(&ledger, std::slice::from_ref(&router), &removed, &options());
    let open = after
        .items
        .iter()
        .find(|i| i.id == "F7-mobile_router")
        .unwrap();
    assert_eq!(
        open.settlement.as_ref().unwrap().action,
        SettlementAction::Removed
    );

    // A false finding hides it until the evidence changes.
    let false_finding = [settlement(flag, SettlementAction::FalseFinding)];
    let after = diff(
        &ledger,
        std::slice::from_ref(&router),
        &false_finding,
        &options(),
    );
    assert!(after.items.iter().all(|i| i.id != "F7-mobile_router"));
    assert_eq!(after.ignored.len(), 1);
    router.flags[0].evidence.push(daicho_report::Says::verbatim(
        "APN internet.example on wwan0",
    ));
    let after = diff(&ledger, &[router], &false_finding, &options());
    assert!(
        after.items.iter().any(|i| i.id == "F7-mobile_router"),
        "new evidence, shown again"
    );
}

#[test]
fn a_kind_the_ledger_writes_otherwise_is_a_change_and_a_broader_one_is_not() {
    let csv = "管理番号,IPアドレス,MACアドレス,コンピュータ名,種別\n\
               PC-1,198.18.1.11,00:1b:21:00:01:01,pc1,端末PC\n\
               NW-2,198.18.1.12,00:1b:21:00:01:02,lte,ネットワーク機器\n\
               NW-3,198.18.1.13,00:1b:21:00:01:03,sw,Ｌ２ＳＷ（外来）\n\
               XX-4,198.18.1.14,00:1b:21:00:01:04,cam,カメラ\n\
               PC-5,198.18.1.15,00:1b:21:00:01:05,pc5,パソコン\n";
    let ledger = read("kinds.csv", csv.as_bytes()).ledger;
    let identified = |n: i64, name: &str, kind: &str| Discovered {
        kind: Some(kind.into()),
        ..device(
            n,
            name,
            &format!("198.18.1.1{n}"),
            &format!("00:1b:21:00:01:0{n}"),
        )
    };
    let found = [
        // A printer the ledger calls a PC: a change.
        identified(1, "pc1", "プリンタ"),
        // A mobile router is network equipment; a switch written "L2SW"
        // in full-width is too; "カメラ" is no word the table knows; and
        // その他 says too little to contradict anything.
        identified(2, "lte", "モバイルルータ"),
        identified(3, "sw", "ネットワーク機器"),
        identified(4, "cam", "サーバ"),
        identified(5, "pc5", "その他"),
    ];
    let diff = diff(&ledger, &found, &[], &options());
    let ids: Vec<&str> = diff.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["C1-kind"], "{:#?}", diff.items);
    let item = &diff.items[0];
    assert_eq!(
        (item.declared.as_deref(), item.discovered.as_deref()),
        (Some("端末PC"), Some("プリンタ"))
    );
    let updated = accept(
        &ledger,
        item,
        &found,
        "suzuki",
        jiff::civil::date(2026, 12, 3),
    );
    assert_eq!(updated.devices[0].get(Field::Kind), Some("プリンタ"));
}

fn plugged_into(alias: &str) -> daicho_place::Placement {
    daicho_place::Placement {
        port: daicho_place::PortRef {
            switch: 9,
            switch_name: Some("sw-ward".into()),
            switch_location: Some("3F".into()),
            bridge_port: 14,
            if_index: Some(14),
            port_name: Some("Gi1/0/14".into()),
            port_alias: Some(alias.into()),
        },
        vlan: Some(10),
        macs_on_port: 1,
        shared: false,
        also_on: Vec::new(),
        moved_from: None,
    }
}

#[test]
fn a_switch_port_is_a_suggestion_beside_the_ledger_and_only_a_mapped_room_a_change() {
    let ledger = read("ledger.csv", EXAMPLE.as_bytes()).ledger;
    // ROOM1-PC1 (設置場所 Room1) on a port whose alias says otherwise: shown,
    // never claimed.
    let mut pc1 = device(1, "ROOM1-PC1", "198.18.1.11", "00:1b:21:00:01:0b");
    pc1.port = Some(plugged_into("3階処置室"));
    let mut lte = device(7, "lte", "198.18.1.70", "00:1e:42:00:00:70");
    lte.port = Some(plugged_into("3階処置室"));
    let diff = diff_of(&ledger, &[pc1.clone(), lte.clone()]);
    assert!(
        !diff.items.iter().any(|i| i.field == Some(Field::Location)),
        "{:?}",
        diff.items
    );
    let undeclared = diff.items.iter().find(|i| i.id == "U7").unwrap();
    let suggestion = "sw-ward (3F) · Gi1/0/14 「3階処置室」 · VLAN 10";
    assert_eq!(undeclared.location.as_deref(), Some(suggestion));
    // Accepting the undeclared device writes the port as its 設置場所.
    let accepted = accept(&ledger, undeclared, &[pc1.clone(), lte], "it", today());
    let row = accepted.devices.last().unwrap();
    assert_eq!(row.get(Field::Location), Some(suggestion));

    // The site maps the port to a room: now a differing 設置場所 is a change,
    // and accepting it writes the room.
    pc1.room = Some("3階処置室".into());
    let diff = diff_of(&ledger, &[pc1.clone()]);
    let changed = diff
        .items
        .iter()
        .find(|i| i.field == Some(Field::Location))
        .unwrap_or_else(|| panic!("{:?}", diff.items));
    assert_eq!(changed.declared.as_deref(), Some("Room1"));
    assert_eq!(changed.discovered.as_deref(), Some("3階処置室"));
    let accepted = accept(&ledger, changed, &[pc1], "it", today());
    assert_eq!(accepted.devices[0].get(Field::Location), Some("3階処置室"));
}

fn diff_of(ledger: &Ledger, found: &[Discovered]) -> Diff {
    diff(ledger, found, &[], &options())
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 12, 4)
}

#[test]
fn an_accepted_device_is_numbered_by_its_kind_after_the_highest_number() {
    let csv = "管理番号,IPアドレス,コンピュータ名,種別\n\
               PC-011,198.18.1.11,pc11,端末PC\n\
               PC-033,198.18.1.33,pc33,端末PC\n\
               PC-x,198.18.1.34,pcx,端末PC\n";
    let ledger = read("numbered.csv", csv.as_bytes()).ledger;
    let mut pc = device(5, "new-pc", "198.18.1.50", "00:1b:21:00:00:50");
    pc.kind = Some("端末PC".into());
    let mut camera = device(6, "cam", "198.18.1.60", "00:1b:21:00:00:60");
    camera.kind = None;
    let found = [pc, camera];
    let diff = diff_of(&ledger, &found);
    let undeclared = |id: &str| diff.items.iter().find(|i| i.id == id).unwrap();
    let ledger = accept(&ledger, undeclared("U5"), &found, "it", today());
    assert_eq!(
        ledger.devices.last().unwrap().get(Field::ManagementId),
        Some("PC-034")
    );
    let ledger = accept(&ledger, undeclared("U6"), &found, "it", today());
    assert_eq!(
        ledger.devices.last().unwrap().get(Field::ManagementId),
        Some("OT-001")
    );
}
