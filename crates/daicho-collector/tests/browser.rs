//! The web pages in a real browser: Debian's chromium, headless, driven
//! through chromedriver (WebDriver, via fantoccini) against a collector on
//! loopback seeded with a scan (an LTE router, a device named
//! `<img src=x onerror=alert(1)>`) and the sample declared ledger. Staff
//! sign in, open the flagged device, accept one diff item and ignore
//! another with notes, read the audit log, switch to English, export the
//! XLSX; a viewer cannot settle. Screenshots of the main pages are kept in
//! `$CARGO_TARGET_TMPDIR/screenshots/`.
//!
//! Needs `chromium` and `chromium-driver`; under CI their absence fails.

mod support;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use support::{Collector, add_user, collector, lte_router, outpatient_report, ward_report};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../config/declared-ledger.csv"
);
const EDITOR_PASSWORD: &str = "correct horse battery staple";
const VIEWER_PASSWORD: &str = "another long passphrase";

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Driver {
    fn start() -> Option<Driver> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
            );
            eprintln!(
                "skipped: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // Its own process group, which the browsers it starts join: a
        // failing test kills them all, not only chromedriver.
        let child = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!(
            "daicho-chromium-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        Some(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile,
        })
    }

    /// A new headless browser. The flags keep Chromium off the network:
    /// it only ever loads the collector on loopback.
    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-default-apps",
                    "--disable-domain-reliability", "--no-pings", "--window-size=1280,1000",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
            }),
        );
        ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromium starts under chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: signalling the process group this test created.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn run(ledger: &str, args: &[&str]) {
    let out = collector(ledger, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn add(ledger: &str, name: &str, role: &str, password: &str) {
    let out = add_user(ledger, name, role, password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The outpatient scan with an LTE router added.
fn seeded_ledger(dir: &std::path::Path) -> String {
    seeded_with(
        dir,
        lte_router("198.18.1.254", "00:1e:42:00:01:fe", "lte-gw"),
        &[],
    )
}

/// The outpatient scan with `extra` observations, then `reports`, the
/// sample declared ledger and the two users.
fn seeded_with(dir: &std::path::Path, extra: Vec<serde_json::Value>, reports: &[String]) -> String {
    let ledger = dir.join("ledger.db").display().to_string();
    run(&ledger, &["init"]);
    let all: Vec<String> = std::iter::once(outpatient_report(extra))
        .chain(reports.iter().cloned())
        .collect();
    support::import_reports(&ledger, dir, &all);
    run(&ledger, &["ledger", "import", SAMPLE, "--by", "setup"]);
    add(&ledger, "suzuki", "editor", EDITOR_PASSWORD);
    add(&ledger, "tanaka", "viewer", VIEWER_PASSWORD);
    ledger
}

/// The text of the element `css` selects, waiting (bounded) for a page
/// being loaded after a click to show it.
async fn text(browser: &Client, css: &str) -> String {
    match browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => panic!(
            "{css}: {e}\non {}:\n{}",
            browser.current_url().await.unwrap(),
            browser.source().await.unwrap_or_default()
        ),
    }
}

/// Waits (bounded) until the element `css` selects holds `needle`: the
/// page a click asked for has replaced the one before.
async fn eventually_contains(browser: &Client, css: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if found.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed {needle:?} (last: {found:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(browser: &Client, base: &str, user: &str, password: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser
        .find(Locator::Id("user"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Opens the page of the first device the list's search finds for `query`.
async fn open_device(browser: &Client, base: &str, query: &str) {
    browser
        .goto(&format!("{base}/devices?q={query}"))
        .await
        .unwrap();
    browser
        .find(Locator::Css("a.device-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn screenshot(browser: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// The first diff item of a section (its row id).
async fn first_item(browser: &Client, section: &str) -> String {
    browser
        .find(Locator::Css(&format!("h2#{section} + table tr[id]")))
        .await
        .unwrap_or_else(|e| panic!("no {section} item: {e}"))
        .attr("id")
        .await
        .unwrap()
        .unwrap()
}

async fn settle(browser: &Client, item: &str, action: &str, note: &str) {
    browser
        .find(Locator::Id(&format!("note-{item}")))
        .await
        .unwrap()
        .send_keys(note)
        .await
        .unwrap();
    browser
        .find(Locator::Id(&format!("{action}-{item}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn staff_review_settle_and_export_in_chromium_and_hostile_names_stay_text() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!(
        "daicho-browser-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = seeded_ledger(&dir);
    let server = Collector::start(&ledger, &[]);
    let base = server.url.clone();
    let browser = driver.browser().await;

    // Signed out, every page leads to the sign-in form; a wrong password
    // says so.
    browser.goto(&format!("{base}/devices")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");
    sign_in(&browser, &base, "suzuki", "wrong password!").await;
    assert!(text(&browser, "#login-error").await.contains("パスワード"));
    sign_in(&browser, &base, "suzuki", EDITOR_PASSWORD).await;
    text(&browser, ".counts").await;
    assert_eq!(text(&browser, "h1").await, "概要");
    screenshot(&browser, "dashboard-ja").await;

    // The flagged device, from the filtered list.
    browser
        .goto(&format!("{base}/devices?flag=mobile_router"))
        .await
        .unwrap();
    screenshot(&browser, "devices-ja").await;
    let links = browser
        .find_all(Locator::Css("a.device-link"))
        .await
        .unwrap();
    assert_eq!(links.len(), 1, "one mobile router");
    links[0].click().await.unwrap();
    assert!(text(&browser, "#device-name").await.contains("lte-gw"));
    let findings = text(&browser, ".finding").await;
    assert!(findings.contains("モバイルルータ"), "{findings}");
    assert!(findings.contains("携帯回線（3GPP WWAN"), "{findings}");
    screenshot(&browser, "device-ja").await;

    // Declared devices carry the ledger's 種別 (kind), a filter too.
    browser
        .goto(&format!("{base}/devices?kind=端末PC"))
        .await
        .unwrap();
    let listed = text(&browser, "table.devices").await;
    assert!(
        listed.contains("SHINSATSU-PC02") && listed.contains("PC-012"),
        "{listed}"
    );
    assert!(!listed.contains("lte-gw"), "{listed}");

    // Its page shows the row beside what was found; the editor moves the
    // doctor's PC to another room there, and the page says so.
    open_device(&browser, &base, "SHINSATSU").await;
    assert!(text(&browser, "#declared-row").await.contains("PC-012"));
    let location = browser
        .find(Locator::Css("#edit-row input[name=location]"))
        .await
        .unwrap();
    location.clear().await.unwrap();
    location.send_keys("2階 第3診察室").await.unwrap();
    browser
        .find(Locator::Css("#edit-row input[name=note]"))
        .await
        .unwrap()
        .send_keys("診察室の移転")
        .await
        .unwrap();
    browser
        .find(Locator::Id("save-row"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually_contains(&browser, "#declared-row + table", "2階 第3診察室").await;
    screenshot(&browser, "device-edited-ja").await;

    // The hostile name is text: no element made of it, no dialog.
    open_device(&browser, &base, "onerror").await;
    assert!(
        text(&browser, "#device-name")
            .await
            .ends_with("<img src=x onerror=alert(1)>")
    );
    assert!(
        browser
            .find_all(Locator::Css("main img"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        browser.get_alert_text().await.is_err(),
        "a dialog opened: the name ran as script"
    );

    // Accept the doctor's PC's new address, ignore an undeclared device.
    browser.goto(&format!("{base}/diff")).await.unwrap();
    let changed = first_item(&browser, "changed").await;
    let undeclared = first_item(&browser, "undeclared").await;
    settle(&browser, &changed, "accept", "IP 変更を確認（鈴木）").await;
    eventually_contains(&browser, "#message", &changed).await;
    settle(&browser, &undeclared, "ignore", "検査用の一時機器").await;
    eventually_contains(&browser, "#message", &undeclared).await;
    assert!(
        browser
            .find_all(Locator::Id(&undeclared))
            .await
            .unwrap()
            .is_empty(),
        "an ignored item leaves the list"
    );
    screenshot(&browser, "diff-ja").await;

    // Both decisions in the audit log, with who and why.
    browser.goto(&format!("{base}/audit")).await.unwrap();
    let audit = text(&browser, "#audit").await;
    for expected in [
        "差分の処理".to_owned(),
        changed.clone(),
        "IP 変更を確認（鈴木）".to_owned(),
        "検査用の一時機器".to_owned(),
        "suzuki".to_owned(),
    ] {
        assert!(audit.contains(&expected), "{expected} not in {audit}");
    }
    screenshot(&browser, "audit-ja").await;
    browser
        .find(Locator::Id("lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text(&browser, "html[lang='en'] h1").await;
    assert_eq!(text(&browser, "h1").await, "Audit log");
    assert_eq!(browser.current_url().await.unwrap().path(), "/audit");
    browser.goto(&format!("{base}/")).await.unwrap();
    screenshot(&browser, "dashboard-en").await;
    browser.goto(&format!("{base}/findings")).await.unwrap();
    screenshot(&browser, "findings-en").await;

    // The XLSX export, fetched with the browser's session: the accepted
    // address is in the ledger.
    let session = browser.get_named_cookie("daicho_session").await.unwrap();
    let xlsx = reqwest::Client::new()
        .get(format!("{base}/exports/ledger.xlsx"))
        .header("cookie", format!("daicho_session={}", session.value()))
        .send()
        .await
        .unwrap();
    assert!(xlsx.status().is_success());
    let bytes = xlsx.bytes().await.unwrap();
    let exported = daicho_ledger::read_file(
        "ledger.xlsx",
        &bytes,
        daicho_ledger::Encoding::Auto,
        &daicho_ledger::Mapping::default(),
    )
    .unwrap();
    let doctor = exported
        .ledger
        .devices
        .iter()
        .find(|d| d.get(daicho_ledger::Field::ComputerName) == Some("SHINSATSU-PC02"))
        .unwrap();
    assert_eq!(doctor.get(daicho_ledger::Field::Ip), Some("198.18.1.12"));

    // A viewer reads but cannot settle (the server's refusal is tested in
    // web.rs).
    browser
        .find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text(&browser, "#sign-in").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");
    sign_in(&browser, &base, "tanaka", VIEWER_PASSWORD).await;
    text(&browser, ".counts").await;
    browser.goto(&format!("{base}/diff")).await.unwrap();
    assert!(
        browser
            .find_all(Locator::Css("form.settle"))
            .await
            .unwrap()
            .is_empty()
    );
    browser.close().await.unwrap();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn flags_settle_three_ways_and_a_link_is_confirmed_in_chromium() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!(
        "daicho-browser-flags-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut routers = lte_router("198.18.1.254", "00:1e:42:00:01:fe", "lte-gw");
    routers.extend(lte_router("198.18.1.253", "00:1e:42:00:01:fd", "lte-spare"));
    let ledger = seeded_with(&dir, routers, &[ward_report()]);
    let inventory: serde_json::Value =
        serde_json::from_slice(&collector(&ledger, &["devices", "--format", "json"]).stdout)
            .unwrap();
    let device = |name: &str| {
        inventory["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    let gw = format!("F{}-mobile_router", device("lte-gw")["id"]);
    let spare = format!("F{}-mobile_router", device("lte-spare")["id"]);
    let reception = device("UKETSUKE-PC01");
    let link = reception["links"][0]["id"].as_str().unwrap().to_owned();
    let server = Collector::start(&ledger, &[]);
    let base = server.url.clone();
    let browser = driver.browser().await;
    sign_in(&browser, &base, "suzuki", EDITOR_PASSWORD).await;
    text(&browser, ".counts").await;

    // Removed: the flag stays open, with what was recorded.
    browser.goto(&format!("{base}/diff")).await.unwrap();
    let help = text(&browser, &format!("tr[id='{gw}']")).await;
    assert!(help.contains("次のスキャンで見えなくなるまで"), "{help}");
    settle(&browser, &gw, "removed", "11/30 撤去予定").await;
    eventually_contains(&browser, "#message", &gw).await;
    let recorded = text(&browser, &format!("#settled-{gw}")).await;
    assert!(
        recorded.contains("撤去") && recorded.contains("suzuki"),
        "{recorded}"
    );

    // Sanctioned, with the maintainer and the method: to the register.
    browser
        .find(Locator::Id(&format!("maintainer-{gw}")))
        .await
        .unwrap()
        .send_keys("○○メディカル")
        .await
        .unwrap();
    browser
        .find(Locator::Css(&format!(
            "#method-{gw} option[value='mobile_router']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    settle(&browser, &gw, "sanctioned", "保守契約 2026-031").await;
    eventually_contains(&browser, &format!("#register-{gw}"), "○○メディカル").await;
    let register = text(&browser, &format!("#register-{gw}")).await;
    assert!(register.contains("LTE・5G ルータ"), "{register}");

    // A false finding leaves the list.
    settle(&browser, &spare, "false_finding", "検証用の機器").await;
    eventually_contains(&browser, "#message", &spare).await;
    assert!(
        browser
            .find_all(Locator::Id(&spare))
            .await
            .unwrap()
            .is_empty(),
        "a false finding is hidden"
    );
    screenshot(&browser, "diff-flags-ja").await;

    // The link, from the reception PC's page: confirmed, one device.
    browser
        .goto(&format!("{base}/devices/{}", reception["id"]))
        .await
        .unwrap();
    browser
        .find(Locator::Id(&format!("note-{link}")))
        .await
        .unwrap()
        .send_keys("NIC 2 枚の受付 PC")
        .await
        .unwrap();
    browser
        .find(Locator::Id(&format!("confirm-{link}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually_contains(&browser, "table.links", "統合しました").await;
    assert!(text(&browser, "#interfaces").await.contains("198.18.2.11"));
    screenshot(&browser, "device-link-ja").await;

    // What each wrote: the audit log, and the sanctioned router's row.
    browser.goto(&format!("{base}/audit")).await.unwrap();
    let audit = text(&browser, "#audit").await;
    // In the page's language: the actions and the maintenance named.
    for expected in [
        "撤去・切断済み",
        "承認済みのリモートメンテナンス",
        "誤検知",
        "同一機器と確認",
        "保守事業者 ○○メディカル、接続方法 LTE・5G ルータ",
    ] {
        assert!(audit.contains(expected), "{expected} not in {audit}");
    }
    let session = browser.get_named_cookie("daicho_session").await.unwrap();
    let csv = reqwest::Client::new()
        .get(format!("{base}/exports/ledger.csv"))
        .header("cookie", format!("daicho_session={}", session.value()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let csv = String::from_utf8_lossy(&csv);
    let row = csv.lines().find(|l| l.contains("198.18.1.254")).unwrap();
    assert!(row.contains("有") && row.contains("○○メディカル"), "{row}");
    browser.close().await.unwrap();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sets a form field the way a person's date picker does (typing into a
/// date input depends on the browser's locale).
async fn set_value(browser: &Client, css: &str, value: &str) {
    let element = browser.find(Locator::Css(css)).await.unwrap();
    browser
        .execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&element).unwrap(), json!(value)],
        )
        .await
        .unwrap();
}

/// The inspection packet as staff prepare it: the LTE router sanctioned,
/// its 2-② register filled on the inspection page, one maker's MDS/SDS
/// recorded, a sign-off with a target date; then the report written and
/// printed to PDF by Chromium on A4 — its pages kept as PNG (pdftoppm)
/// beside the screenshots.
#[tokio::test]
async fn the_inspection_packet_is_prepared_and_printed_in_chromium() {
    let Some(driver) = Driver::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!(
        "daicho-browser-inspection-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = seeded_with(
        &dir,
        lte_router("198.18.1.254", "00:1e:42:00:01:fe", "lte-gw"),
        &[],
    );
    let inventory: serde_json::Value =
        serde_json::from_slice(&collector(&ledger, &["devices", "--format", "json"]).stdout)
            .unwrap();
    let gw = inventory["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "lte-gw")
        .unwrap()["id"]
        .clone();
    run(
        &ledger,
        &[
            "diff",
            "sanctioned",
            &format!("F{gw}-mobile_router"),
            "--by",
            "suzuki",
            "--note",
            "保守契約 2026-031",
            "--maintainer",
            "○○メディカル",
            "--method",
            "mobile-router",
        ],
    );
    let server = Collector::start(&ledger, &[]);
    let base = server.url.clone();
    let browser = driver.browser().await;
    sign_in(&browser, &base, "suzuki", EDITOR_PASSWORD).await;

    browser.goto(&format!("{base}/inspection")).await.unwrap();
    let answers = text(&browser, "#answers").await;
    assert!(
        answers.contains("2-②") && answers.contains("いいえ"),
        "{answers}"
    );
    // The router's register: vendor and method from the settlement, the
    // rest typed here.
    let form = "form.register-form";
    let section = browser
        .find(Locator::Css("section.register"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        section.contains("承認済みのリモートメンテナンス"),
        "{section}"
    );
    for (name, value) in [
        ("source_restriction", "保守センターの固定 IP のみ"),
        ("id_holder", "個人"),
        ("authentication", "ID・パスワード＋ワンタイムパスワード"),
        ("terminal_check", "月次でパッチ適用の報告を受領"),
        ("timing", "事前に電話連絡の上で実施"),
        ("checked_on", "2026/12/01"),
        ("evidence", "保守契約書 2026-031.pdf"),
    ] {
        browser
            .find(Locator::Css(&format!("{form} input[name='{name}']")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    browser
        .find(Locator::Css(&format!("{form} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually_contains(&browser, "section.register h3", "未回答 0").await;

    // MDS/SDS for the router's maker; a sign-off with a target date.
    browser
        .find(Locator::Css("#disclosure-form input[name='maker']"))
        .await
        .unwrap()
        .send_keys("Teltonika")
        .await
        .unwrap();
    set_value(
        &browser,
        "#disclosure-form input[name='received']",
        "2026-11-20",
    )
    .await;
    browser
        .find(Locator::Css("#disclosure-form input[name='file']"))
        .await
        .unwrap()
        .send_keys("MDS/teltonika.pdf")
        .await
        .unwrap();
    browser
        .find(Locator::Id("save-disclosure"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually_contains(&browser, "#disclosure-list", "Teltonika").await;
    assert!(text(&browser, "#disclosure-list").await.contains("提出済"));
    browser
        .find(Locator::Css("#sign-off-form input[name='reviewer']"))
        .await
        .unwrap()
        .send_keys("院長")
        .await
        .unwrap();
    set_value(&browser, "#sign-off-form input[name='day']", "2026-12-07").await;
    browser
        .find(Locator::Css("#sign-off-form input[name='note']"))
        .await
        .unwrap()
        .send_keys("情報システム委員会")
        .await
        .unwrap();
    set_value(
        &browser,
        "#sign-off-form input[name='target-2-1']",
        "2027-03-31",
    )
    .await;
    browser
        .find(Locator::Id("save-sign-off"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually_contains(&browser, "#sign-off-list", "院長").await;
    let answers = text(&browser, "#answers").await;
    assert!(answers.contains("2027/03/31"), "{answers}");
    screenshot(&browser, "inspection-ja").await;

    // The report, as handed to the inspector: printed by Chromium on A4.
    let report = dir.join("report.html");
    run(&ledger, &["report", "-o", report.to_str().unwrap()]);
    browser
        .goto(&format!("file://{}", report.display()))
        .await
        .unwrap();
    let pdf = browser
        .print(
            fantoccini::wd::PrintConfiguration::builder()
                .size(fantoccini::wd::PrintSize::A4)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let pdf_path = out.join("report-ja.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let info = Command::new("pdfinfo").arg(&pdf_path).output();
    let Ok(info) = info else {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdfinfo (poppler-utils) is missing"
        );
        return;
    };
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.contains("595.") && info.contains("841."), "A4: {info}");
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(pages >= 2, "{info}");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&pdf_path)
        .arg(out.join("report-ja-page"))
        .status()
        .unwrap();
    assert!(status.success());
    let pngs = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("report-ja-page")
        })
        .count();
    assert_eq!(pngs, pages, "one PNG per page");
    let text = Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in ["チェックリスト", "リモート保守の記録", "Teltonika", "院長"]
    {
        assert!(text.contains(expected), "{expected} not in the PDF");
    }
    browser.close().await.unwrap();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
