//! Exports of the reconciled ledger (/exports): CSV, XLSX and the report.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session::Signed;
use super::{Chrome, html, reconciled};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/exports.html")]
struct ExportsPage {
    page: Chrome,
}

pub(super) async fn exports(signed: Signed) -> Response {
    html(ExportsPage { page: signed.page })
}

pub(super) async fn export(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(file): Path<String>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let inspection = super::inspected(&state, &r).await?;
    let (bytes, content_type) = match file.as_str() {
        "ledger.csv" => (
            daicho_ledger::to_csv(&r.ledger, daicho_ledger::CsvEncoding::Utf8Bom)
                .map_err(|e| e.to_string()),
            "text/csv; charset=utf-8",
        ),
        "ledger.xlsx" => (
            crate::inspection::workbook(&r, &inspection).map_err(|e| e.to_string()),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "diagram.svg" => (
            Ok(crate::diagram::svg(&r, signed.lang != daicho_ledger::Lang::En, None).into_bytes()),
            "image/svg+xml",
        ),
        "report.html" => (
            Ok(
                crate::reconcile::report_html(&r, &inspection, signed.lang, state.missing_days)
                    .into_bytes(),
            ),
            "text/html; charset=utf-8",
        ),
        _ => return Ok((StatusCode::NOT_FOUND, signed.page.t.no_such_export).into_response()),
    };
    Ok(match bytes {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"daicho-{file}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{file}: {e}")).into_response(),
    })
}
