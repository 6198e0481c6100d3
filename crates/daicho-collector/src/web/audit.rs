//! The audit log (/audit): who changed what, and when.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::session::Signed;
use super::{Chrome, html, store_failed};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/audit.html")]
struct AuditPage {
    page: Chrome,
    entries: Vec<daicho_store::AuditEntry>,
}

pub(super) async fn audit(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    match state.store.audit_log().await {
        Ok(mut entries) => {
            entries.reverse();
            for entry in &mut entries {
                entry.at = crate::site::local_text(&entry.at);
            }
            html(AuditPage {
                page: signed.page,
                entries,
            })
        }
        Err(e) => store_failed(e),
    }
}
