//! A real `daicho-collector serve` process on loopback for the API tests,
//! and reports to send it.

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const COLLECTOR: &str = env!("CARGO_BIN_EXE_daicho-collector");

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

/// Runs a collector command on `ledger`.
pub fn collector(ledger: &str, args: &[&str]) -> std::process::Output {
    Command::new(COLLECTOR)
        .args(["--ledger", ledger])
        .args(args)
        .output()
        .expect("the collector runs")
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
