//! A real `daicho-collector serve` process on loopback for the API tests,
//! and reports to send it.

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const COLLECTOR: &str = env!("CARGO_BIN_EXE_daicho-collector");

/// The sample declared ledger (the MHLW example's columns).
pub const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../config/declared-ledger.csv"
);

/// A fresh directory for one test's files (unique per process and call).
pub fn scratch_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "daicho-{label}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes each report into `dir` and ingests it into `ledger`, in order.
pub fn import_reports(ledger: &str, dir: &std::path::Path, reports: &[String]) {
    for (n, text) in reports.iter().enumerate() {
        let report = dir.join(format!("report-{n}.json"));
        std::fs::write(&report, text).unwrap();
        run(ledger, &["import", report.to_str().unwrap()]);
    }
}

/// Runs a collector command on `ledger` that must succeed; its stdout.
pub fn run(ledger: &str, args: &[&str]) -> String {
    let out = collector(ledger, args);
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running collector; killed when dropped.
pub struct Collector {
    child: Child,
    /// e.g. http://127.0.0.1:41234
    pub url: String,
}

impl Collector {
    /// Starts `serve` on a free loopback port with `extra` arguments.
    pub fn start(ledger: &str, extra: &[&str]) -> Collector {
        let log = std::env::temp_dir().join(format!(
            "daicho-collector-test-{}-{}.log",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        let mut child = Command::new(COLLECTOR)
            .args(["--ledger", ledger, "serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("DAICHO_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("the collector starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("daicho-collector: listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the collector did not start: {line:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Collector {
            url: url.to_owned(),
            child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident memory now, in bytes.
    pub fn rss(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib * 1024)
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: signalling our own child process by its pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().expect("the collector exits")
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that follows no redirect (the tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of cookie `name` among a response's Set-Cookie headers.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..]
                .split(';')
                .next()
                .unwrap_or("")
                .to_owned();
            (value, v.to_owned())
        })
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// One sign-in attempt through the form, as a browser makes it.
pub async fn attempt(base: &str, user: &str, password: &str) -> reqwest::Response {
    attempt_from(base, user, password, None).await
}

/// A sign-in attempt from a chosen loopback address (127.0.0.N), as from
/// another PC.
pub async fn attempt_from(
    base: &str,
    user: &str,
    password: &str,
    from: Option<std::net::IpAddr>,
) -> reqwest::Response {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(from)
        .build()
        .unwrap();
    let page = http.get(format!("{base}/login")).send().await.unwrap();
    let (login_cookie, _) = set_cookie(&page, "daicho_login").unwrap();
    let token = hidden(&page.text().await.unwrap(), "login_token");
    http.post(format!("{base}/login"))
        .header("cookie", format!("daicho_login={login_cookie}"))
        .form(&[
            ("user", user),
            ("password", password),
            ("login_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

/// Runs a collector command on `ledger`, in the C locale (what it prints
/// follows the locale; a test that wants Japanese says `--lang ja`).
pub fn collector(ledger: &str, args: &[&str]) -> std::process::Output {
    Command::new(COLLECTOR)
        .args(["--ledger", ledger])
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("DAICHO_LANG")
        .output()
        .expect("the collector runs")
}

/// Adds a web user (`viewer` or `editor`), the password given on stdin as
/// a person types it.
pub fn add_user(ledger: &str, name: &str, role: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(COLLECTOR)
        .args(["--ledger", ledger, "user", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the collector runs");
    let mut stdin = child.stdin.take().expect("piped");
    std::io::Write::write_all(&mut stdin, format!("{password}\n").as_bytes()).expect("stdin");
    drop(stdin);
    child.wait_with_output().expect("the collector exits")
}

/// Registers an API client (`agent` or `reader`) and returns its token.
pub fn add_client(ledger: &str, role: &str, name: &str) -> String {
    let out = collector(ledger, &[role, "add", name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A scan of the outpatient segment (a report as JSON text): the switch and
/// reception PC as in config/declared-ledger.csv, the doctor's PC at another
/// address, two undeclared devices with hostile names, the ECG excluded,
/// and `extra` observations.
pub fn outpatient_report(extra: Vec<serde_json::Value>) -> String {
    let arp = |ip: &str, mac: &str| serde_json::json!({"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z", "ip": ip, "mac": mac});
    let name = |ip: &str, name: &str| serde_json::json!({"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:02Z", "ip": ip, "netbios": {"computer_name": name}});
    let mut observations = vec![
        arp("198.18.1.1", "00:1a:eb:00:01:01"),
        arp("198.18.1.11", "e4:46:b0:00:01:0b"),
        name("198.18.1.11", "UKETSUKE-PC01"),
        arp("198.18.1.12", "d0:43:1e:00:01:0c"),
        name("198.18.1.12", "SHINSATSU-PC02"),
        arp("198.18.1.77", "00:1b:21:00:01:77"),
        name("198.18.1.77", "=HYPERLINK(\"http://x\",\"y\")"),
        arp("198.18.1.78", "00:1b:21:00:01:78"),
        name("198.18.1.78", "<img src=x onerror=alert(1)>"),
    ];
    observations.extend(extra);
    serde_json::json!({
        "schema_version": daicho_report::SCHEMA_VERSION,
        "agent": {"id": "outpatient", "hostname": "agent", "version": "0.1.0"},
        "scan_id": uuid::Uuid::now_v7().to_string(),
        "started_at": jiff::Timestamp::now().to_string(),
        "finished_at": jiff::Timestamp::now().to_string(),
        "segments": [{"interface": "eth0", "networks": ["198.18.1.0/24"], "excluded": ["198.18.1.31/32"]}],
        "observations": observations,
    })
    .to_string()
}

/// An LTE router: a cellular MAC, a WWAN interface holding the default
/// route.
pub fn lte_router(ip: &str, mac: &str, name: &str) -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z",
               "ip": ip, "mac": mac}),
        serde_json::json!({"source": "snmp", "interface": "eth0", "at": "2026-11-28T00:00:03Z",
               "ip": ip, "snmp": {"profile": "ro", "sys_name": name,
               "interfaces": [{"index": 2, "name": "eth0"}, {"index": 3, "name": "wwan0", "if_type": 243}],
               "routes": [{"destination": "0.0.0.0", "prefix_len": 0, "if_index": 3}]}}),
    ]
}

/// The ward agent's scan: the reception PC's second NIC (one MAC above the
/// first's) under the same NetBIOS name — a link, not a join.
pub fn ward_report() -> String {
    serde_json::json!({
        "schema_version": daicho_report::SCHEMA_VERSION,
        "agent": {"id": "ward", "hostname": "agent-ward", "version": "0.1.0"},
        "scan_id": uuid::Uuid::now_v7().to_string(),
        "started_at": jiff::Timestamp::now().to_string(),
        "finished_at": jiff::Timestamp::now().to_string(),
        "segments": [{"interface": "eth0", "networks": ["198.18.2.0/24"], "excluded": []}],
        "observations": [
            {"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z",
             "ip": "198.18.2.11", "mac": "e4:46:b0:00:01:0c"},
            {"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:02Z",
             "ip": "198.18.2.11", "netbios": {"computer_name": "UKETSUKE-PC01"}},
        ],
    })
    .to_string()
}

/// English sentences in a page meant to be Japanese: lines of its text
/// with three or more lowercase English words in a row (names such as
/// "SNMP", "VLAN 20" or "sw-out" are not sentences). Text quoted in 「」
/// is what a device or a person wrote, and is skipped. The same rule as
/// tests/checks/no_english.py, which CI runs on the demo's report.
pub fn english_sentences(page: &str) -> Vec<String> {
    /// The page without its `open`…`close` elements (style, script).
    fn without(page: &str, open: &str, close: &str) -> String {
        let mut kept = String::new();
        let mut rest = page;
        while let Some(start) = rest.find(open) {
            kept.push_str(&rest[..start]);
            rest = rest[start..]
                .find(close)
                .map_or("", |end| &rest[start + end + close.len()..]);
        }
        kept.push_str(rest);
        kept
    }
    let rest = without(&without(page, "<style", "</style>"), "<script", "</script>");
    let mut plain = String::new();
    let mut in_tag = false;
    for c in rest.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push('\n');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let plain = plain
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let mut unquoted = String::new();
    let mut depth = 0;
    for c in plain.chars() {
        match c {
            '「' => depth += 1,
            '」' if depth > 0 => depth -= 1,
            _ if depth == 0 => unquoted.push(c),
            _ => {}
        }
    }
    unquoted
        .lines()
        .filter(|line| {
            let mut run = 0;
            line.split_whitespace().any(|token| {
                let word = token.trim_matches(|c: char| ",.;:()（）、。".contains(c));
                let is_word = word.len() >= 2
                    && word
                        .split('\'')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()));
                run = if is_word { run + 1 } else { 0 };
                run >= 3
            })
        })
        .map(|line| line.trim().to_owned())
        .collect()
}
