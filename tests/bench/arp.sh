#!/usr/bin/env bash
# ARP sweep benchmark: daicho-agent vs arp-scan in one run, inside a namespace
# lab (nothing leaves the lab). Needs root, arp-scan and iproute2.
# Usage: sudo tests/bench/arp.sh        (DENSE_RATE=80000 to try another rate)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v arp-scan >/dev/null || { echo "install arp-scan: apt-get install arp-scan" >&2; exit 1; }
cargo build --release --locked -p daicho-agent -p daicho-lab --bins
exec "${CARGO_TARGET_DIR:-target}/release/arp-bench"
