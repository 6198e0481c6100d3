//! What the command line prints, as text built from data (testable without
//! a terminal). Every string a device or a person supplied passes through
//! [`shown`], so a name cannot rewrite the terminal.

use std::fmt::Write;
use std::path::Path;

use daicho_report::{Finding, Lang, Says};
use daicho_store::{AuditEntry, DeviceRow, Explanation, Ingested, LinkRow};

/// A device-supplied string for the terminal: control characters (escape
/// sequences that could rewrite the screen) escaped, everything else as is.
pub fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// A stored text in the reader's language, for the terminal: the values
/// in it came from devices and people.
pub fn said(text: &Says, lang: Lang) -> String {
    shown(&text.render(lang))
}

/// `audit`: one line per entry.
pub fn audit(entries: &[AuditEntry], lang: Lang) -> String {
    let mut out = String::new();
    for entry in entries {
        let _ = writeln!(
            out,
            "{}  {:<16} {:<14} {}",
            entry.at,
            shown(&entry.actor),
            entry.action_says().render(lang),
            said(&entry.detail, lang)
        );
    }
    out
}

/// `import`: what became of one file.
pub fn imported(file: &Path, outcome: &Ingested) -> String {
    match outcome {
        Ingested::Stored { created, joined } => format!(
            "{}: stored ({created} new devices, {joined} joined known ones)",
            file.display()
        ),
        Ingested::AlreadyKnown => {
            format!("{}: already in the ledger; nothing changed", file.display())
        }
    }
}

/// `devices`: one line per device.
pub fn devices(devices: &[DeviceRow]) -> String {
    let mut out = String::new();
    for device in devices {
        let _ = writeln!(
            out,
            "#{:<5} {:<28} {:<40} last seen {}",
            device.id,
            shown(device.name.as_deref().unwrap_or("-")),
            device.addresses.join(" "),
            device.last_seen
        );
    }
    out
}

/// `findings`: each finding with its evidence, over `agents` reports.
pub fn findings(agents: usize, findings: &[Finding], lang: Lang) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        let _ = writeln!(out, "no findings in the latest reports of {agents} agents");
    }
    for finding in findings {
        let _ = writeln!(
            out,
            "{:?} ({:.0}%): {}",
            finding.kind,
            finding.confidence * 100.0,
            said(&finding.summary, lang)
        );
        for evidence in &finding.evidence {
            let _ = writeln!(out, "  evidence: {}", said(&evidence.text, lang));
        }
    }
    out
}

/// `explain`: a device's identities and every merge decision about it.
pub fn explain(why: &Explanation, lang: Lang) -> String {
    let mut out = String::new();
    let d = &why.device;
    let _ = writeln!(
        out,
        "device #{} {} — first seen {}, last seen {}",
        d.id,
        shown(d.name.as_deref().unwrap_or("-")),
        d.first_seen,
        d.last_seen
    );
    out.push_str("identities:\n");
    for (kind, value) in &why.keys {
        let _ = writeln!(out, "  {kind}: {}", shown(value));
    }
    out.push_str("merges:\n");
    for merge in &why.decisions {
        let what = if merge.created { "created" } else { "joined" };
        let _ = writeln!(
            out,
            "  scan {} {} {}: {what}",
            merge.scan_id,
            merge.interface,
            merge.ip.as_deref().unwrap_or("-")
        );
        for reason in &merge.reasons {
            let _ = writeln!(out, "    - {}", said(reason, lang));
        }
    }
    if !why.links.is_empty() {
        out.push_str("links:\n");
        out.push_str(&links(&why.links, lang));
    }
    out
}

/// `links`: each link with its state and evidence.
pub fn links(links: &[LinkRow], lang: Lang) -> String {
    let mut out = String::new();
    if links.is_empty() {
        out.push_str("no links: no two devices look like one host on weak evidence alone\n");
    }
    for link in links {
        let _ = writeln!(
            out,
            "{:<12} #{} ~ #{}  {} confidence, {}",
            link.id(),
            link.older,
            link.newer,
            link.confidence,
            link.state.as_str()
        );
        for evidence in &link.evidence {
            let _ = writeln!(out, "  evidence: {}", said(evidence, lang));
        }
        if let (Some(by), Some(at)) = (&link.decided_by, &link.decided_at) {
            let note = link.note.as_deref().unwrap_or("");
            let _ = writeln!(out, "  decided by {} at {at}: {}", shown(by), shown(note));
        }
    }
    out
}

/// `register list`: each device maintained remotely, why, its answers and
/// how many are missing.
pub fn register(lines: &[daicho_ledger::RegisterLine], lang: Lang) -> String {
    let mut out = String::new();
    if lines.is_empty() {
        out.push_str(match lang {
            Lang::Ja => "リモート保守の機器はありません（台帳の「有」・承認済みのリモートメンテナンスなし）\n",
            Lang::En => "no device is maintained remotely (none declared 有, none sanctioned)\n",
        });
    }
    for line in lines {
        let missing = line.entry.unanswered();
        let _ = writeln!(
            out,
            "{}  {}  ({}: {})",
            shown(&line.entry.device),
            said(&line.because, lang),
            match lang {
                Lang::Ja => "未回答",
                Lang::En => "unanswered",
            },
            missing.len()
        );
        for question in daicho_ledger::Question::ALL {
            let name = match lang {
                Lang::Ja => question.header(),
                Lang::En => question.english(),
            };
            let answer = line.entry.answer(question).unwrap_or("-");
            let _ = writeln!(out, "    {name}: {}", shown(answer));
        }
    }
    out
}

/// `disclosure list`: each maker's MDS/SDS status, and the ledger's makers
/// with none recorded.
pub fn disclosures(inspection: &daicho_ledger::Inspection, lang: Lang) -> String {
    let mut out = String::new();
    for d in &inspection.disclosures {
        let _ = writeln!(
            out,
            "{}  {}  {} {} {} {}",
            shown(&d.maker),
            said(&d.status, lang),
            shown(&d.version),
            shown(&d.received),
            shown(&d.file),
            shown(&d.note)
        );
    }
    if !inspection.makers_without.is_empty() {
        let _ = writeln!(
            out,
            "{}: {}",
            match lang {
                Lang::Ja => "提出状況が未記録のメーカー",
                Lang::En => "makers with no status recorded",
            },
            shown(&inspection.makers_without.join(", "))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_text_cannot_rewrite_the_terminal() {
        assert_eq!(shown("PC\u{1b}[2J-033"), "PC\\u{1b}[2J-033");
        assert_eq!(shown("３階 ナース"), "３階 ナース");
    }
}
