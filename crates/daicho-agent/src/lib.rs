//! The daicho agent as a library: configuration, scan planning and running, and
//! output. The `daicho-agent` binary is a thin command line over it.
//!
//! An agent runs on one host attached to one or more hospital LAN segments,
//! sweeps exactly the networks its configuration lists, and writes a versioned
//! JSON report (`daicho-report`) for the collector.

pub mod check;
pub mod config;
pub mod dhcp_probe;
pub mod http_probe;
pub mod mdns_probe;
pub mod netbios_probe;
pub mod output;
pub mod scan;
pub mod snmp_probe;
pub mod snmp_test;
pub mod ssdp_probe;
pub mod ssh_probe;
pub mod status;
pub mod upload;
