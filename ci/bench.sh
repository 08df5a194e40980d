#!/usr/bin/env bash
# The benchmark leg: build every benchmark program (Release), run the quick
# comparison (under 2 minutes) and a short run of relay-poll with its requests
# kept, and fail if any run reported an error (a lost, wrong or unchecked
# echo) or did not finish.
# Usage: ci/bench.sh [--full]
set -euo pipefail
cd "$(dirname "$0")/.."

mode=--quick
[ "${1:-}" = "--full" ] && mode=""
bash bench/compare.sh $mode
name=quick
[ -z "$mode" ] && name=full
if grep -q '^ERRORS:' "build/bench/compare-$name-table.txt"; then
  echo "ci/bench.sh: some runs had errors (see build/bench/compare-$name.txt)" >&2
  exit 1
fi
# The floor with its requests kept (RELAY_KEEP_REQUESTS, docs/performance.md):
# every echo must answer the oldest request kept on its connection.
keep=$(RELAY_KEEP_REQUESTS=1 timeout 60 build/bench/bench/relay-poll --scenario stream \
  --transport tcp --size 1024 --conns 100 --seconds 0.5)
echo "$keep"
if ! grep -q '^# relay-poll-keep .*: errors=0 echoes=[1-9]' <<<"$keep"; then
  echo "ci/bench.sh: relay-poll with its requests kept failed or matched wrongly" >&2
  exit 1
fi
echo "ci/bench.sh: every run finished with 0 errors"
