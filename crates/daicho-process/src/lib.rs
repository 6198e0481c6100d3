//! What the agent and the collector both need from the host they run on,
//! in one neutral place: secrets named in a configuration file ([`Secret`]:
//! inline, `env:` or `file:`, never printed), files replaced atomically
//! ([`write_atomic`]), and the stop signal of a daemon ([`stop_signal`]).

mod files;
mod secret;

pub use files::write_atomic;
pub use secret::{Secret, SecretError};

/// Resolves on SIGTERM (systemd's stop) or Ctrl-C.
pub async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM can be watched");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
