//! The kernel's IPv4 neighbour table as `/proc/net/arp` shows it, for the
//! unprivileged sweep.
//!
//! The text format has been stable since Linux 2.2 and needs no capability to
//! read; a netlink client (`rtnetlink`) would add an async stack for ten lines.

use std::net::Ipv4Addr;

use daicho_report::MacAddr;

/// `ATF_COM`: the entry is resolved (the host answered).
const ATF_COM: u32 = 0x02;

/// Resolved entries for `interface`. Lines that do not parse are skipped: the
/// table is the kernel's, but a truncated read must not stop the scan.
pub fn parse_proc_net_arp(text: &str, interface: &str) -> Vec<(Ipv4Addr, MacAddr)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [ip, _hw_type, flags, mac, _mask, device] = fields[..] else {
                return None;
            };
            let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
            let mac: MacAddr = mac.parse().ok()?;
            (device == interface && flags & ATF_COM != 0 && mac != MacAddr::ZERO)
                .then_some((ip.parse().ok()?, mac))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As read from a lab namespace after a sweep.
    const SAMPLE: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
198.18.1.11      0x1         0x2         00:1b:21:00:00:0b     *        eth1
198.18.1.12      0x1         0x0         00:00:00:00:00:00     *        eth1
198.18.2.10      0x1         0x2         00:00:74:00:00:0a     *        eth2
198.18.1.13      0x1         0x6         00:1b:21:00:00:0d     *        eth1
garbage line
198.18.1.14      0x1         0xZZ        00:1b:21:00:00:0e     *        eth1
";

    #[test]
    fn resolved_entries_of_one_interface() {
        let entries = parse_proc_net_arp(SAMPLE, "eth1");
        assert_eq!(
            entries,
            vec![
                (
                    "198.18.1.11".parse().unwrap(),
                    "00:1b:21:00:00:0b".parse().unwrap()
                ),
                (
                    "198.18.1.13".parse().unwrap(),
                    "00:1b:21:00:00:0d".parse().unwrap()
                ),
            ]
        );
        assert!(parse_proc_net_arp("", "eth1").is_empty());
    }
}
