//! SSDP/UPnP for the daicho agent: what answers an `ssdp:all` M-SEARCH sent
//! from each segment's own address (the `ssdp-client` crate binds 0.0.0.0
//! and cannot choose the interface, so the socket is built here with
//! `socket2`), what announces itself with NOTIFY, each device's description
//! (maker, model, serial number, UDN — fetched only from hosts in scope,
//! capped and timed), and for an Internet gateway its own uplink: the
//! external address UPnP (`GetExternalIPAddress`) and NAT-PMP give, marked
//! public, carrier-grade NAT or private — an uplink of its own is what
//! checklist item 2-(2) worries about.
//!
//! Parsers of what devices send ([`wire`], [`description`], [`gateway`]) are
//! pure, bounded and fuzzed; [`probe`] does the I/O.

pub mod description;
pub mod gateway;
pub mod probe;
pub mod wire;
