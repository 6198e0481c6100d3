//! Runs the API: plaintext only on loopback unless allowed, TLS (rustls)
//! when a certificate is configured, and a graceful stop on SIGTERM/Ctrl-C
//! that lets running uploads finish their transaction.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use daicho_store::Store;

use crate::app::router;
use crate::connections::{Guard, Limits};
use crate::state::AppState;

pub struct ServeConfig {
    pub listen: SocketAddr,
    /// PEM certificate chain and key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Serve plain HTTP on a non-loopback address (tokens in clear text).
    pub allow_plaintext: bool,
    pub max_report_bytes: usize,
    /// Memory all report bodies being received share, in bytes (at least
    /// one report's worth).
    pub upload_memory_bytes: usize,
    pub limits: Limits,
    /// The diff's windows, for the web pages.
    pub missing_days: i64,
    pub overdue_hours: i64,
}

/// How long running requests may take to finish after a stop is asked.
const GRACE: Duration = Duration::from_secs(10);
/// A request's headers must arrive within this.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A new connection's first request (after TLS) must arrive within this.
const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// A connection's read buffer at most: a thousand connections must not
/// hold hyper's default 400 KiB each.
const READ_BUFFER: usize = 64 << 10;

/// Serves until `stop` resolves, then closes the ledger.
pub async fn serve(
    store: Store,
    config: ServeConfig,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.allow_plaintext {
        anyhow::bail!(
            "refusing to serve plain HTTP on {}: agents' tokens and reports would cross the network unencrypted. \
             Configure --tls-cert and --tls-key, listen on 127.0.0.1 behind a TLS proxy, or pass --allow-plaintext \
             if this network is trusted.\n\
             {} で暗号化なしの HTTP は提供しません。--tls-cert/--tls-key を指定してください",
            config.listen,
            config.listen
        );
    }
    let listener = std::net::TcpListener::bind(config.listen).with_context(|| {
        format!(
            "cannot listen on {} / {} で待ち受けできません",
            config.listen, config.listen
        )
    })?;
    let local = listener.local_addr()?;
    let budget_kib = config
        .upload_memory_bytes
        .max(config.max_report_bytes)
        .div_ceil(1024)
        .min(tokio::sync::Semaphore::MAX_PERMITS);
    let state = Arc::new(AppState {
        store,
        max_report_bytes: config.max_report_bytes,
        upload_memory: Arc::new(tokio::sync::Semaphore::new(budget_kib)),
        missing_days: config.missing_days,
        overdue_hours: config.overdue_hours,
        secure_cookies: config.tls.is_some(),
        sign_in_guard: Default::default(),
        reconciled: Default::default(),
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let guard = Guard::new(config.limits);
    let handle: Handle<SocketAddr> = Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        stop.await;
        tracing::info!("stopping: finishing running requests");
        stopper.graceful_shutdown(Some(GRACE));
    });
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    // Tests and scripts read this line for the port (--listen …:0).
    println!("daicho-collector: listening on {scheme}://{local}");
    match &config.tls {
        None => {
            let mut server = axum_server::from_tcp(listener)?
                .acceptor(guard)
                .handle(handle)
                .first_request_timeout(FIRST_REQUEST_TIMEOUT);
            patience(&mut server);
            server.serve(app).await?
        }
        Some((cert, key)) => {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let tls = RustlsConfig::from_pem_file(cert, key).await.with_context(|| {
                format!(
                    "cannot load the TLS certificate {} or key {} (PEM expected) / 証明書または鍵を読み込めません",
                    cert.display(),
                    key.display()
                )
            })?;
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls).acceptor(guard);
            let mut server = axum_server::from_tcp(listener)?
                .acceptor(acceptor)
                .handle(handle)
                .first_request_timeout(FIRST_REQUEST_TIMEOUT);
            patience(&mut server);
            server.serve(app).await?
        }
    }
    state.store.close().await;
    Ok(())
}

/// HTTP/1 timeouts and buffers; HTTP/2 (over TLS) keeps its own flow control.
fn patience<A: axum_server::Address, Acc>(server: &mut axum_server::Server<A, Acc>) {
    let mut http1 = server.http_builder().http1();
    http1
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(READ_BUFFER);
}
