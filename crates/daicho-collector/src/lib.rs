//! The collector's service: the HTTP API over the ledger (`api`) and the
//! web pages for IT staff (`web`) on one router (`app`) with their shared
//! state (`state`) and sign-in throttle (`sign_in`); the server that runs
//! it with TLS, connection limits and a clean shutdown (`serve`,
//! `connections`); the declared ledger reconciled with the discovered one
//! (`reconcile`); the devices as one machine-readable view (`inventory`);
//! the network diagram (`diagram`); what a site sets once (`site`: rooms,
//! time zone);
//! and the text the command line prints (`print`). The
//! `daicho-collector` binary is the command line on top.

pub mod api;
pub mod app;
pub mod chart;
pub mod connections;
pub mod diagram;
pub mod inspection;
pub mod inventory;
pub mod print;
pub mod reconcile;
pub mod serve;
pub mod sign_in;
pub mod site;
pub mod state;
pub mod web;
