//! Who is signed in: the session cookie and its CSRF token, the sign-in and
//! sign-out pages, and the language switch (back only to the site's own
//! pages).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use daicho_ledger::Lang;
use daicho_report::{Says, Text};
use daicho_store::{WebRole, WebSession};
use serde::Deserialize;

use super::labels::labels;
use super::{Chrome, chrome, html, lang_of, store_failed};
use crate::sign_in::{Refusal, SignInGuard, unknown_user_hash};
use crate::state::AppState;
use subtle::ConstantTimeEq;

const SESSION_COOKIE: &str = "daicho_session";
const LOGIN_COOKIE: &str = "daicho_login";
pub(super) const LANG_COOKIE: &str = "daicho_lang";

/// A signed-in request: its session, language and page chrome. Anyone
/// else is sent to the sign-in page.
pub(super) struct Signed {
    pub(crate) session: WebSession,
    pub(crate) lang: Lang,
    pub(crate) page: Chrome,
}

impl Signed {
    /// Why an editor's form from this session is refused (a stale or
    /// forged CSRF token, a viewer), or None if it may be acted on.
    pub(super) fn refuses_edit(&self, csrf: &str) -> Option<Response> {
        let t = self.page.t;
        if !same_secret(csrf, &self.session.csrf) {
            return Some((StatusCode::FORBIDDEN, t.form_expired).into_response());
        }
        (self.session.role != WebRole::Editor)
            .then(|| (StatusCode::FORBIDDEN, t.editor_only).into_response())
    }
}

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = lang_of(&jar);
        let token = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
        let session = match token {
            Some(token) => state.store.session(&token).await.map_err(store_failed)?,
            None => None,
        };
        let Some(session) = session else {
            return Err(Redirect::to("/login").into_response());
        };
        let back = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), ToString::to_string);
        let page = chrome(lang, Some(&session), back);
        Ok(Signed {
            session,
            lang,
            page,
        })
    }
}

pub(super) fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .build()
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    page: Chrome,
    login_token: String,
    failed: bool,
}

pub(super) async fn login_page(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    let lang = lang_of(&jar);
    login_form(&state, jar, lang, StatusCode::OK)
}

/// The sign-in form (after a refusal when `status` is not OK) with a fresh
/// login token. Login CSRF: the form must carry the value of a cookie only
/// this origin could have set.
fn login_form(state: &AppState, jar: CookieJar, lang: Lang, status: StatusCode) -> Response {
    let login_token = match daicho_store::random_token() {
        Ok(token) => token,
        Err(e) => return store_failed(e),
    };
    let jar = jar.add(cookie(state, LOGIN_COOKIE, login_token.clone()));
    let page = LoginPage {
        page: chrome(lang, None, "/login".into()),
        login_token,
        failed: status != StatusCode::OK,
    };
    (status, jar, html(page)).into_response()
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    user: String,
    password: String,
    login_token: String,
}

pub(super) async fn login(
    State(state): State<Arc<AppState>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&jar);
    let t = labels(lang);
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !same_secret(&form.login_token, &expected) {
        return (StatusCode::FORBIDDEN, t.form_expired).into_response();
    }
    let address = peer.ip();
    let guard = &state.sign_in_guard;
    if let Err(refusal) = guard.begin(&form.user, address) {
        let wait = refusal.wait().as_secs().max(1);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.to_string())],
            format!("{} ({wait} s)", t.too_many_failures),
        )
            .into_response();
    }
    let credentials = match state.store.user_credentials(&form.user).await {
        Ok(found) => found,
        Err(e) => return store_failed(e),
    };
    let Ok(_checking) = guard.turn_to_verify().await else {
        return store_failed("the sign-in guard was closed");
    };
    let password = form.password;
    let verified = tokio::task::spawn_blocking(move || match credentials {
        Some((hash, role)) => daicho_store::password_matches(&password, &hash).then_some(role),
        None => {
            daicho_store::password_matches(&password, unknown_user_hash());
            None
        }
    })
    .await
    .unwrap_or(None);
    drop(_checking);
    let Some(role) = verified else {
        tracing::warn!(user = %form.user, %address, "web sign-in refused");
        if let Some(refusal) = guard.just_blocked(&form.user, address) {
            let (text, failures) = match refusal {
                Refusal::Name(_) => (Text::AuditBlockedName, SignInGuard::MAX_FAILURES),
                Refusal::Address(_) => {
                    (Text::AuditBlockedAddress, SignInGuard::MAX_ADDRESS_FAILURES)
                }
            };
            let action = "web-sign-in-blocked";
            let detail = Says::of(text)
                .value("failures", failures)
                .with("user", form.user.as_str())
                .value("address", address)
                .value("minutes", SignInGuard::WINDOW.as_secs() / 60);
            if let Err(e) = state.store.record("web", action, &detail).await {
                return store_failed(e);
            }
        }
        return login_form(&state, jar, lang, StatusCode::UNAUTHORIZED);
    };
    guard.succeeded(&form.user, address);
    match state.store.start_session(&form.user, role).await {
        Ok((token, _)) => {
            let jar =
                jar.remove(Cookie::from(LOGIN_COOKIE))
                    .add(cookie(&state, SESSION_COOKIE, token));
            (jar, Redirect::to("/")).into_response()
        }
        Err(e) => store_failed(e),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same_secret(&form.csrf, &signed.session.csrf) {
        return (StatusCode::FORBIDDEN, signed.page.t.form_expired).into_response();
    }
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Err(e) = state.store.end_session(&token).await
    {
        return store_failed(e);
    }
    (
        jar.remove(Cookie::from(SESSION_COOKIE)),
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct LangQuery {
    to: String,
    #[serde(default)]
    back: String,
}

pub(super) async fn switch_lang(
    State(state): State<Arc<AppState>>,
    jar: CookieJar,
    Query(query): Query<LangQuery>,
) -> Response {
    let to = if query.to == "en" { "en" } else { "ja" };
    // Only a page of this site: never an open redirect.
    let back = own_page(&query.back).unwrap_or("/").to_owned();
    let jar = jar.add(cookie(&state, LANG_COOKIE, to.to_owned()));
    (jar, Redirect::to(&back)).into_response()
}

/// The pages a language switch may lead back to.
const PAGES: [&str; 8] = [
    "/",
    "/login",
    "/devices",
    "/diff",
    "/findings",
    "/exports",
    "/audit",
    "/static/app.css",
];

/// `back` if it is one of this site's pages (a device page included) with
/// a plain percent-encoded query: anything else (`//evil`, `/%09/evil`,
/// which browsers read as `//evil`, `/\\evil`) is not ours.
fn own_page(back: &str) -> Option<&str> {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let device_page = path
        .strip_prefix("/devices/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    let plain_query = query
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"=&%_.-+~".contains(&b));
    ((PAGES.contains(&path) || device_page) && plain_query).then_some(back)
}
