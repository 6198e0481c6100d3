//! The collector's command line as a hospital IT person uses it: import
//! reports carried from air-gapped segments, import one twice, import a
//! broken one, list the ledger, explain a device.

use std::process::Command;

const COLLECTOR: &str = env!("CARGO_BIN_EXE_daicho-collector");

/// Today (UTC): the collector refuses reports far from its clock.
fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

fn report(scan: &str, ip: &str, mac: &str, name: &str) -> String {
    let day = today();
    serde_json::json!({
        "schema_version": 1,
        "agent": {"id": "gaiku-agent", "hostname": "agent", "version": "0.1.0"},
        "scan_id": scan,
        "started_at": format!("{day}T00:00:00Z"),
        "finished_at": format!("{day}T00:00:05Z"),
        "segments": [],
        "observations": [
            {"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z", "ip": ip, "mac": mac},
            {"source": "netbios", "interface": "eth0", "at": "2026-11-28T00:00:02Z", "ip": ip,
             "netbios": {"computer_name": name}},
        ],
    })
    .to_string()
}

#[test]
fn import_list_and_explain() {
    let dir = std::env::temp_dir().join(format!("daicho-collector-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = dir.join("ledger.db");
    let a = dir.join("a.json");
    let b = dir.join("b.json");
    let broken = dir.join("broken.json");
    std::fs::write(
        &a,
        report(
            "01a22164-44af-7185-9795-d0f99a55200c",
            "198.18.1.11",
            "e4:46:b0:00:01:0b",
            "UKETSUKE-PC01",
        ),
    )
    .unwrap();
    std::fs::write(
        &b,
        report(
            "01a22164-44af-7185-9795-d0f99a55200d",
            "198.18.1.12",
            "e4:46:b0:00:01:0b",
            "UKETSUKE-PC01",
        ),
    )
    .unwrap();
    let text = std::fs::read_to_string(&a).unwrap();
    std::fs::write(&broken, &text[..text.len() / 2]).unwrap();
    let collector = |args: &[&str]| {
        Command::new(COLLECTOR)
            .arg("--ledger")
            .arg(&ledger)
            .args(args)
            .output()
            .unwrap()
    };
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();

    // A ledger path that does not exist is a mistake until `init` says not.
    let out = collector(&["devices"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("there is no ledger at") && stderr.contains("init"),
        "{stderr}"
    );
    assert!(!ledger.exists(), "nothing created");
    let out = collector(&["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ledger created"));

    let out = collector(&["import", &path(&a), &path(&a), &path(&b), &path(&broken)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a broken file fails the run");
    assert!(stdout.contains("a.json: stored (1 new devices"), "{stdout}");
    assert!(
        stdout.contains("a.json: already in the ledger; nothing changed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("b.json: stored (0 new devices, 1 joined"),
        "{stdout}"
    );
    assert!(
        stderr.contains("broken.json: not imported") && stderr.contains("not valid"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 4 files not imported"), "{stderr}");

    let out = collector(&["devices"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("UKETSUKE-PC01") && stdout.contains("198.18.1.11 198.18.1.12"),
        "{stdout}"
    );

    let out = collector(&["explain", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("mac: e4:46:b0:00:01:0b"), "{stdout}");
    assert!(
        stdout.contains("- MAC e4:46:b0:00:01:0b matches device #1"),
        "{stdout}"
    );
    // Two agents, two segments, one SSH key: one host with a leg in each.
    let day = today();
    let ssh = |agent: &str, scan: &str, ip: &str| {
        serde_json::json!({
            "schema_version": 1,
            "agent": {"id": agent, "hostname": agent, "version": "0.1.0"},
            "scan_id": scan,
            "started_at": format!("{day}T00:01:00Z"),
            "finished_at": format!("{day}T00:01:05Z"),
            "segments": [],
            "observations": [{"source": "ssh", "interface": "eth0", "at": "2026-11-28T01:00:01Z",
                "ip": ip, "ssh": {"port": 22, "banner": "SSH-2.0-x", "fingerprint": "SHA256:pacs"}}],
        })
        .to_string()
    };
    let c = dir.join("c.json");
    let d = dir.join("d.json");
    std::fs::write(
        &c,
        ssh(
            "agent-1f",
            "01a22164-44af-7185-9795-d0f99a552010",
            "198.18.1.50",
        ),
    )
    .unwrap();
    std::fs::write(
        &d,
        ssh(
            "agent-3f",
            "01a22164-44af-7185-9795-d0f99a552011",
            "198.18.2.50",
        ),
    )
    .unwrap();
    assert!(
        collector(&["import", &path(&c), &path(&d)])
            .status
            .success()
    );
    let out = collector(&["findings"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("DualHomed (90%)"), "{stdout}");
    assert!(
        stdout.contains("SSH host key SHA256:pacs answered at 198.18.1.50 on agent-1f/eth0, 198.18.2.50 on agent-3f/eth0"),
        "{stdout}"
    );
    // The same findings, read in Japanese: stored as texts, not sentences.
    let out = collector(&["--lang", "ja", "findings"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("SSH ホスト鍵 SHA256:pacs が agent-1f/eth0 の 198.18.1.50、agent-3f/eth0 の 198.18.2.50 で応答しました"),
        "{stdout}"
    );
    assert!(!stdout.contains("answered at"), "{stdout}");

    let out = collector(&["explain", "99"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device #99"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A site's identification rows: a maker the built-in tables do not know
/// becomes imaging equipment at ingest; a bad file is refused with its name.
#[test]
fn a_site_identification_file_adds_a_maker() {
    let dir =
        std::env::temp_dir().join(format!("daicho-collector-identify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = dir.join("ledger.db");
    let day = today();
    let scan = serde_json::json!({
        "schema_version": 1,
        "agent": {"id": "ward", "hostname": "agent", "version": "0.1.0"},
        "scan_id": "01a22164-44af-7185-9795-d0f99a55300c",
        "started_at": format!("{day}T00:00:00Z"),
        "finished_at": format!("{day}T00:00:05Z"),
        "segments": [],
        "observations": [
            {"source": "arp", "interface": "eth0", "at": "2026-11-28T00:00:01Z",
             "ip": "198.18.1.70", "mac": "00:1b:21:00:07:70", "vendor": "ACME IMAGING GMBH"},
        ],
    });
    let report = dir.join("scan.json");
    std::fs::write(&report, scan.to_string()).unwrap();
    let site = dir.join("identify.toml");
    std::fs::write(
        &site,
        "[[maker]]\nmatch = \"acme imaging\"\nname = \"Acme\"\nkind = \"medical_imaging\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(COLLECTOR)
            .arg("--ledger")
            .arg(&ledger)
            .arg("--identify-tables")
            .arg(&site)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["init"]).status.success());
    assert!(run(&["import", report.to_str().unwrap()]).status.success());
    let listed = run(&["devices", "--format", "json"]);
    let inventory: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let device = &inventory["devices"][0];
    assert_eq!(device["kind"], "medical_imaging", "{device:#}");
    assert_eq!(device["ledger_kind"], "医療機器");
    assert_eq!(device["maker"], "Acme");

    std::fs::write(
        &site,
        "[[maker]]\nmatch = \"x\"\nname = \"y\"\nkind = \"toaster\"\n",
    )
    .unwrap();
    let refused = run(&["devices"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("identify.toml") && stderr.contains("識別テーブル"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_man_page_and_completions_come_from_the_commands_themselves() {
    let out = std::env::temp_dir().join(format!("daicho-cli-docs-{}", std::process::id()));
    let status = Command::new(COLLECTOR)
        .args(["generate-docs", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let page = std::fs::read_to_string(out.join("daicho-collector.1")).unwrap();
    assert!(page.contains(".TH daicho-collector"), "{page}");
    // The packaging command is hidden: no page, not in the main one.
    assert!(!page.contains("generate"), "{page}");
    assert!(!out.join("daicho-collector-generate-docs.1").exists());
    let diagram = std::fs::read_to_string(out.join("daicho-collector-diagram.1")).unwrap();
    assert!(diagram.contains("構成図"), "{diagram}");
    let bash = std::fs::read_to_string(out.join("daicho-collector.bash")).unwrap();
    // Every subcommand completes.
    for command in ["diagram", "diff", "report", "ledger", "serve"] {
        assert!(
            bash.contains(command),
            "{command} missing from the completions"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

/// Under a Japanese locale the help is Japanese, and a mistyped command
/// says what to do in Japanese as well as clap's English.
#[test]
fn help_and_refusals_follow_a_japanese_locale() {
    let run = |lang: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_daicho-collector"))
            .args(args)
            .env("LANG", lang)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("DAICHO_LANG")
            .output()
            .unwrap()
    };
    let help = run("ja_JP.UTF-8", &["register", "set", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("使い方")
            && help.contains("接続端末の安全状態の確認")
            && help.contains("オプション"),
        "{help}"
    );
    let english = run("C.UTF-8", &["register", "set", "--help"]);
    assert!(String::from_utf8_lossy(&english.stdout).contains("Usage"));
    let wrong = run("ja_JP.UTF-8", &["registr"]);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("使い方は `daicho-collector --help`"));
}
