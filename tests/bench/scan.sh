#!/usr/bin/env bash
# Full-scan benchmark (#19): daicho-agent vs nmap (dense /20, firewalled /24)
# and vs arp-scan (sparse /16 ARP) in one run, inside a namespace lab (nothing
# leaves it). Needs root, nmap, arp-scan, tcpdump, nftables and iproute2.
# Usage: sudo tests/bench/scan.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in nmap arp-scan tcpdump nft; do
    command -v "$tool" >/dev/null || { echo "install $tool: apt-get install nmap arp-scan tcpdump nftables" >&2; exit 1; }
done
cargo build --release --locked -p daicho-agent -p daicho-lab --bins
exec "${CARGO_TARGET_DIR:-target}/release/scan-bench"
