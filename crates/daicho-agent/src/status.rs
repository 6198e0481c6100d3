//! What `daicho-agent status` shows: the last scan, the last delivery and
//! the spool, kept in `state_dir/status.json` (written whole and renamed
//! into place after each scan and each flush).

use std::path::{Path, PathBuf};

use daicho_report::Report;
use serde::{Deserialize, Serialize};

use crate::upload::{Flushed, Spool};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub last_scan: Option<ScanSummary>,
    pub last_delivery: Option<DeliverySummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub scan_id: String,
    pub agent_id: String,
    pub finished_at: String,
    pub hosts: usize,
    pub findings: usize,
    pub interrupted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub at: String,
    pub delivered: usize,
    pub refused: usize,
    pub waiting: usize,
    pub problem: Option<String>,
    /// When a report was last acknowledged (kept across failed attempts).
    pub last_acknowledged: Option<String>,
}

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("status.json")
}

/// The recorded status (empty if none yet or unreadable).
pub fn read(state_dir: &Path) -> Status {
    std::fs::read(path(state_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn write(state_dir: &Path, status: &Status) -> std::io::Result<()> {
    daicho_process::write_atomic(&path(state_dir), |file| {
        serde_json::to_writer_pretty(&mut *file, status)?;
        Ok(())
    })
}

pub fn record_scan(state_dir: &Path, report: &Report) -> std::io::Result<()> {
    let mut status = read(state_dir);
    let hosts: std::collections::BTreeSet<_> = report
        .observations
        .iter()
        .filter(|o| o.source == daicho_report::Source::Arp)
        .filter_map(|o| o.ip)
        .collect();
    status.last_scan = Some(ScanSummary {
        scan_id: report.scan_id.to_string(),
        agent_id: report.agent.id.clone(),
        finished_at: report.finished_at.to_string(),
        hosts: hosts.len(),
        findings: report.findings.len(),
        interrupted: report
            .probe_runs
            .iter()
            .any(|r| r.notes.iter().any(|n| n.contains("interrupted"))),
    });
    write(state_dir, &status)
}

pub fn record_delivery(state_dir: &Path, flushed: &Flushed) -> std::io::Result<()> {
    let mut status = read(state_dir);
    let now = jiff::Timestamp::now().to_string();
    let earlier = status.last_delivery.and_then(|d| d.last_acknowledged);
    status.last_delivery = Some(DeliverySummary {
        at: now.clone(),
        delivered: flushed.delivered,
        refused: flushed.refused,
        waiting: flushed.waiting,
        problem: flushed.last_problem.clone(),
        last_acknowledged: if flushed.delivered > 0 {
            Some(now)
        } else {
            earlier
        },
    });
    write(state_dir, &status)
}

/// The status for a person, with the spool's contents.
pub fn render(status: &Status, spool: Option<&Spool>) -> String {
    let mut text = String::new();
    match &status.last_scan {
        Some(scan) => text.push_str(&format!(
            "last scan:     {} (agent {}, {} hosts, {} findings{}), scan {}\n",
            scan.finished_at,
            scan.agent_id,
            scan.hosts,
            scan.findings,
            if scan.interrupted {
                ", interrupted"
            } else {
                ""
            },
            scan.scan_id
        )),
        None => text.push_str("last scan:     none recorded / スキャン記録なし\n"),
    }
    match &status.last_delivery {
        Some(d) => {
            text.push_str(&format!(
                "last upload:   {} — {} delivered, {} refused, {} waiting\n",
                d.at, d.delivered, d.refused, d.waiting
            ));
            text.push_str(&format!(
                "last accepted: {}\n",
                d.last_acknowledged.as_deref().unwrap_or("never / 未送信")
            ));
            if let Some(problem) = &d.problem {
                text.push_str(&format!("problem:       {problem}\n"));
            }
        }
        None => text.push_str("last upload:   none recorded (no collector configured?)\n"),
    }
    if let Some(spool) = spool {
        let size = |paths: &[PathBuf]| -> u64 {
            paths
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum()
        };
        let pending = spool.pending().unwrap_or_default();
        let rejected = spool.rejected().unwrap_or_default();
        text.push_str(&format!(
            "spool:         {} report(s) waiting ({} bytes), {} refused in {}\n",
            pending.len(),
            size(&pending),
            rejected.len(),
            spool.rejected_dir().display()
        ));
    }
    text
}
