#!/usr/bin/env bash
# SNMP benchmark: daicho-agent vs net-snmp's snmpbulkwalk in one run, against
# 50 snmpd hosts inside a namespace lab (nothing leaves the lab). Needs root,
# snmpd, snmp and iproute2.
# Usage: sudo tests/bench/snmp.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v snmpbulkwalk >/dev/null || { echo "install net-snmp: apt-get install snmpd snmp" >&2; exit 1; }
cargo build --release --locked -p daicho-agent -p daicho-lab --bins
exec "${CARGO_TARGET_DIR:-target}/release/snmp-bench"
