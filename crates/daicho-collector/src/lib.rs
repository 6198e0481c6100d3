//! The collector's service: the HTTP API over the ledger (`api`), the
//! server that runs it with TLS and a clean shutdown (`serve`), and the
//! declared ledger reconciled with the discovered one (`reconcile`), and the
//! web pages for IT staff (`web`). The
//! `daicho-collector` binary is the command line on top.

pub mod api;
pub mod connections;
pub mod reconcile;
pub mod serve;
pub mod web;
