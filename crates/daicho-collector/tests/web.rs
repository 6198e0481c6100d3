//! The web pages' guards over HTTP, on every ledger backend at hand:
//! sign-in (login CSRF, wrong password, throttled guessing), the session
//! cookie's attributes,
//! CSRF on every form, roles, a required note, no open redirect, the
//! security headers, and `user add`'s refusals. (The pages themselves are
//! driven in Chromium by browser.rs.)

mod support;

use daicho_store::scratch;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION};
use support::{
    Collector, add_user, attempt, client, collector, hidden, outpatient_report, set_cookie,
};

const PASSWORD: &str = "correct horse battery staple";

/// Signs in; returns the session cookie's value and the page's CSRF token.
async fn sign_in(base: &str, user: &str, password: &str) -> (String, String) {
    let http = client();
    let answer = attempt(base, user, password).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{user} signs in");
    let (session, attributes) = set_cookie(&answer, "daicho_session").unwrap();
    assert!(
        attributes.contains("HttpOnly") && attributes.contains("SameSite=Strict"),
        "{attributes}"
    );
    let dashboard = http
        .get(format!("{base}/"))
        .header("cookie", format!("daicho_session={session}"))
        .send()
        .await
        .unwrap();
    let csrf = hidden(&dashboard.text().await.unwrap(), "csrf");
    (session, csrf)
}

/// A page as the signed-in `session` gets it (which must be 200 OK).
async fn page(base: &str, session: &str, path: String) -> String {
    let answer = client()
        .get(format!("{base}{path}"))
        .header("cookie", format!("daicho_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{path}");
    answer.text().await.unwrap()
}

#[tokio::test]
async fn sign_in_sessions_csrf_and_roles_guard_every_page() {
    for ledger in scratch::ledgers("web").await {
        let at = ledger.location.as_str();
        let report = std::env::temp_dir().join(format!("daicho-web-{}.json", uuid::Uuid::now_v7()));
        std::fs::write(&report, outpatient_report(Vec::new())).unwrap();
        assert!(
            collector(at, &["import", report.to_str().unwrap()])
                .status
                .success()
        );
        let _ = std::fs::remove_file(&report);
        assert!(
            collector(at, &["ledger", "import", support::SAMPLE, "--by", "setup"])
                .status
                .success()
        );

        // user add: short passwords and taken names are refused, clearly.
        let short = add_user(at, "suzuki", "editor", "short");
        assert!(!short.status.success());
        assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
        assert!(add_user(at, "suzuki", "editor", PASSWORD).status.success());
        assert!(add_user(at, "tanaka", "viewer", PASSWORD).status.success());
        let taken = add_user(at, "tanaka", "viewer", PASSWORD);
        assert!(String::from_utf8_lossy(&taken.stderr).contains("already exists"));

        let server = Collector::start(at, &[]);
        let base = server.url.as_str();
        let http = client();

        // Signed out: pages redirect to the sign-in form; headers forbid
        // script and framing everywhere.
        let page = http.get(format!("{base}/diff")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(page.headers()[LOCATION], "/login");
        let login = http.get(format!("{base}/login")).send().await.unwrap();
        let csp = login.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'none'")
                && !csp.contains("unsafe-inline")
                && !csp.contains("script-src"),
            "{csp}"
        );

        // Sign-in needs the login form's own token, and the right password.
        let forged = http
            .post(format!("{base}/login"))
            .form(&[
                ("user", "suzuki"),
                ("password", PASSWORD),
                ("login_token", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let (login_cookie, _) = set_cookie(&login, "daicho_login").unwrap();
        let token = hidden(&login.text().await.unwrap(), "login_token");
        let wrong = http
            .post(format!("{base}/login"))
            .header("cookie", format!("daicho_login={login_cookie}"))
            .form(&[
                ("user", "suzuki"),
                ("password", "not the password"),
                ("login_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&wrong, "daicho_session").is_none());

        // Guessing is cut short: after five failures the name is refused
        // for a while, even with the right password, and the audit log says so.
        assert!(add_user(at, "sato", "viewer", PASSWORD).status.success());
        for _ in 0..5 {
            let failed = attempt(base, "sato", "a wrong guess!").await;
            assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
        }
        let blocked = attempt(base, "sato", PASSWORD).await;
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(blocked.headers().contains_key("retry-after"));
        let audit =
            String::from_utf8_lossy(&collector(at, &["--lang", "en", "audit"]).stdout).into_owned();
        assert!(audit.contains("sign-in blocked"), "{audit}");

        let (editor, editor_csrf) = sign_in(base, "suzuki", PASSWORD).await;
        let (viewer, viewer_csrf) = sign_in(base, "tanaka", PASSWORD).await;
        let diff = http
            .get(format!("{base}/diff"))
            .header("cookie", format!("daicho_session={editor}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let item = hidden(&diff.replace("<tr id=", "<tr name=\"row\" value="), "row");
        // The diagram: inline SVG, the hostile device names escaped in it,
        // one page per segment, and a clear 404 past the last.
        let get = |path: &str| {
            let url = format!("{base}{path}");
            let http = http.clone();
            let cookie = format!("daicho_session={viewer}");
            async move { http.get(url).header("cookie", cookie).send().await.unwrap() }
        };
        for path in ["/diagram", "/diagram/0", "/exports/diagram.svg"] {
            let page = get(path).await;
            assert_eq!(page.status(), StatusCode::OK, "{path}");
            let text = page.text().await.unwrap();
            assert!(text.contains("<svg"), "{path}: {text}");
            assert!(!text.contains("<img src=x"), "{path}: unescaped name");
            assert!(text.contains("&lt;img src=x"), "{path}: {text}");
        }
        assert_eq!(get("/diagram/9").await.status(), StatusCode::NOT_FOUND);
        // A declared device's page shows its row beside what was found.
        let list = get("/devices?q=UKETSUKE").await.text().await.unwrap();
        let link = list.find("href=\"/devices/").unwrap() + "href=\"/devices/".len();
        let id: String = list[link..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let page = get(&format!("/devices/{id}")).await.text().await.unwrap();
        let row = &page[page
            .find("id=\"declared-row\"")
            .unwrap_or_else(|| panic!("{page}"))..];
        assert!(row.contains("PC-011") && row.contains("外来受付"), "{row}");
        assert!(
            row.contains("富士通") && row.contains("e4:46:b0:00:01:0b"),
            "{row}"
        );
        // An editor changes its 設置場所 there: a new ledger version, audited;
        // a viewer or a forged form changes nothing.
        let post_edit = |session: &str, form: Vec<(&'static str, String)>| {
            let url = format!("{base}/devices/{id}/edit");
            let cookie = format!("daicho_session={session}");
            let http = http.clone();
            async move {
                http.post(url)
                    .header("cookie", cookie)
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let edit = |session: &str, csrf: &str, location: &str, note: &str| {
            let form = vec![
                ("csrf", csrf.to_owned()),
                ("location", location.to_owned()),
                ("user", "受付担当".to_owned()),
                ("kind", "端末PC".to_owned()),
                ("status", "稼働".to_owned()),
                ("description", String::new()),
                ("note", note.to_owned()),
            ];
            post_edit(session, form)
        };
        assert_eq!(
            edit(&viewer, &viewer_csrf, "<b>2F</b>", "席替え")
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            edit(&editor, &"0".repeat(64), "<b>2F</b>", "席替え")
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            edit(&editor, &editor_csrf, "<b>2F</b>", " ").await.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a change needs its reason"
        );
        let saved = edit(&editor, &editor_csrf, "<b>2F</b> 新受付", "席替え").await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let page = get(&format!("/devices/{id}")).await.text().await.unwrap();
        assert!(
            page.contains("&#60;b&#62;2F&#60;/b&#62; 新受付") && !page.contains("<b>2F"),
            "{page}"
        );
        // A form that sends only some columns (and the reason).
        let edit_only = |fields: Vec<(&'static str, &'static str)>| {
            let mut form = vec![("csrf", editor_csrf.clone())];
            form.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
            post_edit(&editor, form)
        };
        // A column the form does not send stays as it is.
        let only_location = edit_only(vec![("location", "3F"), ("note", "再配置")]).await;
        assert_eq!(only_location.status(), StatusCode::SEE_OTHER);
        let page = get(&format!("/devices/{id}")).await.text().await.unwrap();
        let row = &page[page.find("id=\"declared-row\"").unwrap()..];
        assert!(row.contains("受付担当") && row.contains(">3F<"), "{row}");
        assert!(
            !page.contains("class=\"medical\""),
            "not a medical device yet"
        );
        // The 医療機器 mark, set on the page: shown on the device and in the list.
        let marked = edit_only(vec![("medical", "○"), ("note", "医療機器として管理")]).await;
        assert_eq!(marked.status(), StatusCode::SEE_OTHER);
        let page = get(&format!("/devices/{id}")).await.text().await.unwrap();
        assert!(page.contains("class=\"medical\">医療機器"), "{page}");
        let list = get("/devices").await.text().await.unwrap();
        assert!(list.contains("class=\"medical\""), "{list}");
        let audit =
            String::from_utf8_lossy(&collector(at, &["--lang", "en", "audit"]).stdout).into_owned();
        assert!(
            audit.contains("ledger row edited") && audit.contains("設置場所"),
            "{audit}"
        );
        let post = |session: String, form: Vec<(&'static str, String)>| {
            let url = format!("{base}/diff/{item}");
            let http = http.clone();
            async move {
                http.post(url)
                    .header("cookie", format!("daicho_session={session}"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let settled = || async {
            collector(at, &["--lang", "en", "audit"])
                .stdout
                .windows(18)
                .any(|w| w == b"difference settled")
        };
        // A wrong CSRF token, a viewer, an empty note: refused, nothing stored.
        let form = |csrf: &str, note: &str| {
            vec![
                ("csrf", csrf.to_owned()),
                ("action", "ignore".to_owned()),
                ("note", note.to_owned()),
            ]
        };
        let forged = post(editor.clone(), form(&"0".repeat(64), "x")).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let viewer_try = post(viewer.clone(), form(&viewer_csrf, "x")).await;
        assert_eq!(viewer_try.status(), StatusCode::FORBIDDEN);
        let no_note = post(editor.clone(), form(&editor_csrf, "  ")).await;
        assert_eq!(no_note.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            no_note
                .text()
                .await
                .unwrap()
                .contains("理由を記入してください")
        );
        assert!(!settled().await, "nothing settled yet");
        let done = post(editor.clone(), form(&editor_csrf, "一時機器")).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert!(settled().await);

        // The language switch only ever redirects within the site.
        for (back, expected) in [
            ("/audit", "/audit"),
            ("//evil.example/", "/"),
            ("https://evil.example/", "/"),
        ] {
            let switched = http
                .get(format!("{base}/lang"))
                .query(&[("to", "en"), ("back", back)])
                .send()
                .await
                .unwrap();
            assert_eq!(switched.headers()[LOCATION], expected, "back={back}");
        }

        // Signing out, or removing the user, ends the session.
        let out = http
            .post(format!("{base}/logout"))
            .header("cookie", format!("daicho_session={editor}"))
            .form(&[("csrf", editor_csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert!(
            collector(at, &["user", "remove", "tanaka"])
                .status
                .success()
        );
        for session in [editor, viewer] {
            let gone = http
                .get(format!("{base}/"))
                .header("cookie", format!("daicho_session={session}"))
                .send()
                .await
                .unwrap();
            assert_eq!(gone.headers()[LOCATION], "/login");
        }
        drop(server);
        ledger.remove().await;
    }
}

/// A report of `n` devices on one /22, each with a NetBIOS name; one is
/// named like a formula.
fn crowded_report(n: u32) -> String {
    let mut observations = Vec::new();
    for i in 0..n {
        let ip = std::net::Ipv4Addr::from(0xc612_0400 + i + 1).to_string();
        let mac = format!("00:1b:21:00:{:02x}:{:02x}", i >> 8, i & 0xff);
        let name = if i == 7 {
            "=HYPERLINK(\"http://x\",\"y\")".to_owned()
        } else {
            format!("PC-{i:04}")
        };
        observations.push(serde_json::json!({"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z", "ip": ip, "mac": mac}));
        observations.push(serde_json::json!({"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:02Z", "ip": ip, "netbios": {"computer_name": name}}));
    }
    serde_json::json!({
        "schema_version": daicho_report::SCHEMA_VERSION,
        "agent": {"id": "crowded", "hostname": "agent", "version": "0.1.0"},
        "scan_id": uuid::Uuid::now_v7().to_string(),
        "started_at": jiff::Timestamp::now().to_string(),
        "finished_at": jiff::Timestamp::now().to_string(),
        "segments": [{"interface": "eth0", "networks": ["198.18.4.0/22"]}],
        "observations": observations,
    })
    .to_string()
}

#[tokio::test]
async fn the_device_list_pages_sorts_and_saves_every_match_as_csv() {
    let ledger = scratch::sqlite("pages");
    let at = ledger.location.as_str();
    let report = std::env::temp_dir().join(format!("daicho-pages-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&report, crowded_report(520)).unwrap();
    assert!(
        collector(at, &["import", report.to_str().unwrap()])
            .status
            .success()
    );
    let _ = std::fs::remove_file(&report);
    assert!(add_user(at, "tanaka", "viewer", PASSWORD).status.success());
    let server = Collector::start(at, &[]);
    let base = server.url.as_str();
    let (session, _) = sign_in(base, "tanaka", PASSWORD).await;
    let get = |path: &str| page(base, &session, path.to_owned());
    // No silent cut: 520 devices are two pages, each saying where it is.
    let first = get("/devices").await;
    assert!(
        first.contains("1–500 / 520") && first.contains("id=\"next-page\""),
        "{first}"
    );
    assert!(!first.contains("id=\"previous-page\""));
    // Times in the site's zone (Asia/Tokyo unless set), not UTC.
    assert!(first.contains(" JST</td>"), "{first}");
    let second = get("/devices?page=2").await;
    assert!(second.contains("501–520 / 520") && second.contains("id=\"previous-page\""));
    // The diff pages each section the same way, keeping the others' pages.
    let diff = get("/diff").await;
    assert!(
        diff.contains("1–500 / 520") && diff.contains("id=\"next-undeclared\""),
        "{diff}"
    );
    let diff = get("/diff?undeclared=2").await;
    assert!(diff.contains("501–520 / 520"), "{diff}");
    // Sorted by name, descending: PC-0519 heads the list.
    let sorted = get("/devices?sort=-name").await;
    let first_name = |page: &str| {
        let at = page.find("class=\"device-link\"").unwrap();
        let rest = &page[at..];
        let name_at = rest.find("</a></td><td><a href=").unwrap();
        let rest = &rest[name_at..];
        let start = rest.find("\">").unwrap() + 2;
        rest[start..start + rest[start..].find('<').unwrap()].to_owned()
    };
    assert_eq!(first_name(&sorted), "PC-0519");
    assert!(
        sorted.contains("sort=name"),
        "the name column sorts the other way next"
    );
    // The CSV holds every match, not one page; formulas stay text.
    let csv = get("/devices.csv?sort=name").await;
    assert!(csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 521, "header and 520 devices");
    assert!(csv.contains("'=HYPERLINK"), "{}", &csv[..300]);
    let filtered = get("/devices.csv?q=PC-000").await;
    assert_eq!(filtered.lines().count(), 1 + 9, "{filtered}");
}

/// Every page, read in Japanese, says no English sentence: findings,
/// evidence, merge reasons, diff items and audit entries are rendered
/// from stored texts, not stored in English.
#[tokio::test]
async fn every_page_in_japanese_holds_no_english_sentence() {
    let ledger = scratch::sqlite("japanese-pages");
    let at = ledger.location.as_str();
    let dir = support::scratch_dir("ja-pages");
    let run = |args: &[&str]| support::run(at, args);
    let router = support::lte_router("198.18.1.254", "00:1e:42:00:01:fe", "lte-gw");
    support::import_reports(
        at,
        &dir,
        &[outpatient_report(router), support::ward_report()],
    );
    run(&["ledger", "import", support::SAMPLE, "--by", "鈴木一郎"]);
    let diff: serde_json::Value =
        serde_json::from_str(&run(&["diff", "--format", "json"])).unwrap();
    let undeclared = diff["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "undeclared")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&[
        "diff",
        "ignore",
        &undeclared,
        "--by",
        "鈴木一郎",
        "--note",
        "検証用",
    ]);
    run(&[
        "register",
        "set",
        "ME-031",
        "--maintainer",
        "○○メディカル",
        "--by",
        "鈴木一郎",
    ]);
    run(&[
        "disclosure",
        "set",
        "NEC",
        "--status",
        "requested",
        "--by",
        "鈴木一郎",
    ]);
    run(&[
        "sign-off",
        "--reviewer",
        "院長",
        "--date",
        "2026-12-07",
        "--target",
        "2-2=2027-03-31",
        "--by",
        "鈴木一郎",
    ]);
    assert!(add_user(at, "suzuki", "editor", PASSWORD).status.success());
    // Two earlier days for the dashboard's chart (today's comes from the
    // reconciliations above).
    let store = daicho_store::Store::open(at).await.unwrap();
    for (day, devices) in [("2026-01-01", 3), ("2026-01-02", 4)] {
        let counts = daicho_store::DayCounts {
            devices,
            undeclared: 1,
            flagged: 0,
        };
        store.record_counts(day, counts).await.unwrap();
    }
    store.close().await;
    let server = Collector::start(at, &[]);
    let base = server.url.as_str();
    let (session, _) = sign_in(base, "suzuki", PASSWORD).await;
    let get = |path: String| page(base, &session, path);
    let devices: serde_json::Value =
        serde_json::from_str(&run(&["devices", "--format", "json"])).unwrap();
    let mut pages: Vec<String> = [
        "/",
        "/devices",
        "/diff",
        "/findings",
        "/diagram",
        "/exports",
        "/audit",
        "/inspection",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    pages.extend(
        devices["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("/devices/{}", d["id"])),
    );
    let dashboard = get("/".to_owned()).await;
    let chart = &dashboard[dashboard.find("<svg class=\"chart\"").expect("a chart")..];
    let line = &chart[chart.find("<polyline").unwrap()..];
    let points = &line[line.find("points=\"").unwrap() + 8..];
    let points = &points[..points.find('"').unwrap()];
    assert_eq!(
        points.split(' ').count(),
        3,
        "a point per day recorded: {points}"
    );
    assert!(
        chart.contains("2026-01-01") && chart.contains("未記載"),
        "{chart}"
    );
    for path in pages {
        let page = get(path.clone()).await;
        assert_eq!(
            support::english_sentences(&page),
            Vec::<String>::new(),
            "{path} speaks English"
        );
    }
    // The check finds English where there is some.
    let audit_en = client()
        .get(format!("{base}/audit"))
        .header(
            "cookie",
            format!("daicho_session={session}; daicho_lang=en"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!support::english_sentences(&audit_en).is_empty());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    ledger.remove().await;
}
