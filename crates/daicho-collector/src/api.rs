//! The collector's HTTP API (axum): agents post reports, readers read the
//! ledger. Every answer is JSON; every error says what was wrong and what to
//! do, in English and Japanese, and writes nothing.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use daicho_report::{Report, ReportError};
use daicho_store::{ApiClient, Ingested, Role, Store, StoreError};
use serde::Deserialize;
use serde_json::json;

/// What the handlers share.
pub struct AppState {
    pub store: Store,
    /// Largest report body accepted, in bytes.
    pub max_report_bytes: usize,
    /// The diff's windows, for the web pages.
    pub missing_days: i64,
    pub overdue_hours: i64,
    /// Session cookies only over TLS.
    pub secure_cookies: bool,
    pub sign_in_guard: crate::web::SignInGuard,
    pub reconciled: crate::web::ReconciliationCache,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/reports", post(post_report))
        .route("/api/v1/devices", get(list_devices))
        .route("/api/v1/devices/{id}", get(device))
        .route("/api/v1/scans", get(list_scans))
        .route("/api/v1/findings", get(findings))
        // The report handler enforces its own cap with a clear message.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .merge(crate::web::router())
        .with_state(state)
}

/// An error answer: status, English and Japanese.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    message_ja: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>, message_ja: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            message_ja: message_ja.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error": self.message, "error_ja": self.message_ja})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!("ledger: {err}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the ledger database failed; nothing was stored — send again later (the agent's spool does)",
            "台帳データベースでエラーが発生しました。何も保存していません。後で再送してください",
        )
    }
}

/// The client a request's bearer token names, if it has `role`.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<ApiClient, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no bearer token: send 'Authorization: Bearer TOKEN' with the token `daicho-collector agent add` printed",
                "トークンがありません。`daicho-collector agent add` が表示したトークンを送ってください",
            )
        })?;
    let client = state.store.authenticate(token.trim()).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the token is not valid (unknown, removed or mistyped); ask the collector's administrator for a new one",
            "トークンが無効です（未登録・削除済み・入力誤り）。管理者に新しいトークンを依頼してください",
        )
    })?;
    if client.role != role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{:?} is registered as {:?}, which may not do this",
                client.name, client.role
            ),
            format!("{:?} の権限ではこの操作はできません", client.name),
        ));
    }
    Ok(client)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Reading stops here even while draining: past it, a client gets a closed
/// connection instead of an answer.
const DRAIN_LIMIT: usize = 256 << 20;

async fn post_report(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Refusals are answered only after the body is read: an answer sent
    // while the agent is still writing reaches it as a broken pipe, which it
    // would take for "collector away" and retry forever.
    let agent = authorize(&state, &headers, Role::Agent).await;
    let bytes = read_capped(body, state.max_report_bytes).await;
    let agent = agent?;
    let bytes = bytes.map_err(|()| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the report is larger than this collector accepts ({} bytes); raise --max-report-mb or scan smaller segments",
                state.max_report_bytes
            ),
            format!(
                "報告が大きすぎます（上限 {} バイト）。--max-report-mb を増やすか、セグメントを分けてください",
                state.max_report_bytes
            ),
        )
    })?;
    let report = Report::from_json(&bytes).map_err(|err| report_error(&err))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "the report is not UTF-8 text",
            "報告が UTF-8 のテキストではありません",
        )
    })?;
    if report.agent.id != agent.name {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token belongs to agent {:?} but the report is from agent {:?}; give each agent its own token (agent_id in agent.toml)",
                agent.name, report.agent.id
            ),
            format!(
                "トークンはエージェント {:?} のものですが、報告はエージェント {:?} からです",
                agent.name, report.agent.id
            ),
        ));
    }
    let outcome = state
        .store
        .ingest_parsed(&report, text, &format!("agent:{}", agent.name))
        .await?;
    state.store.touch_client(&agent.name).await?;
    let scan_id = report.scan_id.to_string();
    tracing::info!(agent = %agent.name, scan = %scan_id, ?outcome, "report received");
    Ok(match outcome {
        Ingested::Stored { created, joined } => (
            StatusCode::CREATED,
            Json(json!({"status": "stored", "scan_id": scan_id, "created": created, "joined": joined})),
        )
            .into_response(),
        Ingested::AlreadyKnown => (
            StatusCode::OK,
            Json(json!({"status": "already_stored", "scan_id": scan_id})),
        )
            .into_response(),
    })
}

/// The body if it is at most `cap` bytes; past that, the rest is read and
/// discarded (up to [`DRAIN_LIMIT`]) so that the refusal can be answered.
async fn read_capped(body: Body, cap: usize) -> Result<Vec<u8>, ()> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(()) };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total <= cap {
            kept.extend_from_slice(&data);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > cap { Err(()) } else { Ok(kept) }
}

/// 400 for what is not JSON, 422 for JSON that is not a report of ours.
fn report_error(err: &ReportError) -> ApiError {
    let status = match err {
        ReportError::Invalid(json) if json.is_syntax() || json.is_eof() => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(
        status,
        format!("{err}; nothing was stored"),
        "報告の形式が正しくありません。何も保存していません",
    )
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// Devices by id, a page at a time: `?after=ID&limit=N` (at most 10,000).
async fn list_devices(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Reader).await?;
    let limit = page.limit.unwrap_or(1000).clamp(1, 10_000);
    let devices = state.store.devices_page(page.after, limit).await?;
    let next = (devices.len() as i64 == limit).then(|| devices.last().map(|d| d.id));
    Ok(Json(json!({"devices": devices, "next_after": next.flatten()})).into_response())
}

/// One device with its identities and merge reasons.
async fn device(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Reader).await?;
    match state.store.explain(id).await? {
        Some(explanation) => Ok(Json(explanation).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no device #{id} in the ledger"),
            format!("台帳に機器 #{id} はありません"),
        )),
    }
}

async fn list_scans(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Reader).await?;
    Ok(Json(json!({"scans": state.store.scans().await?})).into_response())
}

/// Detection across every agent's latest report.
async fn findings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Reader).await?;
    let reports = state.store.latest_reports().await?;
    let reports: Vec<&Report> = reports.iter().collect();
    let findings = daicho_detect::detect(&reports, &daicho_detect::Fingerprints::builtin());
    Ok(Json(json!({"findings": findings})).into_response())
}
