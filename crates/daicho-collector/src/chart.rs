//! The dashboard's charts over time, drawn here as SVG (no script, no
//! library on the page): one line per series over the days recorded, the
//! last value labelled. Plain functions over the counts.

use std::fmt::Write;

/// One line: its name (in the page's language) and a value per day.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'static str,
    pub values: Vec<i64>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 130.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// The chart of `series` over `days` (`2026-12-04`, oldest first; each
/// series has a value per day). Names are escaped.
pub fn svg(title: &str, days: &[String], series: &[Series]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| {
        if days.len() <= 1 {
            LEFT + plot_w
        } else {
            LEFT + plot_w * i as f64 / (days.len() - 1) as f64
        }
    };
    let y = |v: i64| TOP + plot_h * (1.0 - v as f64 / max as f64);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#888"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="#888"/>"##,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h,
        TOP + plot_h
    );
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#555">{max}</text><text x="{}" y="{}" font-size="10" text-anchor="end" fill="#555">0</text>"##,
        LEFT - 4.0,
        TOP + 8.0,
        LEFT - 4.0,
        TOP + plot_h
    );
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = write!(
            out,
            r##"<text x="{LEFT}" y="{}" font-size="10" fill="#555">{}</text><text x="{}" y="{}" font-size="10" text-anchor="end" fill="#555">{}</text>"##,
            HEIGHT - 8.0,
            escape(first),
            LEFT + plot_w,
            HEIGHT - 8.0,
            escape(last)
        );
    }
    for s in series {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            s.color,
            points.join(" ")
        );
        if let Some(last) = s.values.last() {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="{}">{} {last}</text>"#,
                x(s.values.len() - 1),
                y(*last),
                s.color,
                LEFT + plot_w + 8.0,
                y(*last) + 4.0,
                s.color,
                escape(s.name)
            );
        }
    }
    out.push_str("</svg>");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_series_with_a_point_per_day_and_names_escaped() {
        let days: Vec<String> = ["2026-12-01", "2026-12-02", "2026-12-03"]
            .map(str::to_owned)
            .to_vec();
        let chart = svg(
            "<title>",
            &days,
            &[
                Series {
                    name: "機器",
                    color: "#1565c0",
                    values: vec![10, 12, 11],
                },
                Series {
                    name: "<b>",
                    color: "#b00020",
                    values: vec![0, 2, 1],
                },
            ],
        );
        assert_eq!(chart.matches("<polyline").count(), 2);
        assert_eq!(chart.matches(',').count() - chart.matches(", ").count(), 6);
        assert!(
            chart.contains("機器 11") && chart.contains("&lt;b&gt; 1"),
            "{chart}"
        );
        assert!(!chart.contains("<b>") && !chart.contains("<title>"));
        assert!(chart.contains("2026-12-01") && chart.contains("2026-12-03"));
    }

    #[test]
    fn one_day_or_none_still_draws() {
        let one = svg(
            "t",
            &["2026-12-01".to_owned()],
            &[Series {
                name: "a",
                color: "#000",
                values: vec![0],
            }],
        );
        assert!(one.contains("<polyline") && one.ends_with("</svg>"));
        let none = svg("t", &[], &[]);
        assert!(none.starts_with("<svg") && none.ends_with("</svg>"));
    }
}
