//! The network diagram (/diagram, /diagram/N): the whole site, or one
//! segment, as inline SVG (the pages run no script; its boxes are links).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::session::Signed;
use super::{Chrome, html, reconciled};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/diagram.html")]
struct DiagramPage {
    page: Chrome,
    /// (index, label) of every segment, for the per-segment links.
    segments: Vec<(usize, String)>,
    svg: String,
}

pub(super) async fn site(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<Response, Response> {
    page(&state, signed, None).await
}

pub(super) async fn segment(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(n): Path<usize>,
) -> Result<Response, Response> {
    page(&state, signed, Some(n)).await
}

async fn page(
    state: &AppState,
    signed: Signed,
    segment: Option<usize>,
) -> Result<Response, Response> {
    let r = reconciled(state).await?;
    if segment.is_some_and(|n| n >= r.segments.len()) {
        return Ok((StatusCode::NOT_FOUND, signed.page.t.no_such_segment).into_response());
    }
    let japanese = signed.page.lang != "en";
    Ok(html(DiagramPage {
        segments: r
            .segments
            .iter()
            .enumerate()
            .map(|(n, (label, _))| (n, label.clone()))
            .collect(),
        svg: crate::diagram::svg(&r, japanese, segment),
        page: signed.page,
    }))
}
