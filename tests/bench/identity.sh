#!/usr/bin/env bash
# Identity-probe benchmark: a whole daicho-agent scan vs nmap's
# broadcast-dns-service-discovery, broadcast-upnp-info, nbstat and http-title
# side by side, on one lab segment of real daemons (nothing leaves the lab).
# Needs root and the lab packages (scripts/test installs them) plus nmap.
# Usage: sudo tests/bench/identity.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v nmap >/dev/null || { echo "install nmap: apt-get install nmap" >&2; exit 1; }
cargo build --release --locked -p daicho-agent -p daicho-lab --bins
exec "${CARGO_TARGET_DIR:-target}/release/identity-bench"
