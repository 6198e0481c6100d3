//! The inspection page (/inspection): the checklist's 2-①②③ as the data
//! answer them, and the forms to work on them — a device's 2-② register
//! answers, a maker's MDS/SDS status, a sign-off with target dates. Each
//! form goes through the same store calls as the command line, so the
//! audit log is the same.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use daicho_ledger::{Inspection, Question};
use serde::Deserialize;

use super::session::Signed;
use super::{Chrome, html, inspected, reconciled, store_failed};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/inspection.html")]
struct InspectionPage {
    page: Chrome,
    inspection: Inspection,
    questions: [Question; 9],
    statuses: [&'static str; 3],
    items: [(&'static str, &'static str); 3],
}

impl InspectionPage {
    fn question(&self, q: &Question) -> &'static str {
        if self.page.lang == "en" {
            q.english()
        } else {
            q.header()
        }
    }

    fn status_name(&self, status: &str) -> String {
        self.page
            .says(&daicho_report::Says::named("disclosure", status))
    }
}

pub(super) async fn inspection(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let inspection = inspected(&state, &r).await?;
    Ok(html(InspectionPage {
        page: signed.page,
        inspection,
        questions: Question::ALL,
        statuses: daicho_store::DISCLOSURE_STATUSES,
        items: crate::inspection::ITEMS,
    }))
}

#[derive(Deserialize)]
pub(super) struct RegisterForm {
    csrf: String,
    device: String,
    /// The answers, by question id.
    #[serde(flatten)]
    answers: BTreeMap<String, String>,
}

/// A device's register answers as the form gives them; only known
/// questions are kept (the form's own fields are not answers).
pub(super) async fn save_register(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Form(form): Form<RegisterForm>,
) -> Result<Response, Response> {
    if let Some(refused) = signed.refuses_edit(&form.csrf) {
        return Ok(refused);
    }
    let device = form.device.trim();
    if device.is_empty() {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            signed.page.t.field_required,
        )
            .into_response());
    }
    let answers: BTreeMap<String, String> = form
        .answers
        .iter()
        .filter_map(|(id, answer)| Some((Question::from_id(id)?.id(), answer.trim().to_owned())))
        .collect();
    state
        .store
        .save_register_entry(device, &answers, &signed.session.user, "register-edit")
        .await
        .map_err(store_failed)?;
    Ok(Redirect::to("/inspection#register").into_response())
}

#[derive(Deserialize)]
pub(super) struct DisclosureForm {
    csrf: String,
    maker: String,
    status: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    received: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn save_disclosure(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Form(form): Form<DisclosureForm>,
) -> Result<Response, Response> {
    if let Some(refused) = signed.refuses_edit(&form.csrf) {
        return Ok(refused);
    }
    let t = signed.page.t;
    let maker = form.maker.trim();
    if maker.is_empty() || !daicho_store::DISCLOSURE_STATUSES.contains(&form.status.as_str()) {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.field_required).into_response());
    }
    state
        .store
        .save_disclosure(&daicho_store::Disclosure {
            maker: maker.to_owned(),
            status: form.status,
            version: form.version.trim().to_owned(),
            received: form.received.trim().replace('-', "/"),
            file: form.file.trim().to_owned(),
            note: form.note.trim().to_owned(),
            actor: signed.session.user.clone(),
            at: String::new(),
        })
        .await
        .map_err(store_failed)?;
    Ok(Redirect::to("/inspection#disclosures").into_response())
}

#[derive(Deserialize)]
pub(super) struct SignOffForm {
    csrf: String,
    reviewer: String,
    day: String,
    #[serde(default)]
    note: String,
    /// `target-2-1` … : the target dates, by item.
    #[serde(flatten)]
    targets: BTreeMap<String, String>,
}

pub(super) async fn sign_off(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Form(form): Form<SignOffForm>,
) -> Result<Response, Response> {
    if let Some(refused) = signed.refuses_edit(&form.csrf) {
        return Ok(refused);
    }
    let t = signed.page.t;
    let day: Option<jiff::civil::Date> = form.day.trim().parse().ok();
    let (reviewer, Some(day)) = (form.reviewer.trim(), day) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.date_required).into_response());
    };
    if reviewer.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.field_required).into_response());
    }
    let mut targets = BTreeMap::new();
    for (item, _) in crate::inspection::ITEMS {
        let given = form
            .targets
            .get(&format!("target-{item}"))
            .map(|d| d.trim())
            .filter(|d| !d.is_empty());
        if let Some(given) = given {
            let Ok(date) = given.parse::<jiff::civil::Date>() else {
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, t.date_required).into_response());
            };
            targets.insert(item.to_owned(), date.strftime("%Y/%m/%d").to_string());
        }
    }
    state
        .store
        .sign_off(&daicho_store::SignOff {
            reviewer: reviewer.to_owned(),
            day: day.strftime("%Y/%m/%d").to_string(),
            note: form.note.trim().to_owned(),
            targets,
            actor: signed.session.user.clone(),
            at: String::new(),
        })
        .await
        .map_err(store_failed)?;
    Ok(Redirect::to("/inspection#sign-offs").into_response())
}
