#!/usr/bin/env bash
# Collector benchmark: ingest throughput on SQLite and PostgreSQL, a
# 100,000-device ledger served by daicho-collector (RSS, lookup latency), and
# the declared ledger's import, diff and XLSX export at 100,000 rows.
# Starts a throwaway PostgreSQL on a Unix socket (Debian's postgresql).
# Loopback only. Usage: tests/bench/ledger.sh   (LEDGER_DEVICES=N to resize)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
cargo build --release --locked -p daicho-collector -p daicho-lab --bins
start_test_postgres
trap stop_test_postgres EXIT
"${CARGO_TARGET_DIR:-target}/release/ledger-bench"
"${CARGO_TARGET_DIR:-target}/release/ledger-io-bench"
