//! SNMP probe for the daicho agent: credential profiles (v1/v2c community, v3
//! USM users) and the interrogation of a host, with failures turned into
//! diagnoses a hospital IT person can act on.
//!
//! Client library: `async-snmp`, pinned exactly (`=0.18.1`). The requested
//! `snmp` crate is abandoned (last release 2017, no SNMPv3, no async). async-snmp
//! is tokio-native, does v3 USM (MD5, SHA-1/2 with DES/AES) in pure Rust and was
//! seen to interoperate with net-snmp 5.9. It is young and has one main author,
//! so it stays behind this crate's small API ([`Profile`], [`Prober`],
//! [`interrogate`]),
//! and `snmp2` (the maintained fork of `snmp`) can replace it without touching
//! callers. See `shared/notes/crates.md` §1.

mod credentials;
mod diagnosis;
mod enterprise;
mod host;
mod system;
mod tables;
mod walk;

pub use credentials::{AuthProtocol, PrivProtocol, Profile, Version};
pub use diagnosis::Diagnosis;
pub use enterprise::enterprise_of;
pub use host::{Host, Prober, QueryOptions};
pub use system::{DeviceInfo, SystemGroup, Table, interrogate};
pub use walk::MAX_ROWS;
