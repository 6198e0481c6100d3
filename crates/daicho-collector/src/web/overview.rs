//! The overview (/): what needs looking at, in numbers.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use daicho_ledger::ItemKind;

use super::session::Signed;
use super::{Chrome, html, reconciled, store_failed};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct DashboardPage {
    page: Chrome,
    counts: Vec<(&'static str, usize, &'static str)>,
    coverage: Vec<daicho_ledger::Coverage>,
    ledger_version: Option<String>,
    /// Devices, undeclared and flagged over the days recorded (SVG drawn
    /// by [`crate::chart`], its texts escaped there).
    chart: String,
}

/// Days the chart looks back.
const CHART_DAYS: i64 = 90;

pub(super) async fn dashboard(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let t = signed.page.t;
    let count = |kind| r.diff.open(kind);
    let days = state
        .store
        .daily_counts(CHART_DAYS)
        .await
        .map_err(store_failed)?;
    let series = |name, color, value: fn(&daicho_store::DayCounts) -> i64| crate::chart::Series {
        name,
        color,
        values: days.iter().map(|(_, c)| value(c)).collect(),
    };
    let chart = crate::chart::svg(
        t.trend,
        &days.iter().map(|(day, _)| day.clone()).collect::<Vec<_>>(),
        &[
            series(t.devices, "#1565c0", |c| c.devices),
            series(t.undeclared, "#e65100", |c| c.undeclared),
            series(t.flagged, "#b00020", |c| c.flagged),
        ],
    );
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
        ledger_version: r.version.as_ref().map(|v| {
            format!(
                "v{} — {} — {} ({})",
                v.id,
                crate::site::local_text(&v.at),
                v.source,
                v.actor
            )
        }),
        chart,
        page: signed.page,
    }))
}
