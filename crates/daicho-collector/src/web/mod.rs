//! The web pages for IT staff: server-rendered (askama, escaped by
//! default), no script at all, one embedded stylesheet. Sign-in with local
//! users (argon2id), a random session cookie (HttpOnly, SameSite=Strict,
//! Secure under TLS), a CSRF token in every form, and two roles: viewers
//! read, editors also settle diff items — through the same `settle` as the
//! command line, so the audit log is the same. Japanese first, English by a
//! switch kept in a cookie.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use daicho_ledger::Lang;
use daicho_store::{WebRole, WebSession};

use crate::reconcile::Reconciliation;
use crate::state::AppState;

mod audit;
mod devices;
mod diagram;
mod diff;
mod exports;
mod findings;
mod inspection;
mod labels;
mod overview;
mod session;

use labels::{Labels, labels};

/// Most devices one list page shows: a longer list is for the export, and
/// a search narrows it.
pub(crate) const LIST_LIMIT: usize = 500;

/// No script, no frames, nothing from elsewhere; forms post only here.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";
const STYLESHEET: &str = include_str!("../../static/app.css");

/// The pages, each group in its own module.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview::dashboard))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang", get(session::switch_lang))
        .route("/devices", get(devices::devices))
        .route("/devices.csv", get(devices::devices_csv))
        .route("/devices/{id}", get(devices::device))
        .route("/devices/{id}/edit", post(devices::edit_device))
        .route("/links/{link}", post(devices::decide_link))
        .route("/diff", get(diff::diff))
        .route("/diff/{item}", post(diff::settle_item))
        .route("/findings", get(findings::findings))
        .route("/diagram", get(diagram::site))
        .route("/diagram/{segment}", get(diagram::segment))
        .route("/exports", get(exports::exports))
        .route("/exports/{file}", get(exports::export))
        .route("/audit", get(audit::audit))
        .route("/inspection", get(inspection::inspection))
        .route("/inspection/register", post(inspection::save_register))
        .route("/inspection/disclosure", post(inspection::save_disclosure))
        .route("/inspection/sign-off", post(inspection::sign_off))
        .route("/static/app.css", get(stylesheet))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// What every page shows around its content.
pub(crate) struct Chrome {
    pub(crate) t: &'static Labels,
    pub(crate) lang: &'static str,
    pub(crate) other_lang: &'static str,
    pub(crate) user: Option<String>,
    pub(crate) editor: bool,
    pub(crate) csrf: String,
    /// This page's path and query, to come back to after a language switch.
    pub(crate) back: String,
}

impl Chrome {
    /// A ledger column's name in the page's language.
    fn field_name(&self, field: &daicho_ledger::Field) -> &'static str {
        if self.lang == "en" {
            field.english()
        } else {
            field.header()
        }
    }

    fn language(&self) -> Lang {
        if self.lang == "en" {
            Lang::En
        } else {
            Lang::Ja
        }
    }

    /// A finding kind's name (`dual_homed`) in the page's language.
    fn flag_name(&self, code: &str) -> String {
        daicho_report::Says::named("kind", code).render(self.language())
    }

    /// A stored text (finding, evidence, merge reason, audit entry) in the
    /// page's language.
    pub(crate) fn says(&self, text: &daicho_report::Says) -> String {
        text.render(self.language())
    }
}

pub(crate) fn lang_of(jar: &CookieJar) -> Lang {
    match jar.get(session::LANG_COOKIE).map(Cookie::value) {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    }
}

pub(crate) fn chrome(lang: Lang, session: Option<&WebSession>, back: String) -> Chrome {
    Chrome {
        t: labels(lang),
        lang: if lang == Lang::En { "en" } else { "ja" },
        other_lang: if lang == Lang::En { "ja" } else { "en" },
        user: session.map(|s| s.user.clone()),
        editor: session.is_some_and(|s| s.role == WebRole::Editor),
        csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
        back,
    }
}

pub(crate) fn store_failed(err: impl std::fmt::Display) -> Response {
    tracing::error!("web: {err}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The ledger database failed; try again in a moment. / 台帳データベースでエラーが発生しました。しばらくして再度お試しください。",
    )
        .into_response()
}

pub(crate) fn html(page: impl Template) -> Response {
    match page.render() {
        Ok(body) => axum::response::Html(body).into_response(),
        Err(e) => store_failed(e),
    }
}

/// The reconciliation the pages show (see [`crate::reconcile::Cache`]).
pub(crate) async fn reconciled(state: &AppState) -> Result<Arc<Reconciliation>, Response> {
    state
        .reconciled
        .get(&state.store, state.missing_days, state.overdue_hours)
        .await
        .map_err(store_failed)
}

/// The inspection's answers, register, MDS/SDS and sign-offs for a
/// reconciliation.
pub(crate) async fn inspected(
    state: &AppState,
    r: &Reconciliation,
) -> Result<daicho_ledger::Inspection, Response> {
    crate::inspection::inspected(&state.store, r)
        .await
        .map_err(store_failed)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
