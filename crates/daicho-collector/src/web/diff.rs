//! The diff against the declared ledger (/diff), and settling its items.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use daicho_ledger::{
    ConnectionMethod, Item, ItemKind, Lang, RemoteMaintenance, Settlement, SettlementAction,
};
use serde::Deserialize;

use super::labels::Labels;
use super::session::Signed;
use super::{Chrome, LIST_LIMIT, html, reconciled, store_failed};
use crate::reconcile::{Reconciliation, reconcile, settle};
use crate::state::AppState;

struct DiffSection {
    anchor: &'static str,
    title: &'static str,
    /// Open items of this kind; a page shows [`LIST_LIMIT`] of them.
    total: usize,
    items: Vec<DiffLine>,
    /// 1-based numbers of the first and last item shown.
    shown: (usize, usize),
    /// Query strings of this section's previous and next pages (the other
    /// sections stay on theirs).
    previous: Option<String>,
    next: Option<String>,
}

struct DiffLine {
    id: String,
    detail: String,
    evidence: Vec<String>,
    device: Option<i64>,
    /// Where the device is plugged in: a suggestion beside the ledger.
    location: Option<String>,
    /// A flag: settled as sanctioned, removed or false, not accepted.
    flagged: bool,
    /// The decision recorded on it (a removal waiting for a scan; in the
    /// register, who sanctioned it with what).
    settled: Option<String>,
}

/// The connection methods a sanctioned flag chooses from: (value, label).
fn methods(lang: Lang) -> Vec<(&'static str, String)> {
    ConnectionMethod::ALL
        .iter()
        .map(|m| (m.as_str(), m.label(lang)))
        .collect()
}

/// How a decision on an item reads: action, maintainer and method, who,
/// when, why.
fn settled_text(settlement: &Settlement, lang: Lang) -> String {
    let action = settlement.action.label(lang);
    let maintenance = settlement
        .maintenance
        .as_ref()
        .map_or_else(String::new, |m| {
            let method = m.method.label(lang);
            format!(" ({}, {method})", m.maintainer)
        });
    format!(
        "{action}{maintenance} — {} {}: {}",
        settlement.actor,
        crate::site::local_text(&settlement.at),
        settlement.note
    )
}

fn diff_line(i: &Item, lang: Lang) -> DiffLine {
    DiffLine {
        id: i.id.clone(),
        detail: i.detail.render(lang),
        evidence: i.evidence.iter().map(|e| e.render(lang)).collect(),
        device: i.device,
        location: i.location.clone(),
        flagged: i.kind == ItemKind::Flagged,
        settled: i.settlement.as_ref().map(|s| settled_text(s, lang)),
    }
}

#[derive(Template)]
#[template(path = "web/diff.html")]
struct DiffPage {
    page: Chrome,
    sections: Vec<DiffSection>,
    /// Flags settled as sanctioned remote maintenance.
    sanctioned: Vec<DiffLine>,
    methods: Vec<(&'static str, String)>,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, serde::Serialize, Default, Clone)]
pub(super) struct DiffQuery {
    #[serde(default, skip_serializing)]
    done: String,
    #[serde(default, skip_serializing)]
    action: String,
    /// The page (from 1) each section shows, by its anchor.
    #[serde(default)]
    undeclared: usize,
    #[serde(default)]
    missing: usize,
    #[serde(default)]
    changed: usize,
    #[serde(default)]
    flagged: usize,
}

impl DiffQuery {
    fn page(&self, kind: ItemKind) -> usize {
        match kind {
            ItemKind::Undeclared => self.undeclared,
            ItemKind::Missing => self.missing,
            ItemKind::Changed => self.changed,
            ItemKind::Flagged => self.flagged,
        }
    }

    fn page_mut(&mut self, kind: ItemKind) -> &mut usize {
        match kind {
            ItemKind::Undeclared => &mut self.undeclared,
            ItemKind::Missing => &mut self.missing,
            ItemKind::Changed => &mut self.changed,
            ItemKind::Flagged => &mut self.flagged,
        }
    }

    /// This query with `kind`'s section on `page`, to the section's anchor.
    fn with_page(&self, kind: ItemKind, page: usize, anchor: &str) -> String {
        let mut changed = self.clone();
        *changed.page_mut(kind) = page;
        format!(
            "{}#{anchor}",
            serde_urlencoded::to_string(&changed).unwrap_or_default()
        )
    }
}

fn diff_sections(
    r: &Reconciliation,
    lang: Lang,
    t: &Labels,
    query: &DiffQuery,
) -> Vec<DiffSection> {
    [
        (ItemKind::Undeclared, "undeclared", t.undeclared),
        (ItemKind::Missing, "missing", t.missing),
        (ItemKind::Changed, "changed", t.changed),
        (ItemKind::Flagged, "flagged", t.flagged),
    ]
    .into_iter()
    .map(|(kind, anchor, title)| {
        let total = r.diff.open(kind);
        let pages = total.div_ceil(LIST_LIMIT).max(1);
        let page = query.page(kind).clamp(1, pages);
        let first = (page - 1) * LIST_LIMIT;
        let items: Vec<DiffLine> = r
            .diff
            .items
            .iter()
            .filter(|i| i.kind == kind)
            .skip(first)
            .take(LIST_LIMIT)
            .map(|i| diff_line(i, lang))
            .collect();
        DiffSection {
            anchor,
            title,
            total,
            shown: (first + 1, first + items.len()),
            previous: (page > 1).then(|| query.with_page(kind, page - 1, anchor)),
            next: (page < pages).then(|| query.with_page(kind, page + 1, anchor)),
            items,
        }
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
        let what = match SettlementAction::from_name(&query.action) {
            Some(SettlementAction::Accept) => t.accepted.to_owned(),
            Some(SettlementAction::Ignore) => t.ignored.to_owned(),
            Some(action) => action.label(signed.lang),
            None => String::new(),
        };
        format!("{}: {what}", query.done)
    });
    Ok(html(DiffPage {
        sections: diff_sections(&r, signed.lang, t, &query),
        sanctioned: sanctioned(&r, signed.lang),
        methods: methods(signed.lang),
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
    /// A sanctioned flag's maintainer and connection method.
    #[serde(default)]
    maintainer: String,
    #[serde(default)]
    method: String,
}

fn sanctioned(r: &Reconciliation, lang: Lang) -> Vec<DiffLine> {
    r.diff
        .sanctioned
        .iter()
        .take(LIST_LIMIT)
        .map(|i| diff_line(i, lang))
        .collect()
}

pub(super) async fn settle_item(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(item): Path<String>,
    Form(form): Form<SettleForm>,
) -> Result<Response, Response> {
    let t = signed.page.t;
    if let Some(refused) = signed.refuses_edit(&form.csrf) {
        return Ok(refused);
    }
    let Some(action) = SettlementAction::from_name(&form.action) else {
        return Ok((StatusCode::BAD_REQUEST, t.form_expired).into_response());
    };
    let maintenance = ConnectionMethod::from_name(&form.method).map(|method| RemoteMaintenance {
        maintainer: form.maintainer.trim().to_owned(),
        method,
    });
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
            maintenance,
        )
        .await
        {
            Ok(_) => {
                let to = format!(
                    "/diff?done={}&action={}",
                    item_query(&item),
                    action.as_str()
                );
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => Some(format!("{item}: {e:#}")),
        }
    };
    let page = DiffPage {
        sections: diff_sections(&r, signed.lang, t, &DiffQuery::default()),
        sanctioned: sanctioned(&r, signed.lang),
        methods: methods(signed.lang),
        message: None,
        error,
        page: signed.page,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)).into_response())
}

/// Item ids are letters, digits, '-', '_', '.' and ':' (U6, C12-ip,
/// F5-dual_homed, C5-leg-198.18.2.33, MSV-201); anything else is dropped
/// from the redirect.
fn item_query(item: &str) -> String {
    item.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .collect()
}
