//! The collector's HTTP API (axum): agents post reports, readers read the
//! ledger. Every answer is JSON; every error says what was wrong and what to
//! do, in English and Japanese, and writes nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::WithRejection;
use daicho_report::{Report, ReportError};
use daicho_store::{ApiClient, Ingested, Role, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;

/// The API's routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/reports", post(post_report))
        .route("/api/v1/devices", get(list_devices))
        .route("/api/v1/inventory", get(inventory))
        .route("/api/v1/devices/{id}", get(device))
        .route("/api/v1/scans", get(list_scans))
        .route("/api/v1/findings", get(findings))
        // The report handler enforces its own cap with a clear message.
        .layer(axum::extract::DefaultBodyLimit::disable())
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

    /// A reconciliation's failure: the ledger's, as a store error says.
    fn internal(err: anyhow::Error) -> Self {
        match err.downcast::<StoreError>() {
            Ok(store) => store.into(),
            Err(other) => {
                tracing::error!("ledger: {other:#}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the ledger could not be read; see the collector's log",
                    "台帳を読み込めませんでした。コレクタのログを確認してください",
                )
            }
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
        if err.is_permanent() {
            // Sending the same again cannot help: say so with a 4xx, so
            // that the agent sets the report aside instead of retrying it
            // for ever (and everything queued behind it waits).
            tracing::warn!("ledger refused: {err}");
            let text = err.to_string();
            let (english, japanese) = text.split_once('\n').unwrap_or((&text, ""));
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{english}; nothing was stored"),
                format!("{japanese}。何も保存していません"),
            );
        }
        tracing::error!("ledger: {err}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the ledger database failed; nothing was stored — send again later (the agent's spool does)",
            "台帳データベースでエラーが発生しました。何も保存していません。後で再送してください",
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the query string is not valid: {}", rejection.body_text()),
            "クエリ文字列が正しくありません（例: ?after=0&limit=100）",
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the address is not valid: {}", rejection.body_text()),
            "URL が正しくありません（機器番号は数字です）",
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

/// How long a refused upload is read (and thrown away) so that the agent
/// gets the answer, not a broken pipe: past it, the connection is closed.
const REFUSED_DRAIN: Duration = Duration::from_secs(20);
/// Bytes of a refused upload read at most.
const REFUSED_DRAIN_BYTES: usize = 256 << 20;
/// Refused bodies together are read at most this fast: reading what no one
/// may send must not take the CPU from those who may.
const REFUSED_DRAIN_RATE: f64 = 16.0 * 1024.0 * 1024.0;

/// Reports being parsed at once.
static PARSING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();

/// The shared pace of [`discard`]: when the next refused byte may be read.
static DRAIN_PACE: std::sync::Mutex<Option<tokio::time::Instant>> = std::sync::Mutex::new(None);

/// Waits for the turn to read `bytes` more refused bytes.
async fn drain_turn(bytes: usize) {
    let turn = {
        let mut next = DRAIN_PACE.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now();
        let start = next.map_or(now, |n| n.max(now));
        *next = Some(start + Duration::from_secs_f64(bytes as f64 / REFUSED_DRAIN_RATE));
        start
    };
    tokio::time::sleep_until(turn).await;
}
/// How long receiving one report may take (64 MiB at 1 Mbit/s is 9
/// minutes; a connection idle for a minute is closed before that).
const UPLOAD_DEADLINE: Duration = Duration::from_secs(600);

async fn post_report(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // The token is checked from the headers before a byte of the body is
    // kept. A refusal is answered only after the body was read (and
    // discarded): an answer sent while the agent is still writing reaches
    // it as a broken pipe, which it would take for "collector away" and
    // retry forever.
    let agent = match authorize(&state, &headers, Role::Agent).await {
        Ok(agent) => agent,
        Err(refusal) => {
            discard(body).await;
            return Err(refusal);
        }
    };
    let cap = state.max_report_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > cap) {
        discard(body).await;
        return Err(too_large(cap));
    }
    // This upload's whole share of the memory budget, or wait: taking it
    // piecemeal would let two large uploads each hold half and wait for
    // ever.
    let share = u32::try_from(declared.unwrap_or(cap).div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let _memory = Arc::clone(&state.upload_memory)
        .acquire_many_owned(share)
        .await
        .expect("the upload budget is never closed");
    let mut body = body;
    let reading = read_capped(&mut body, cap, declared.unwrap_or(0));
    let bytes = match tokio::time::timeout(UPLOAD_DEADLINE, reading).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TooLarge)) => {
            discard(body).await;
            return Err(too_large(cap));
        }
        Ok(Err(BodyError::Broken)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "the upload broke off before the report was complete; nothing was stored",
                "報告の送信が途中で切れました。何も保存していません",
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the report did not arrive within {} s; nothing was stored — the agent sends it again",
                    UPLOAD_DEADLINE.as_secs()
                ),
                "報告の受信が時間内に終わりませんでした。何も保存していません",
            ));
        }
    };
    // Parsing a large report takes a while: off the threads that answer
    // everyone else, and a few at a time (forty at once took both cores).
    let parsing = PARSING
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            tokio::sync::Semaphore::new((cores / 2).max(1))
        })
        .acquire()
        .await
        .expect("never closed");
    let (parsed, bytes) = tokio::task::spawn_blocking(move || (Report::from_json(&bytes), bytes))
        .await
        .expect("parsing does not panic");
    drop(parsing);
    let report = parsed.map_err(|err| report_error(&err))?;
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
        .ingest_from_client(&report, text, &agent.name)
        .await?;
    let scan_id = report.scan_id.to_string();
    tracing::info!(agent = %agent.name, scan = %scan_id, ?outcome, "report received");
    // The agent empties its spool only on this acknowledgement (a body that
    // names the scan), never on a bare 2xx a proxy could have sent.
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

fn too_large(cap: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the report is larger than this collector accepts ({cap} bytes); raise --max-report-mb or scan smaller segments"
        ),
        format!(
            "報告が大きすぎます（上限 {cap} バイト）。--max-report-mb を増やすか、セグメントを分けてください"
        ),
    )
}

enum BodyError {
    TooLarge,
    Broken,
}

/// The body if it is at most `cap` bytes (`expected` sizes the buffer
/// once: growing by doubling would hold two copies at the end).
async fn read_capped(body: &mut Body, cap: usize, expected: usize) -> Result<Vec<u8>, BodyError> {
    use http_body_util::BodyExt;
    let mut kept = Vec::with_capacity(expected.min(cap));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if kept.len() + data.len() > cap {
            return Err(BodyError::TooLarge);
        }
        kept.extend_from_slice(&data);
    }
    Ok(kept)
}

/// Reads a refused body to its end and keeps none of it, for a while and
/// up to a size: then the answer reaches the sender.
async fn discard(body: Body) {
    use http_body_util::BodyExt;
    let drain = async {
        let mut body = body;
        let mut total = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            let bytes = frame.data_ref().map_or(0, |d| d.len());
            total += bytes;
            if total > REFUSED_DRAIN_BYTES {
                break;
            }
            drain_turn(bytes).await;
        }
    };
    let _ = tokio::time::timeout(REFUSED_DRAIN, drain).await;
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
    WithRejection(Query(page), _): WithRejection<Query<Page>, ApiError>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Reader).await?;
    let limit = page.limit.unwrap_or(1000).clamp(1, 10_000);
    let devices = state.store.devices_page(page.after, limit).await?;
    let next = (devices.len() as i64 == limit).then(|| devices.last().map(|d| d.id));
    Ok(Json(json!({"devices": devices, "next_after": next.flatten()})).into_response())
}

/// Every device with its interfaces, identities, links and findings: the
/// documented machine-readable view (`devices --format json`).
async fn inventory(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Role::Reader).await?;
    let reconciliation = state
        .reconciled
        .get(&state.store, state.missing_days, state.overdue_hours)
        .await
        .map_err(ApiError::internal)?;
    let view = crate::inventory::inventory(&state.store, &reconciliation)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(view).into_response())
}

/// One device with its identities and merge reasons.
async fn device(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    WithRejection(Path(id), _): WithRejection<Path<i64>, ApiError>,
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
    let (_, findings) = crate::reconcile::latest_findings(&state.store).await?;
    Ok(Json(json!({"findings": findings})).into_response())
}
