//! The diff against the declared ledger (/diff), and settling its items.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use daicho_ledger::{ItemKind, Lang, SettlementAction};
use daicho_store::WebRole;
use serde::Deserialize;

use super::labels::Labels;
use super::session::Signed;
use super::session::same_secret;
use super::{Chrome, LIST_LIMIT, html, reconciled, store_failed};
use crate::reconcile::{Reconciliation, reconcile, settle};
use crate::state::AppState;

struct DiffSection {
    anchor: &'static str,
    title: &'static str,
    /// Open items of this kind (only the first [`LIST_LIMIT`] are shown).
    total: usize,
    items: Vec<DiffLine>,
}

struct DiffLine {
    id: String,
    detail: String,
    evidence: Vec<String>,
    device: Option<i64>,
}

#[derive(Template)]
#[template(path = "web/diff.html")]
struct DiffPage {
    page: Chrome,
    sections: Vec<DiffSection>,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct DiffQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    action: String,
}

fn diff_sections(r: &Reconciliation, lang: Lang, t: &Labels) -> Vec<DiffSection> {
    [
        (ItemKind::Undeclared, "undeclared", t.undeclared),
        (ItemKind::Missing, "missing", t.missing),
        (ItemKind::Changed, "changed", t.changed),
        (ItemKind::Flagged, "flagged", t.flagged),
    ]
    .into_iter()
    .map(|(kind, anchor, title)| DiffSection {
        anchor,
        title,
        total: r.diff.items.iter().filter(|i| i.kind == kind).count(),
        items: r
            .diff
            .items
            .iter()
            .filter(|i| i.kind == kind)
            .take(LIST_LIMIT)
            .map(|i| DiffLine {
                id: i.id.clone(),
                detail: if lang == Lang::En {
                    i.detail.clone()
                } else {
                    i.detail_ja.clone()
                },
                evidence: i.evidence.clone(),
                device: i.device,
            })
            .collect(),
    })
    .collect()
}

pub(super) async fn diff(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Query(query): Query<DiffQuery>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let t = signed.page.t;
    let message = (!query.done.is_empty()).then(|| {
        let what = if query.action == "accept" {
            t.accepted
        } else {
            t.ignored
        };
        format!("{} {what}", query.done)
    });
    Ok(html(DiffPage {
        sections: diff_sections(&r, signed.lang, t),
        message,
        error: None,
        page: signed.page,
    }))
}

#[derive(Deserialize)]
pub(super) struct SettleForm {
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn settle_item(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(item): Path<String>,
    Form(form): Form<SettleForm>,
) -> Result<Response, Response> {
    let t = signed.page.t;
    if !same_secret(&form.csrf, &signed.session.csrf) {
        return Ok((StatusCode::FORBIDDEN, t.form_expired).into_response());
    }
    if signed.session.role != WebRole::Editor {
        return Ok((StatusCode::FORBIDDEN, t.editor_only).into_response());
    }
    let action = match form.action.as_str() {
        "accept" => SettlementAction::Accept,
        "ignore" => SettlementAction::Ignore,
        _ => return Ok((StatusCode::BAD_REQUEST, t.form_expired).into_response()),
    };
    // Settling reads the ledger afresh, never from the cache: an accept
    // writes a new ledger version built on the one it read.
    let r = reconcile(&state.store, state.missing_days, state.overdue_hours)
        .await
        .map_err(store_failed)?;
    let error = if form.note.trim().is_empty() {
        Some(format!("{item}: {}", t.note_required))
    } else {
        match settle(
            &state.store,
            &r,
            &item,
            action,
            &signed.session.user,
            form.note.trim(),
        )
        .await
        {
            Ok(_) => {
                let to = format!("/diff?done={}&action={}", item_query(&item), form.action);
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => Some(format!("{item}: {e:#}")),
        }
    };
    let page = DiffPage {
        sections: diff_sections(&r, signed.lang, t),
        message: None,
        error,
        page: signed.page,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)).into_response())
}

/// Item ids are letters, digits and '-' (U6, C12-ip, MSV-201); anything
/// else is dropped from the redirect.
fn item_query(item: &str) -> String {
    item.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
