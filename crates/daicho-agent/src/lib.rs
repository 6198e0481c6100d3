//! The daicho agent as a library: configuration, scan planning and running,
//! the probes (one file each under `probe/`, behind one seam), and output. The `daicho-agent` binary is a thin command line over it.
//!
//! An agent runs on one host attached to one or more hospital LAN segments,
//! sweeps exactly the networks its configuration lists, and writes a versioned
//! JSON report (`daicho-report`) for the collector.

pub mod check;
pub mod config;
pub mod duration;
pub mod output;
pub mod probe;
pub mod scan;
pub mod snmp_test;
pub mod status;
pub mod upload;
