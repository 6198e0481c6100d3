use super::*;

fn node(label: &str, detail: &str) -> Node {
    Node {
        label: label.into(),
        detail: detail.into(),
        link: Some(format!("/devices/{label}")),
    }
}

fn hospital() -> Site {
    let ward = Segment {
        label: "ward eth2 198.18.2.0/24".into(),
        link: Some("/diagram/1".into()),
        switches: vec![Switch {
            id: 6,
            node: node("sw-ward", "3F rack"),
            cabled_to: vec![1],
        }],
        groups: vec![Group {
            kind: "端末PC".into(),
            devices: (0..500)
                .map(|n| node(&format!("pc-{n}"), "198.18.2.x"))
                .collect(),
            link: Some("/devices?kind=端末PC".into()),
        }],
        alerts: vec![Alert {
            kind: AlertKind::MobileRouter,
            node: node("lte-router", "sw-ward · p14 「3階処置室」"),
        }],
    };
    let outpatient = Segment {
        label: "outpatient eth1 198.18.1.0/24".into(),
        switches: vec![Switch {
            id: 1,
            node: node("sw-out", "1F rack"),
            cabled_to: vec![6],
        }],
        groups: vec![Group {
            kind: "プリンタ".into(),
            devices: vec![node("<script>alert(1)</script>", "=HYPERLINK(\"x\")")],
            link: None,
        }],
        ..Segment::default()
    };
    Site {
        title: "病院 & 構成図".into(),
        segments: vec![outpatient, ward],
        bridges: vec![Bridge {
            node: node("dual-pc", "198.18.1.33 / 198.18.2.33"),
            segments: vec![0, 1],
        }],
    }
}

#[test]
fn the_diagram_is_well_formed_svg_with_hostile_names_escaped() {
    let svg = render(
        &hospital(),
        &Options {
            japanese: true,
            listed: 5,
        },
    );
    let document = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(document.root_element().tag_name().name(), "svg");
    assert!(!svg.contains("<script"), "{svg}");
    let texts: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("<script>")), "{texts:?}");
    assert_eq!(
        document
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text()),
        Some("病院 & 構成図")
    );
}

#[test]
fn a_large_group_collapses_to_a_count_and_links_to_its_list() {
    let svg = render(
        &hospital(),
        &Options {
            japanese: true,
            listed: 5,
        },
    );
    assert!(svg.contains("端末PC (500)"));
    assert!(svg.contains("…ほか 495 台"));
    assert!(svg.contains("pc-4") && !svg.contains("pc-5<"), "{svg}");
    assert!(svg.contains(r#"href="/devices?kind=端末PC""#));
}

#[test]
fn what_bypasses_the_design_is_red_in_both_languages() {
    for (japanese, router, dual, cellular) in [
        (true, "モバイルルータ", "2枚挿し", "携帯回線"),
        (false, "Mobile router", "Dual-homed", "Cellular"),
    ] {
        let svg = render(
            &hospital(),
            &Options {
                japanese,
                listed: 5,
            },
        );
        let document = roxmltree::Document::parse(&svg).unwrap();
        let red_text = |needle: &str| {
            document.descendants().any(|n| {
                n.has_tag_name("text")
                    && n.attribute("fill") == Some(RED)
                    && n.text().is_some_and(|t| t.contains(needle))
            })
        };
        assert!(red_text(router), "{svg}");
        assert!(red_text(dual), "{svg}");
        assert!(svg.contains(cellular));
        // The dual-homed PC is joined to both segments by red lines.
        let red_lines = document
            .descendants()
            .filter(|n| n.has_tag_name("line") && n.attribute("stroke") == Some(RED))
            .count();
        assert_eq!(red_lines, 2, "{svg}");
        // The two switches are cabled across the columns.
        let cables = document
            .descendants()
            .filter(|n| n.has_tag_name("line") && n.attribute("stroke") == Some("#455a64"))
            .count();
        assert_eq!(cables, 1, "{svg}");
    }
}
