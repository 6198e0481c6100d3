//! Dual-homed hosts, mobile routers and the other findings (/findings).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::session::Signed;
use super::{Chrome, html, reconciled};
use crate::state::AppState;

struct FindingLine {
    kind: String,
    confidence: u32,
    summary: daicho_report::Says,
    /// Each subject address, with the device holding it when known.
    subjects: Vec<(String, Option<i64>)>,
    /// Where the subjects are plugged in (switch port, room).
    locations: Vec<String>,
    evidence: Vec<daicho_report::Says>,
}

#[derive(Template)]
#[template(path = "web/findings.html")]
struct FindingsPage {
    page: Chrome,
    findings: Vec<FindingLine>,
}

pub(super) async fn findings(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let device_of = |ip: std::net::IpAddr| r.discovered.iter().find(|d| d.ips.contains(&ip));
    let findings = r
        .findings
        .iter()
        .map(|f| FindingLine {
            kind: serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            confidence: (f.confidence * 100.0).round() as u32,
            summary: f.summary.clone(),
            subjects: f
                .subjects
                .iter()
                .filter_map(|s| s.ip)
                .map(|ip| (ip.to_string(), device_of(ip).map(|d| d.id)))
                .collect(),
            locations: {
                let mut locations: Vec<String> = f
                    .subjects
                    .iter()
                    .filter_map(|s| s.ip)
                    .filter_map(|ip| device_of(ip)?.suggested_location())
                    .collect();
                locations.dedup();
                locations
            },
            evidence: f.evidence.iter().map(|e| e.text.clone()).collect(),
        })
        .collect();
    Ok(html(FindingsPage {
        page: signed.page,
        findings,
    }))
}
