//! The network diagram's cost (issue #17): a 1,000-device site (overview
//! and one segment) and the 100,000-device ledger's overview, drawn from a
//! reconciliation as the pages and `diagram -o` draw it. With Graphviz on
//! the PATH, the same boxes and edges laid out by `dot -Tsvg` in the same
//! run, for the ratio. Run: `tests/bench/diagram.sh`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use daicho_collector::reconcile::Reconciliation;
use daicho_ledger::{Discovered, Flag, Interface};
use daicho_place::{Placement, PortRef, Topology, Uplink, UplinkReason};

/// A site of `devices` devices, `per_segment` to a segment, one switch per
/// 48 devices cabled in a chain, 1 % mobile routers and 1 % dual-homed PCs.
fn site(devices: usize, per_segment: usize) -> Reconciliation {
    let segments: Vec<(String, Vec<ipnet::Ipv4Net>)> = (0..devices.div_ceil(per_segment))
        .map(|s| (format!("agent-{s} eth0"), Vec::new()))
        .collect();
    let kinds = [
        "端末PC",
        "サーバ",
        "プリンタ",
        "医療機器",
        "ネットワーク機器",
        "IP電話",
    ];
    let mut topology = Topology::default();
    let mut discovered = Vec::with_capacity(devices);
    for n in 0..devices {
        let segment = n / per_segment;
        let id = n as i64 + 1;
        let ip = std::net::Ipv4Addr::from(0xc612_0000 + n as u32);
        let mac = format!(
            "00:1b:21:{:02x}:{:02x}:{:02x}",
            n >> 16,
            (n >> 8) & 0xff,
            n & 0xff
        );
        let mut interfaces = vec![Interface {
            ip: ip.into(),
            mac: Some(mac.clone()),
            segment: segments[segment].0.clone(),
        }];
        let mut flags = Vec::new();
        if n % 100 == 7 {
            flags.push(flag("mobile_router"));
        }
        if n % 100 == 42 && segment + 1 < segments.len() {
            flags.push(flag("dual_homed"));
            interfaces.push(Interface {
                segment: segments[segment + 1].0.clone(),
                ..interfaces[0].clone()
            });
        }
        let switch = (n / 48 * 48) as i64 + 1;
        let port = PortRef {
            switch,
            switch_name: Some(format!("sw-{switch}")),
            switch_location: Some("3F".into()),
            bridge_port: (n % 48) as u32 + 1,
            if_index: Some((n % 48) as u32 + 1),
            port_name: Some(format!("Gi1/0/{}", n % 48 + 1)),
            port_alias: Some(format!("room {}", n % 48)),
        };
        if id == switch && switch > 48 {
            topology.uplinks.push(Uplink {
                port: port.clone(),
                reason: UplinkReason::SwitchBehind {
                    switch: switch - 48,
                },
                to: Some(switch - 48),
            });
        }
        discovered.push(Discovered {
            id,
            name: Some(format!("host-{n}")),
            ips: vec![ip.into()],
            macs: vec![mac],
            interfaces,
            kind: Some(kinds[n % kinds.len()].into()),
            flags,
            port: Some(Placement {
                port,
                vlan: Some(10),
                macs_on_port: 1,
                shared: false,
                also_on: Vec::new(),
                moved_from: None,
            }),
            ..Discovered::default()
        });
    }
    Reconciliation {
        ledger: Default::default(),
        version: None,
        discovered,
        settlements: Vec::new(),
        diff: Default::default(),
        coverage: Vec::new(),
        segments,
        findings: Vec::new(),
        topology,
        unchecked: Vec::new(),
    }
}

fn flag(kind: &str) -> Flag {
    Flag {
        kind: kind.into(),
        summary: daicho_report::Says::verbatim(""),
        evidence: Vec::new(),
    }
}

/// The best of `runs` timings of `f`, in seconds.
fn best(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut fastest = f64::MAX;
    let mut size = 0;
    for _ in 0..runs {
        let started = Instant::now();
        size = f();
        fastest = fastest.min(started.elapsed().as_secs_f64());
    }
    (fastest, size)
}

/// The overview's boxes and cables as Graphviz DOT: one node per segment,
/// switch, 種別 group, alert and dual-homed host.
fn dot_of(r: &Reconciliation) -> String {
    let site = daicho_collector::diagram::site_of(r, true);
    let mut dot = String::from("graph site {\nnode [shape=box];\n");
    for (s, segment) in site.segments.iter().enumerate() {
        dot.push_str(&format!("s{s} [label=\"{}\"];\n", segment.label));
        for switch in &segment.switches {
            dot.push_str(&format!(
                "w{} [label=\"{}\"];\ns{s} -- w{};\n",
                switch.id, switch.node.label, switch.id
            ));
            for other in switch.cabled_to.iter().filter(|o| **o > switch.id) {
                dot.push_str(&format!("w{} -- w{other};\n", switch.id));
            }
        }
        for (g, group) in segment.groups.iter().enumerate() {
            dot.push_str(&format!(
                "g{s}_{g} [label=\"{} ({})\"];\ns{s} -- g{s}_{g};\n",
                group.kind,
                group.devices.len()
            ));
        }
        for (a, alert) in segment.alerts.iter().enumerate() {
            dot.push_str(&format!(
                "a{s}_{a} [label=\"{}\" color=red];\ns{s} -- a{s}_{a};\n",
                alert.node.label
            ));
        }
    }
    for (b, bridge) in site.bridges.iter().enumerate() {
        dot.push_str(&format!(
            "b{b} [label=\"{}\" color=red];\n",
            bridge.node.label
        ));
        for s in &bridge.segments {
            dot.push_str(&format!("b{b} -- s{s} [color=red];\n"));
        }
    }
    dot.push_str("}\n");
    dot
}

/// `dot -Tsvg` on `input`, in seconds, if Graphviz is installed.
fn graphviz(input: &str) -> Option<f64> {
    let started = Instant::now();
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    child
        .wait()
        .ok()?
        .success()
        .then(|| started.elapsed().as_secs_f64())
}

fn main() {
    println!("| case | daicho s | SVG KiB | dot -Tsvg s (same boxes) | ratio |");
    println!("|---|---|---|---|---|");
    for (label, devices, per_segment, segment) in [
        ("1,000 devices, 10 segments: overview", 1_000, 100, None),
        (
            "1,000 devices, 10 segments: one segment",
            1_000,
            100,
            Some(0),
        ),
        ("1,000 devices in one segment", 1_000, 1_000, Some(0)),
        (
            "100,000 devices, 200 segments: overview",
            100_000,
            500,
            None,
        ),
    ] {
        let r = site(devices, per_segment);
        let (seconds, bytes) = best(5, || {
            daicho_collector::diagram::svg(&r, true, segment).len()
        });
        let peer = segment.is_none().then(|| graphviz(&dot_of(&r))).flatten();
        let (peer_text, ratio) = match peer {
            Some(p) => (format!("{p:.3}"), format!("{:.3}", seconds / p)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "| {label} | {seconds:.4} | {} | {peer_text} | {ratio} |",
            bytes / 1024
        );
    }
}
