//! The web pages for IT staff: server-rendered (askama, escaped by
//! default), no script at all, one embedded stylesheet. Sign-in with local
//! users (argon2id), a random session cookie (HttpOnly, SameSite=Strict,
//! Secure under TLS), a CSRF token in every form, and two roles: viewers
//! read, editors also settle diff items — through the same `settle` as the
//! command line, so the audit log is the same. Japanese first, English by a
//! switch kept in a cookie.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use daicho_ledger::{ItemKind, Lang, SettlementAction};
use daicho_store::{WebRole, WebSession};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::api::AppState;
use crate::reconcile::{Reconciliation, reconcile, settle};

mod labels;
use labels::{Labels, labels};

const SESSION_COOKIE: &str = "daicho_session";
const LOGIN_COOKIE: &str = "daicho_login";
const LANG_COOKIE: &str = "daicho_lang";
/// No script, no frames, nothing from elsewhere; forms post only here.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";
const STYLESHEET: &str = include_str!("../static/app.css");

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", get(switch_lang))
        .route("/devices", get(devices))
        .route("/devices/{id}", get(device))
        .route("/diff", get(diff))
        .route("/diff/{item}", post(settle_item))
        .route("/findings", get(findings))
        .route("/exports", get(exports))
        .route("/exports/{file}", get(export))
        .route("/audit", get(audit))
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
struct Chrome {
    t: &'static Labels,
    lang: &'static str,
    other_lang: &'static str,
    user: Option<String>,
    editor: bool,
    csrf: String,
    /// This page's path and query, to come back to after a language switch.
    back: String,
}

impl Chrome {
    /// A finding kind's name in the page's language.
    fn flag_name(&self, code: &str) -> String {
        self.t
            .flag_names
            .iter()
            .find(|(c, _)| *c == code)
            .map_or_else(|| code.to_owned(), |(_, name)| (*name).to_owned())
    }
}

fn lang_of(jar: &CookieJar) -> Lang {
    match jar.get(LANG_COOKIE).map(Cookie::value) {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    }
}

fn chrome(lang: Lang, session: Option<&WebSession>, back: String) -> Chrome {
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

/// A signed-in request: its session, language and page chrome. Anyone
/// else is sent to the sign-in page.
struct Signed {
    session: WebSession,
    lang: Lang,
    page: Chrome,
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

fn store_failed(err: impl std::fmt::Display) -> Response {
    tracing::error!("web: {err}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The ledger database failed; try again in a moment. / 台帳データベースでエラーが発生しました。しばらくして再度お試しください。",
    )
        .into_response()
}

fn html(page: impl Template) -> Response {
    match page.render() {
        Ok(body) => axum::response::Html(body).into_response(),
        Err(e) => store_failed(e),
    }
}

fn same_secret(a: &str, b: &str) -> bool {
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

// --- sign-in ---------------------------------------------------------------

/// Failed sign-ins, counted per client address: five for one name, or
/// twenty for any names, within [`SignInGuard::WINDOW`] refuse that address
/// (for that name, or at all) until the window has passed. A stranger
/// repeating five wrong passwords every five minutes therefore locks a name
/// out only from the stranger's own address — staff at their own PCs still
/// sign in — and every refusal is in the audit log. At most
/// [`SignInGuard::VERIFYING`] password checks (argon2id, 19 MiB each) run at
/// once, and an attempt counts as a failure from the moment it starts, so
/// a hundred simultaneous guesses get five checks, not a hundred.
pub struct SignInGuard {
    by_address: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, AddressFailures>>,
    verifying: tokio::sync::Semaphore,
}

/// One address's failures within the window.
struct AddressFailures {
    since: std::time::Instant,
    /// Failures (and attempts under way) per name, lower-cased.
    names: std::collections::HashMap<String, u32>,
    total: u32,
    /// Blocks already written to the audit log (once each).
    audited: std::collections::HashSet<Option<String>>,
}

/// Why a sign-in is refused before any password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// This name, from this address.
    Name(std::time::Duration),
    /// Any name, from this address.
    Address(std::time::Duration),
}

impl Refusal {
    fn wait(self) -> std::time::Duration {
        match self {
            Refusal::Name(wait) | Refusal::Address(wait) => wait,
        }
    }
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard {
            by_address: Default::default(),
            verifying: tokio::sync::Semaphore::new(Self::VERIFYING),
        }
    }
}

impl SignInGuard {
    pub const MAX_FAILURES: u32 = 5;
    pub const MAX_ADDRESS_FAILURES: u32 = 20;
    pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(300);
    const VERIFYING: usize = 2;
    /// Addresses tracked at most; when full, the oldest window is dropped
    /// first (it is the nearest to ending anyway) — new failures always
    /// count.
    const MAX_ADDRESSES: usize = 65_536;
    /// Names tracked per address at most; past it, the address is at its
    /// overall limit long before.
    const MAX_NAMES_PER_ADDRESS: usize = 64;

    fn key(user: &str) -> String {
        user.trim().to_lowercase()
    }

    /// Starts an attempt for `user` from `address`: refused while blocked,
    /// else counted as a failure until [`Self::succeeded`] says otherwise.
    fn begin(&self, user: &str, address: std::net::IpAddr) -> Result<(), Refusal> {
        let mut table = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        if table
            .get(&address)
            .is_some_and(|f| now.duration_since(f.since) >= Self::WINDOW)
        {
            table.remove(&address);
        }
        if !table.contains_key(&address) && table.len() >= Self::MAX_ADDRESSES {
            table.retain(|_, f| now.duration_since(f.since) < Self::WINDOW);
            if table.len() >= Self::MAX_ADDRESSES
                && let Some(oldest) = table.iter().min_by_key(|(_, f)| f.since).map(|(a, _)| *a)
            {
                table.remove(&oldest);
            }
        }
        let failures = table.entry(address).or_insert_with(|| AddressFailures {
            since: now,
            names: Default::default(),
            total: 0,
            audited: Default::default(),
        });
        let wait = Self::WINDOW.saturating_sub(now.duration_since(failures.since));
        let name = Self::key(user);
        let for_name = failures.names.get(&name).copied().unwrap_or(0);
        if for_name >= Self::MAX_FAILURES {
            return Err(Refusal::Name(wait));
        }
        if failures.total >= Self::MAX_ADDRESS_FAILURES
            || (for_name == 0 && failures.names.len() >= Self::MAX_NAMES_PER_ADDRESS)
        {
            return Err(Refusal::Address(wait));
        }
        *failures.names.entry(name).or_insert(0) += 1;
        failures.total += 1;
        Ok(())
    }

    /// The attempt was right: it no longer counts, nor do this name's
    /// earlier failures from this address.
    fn succeeded(&self, user: &str, address: std::net::IpAddr) {
        let mut table = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(failures) = table.get_mut(&address)
            && let Some(count) = failures.names.remove(&Self::key(user))
        {
            failures.total = failures.total.saturating_sub(count);
        }
    }

    /// The block this failure completed, the first time only (for the
    /// audit log).
    fn just_blocked(&self, user: &str, address: std::net::IpAddr) -> Option<Refusal> {
        let mut table = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        let failures = table.get_mut(&address)?;
        let wait = Self::WINDOW.saturating_sub(failures.since.elapsed());
        let name = Self::key(user);
        let (block, refusal) = if failures.names.get(&name) >= Some(&Self::MAX_FAILURES) {
            (Some(name), Refusal::Name(wait))
        } else if failures.total >= Self::MAX_ADDRESS_FAILURES {
            (None, Refusal::Address(wait))
        } else {
            return None;
        };
        failures.audited.insert(block).then_some(refusal)
    }
}

/// A hash no password matches, checked for names that do not exist: a
/// wrong name then takes as long as a wrong password, and tells nothing.
fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        daicho_store::hash_password("daicho: no such user, no such password").unwrap_or_default()
    })
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    page: Chrome,
    login_token: String,
    failed: bool,
}

async fn login_page(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
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
struct LoginForm {
    user: String,
    password: String,
    login_token: String,
}

async fn login(
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
    let Ok(_checking) = guard.verifying.acquire().await else {
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
            let (action, detail) = match refusal {
                Refusal::Name(_) => (
                    "web-sign-in-blocked",
                    format!(
                        "{} failed sign-ins for {:?} from {address}: that name is refused from there for {} minutes",
                        SignInGuard::MAX_FAILURES,
                        form.user,
                        SignInGuard::WINDOW.as_secs() / 60
                    ),
                ),
                Refusal::Address(_) => (
                    "web-sign-in-blocked",
                    format!(
                        "{} failed sign-ins from {address} (last for {:?}): that address is refused for {} minutes",
                        SignInGuard::MAX_ADDRESS_FAILURES,
                        form.user,
                        SignInGuard::WINDOW.as_secs() / 60
                    ),
                ),
            };
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
struct CsrfForm {
    csrf: String,
}

async fn logout(
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
struct LangQuery {
    to: String,
    #[serde(default)]
    back: String,
}

async fn switch_lang(
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

// --- pages -----------------------------------------------------------------

/// The last reconciliation, reused while nothing it depends on changed
/// (no report, settlement or ledger version since) for at most
/// [`ReconciliationCache::FRESH`] — "missing" and "overdue" depend on the
/// clock. At 100,000 devices one reconciliation takes seconds.
#[derive(Default)]
pub struct ReconciliationCache {
    last: std::sync::Mutex<Option<Cached>>,
}

/// A reconciliation with the store generation it was made at, and when.
type Cached = ((i64, i64, i64), std::time::Instant, Arc<Reconciliation>);

impl ReconciliationCache {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(60);
}

async fn reconciled(state: &AppState) -> Result<Arc<Reconciliation>, Response> {
    let generation = state.store.generation().await.map_err(store_failed)?;
    if let Some((g, at, r)) = state
        .reconciled
        .last
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        && *g == generation
        && at.elapsed() < ReconciliationCache::FRESH
    {
        return Ok(Arc::clone(r));
    }
    let r = Arc::new(
        reconcile(&state.store, state.missing_days, state.overdue_hours)
            .await
            .map_err(store_failed)?,
    );
    *state
        .reconciled
        .last
        .lock()
        .unwrap_or_else(|e| e.into_inner()) =
        Some((generation, std::time::Instant::now(), Arc::clone(&r)));
    Ok(r)
}

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct DashboardPage {
    page: Chrome,
    counts: Vec<(&'static str, usize, &'static str)>,
    coverage: Vec<daicho_ledger::Coverage>,
    ledger_version: Option<String>,
}

async fn dashboard(
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

/// A discovered device as the list shows it.
struct DeviceLine {
    id: i64,
    name: String,
    addresses: String,
    macs: String,
    maker: String,
    model: String,
    segments: String,
    flags: Vec<String>,
    declared: bool,
    /// The matched ledger row's 管理番号 and 種別 (empty when undeclared).
    ledger_id: String,
    kind: String,
    last_seen: String,
}

#[derive(Deserialize, Default)]
struct DeviceFilter {
    #[serde(default)]
    q: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    maker: String,
    #[serde(default)]
    flag: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    declared: String,
}

#[derive(Template)]
#[template(path = "web/devices.html")]
struct DevicesPage {
    page: Chrome,
    filter: DeviceFilter,
    segments: Vec<String>,
    makers: Vec<String>,
    kinds: Vec<String>,
    flag_kinds: Vec<&'static str>,
    /// How many devices match (only the first [`LIST_LIMIT`] are shown).
    matching: usize,
    devices: Vec<DeviceLine>,
}

/// Most devices one list page shows: a longer list is for the export, and
/// a search narrows it.
const LIST_LIMIT: usize = 500;

const FLAG_KINDS: [&str; 4] = ["dual_homed", "mobile_router", "remote_access", "rogue_dhcp"];

/// The list's lines for every device, or only for device `only`.
fn device_lines(r: &Reconciliation, only: Option<i64>) -> Vec<DeviceLine> {
    let undeclared: std::collections::BTreeSet<i64> = r
        .diff
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Undeclared)
        .filter_map(|i| i.device)
        .collect();
    // Indexed once: a search per device was 10^10 steps at 100,000
    // matched devices.
    let declared_rows: std::collections::HashMap<i64, usize> = r
        .diff
        .matches
        .iter()
        .map(|(row, device, _)| (*device, *row))
        .collect();
    r.discovered
        .iter()
        .filter(|d| only.is_none_or(|id| d.id == id))
        .map(|d| {
            let row = declared_rows
                .get(&d.id)
                .and_then(|row| r.ledger.devices.get(*row));
            let field =
                |f: daicho_ledger::Field| row.and_then(|r| r.get(f)).unwrap_or_default().to_owned();
            let segments: Vec<&str> = r
                .segments
                .iter()
                .filter(|(_, networks)| {
                    d.ips.iter().any(|ip| match ip {
                        std::net::IpAddr::V4(v4) => networks.iter().any(|n| n.contains(v4)),
                        std::net::IpAddr::V6(_) => false,
                    })
                })
                .map(|(label, _)| label.as_str())
                .collect();
            let mut flags: Vec<String> = d.flags.iter().map(|f| f.kind.clone()).collect();
            flags.dedup();
            DeviceLine {
                id: d.id,
                name: d.name.clone().unwrap_or_default(),
                addresses: d
                    .ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                macs: d.macs.join(" "),
                maker: d.maker.clone().unwrap_or_default(),
                model: d.model.clone().unwrap_or_default(),
                segments: segments.join(", "),
                flags,
                declared: !undeclared.contains(&d.id),
                ledger_id: field(daicho_ledger::Field::ManagementId),
                kind: field(daicho_ledger::Field::Kind),
                last_seen: d.last_seen.strftime("%Y-%m-%d %H:%M").to_string(),
            }
        })
        .collect()
}

impl DeviceFilter {
    fn keeps(&self, d: &DeviceLine) -> bool {
        let q = self.q.trim().to_lowercase();
        (q.is_empty()
            || [&d.name, &d.addresses, &d.macs, &d.maker, &d.model]
                .iter()
                .any(|field| field.to_lowercase().contains(&q)))
            && (self.segment.is_empty() || d.segments.split(", ").any(|s| s == self.segment))
            && (self.maker.is_empty() || d.maker == self.maker)
            && (self.flag.is_empty() || d.flags.contains(&self.flag))
            && (self.kind.is_empty() || d.kind == self.kind)
            && match self.declared.as_str() {
                "yes" => d.declared,
                "no" => !d.declared,
                _ => true,
            }
    }
}

async fn devices(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Query(filter): Query<DeviceFilter>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let all = device_lines(&r, None);
    let mut makers: Vec<String> = all
        .iter()
        .map(|d| d.maker.clone())
        .filter(|m| !m.is_empty())
        .collect();
    makers.sort();
    makers.dedup();
    let mut kinds: Vec<String> = all
        .iter()
        .map(|d| d.kind.clone())
        .filter(|k| !k.is_empty())
        .collect();
    kinds.sort();
    kinds.dedup();
    let segments = r.segments.iter().map(|(label, _)| label.clone()).collect();
    let mut devices: Vec<DeviceLine> = all.into_iter().filter(|d| filter.keeps(d)).collect();
    let matching = devices.len();
    devices.truncate(LIST_LIMIT);
    Ok(html(DevicesPage {
        page: signed.page,
        filter,
        segments,
        makers,
        kinds,
        flag_kinds: FLAG_KINDS.to_vec(),
        matching,
        devices,
    }))
}

/// An observation of the device in an agent's latest report.
struct Seen {
    agent: String,
    interface: String,
    source: String,
    ip: String,
    mac: String,
    at: String,
    facts: String,
}

#[derive(Template)]
#[template(path = "web/device.html")]
struct DevicePage {
    page: Chrome,
    line: DeviceLine,
    keys: Vec<(String, String)>,
    addresses: Vec<(String, String, String, String, String)>,
    seen: Vec<Seen>,
    flags: Vec<daicho_ledger::Flag>,
    merges: Vec<daicho_store::MergeRecord>,
    items: Vec<daicho_ledger::Item>,
}

/// A short, readable summary of what one probe said (names, models,
/// banners), for the observations table.
fn facts_of(o: &daicho_report::Observation) -> String {
    let mut facts: Vec<String> = Vec::new();
    if let Some(v) = &o.vendor {
        facts.push(v.clone());
    }
    if let Some(s) = o.snmp.as_deref() {
        facts.extend(s.sys_name.clone());
        facts.extend(s.sys_descr.clone());
    }
    if let Some(n) = o.netbios.as_deref() {
        facts.extend(n.computer_name.clone());
    }
    if let Some(m) = o.mdns.as_deref() {
        facts.push(m.host.clone());
    }
    if let Some(h) = o.http.as_deref() {
        facts.extend(h.banners.iter().filter_map(|b| b.title.clone()));
    }
    if let Some(s) = o.ssh.as_deref() {
        facts.extend(s.fingerprint.clone());
    }
    if let Some(u) = o.ssdp.as_deref() {
        facts.extend(u.devices.iter().filter_map(|d| d.friendly_name.clone()));
    }
    if let Some(d) = o.dhcp.as_deref() {
        facts.extend(d.offers.iter().map(|offer| {
            let routers: Vec<String> = offer.routers.iter().map(ToString::to_string).collect();
            format!("DHCP server, gateway {}", routers.join(", "))
        }));
    }
    if let Some(a) = o.router_advert.as_deref() {
        facts.push(format!("IPv6 router, lifetime {} s", a.router_lifetime));
    }
    facts.join(" · ")
}

async fn device(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let Some(line) = device_lines(&r, Some(id)).pop() else {
        return Ok((StatusCode::NOT_FOUND, signed.page.t.no_such_device).into_response());
    };
    let (explanation, addresses, reports) = tokio::try_join!(
        state.store.explain(id),
        state.store.device_addresses(id),
        state.store.latest_reports()
    )
    .map_err(store_failed)?;
    let discovered = r.discovered.iter().find(|d| d.id == id);
    let macs: Vec<String> = discovered.map(|d| d.macs.clone()).unwrap_or_default();
    let ips: Vec<std::net::IpAddr> = discovered.map(|d| d.ips.clone()).unwrap_or_default();
    let seen = reports
        .iter()
        .flat_map(|report| report.observations.iter().map(move |o| (report, o)))
        .filter(|(_, o)| {
            o.ip.is_some_and(|ip| ips.contains(&ip))
                || o.mac
                    .is_some_and(|m| macs.iter().any(|x| x.eq_ignore_ascii_case(&m.to_string())))
        })
        .map(|(report, o)| Seen {
            agent: report.agent.id.clone(),
            interface: o.interface.to_string(),
            source: format!("{:?}", o.source).to_lowercase(),
            ip: o.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            mac: o.mac.map(|m| m.to_string()).unwrap_or_default(),
            at: o.at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            facts: facts_of(o),
        })
        .collect();
    let items = r
        .diff
        .items
        .iter()
        .filter(|i| i.device == Some(id))
        .cloned()
        .collect();
    Ok(html(DevicePage {
        keys: explanation
            .as_ref()
            .map(|e| e.keys.clone())
            .unwrap_or_default(),
        merges: explanation.map(|e| e.decisions).unwrap_or_default(),
        flags: discovered.map(|d| d.flags.clone()).unwrap_or_default(),
        addresses,
        seen,
        items,
        line,
        page: signed.page,
    }))
}

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
struct DiffQuery {
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

async fn diff(
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
struct SettleForm {
    csrf: String,
    action: String,
    #[serde(default)]
    note: String,
}

async fn settle_item(
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

struct FindingLine {
    kind: String,
    confidence: u32,
    summary: String,
    /// Each subject address, with the device holding it when known.
    subjects: Vec<(String, Option<i64>)>,
    evidence: Vec<String>,
}

#[derive(Template)]
#[template(path = "web/findings.html")]
struct FindingsPage {
    page: Chrome,
    findings: Vec<FindingLine>,
}

async fn findings(
    State(state): State<Arc<AppState>>,
    signed: Signed,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let findings = r
        .findings
        .iter()
        .map(|f| FindingLine {
            kind: serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            confidence: (f.confidence * 100.0).round() as u32,
            summary: f.summary.clone(),
            subjects: f
                .subjects
                .iter()
                .filter_map(|s| s.ip)
                .map(|ip| {
                    let device = r
                        .discovered
                        .iter()
                        .find(|d| d.ips.contains(&ip))
                        .map(|d| d.id);
                    (ip.to_string(), device)
                })
                .collect(),
            evidence: f.evidence.iter().map(|e| e.text.clone()).collect(),
        })
        .collect();
    Ok(html(FindingsPage {
        page: signed.page,
        findings,
    }))
}

#[derive(Template)]
#[template(path = "web/exports.html")]
struct ExportsPage {
    page: Chrome,
}

async fn exports(signed: Signed) -> Response {
    html(ExportsPage { page: signed.page })
}

async fn export(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(file): Path<String>,
) -> Result<Response, Response> {
    let r = reconciled(&state).await?;
    let (bytes, content_type) = match file.as_str() {
        "ledger.csv" => (
            daicho_ledger::to_csv(&r.ledger, daicho_ledger::CsvEncoding::Utf8Bom)
                .map_err(|e| e.to_string()),
            "text/csv; charset=utf-8",
        ),
        "ledger.xlsx" => (
            daicho_ledger::to_xlsx(&r.ledger).map_err(|e| e.to_string()),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "report.html" => (
            Ok(crate::reconcile::report_html(&r, signed.lang, state.missing_days).into_bytes()),
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

#[derive(Template)]
#[template(path = "web/audit.html")]
struct AuditPage {
    page: Chrome,
    entries: Vec<daicho_store::AuditEntry>,
}

async fn audit(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    match state.store.audit_log().await {
        Ok(mut entries) => {
            entries.reverse();
            html(AuditPage {
                page: signed.page,
                entries,
            })
        }
        Err(e) => store_failed(e),
    }
}
