//! What the person at the terminal sees, and the report file.

use std::io::Write;
use std::path::Path;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use daicho_report::{Flag, Report};

/// The observations as a table, one row per (IP, MAC), sorted by interface and IP.
pub fn table(report: &Report) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["Interface", "IP", "MAC", "Vendor", "Seen as", "Flags"]);
    let mut rows: Vec<_> = report.observations.iter().collect();
    rows.sort_by_key(|o| (o.interface.clone(), o.ip, o.mac));
    for o in rows {
        table.add_row([
            o.interface.to_string(),
            o.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            o.mac.map(|m| m.to_string()).unwrap_or_default(),
            o.vendor.clone().unwrap_or_else(|| "-".into()),
            o.arp
                .as_ref()
                .map(|a| format!("{:?}", a.seen_as).to_lowercase())
                .unwrap_or_default(),
            o.flags
                .iter()
                .map(|f| flag_text(*f))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    table
}

fn flag_text(flag: Flag) -> &'static str {
    match flag {
        Flag::LocallyAdministered => "random/local MAC",
        Flag::IpConflict => "IP CONFLICT",
        Flag::ProxyArp => "proxy ARP",
        Flag::Unknown => "?",
    }
}

/// One line per segment plus one per finding: hosts found, packets, rate.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    for run in &report.probe_runs {
        let hosts = report
            .observations
            .iter()
            .filter(|o| *o.interface == *run.interface)
            .count();
        let seconds = run.finished_at.duration_since(run.started_at).as_secs_f64();
        out += &format!(
            "{}: {hosts} hosts, {} requests sent{} in {seconds:.2} s\n",
            run.interface,
            run.packets_sent,
            run.send_rate
                .map(|r| format!(" at {r:.0}/s"))
                .unwrap_or_default(),
        );
        for note in &run.notes {
            out += &format!("  note: {note}\n");
        }
    }
    for finding in &report.findings {
        out += &format!("finding: {}\n", finding.summary);
        for evidence in &finding.evidence {
            out += &format!("  evidence: {}\n", evidence.text);
        }
    }
    out
}

/// Writes the report as JSON next to `path` and renames it into place, so a
/// reader (or an upload) never sees half a report.
pub fn write_report(report: &Report, path: &Path) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        serde_json::to_writer_pretty(&mut file, report)?;
        file.write_all(b"\n")?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
