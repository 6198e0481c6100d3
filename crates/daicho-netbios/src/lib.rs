//! NetBIOS node status for the daicho agent: who a Windows PC (or a Samba
//! box, a printer, a medical workstation) says it is — its computer name
//! (コンピュータ名), workgroup or domain, the services it registered, and on
//! Windows the MAC of its adapter.
//!
//! No maintained crate does this (`netbios-parser` 0.2 depends on a 2018 DNS
//! parser), so the wire format is written here in smoltcp's style: a checked
//! view over the bytes ([`Packet`]) and plain representations
//! ([`NodeStatusQuery`], [`NodeStatus`]) with `emit` and `parse`. Parsing
//! never panics and allocates at most what the packet holds.
//! [`probe`] sends the queries (unicast UDP 137, paced) and gathers answers.

mod probe;
mod wire;

pub use probe::{ProbeConfig, ProbeOutcome, probe};
pub use wire::{Error, NameEntry, NodeStatus, NodeStatusQuery, Packet};
