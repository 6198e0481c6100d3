//! The network diagram (構成図, issue #17) as one SVG document, drawn on the
//! server: the pages run no script, and the same file goes into the report
//! and to `daicho-collector diagram -o site.svg`.
//!
//! The layout is a fixed hierarchy, not a general graph: one column per
//! segment; in it the segment's switches (cabled ones joined by a line),
//! then its devices grouped by 種別, then in red what bypasses the design
//! (mobile routers with their cellular uplink, rogue DHCP servers, remote
//! access). Hosts with a leg in several segments (2枚挿し) sit in a red band
//! below the columns, joined to each of their segments. Computing that
//! directly keeps the picture the same from one scan to the next (a layered
//! graph layout reorders everything when one device appears), costs one
//! pass over the devices, and needs no native library or subprocess.
//! Large groups collapse to a count with a link to the list.
//!
//! Every text is XML-escaped: device names come from the network.

use std::fmt::Write;

/// What bypasses the design, drawn in red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    MobileRouter,
    RogueDhcp,
    RemoteAccess,
}

/// A device, as a line of the diagram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub label: String,
    /// An address or a port, in smaller type.
    pub detail: String,
    pub link: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Switch {
    pub id: i64,
    pub node: Node,
    /// The switches it is cabled to (LLDP/CDP, forwarding tables).
    pub cabled_to: Vec<i64>,
}

/// Devices of one 種別.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub kind: String,
    pub devices: Vec<Node>,
    /// Where the whole group is listed (the device list, filtered).
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    pub node: Node,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segment {
    pub label: String,
    /// The segment's own diagram.
    pub link: Option<String>,
    pub switches: Vec<Switch>,
    pub groups: Vec<Group>,
    pub alerts: Vec<Alert>,
}

/// A host with legs in several segments (indexes into [`Site::segments`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    pub node: Node,
    pub segments: Vec<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    pub title: String,
    pub segments: Vec<Segment>,
    pub bridges: Vec<Bridge>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub japanese: bool,
    /// Devices named per group; the rest are counted.
    pub listed: usize,
}

const COLUMN: i64 = 280;
const GAP: i64 = 40;
const MARGIN: i64 = 20;
const LINE: i64 = 16;
const BOX_GAP: i64 = 10;
const RED: &str = "#c62828";

struct Texts {
    devices: &'static str,
    more: fn(usize) -> String,
    dual_homed: &'static str,
    cellular: &'static str,
    alert: fn(AlertKind) -> &'static str,
    legend: &'static str,
}

const JA: Texts = Texts {
    devices: "台",
    more: |n| format!("…ほか {n} 台"),
    dual_homed: "2枚挿し（複数のセグメントに接続）",
    cellular: "携帯回線（LTE/5G）→ インターネット",
    alert: |kind| match kind {
        AlertKind::MobileRouter => "モバイルルータ",
        AlertKind::RogueDhcp => "想定外の DHCP サーバ",
        AlertKind::RemoteAccess => "リモートアクセス機器",
    },
    legend: "赤: 設計を迂回する経路（2枚挿し・モバイルルータ・想定外の DHCP・リモートアクセス）",
};

const EN: Texts = Texts {
    devices: "devices",
    more: |n| format!("…and {n} more"),
    dual_homed: "Dual-homed (on several segments)",
    cellular: "Cellular (LTE/5G) → Internet",
    alert: |kind| match kind {
        AlertKind::MobileRouter => "Mobile router",
        AlertKind::RogueDhcp => "Unexpected DHCP server",
        AlertKind::RemoteAccess => "Remote access",
    },
    legend: "Red: paths that bypass the design (dual-homed hosts, mobile routers, unexpected DHCP, remote access)",
};

/// The diagram of `site` as an SVG document.
pub fn render(site: &Site, options: &Options) -> String {
    let t = if options.japanese { &JA } else { &EN };
    let mut body = String::new();
    let mut bottoms = Vec::with_capacity(site.segments.len());
    let mut switch_at: Vec<(i64, i64, i64)> = Vec::new();
    for (n, segment) in site.segments.iter().enumerate() {
        let x = MARGIN + n as i64 * (COLUMN + GAP);
        let bottom = column(&mut body, segment, x, options, t, &mut switch_at);
        bottoms.push((x, bottom));
    }
    // Cables between switches of different columns.
    for segment in &site.segments {
        for switch in &segment.switches {
            for other in &switch.cabled_to {
                let from = switch_at.iter().find(|(id, ..)| *id == switch.id);
                let to = switch_at.iter().find(|(id, ..)| id == other);
                if let (Some((a, ax, ay)), Some((b, bx, by))) = (from, to)
                    && a < b
                    && ax != bx
                {
                    let _ = writeln!(
                        body,
                        r##"<line x1="{}" y1="{ay}" x2="{bx}" y2="{by}" stroke="#455a64" stroke-width="2"/>"##,
                        ax + COLUMN
                    );
                }
            }
        }
    }
    let columns_bottom = bottoms.iter().map(|(_, b)| *b).max().unwrap_or(MARGIN);
    let mut y = columns_bottom + 3 * BOX_GAP;
    for bridge in &site.bridges {
        let legs: Vec<(i64, i64)> = bridge
            .segments
            .iter()
            .filter_map(|s| bottoms.get(*s).copied())
            .collect();
        let (Some(first), Some(last)) = (legs.first(), legs.last()) else {
            continue;
        };
        let x = (first.0 + last.0) / 2;
        let height = 2 * LINE + 2 * BOX_GAP;
        for (leg_x, leg_bottom) in &legs {
            let _ = writeln!(
                body,
                r#"<line x1="{}" y1="{leg_bottom}" x2="{}" y2="{y}" stroke="{RED}" stroke-width="3"/>"#,
                leg_x + COLUMN / 2,
                x + COLUMN / 2
            );
        }
        boxed(
            &mut body,
            x,
            y,
            height,
            RED,
            "#ffebee",
            &[
                (t.dual_homed.to_owned(), None, true),
                (line_of(&bridge.node), bridge.node.link.as_deref(), false),
            ],
        );
        y += height + BOX_GAP;
    }
    let _ = writeln!(
        body,
        r#"<text x="{MARGIN}" y="{}" font-size="12" fill="{RED}">{}</text>"#,
        y + LINE,
        escape(t.legend)
    );
    let width = (MARGIN * 2 + site.segments.len().max(1) as i64 * (COLUMN + GAP)).max(720);
    let height = y + LINE + MARGIN;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" role=\"img\">\n\
         <title>{}</title>\n{body}</svg>\n",
        escape(&site.title)
    )
}

/// One segment's column; returns where it ends.
fn column(
    out: &mut String,
    segment: &Segment,
    x: i64,
    options: &Options,
    t: &Texts,
    switch_at: &mut Vec<(i64, i64, i64)>,
) -> i64 {
    let mut y = MARGIN;
    let count: usize = segment
        .groups
        .iter()
        .map(|g| g.devices.len())
        .sum::<usize>()
        + segment.switches.len()
        + segment.alerts.len();
    let header = vec![
        (segment.label.clone(), segment.link.as_deref(), true),
        (format!("{count} {}", t.devices), None, false),
    ];
    let height = LINE * 2 + 2 * BOX_GAP;
    boxed(out, x, y, height, "#1565c0", "#e3f2fd", &header);
    y += height + BOX_GAP;
    let mut previous: Option<(i64, i64)> = None;
    for switch in &segment.switches {
        let height = LINE + 2 * BOX_GAP;
        let cabled = previous.filter(|(id, _)| switch.cabled_to.contains(id));
        if let Some((_, above)) = cabled {
            let _ = writeln!(
                out,
                r##"<line x1="{0}" y1="{above}" x2="{0}" y2="{y}" stroke="#455a64" stroke-width="2"/>"##,
                x + COLUMN / 2
            );
        }
        boxed(
            out,
            x,
            y,
            height,
            "#455a64",
            "#eceff1",
            &[(line_of(&switch.node), switch.node.link.as_deref(), true)],
        );
        switch_at.push((switch.id, x, y + height / 2));
        previous = Some((switch.id, y + height));
        y += height + BOX_GAP;
    }
    for group in &segment.groups {
        let listed = group.devices.len().min(options.listed);
        let more = group.devices.len() - listed;
        let mut lines = vec![(
            format!("{} ({})", group.kind, group.devices.len()),
            group.link.as_deref(),
            true,
        )];
        lines.extend(
            group.devices[..listed]
                .iter()
                .map(|d| (line_of(d), d.link.as_deref(), false)),
        );
        if more > 0 {
            lines.push(((t.more)(more), group.link.as_deref(), false));
        }
        let height = LINE * lines.len() as i64 + 2 * BOX_GAP;
        boxed(out, x, y, height, "#607d8b", "#ffffff", &lines);
        y += height + BOX_GAP;
    }
    for alert in &segment.alerts {
        let mut lines = vec![
            ((t.alert)(alert.kind).to_owned(), None, true),
            (line_of(&alert.node), alert.node.link.as_deref(), false),
        ];
        if alert.kind == AlertKind::MobileRouter {
            lines.push((t.cellular.to_owned(), None, false));
        }
        let height = LINE * lines.len() as i64 + 2 * BOX_GAP;
        boxed(out, x, y, height, RED, "#ffebee", &lines);
        y += height + BOX_GAP;
    }
    y
}

fn line_of(node: &Node) -> String {
    if node.detail.is_empty() {
        node.label.clone()
    } else {
        format!("{}  {}", node.label, node.detail)
    }
}

/// A box of text lines (text, link, bold) at (x, y).
fn boxed(
    out: &mut String,
    x: i64,
    y: i64,
    height: i64,
    stroke: &str,
    fill: &str,
    lines: &[(String, Option<&str>, bool)],
) {
    let width = if stroke == RED { 3 } else { 1 };
    let _ = writeln!(
        out,
        r#"<rect x="{x}" y="{y}" width="{COLUMN}" height="{height}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>"#
    );
    for (n, (text, link, bold)) in lines.iter().enumerate() {
        let baseline = y + BOX_GAP + LINE * (n as i64 + 1) - 4;
        let weight = if *bold { r#" font-weight="bold""# } else { "" };
        let colour = if stroke == RED && *bold {
            RED
        } else {
            "#212121"
        };
        let text = escape(&clip(text, 40));
        let element = format!(
            r#"<text x="{}" y="{baseline}" font-size="12"{weight} fill="{colour}">{text}</text>"#,
            x + 8
        );
        match link {
            Some(link) => {
                let _ = writeln!(out, r#"<a href="{}">{element}</a>"#, escape(link));
            }
            None => {
                let _ = writeln!(out, "{element}");
            }
        }
    }
}

/// At most `chars` characters, with an ellipsis: a column is narrow.
fn clip(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Text and attribute values as XML: names come from the network.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even escaped.
            c if c.is_control() && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
