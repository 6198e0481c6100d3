//! The collector's service: the HTTP API over the ledger (`api`) and the
//! server that runs it with TLS and a clean shutdown (`serve`). The
//! `daicho-collector` binary is the command line on top.

pub mod api;
pub mod serve;
