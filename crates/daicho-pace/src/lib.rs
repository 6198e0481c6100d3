//! What the probes after the ARP sweep share, so that a scan of a big
//! segment is fast while every device is still treated gently.
//!
//! - [`Budget`]: one packets-per-second pace for the whole scan (all
//!   probes, all segments), a bound on TCP connections in flight, a smaller
//!   bound per host (fragile devices), and connect timeouts adapted to each
//!   host's measured round-trip time ([`rtt`]), never below a floor that
//!   suits slow embedded stacks.
//! - [`check_ports`]: the cheap question asked first — which TCP ports of
//!   which hosts are open — by plain connects through that budget, so a
//!   closed port costs one round trip, a silent one costs one timeout spent
//!   in parallel with everything else, and only open ports get the protocol
//!   probes (HTTP/TLS, SSH, DICOM).
//!
//! A connect check needs no privilege and no raw socket; a half-open SYN
//! scan would save the device one short connection per open port, at the
//! cost of crafting and capturing TCP by hand beside the kernel's stack.

mod budget;
mod ports;
pub mod rtt;

pub use budget::{Budget, ConnectionSlot, Limits};
pub use ports::{CheckSummary, OpenPorts, PortState, check_ports};
