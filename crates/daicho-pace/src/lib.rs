//! What the probes after the ARP sweep share, so that a scan of a big
//! segment is fast while every device is still treated gently.
//!
//! - [`Budget`]: one packets-per-second pace for the whole scan (all
//!   probes, all segments), a bound on TCP connections in flight, a smaller
//!   bound per host (fragile devices), and connect timeouts adapted to each
//!   host's measured round-trip time ([`rtt`]), never below a floor that
//!   suits slow embedded stacks.
//! - The port check: the cheap question asked first — which TCP ports of
//!   which hosts are open — through that budget, so a closed port costs one
//!   round trip, a silent one costs one timeout spent in parallel with
//!   everything else, and only open ports get the protocol probes
//!   (HTTP/TLS, SSH, DICOM). [`check_ports_half_open`] sends SYN frames
//!   over the raw link to the MAC each host answered ARP from (`nmap -sS`;
//!   no connection is made); [`check_ports`] connects through the kernel,
//!   for an agent without CAP_NET_RAW.
//! - [`LinkSender`]: datagrams as frames to known MACs. The kernel's own
//!   sockets need a neighbour entry per host, and Linux keeps at most 1,024
//!   (`gc_thresh3`): a segment of thousands of hosts runs out of them.

mod budget;
mod half_open;
mod link;
mod ports;
pub mod rtt;

pub use budget::{Budget, ConnectionSlot, Limits};
pub use half_open::{LinkTarget, check_ports_half_open, parse_reply};
pub use link::{Link, LinkSender};
pub use ports::{CheckSummary, OpenPorts, PortState, check_ports};
