//! The overview (/): what needs looking at, in numbers.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use daicho_ledger::ItemKind;

use super::session::Signed;
use super::{Chrome, html, reconciled};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct DashboardPage {
    page: Chrome,
    counts: Vec<(&'static str, usize, &'static str)>,
    coverage: Vec<daicho_ledger::Coverage>,
    ledger_version: Option<String>,
}

pub(super) async fn dashboard(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let t = signed.page.t;
    let count = |kind: ItemKind| r.diff.items.iter().filter(|i| i.kind == kind).count();
    Ok(html(DashboardPage {
        counts: vec![
            (t.devices, r.discovered.len(), "/devices"),
            (
                t.undeclared,
                count(ItemKind::Undeclared),
                "/diff#undeclared",
            ),
            (t.missing, count(ItemKind::Missing), "/diff#missing"),
            (t.changed, count(ItemKind::Changed), "/diff#changed"),
            (t.flagged, count(ItemKind::Flagged), "/findings"),
        ],
        coverage: r.coverage.clone(),
        ledger_version: r
            .version
            .as_ref()
            .map(|v| format!("v{} — {} — {} ({})", v.id, v.at, v.source, v.actor)),
        page: signed.page,
    }))
}
