//! What the agent and the collector both need from the host they run on,
//! in one neutral place: secrets named in a configuration file ([`Secret`]:
//! inline, `env:` or `file:`, never printed), files replaced atomically
//! ([`write_atomic`]), the stop signal of a daemon ([`stop_signal`]), and
//! the man page and shell completions of a command ([`write_docs`]), and
//! its `--help` in Japanese ([`help`]).

mod docs;
mod files;
pub mod help;
mod secret;

pub use docs::write_docs;
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
