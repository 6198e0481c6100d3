#!/usr/bin/env bash
# Collector benchmark: ingest throughput on SQLite and PostgreSQL, and a
# 100,000-device ledger served by daicho-collector (RSS, lookup latency).
# Starts a throwaway PostgreSQL on a Unix socket (Debian's postgresql).
# Loopback only. Usage: tests/bench/ledger.sh   (LEDGER_DEVICES=N to resize)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
cargo build --release --locked -p daicho-collector -p daicho-lab --bins
start_test_postgres
trap stop_test_postgres EXIT
"${CARGO_TARGET_DIR:-target}/release/ledger-bench"
