#!/usr/bin/env bash
# Collector under hostile load (issue #20), release build, loopback only:
# memory and reader latency under 1,000 held or token-less connections, 40
# concurrent uploads, a crowd of wrong passwords, one shared SSH key at
# 1,600 addresses — on SQLite and on a throwaway PostgreSQL (Unix socket).
# Usage: tests/bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
cargo build --release --locked -p daicho-collector -p daicho-lab --bins
start_test_postgres
trap stop_test_postgres EXIT
"${CARGO_TARGET_DIR:-target}/release/hostile-bench"
