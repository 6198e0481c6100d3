//! Delivering reports to the collector without losing one.
//!
//! Every report goes to the spool directory first (written whole, then
//! renamed, then synced), and leaves it only when the collector has
//! acknowledged it: an answer whose body names the report's scan id as
//! stored or already stored (re-sending never duplicates, the collector
//! keys reports by scan id). A bare 2xx from a proxy, or a redirect (never
//! followed), is no acknowledgement. An unreachable
//! collector or a 5xx keeps the report for the next run or `daicho-agent
//! flush`, retried with backoff; a 4xx means the report or the token is
//! wrong, so the report is set aside in `rejected/` with the collector's
//! reason instead of being retried forever.

use std::path::{Path, PathBuf};
use std::time::Duration;

use daicho_process::Secret;
use daicho_report::Report;
use serde::Deserialize;

/// `[upload]` in agent.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadConfig {
    /// The collector, e.g. `https://collector.example:8417`.
    pub url: Option<String>,
    /// The token `daicho-collector agent add` printed: the value, `env:NAME`
    /// or `file:PATH`. Default: the environment variable DAICHO_UPLOAD_TOKEN.
    pub token: Option<Secret>,
    /// PEM file of the CA that signed the collector's certificate; when set,
    /// only that CA is trusted.
    pub ca_file: Option<PathBuf>,
    /// Tries per report in one run before leaving it in the spool.
    pub attempts: u32,
    /// Wait before the second try; doubled for each further one.
    #[serde(deserialize_with = "crate::duration::duration_text")]
    pub retry_delay: Duration,
    /// Time allowed for one upload.
    #[serde(deserialize_with = "crate::duration::duration_text")]
    pub timeout: Duration,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            url: None,
            token: None,
            ca_file: None,
            attempts: 3,
            retry_delay: Duration::from_secs(2),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Why reports cannot be sent at all (as opposed to one failing delivery).
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "no upload token: set [upload] token in agent.toml or the environment variable \
         DAICHO_UPLOAD_TOKEN to what `daicho-collector agent add` printed\n\
         アップロード用トークンがありません"
    )]
    NoToken,
    #[error("the collector URL {0:?} is not valid: {1}\nコレクターの URL が正しくありません")]
    BadUrl(String, String),
    #[error("cannot read the CA file {0}: {1}\nCA ファイルを読めません")]
    CaFile(PathBuf, String),
    #[error("spool directory {0}: {1}\nスプールディレクトリのエラー")]
    Spool(PathBuf, std::io::Error),
}

/// The directory where reports wait for the collector.
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// Opens (creating, owner-only) the spool at `dir`.
    pub fn open(dir: &Path) -> Result<Spool, UploadError> {
        let fail = |e| UploadError::Spool(dir.to_owned(), e);
        std::fs::create_dir_all(dir.join("rejected")).map_err(fail)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
        Ok(Spool {
            dir: dir.to_owned(),
        })
    }

    /// Adds a report under its scan id; returns its path. The file is
    /// complete and on disk when this returns.
    pub fn put(&self, report: &Report) -> Result<PathBuf, UploadError> {
        let path = self.dir.join(format!("{}.json", report.scan_id));
        crate::output::write_report(report, &path)
            .map_err(|e| UploadError::Spool(self.dir.clone(), e))?;
        Ok(path)
    }

    /// Reports waiting, oldest first (scan ids are time-ordered UUIDv7).
    pub fn pending(&self) -> Result<Vec<PathBuf>, UploadError> {
        reports_in(&self.dir)
    }

    /// Reports the collector refused, kept with its reason.
    pub fn rejected(&self) -> Result<Vec<PathBuf>, UploadError> {
        reports_in(&self.rejected_dir())
    }

    /// Where refused reports are kept.
    pub fn rejected_dir(&self) -> PathBuf {
        self.dir.join("rejected")
    }

    fn remove(&self, path: &Path) {
        // Already gone: another flush delivered it.
        let _ = std::fs::remove_file(path);
    }

    fn set_aside(&self, path: &Path, reason: &str) {
        let Some(name) = path.file_name() else { return };
        let target = self.dir.join("rejected").join(name);
        if std::fs::rename(path, &target).is_ok() {
            let _ = std::fs::write(target.with_extension("reason.txt"), reason);
        }
    }
}

/// The report files of a spool directory, by name.
fn reports_in(dir: &Path) -> Result<Vec<PathBuf>, UploadError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| UploadError::Spool(dir.to_owned(), e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The collector stored it (or had it already).
    Acknowledged,
    /// The collector refused it (4xx): retrying the same bytes cannot help.
    Refused(String),
    /// Not this report's fault but the set-up's — the collector does not
    /// accept our token (401), or what answered is not the collector (a
    /// redirect, a proxy's page): no report can go until it is fixed, so
    /// all of them wait.
    Misconfigured(String),
    /// Not now (unreachable, timeout, 5xx): try again later.
    Later(String),
}

/// Posts reports to one collector with one token.
pub struct Uploader {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    token: Secret,
}

impl Uploader {
    pub fn new(url: &str, config: &UploadConfig) -> Result<Uploader, UploadError> {
        let token = match &config.token {
            Some(token) => token.clone(),
            None => std::env::var("DAICHO_UPLOAD_TOKEN")
                .ok()
                .and_then(|t| Secret::resolve(&t).ok())
                .ok_or(UploadError::NoToken)?,
        };
        if token.expose().trim().is_empty() {
            return Err(UploadError::NoToken);
        }
        let bad_url = |why: String| UploadError::BadUrl(url.to_owned(), why);
        let mut endpoint = reqwest::Url::parse(url).map_err(|e| bad_url(e.to_string()))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(bad_url("use http:// or https://".into()));
        }
        if !endpoint.path().ends_with("/api/v1/reports") {
            let base = endpoint.path().trim_end_matches('/').to_owned();
            endpoint.set_path(&format!("{base}/api/v1/reports"));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            // A redirect would carry the report (and token) elsewhere, and
            // whatever answers there is not the collector.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("daicho-agent/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &config.ca_file {
            let ca_error = |why: String| UploadError::CaFile(ca.clone(), why);
            let pem = std::fs::read(ca).map_err(|e| ca_error(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
            builder = builder.tls_certs_only(certs);
        }
        let client = builder.build().map_err(|e| bad_url(e.to_string()))?;
        Ok(Uploader {
            client,
            endpoint,
            token,
        })
    }

    /// One attempt to deliver one report (its JSON, as spooled).
    pub async fn send(&self, json: Vec<u8>) -> Delivery {
        #[derive(Deserialize)]
        struct ScanId {
            scan_id: String,
        }
        let Ok(ScanId { scan_id }) = serde_json::from_slice::<ScanId>(&json) else {
            return Delivery::Refused("the spooled file is not a report (no scan_id)".into());
        };
        let response = self
            .client
            .post(self.endpoint.clone())
            .bearer_auth(self.token.expose().trim())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return Delivery::Later(format!("{}: {}", self.endpoint, error_chain(&e))),
        };
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_owned();
            return Delivery::Misconfigured(format!(
                "{} answered {status}, redirecting to {to}: reports are not sent on to another address; \
                 set [upload] url to the collector itself / 転送先には送りません。[upload] url にコレクターの URL を指定してください",
                self.endpoint
            ));
        }
        let body = response.text().await.unwrap_or_default();
        let answer = serde_json::from_str::<serde_json::Value>(&body).ok();
        if status.is_success() {
            let acknowledged = answer.as_ref().is_some_and(|v| {
                v.get("scan_id").and_then(|s| s.as_str()) == Some(scan_id.as_str())
                    && matches!(
                        v.get("status").and_then(|s| s.as_str()),
                        Some("stored" | "already_stored")
                    )
            });
            return if acknowledged {
                Delivery::Acknowledged
            } else {
                Delivery::Misconfigured(format!(
                    "{} answered {status} without acknowledging scan {scan_id}: what answered is not a daicho \
                     collector (a proxy or another server?); the report stays in the spool / \
                     コレクター以外が応答しました。報告はスプールに残します",
                    self.endpoint
                ))
            };
        }
        let message = answer
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(body);
        let message = format!("{} answered {status}: {message}", self.endpoint);
        match status {
            reqwest::StatusCode::UNAUTHORIZED => Delivery::Misconfigured(message),
            reqwest::StatusCode::REQUEST_TIMEOUT | reqwest::StatusCode::TOO_MANY_REQUESTS => {
                Delivery::Later(message)
            }
            s if s.is_client_error() => Delivery::Refused(message),
            _ => Delivery::Later(message),
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a flush did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flushed {
    pub delivered: usize,
    pub refused: usize,
    /// Still in the spool.
    pub waiting: usize,
    /// Why the last delivery that did not go through did not.
    pub last_problem: Option<String>,
}

/// Delivers the spool oldest first. A report that cannot go now is tried
/// `attempts` times with doubling delays; if it still cannot, the collector
/// is taken to be away and the rest wait too.
pub async fn flush(
    spool: &Spool,
    uploader: &Uploader,
    config: &UploadConfig,
) -> Result<Flushed, UploadError> {
    let pending = spool.pending()?;
    let mut flushed = Flushed::default();
    for (n, path) in pending.iter().enumerate() {
        let json = match std::fs::read(path) {
            Ok(json) => json,
            // Delivered by a concurrent flush in the meantime.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(UploadError::Spool(path.clone(), e)),
        };
        let mut delay = config.retry_delay;
        let mut outcome = Delivery::Later(String::new());
        for attempt in 1..=config.attempts.max(1) {
            outcome = uploader.send(json.clone()).await;
            let Delivery::Later(why) = &outcome else {
                break;
            };
            tracing::warn!(report = %path.display(), attempt, "upload failed: {why}");
            if attempt < config.attempts {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
        }
        match outcome {
            Delivery::Acknowledged => {
                spool.remove(path);
                flushed.delivered += 1;
            }
            Delivery::Refused(why) => {
                tracing::error!(report = %path.display(), "the collector refused the report: {why}");
                spool.set_aside(path, &why);
                flushed.refused += 1;
                flushed.last_problem = Some(why);
            }
            Delivery::Later(why) | Delivery::Misconfigured(why) => {
                flushed.waiting = pending.len() - n;
                flushed.last_problem = Some(why);
                break;
            }
        }
    }
    Ok(flushed)
}
