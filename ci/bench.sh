#!/usr/bin/env bash
# The benchmark leg: build every benchmark program (Release), run the quick
# comparison (under 2 minutes) and fail if any run reported an error (a lost,
# wrong or unchecked echo) or did not finish.
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
echo "ci/bench.sh: every run finished with 0 errors"
