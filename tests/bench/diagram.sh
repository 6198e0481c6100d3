#!/usr/bin/env bash
# Network diagram benchmark (#17): the SVG of a 1,000-device site (overview,
# one segment, one large segment) and the 100,000-device ledger's overview,
# drawn from a reconciliation as the pages draw it; beside it Graphviz's
# `dot -Tsvg` laying out the same boxes and edges, in the same run.
# No network. Usage: tests/bench/diagram.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v dot >/dev/null || { echo "install Graphviz for the peer figure: apt-get install graphviz" >&2; exit 1; }
exec cargo bench --locked -p daicho-collector --bench diagram
