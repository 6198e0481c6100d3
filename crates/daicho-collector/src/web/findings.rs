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
    summary: String,
    /// Each subject address, with the device holding it when known.
    subjects: Vec<(String, Option<i64>)>,
    evidence: Vec<String>,
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
                .map(|ip| {
                    let device = r
                        .discovered
                        .iter()
                        .find(|d| d.ips.contains(&ip))
                        .map(|d| d.id);
                    (ip.to_string(), device)
                })
                .collect(),
            evidence: f.evidence.iter().map(|e| e.text.clone()).collect(),
        })
        .collect();
    Ok(html(FindingsPage {
        page: signed.page,
        findings,
    }))
}
