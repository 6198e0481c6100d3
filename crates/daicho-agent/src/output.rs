//! What the person at the terminal sees, and the report file.

use std::io::Write;
use std::path::Path;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::collections::HashMap;
use std::net::IpAddr;

use daicho_report::{Flag, Report};

/// What the identity probes said about one address, for the table.
#[derive(Default)]
struct Identity {
    name: Option<String>,
    model: Option<String>,
    /// SNMP's maker alone (from the enterprise number): shown only when no
    /// probe named a model.
    maker: Option<String>,
}

/// TXT keys that name a model, most specific first (printers: `ty`,
/// `product`; Apple and others: `model`, `md`; IPP over USB: `usb_MDL`).
const MODEL_TXT_KEYS: &[&str] = &["ty", "product", "usb_MDL", "model", "md"];

/// Names and models by (interface, IP): SNMP first (the device's own
/// configuration), then NetBIOS, UPnP and mDNS, then web pages.
fn identities(report: &Report) -> HashMap<(&str, Option<IpAddr>), Identity> {
    let mut identities: HashMap<(&str, Option<IpAddr>), Identity> = HashMap::new();
    for o in &report.observations {
        let identity = identities.entry((&*o.interface, o.ip)).or_default();
        if let Some(snmp) = o.snmp.as_deref() {
            if snmp.profile.is_none() {
                identity.name.get_or_insert_with(|| {
                    format!("(SNMP refused {} profile(s))", snmp.failures.len())
                });
                continue;
            }
            if let Some(name) = snmp.sys_name.clone().filter(|n| !n.is_empty()) {
                identity.name = Some(name);
            }
            let model = snmp.entities.iter().find_map(|e| e.model.clone());
            identity.maker = snmp.enterprise_name.clone();
            identity.model = match (model, &snmp.enterprise_name) {
                (Some(model), Some(maker)) => Some(format!("{maker} {model}")),
                (model, _) => model,
            };
        }
        if let Some(netbios) = o.netbios.as_deref()
            && let Some(name) = &netbios.computer_name
        {
            let name = match &netbios.workgroup {
                Some(group) => format!("{name} ({group})"),
                None => name.clone(),
            };
            identity.name.get_or_insert(name);
        }
        if let Some(root) = o.ssdp.as_deref().and_then(|s| s.devices.first()) {
            if let Some(name) = &root.friendly_name {
                identity.name.get_or_insert_with(|| name.clone());
            }
            let model: Vec<&str> = [&root.manufacturer, &root.model_name, &root.model_number]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            if !model.is_empty() {
                identity.model.get_or_insert_with(|| model.join(" "));
            }
        }
        if let Some(http) = o.http.as_deref() {
            // An admin page's realm or title often names the model: the
            // weakest source, used only when nothing else did.
            let page = http
                .banners
                .iter()
                .find_map(|b| b.realm.clone().or_else(|| b.title.clone()));
            if let Some(page) = page {
                identity.model.get_or_insert(page);
            }
        }
        if let Some(mdns) = o.mdns.as_deref() {
            let host = mdns.host.trim_end_matches('.').trim_end_matches(".local");
            identity.name.get_or_insert_with(|| host.to_owned());
            let model = MODEL_TXT_KEYS.iter().find_map(|key| {
                mdns.services
                    .iter()
                    .find_map(|s| s.txt.get(*key).filter(|v| !v.is_empty()))
            });
            if let Some(model) = model {
                let model = model.trim_start_matches('(').trim_end_matches(')');
                identity.model.get_or_insert_with(|| model.to_owned());
            }
        }
    }
    identities
}

/// The hosts as a table, one row per (IP, MAC) heard by ARP, sorted by
/// interface and IP, with the name and model the other probes found.
pub fn table(report: &Report) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "Interface",
            "IP",
            "MAC",
            "Vendor",
            "Seen as",
            "Name",
            "Model",
            "Flags",
        ]);
    let identities = identities(report);
    let mut rows: Vec<_> = report
        .observations
        .iter()
        .filter(|o| o.arp.is_some())
        .collect();
    rows.sort_by_key(|o| (o.interface.clone(), o.ip, o.mac));
    for o in rows {
        let identity = identities.get(&(&*o.interface, o.ip));
        // Device strings are untrusted: escaped so no terminal control
        // sequence gets through.
        let show = |text: Option<&String>| {
            text.map(|t| t.escape_debug().to_string())
                .unwrap_or_default()
        };
        table.add_row([
            o.interface.to_string(),
            o.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            o.mac.map(|m| m.to_string()).unwrap_or_default(),
            o.vendor.clone().unwrap_or_else(|| "-".into()),
            o.arp
                .as_ref()
                .map(|a| format!("{:?}", a.seen_as).to_lowercase())
                .unwrap_or_default(),
            show(identity.and_then(|i| i.name.as_ref())),
            show(identity.and_then(|i| i.model.as_ref().or(i.maker.as_ref()))),
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
        Flag::ArpFlux => "answers for another network",
        Flag::Unknown => "?",
    }
}

/// One line per segment plus one per finding: hosts found, packets, rate.
pub fn summary(report: &Report, lang: daicho_report::Lang) -> String {
    let mut out = String::new();
    for run in &report.probe_runs {
        let hosts = report
            .observations
            .iter()
            .filter(|o| *o.interface == *run.interface && o.source == run.probe)
            .count();
        let seconds = run.finished_at.duration_since(run.started_at).as_secs_f64();
        let sent = match (run.packets_sent, run.send_rate) {
            (0, _) => String::new(),
            (n, Some(rate)) => format!(", {n} requests sent at {rate:.0}/s"),
            (n, None) => format!(", {n} requests sent"),
        };
        let probe = format!("{:?}", run.probe).to_uppercase();
        out += &format!(
            "{probe} {}: {hosts} hosts{sent} in {seconds:.2} s\n",
            run.interface
        );
        for note in &run.notes {
            out += &format!("  note: {note}\n");
        }
    }
    for finding in &report.findings {
        out += &format!("finding: {}\n", finding.summary.render(lang));
        for evidence in &finding.evidence {
            out += &format!("  evidence: {}\n", evidence.text.render(lang));
        }
    }
    out
}

/// Writes the report as JSON next to `path` and renames it into place, so a
/// reader (or an upload) never sees half a report. Streamed: a /16's report
/// is never held in memory as text.
pub fn write_report(report: &Report, path: &Path) -> std::io::Result<()> {
    daicho_process::write_atomic(path, |file| {
        serde_json::to_writer_pretty(&mut *file, report)?;
        file.write_all(b"\n")
    })
}
