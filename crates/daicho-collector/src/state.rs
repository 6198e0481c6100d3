//! What the API's handlers and the pages share.

use std::sync::Arc;

use daicho_store::Store;

/// What the handlers share.
pub struct AppState {
    pub store: Store,
    /// Largest report body accepted, in bytes.
    pub max_report_bytes: usize,
    /// The memory every report body being received shares, in KiB: an
    /// upload waits for its whole share before its first byte is kept.
    pub upload_memory: Arc<tokio::sync::Semaphore>,
    /// The diff's windows, for the web pages.
    pub missing_days: i64,
    pub overdue_hours: i64,
    /// Session cookies only over TLS.
    pub secure_cookies: bool,
    pub sign_in_guard: crate::sign_in::SignInGuard,
    pub reconciled: crate::reconcile::Cache,
}
