#!/usr/bin/env bash
# Every test of tofu that this machine can run, each leg a script of its own:
#   Linux, poll backend: gcc and clang (+ the install check), ASan+UBSan, TSan,
#   valgrind memcheck, a short fuzzing run, and the quick benchmark comparison
#   (which fails only on a lost or wrong echo, never on speed);
#   Windows, iocp_afd backend: MinGW-w64 cross build run under Wine;
#   macOS (x86_64, arm64), FreeBSD and Windows built with zig cc (not run);
#   and the lint of the GitHub workflow that mirrors these legs.
# The last line adds up the test cases of every leg.
set -euo pipefail
cd "$(dirname "$0")/.."

logs=build/ci-logs
rm -rf "$logs"
mkdir -p "$logs"
start=$SECONDS
n=0
leg() {
  local t=$SECONDS log
  n=$((n + 1))
  log=$logs/$(printf '%02d' "$n")-$(basename "$1" .sh).log
  echo "=== ci/test.sh: $* ==="
  bash "$@" 2>&1 | tee "$log"
  echo "=== ci/test.sh: $* passed in $((SECONDS - t)) s ==="
}

leg ci/test-linux.sh gcc clang
leg ci/test-sanitize.sh
leg ci/test-tsan.sh
leg ci/test-valgrind.sh
leg ci/fuzz.sh 20
leg ci/test-windows-wine.sh
leg ci/test-cross.sh
leg ci/bench.sh
leg ci/lint-workflow.sh

echo "tofu: every leg passed in $((SECONDS - start)) s"
# ctest ends each run with "N% tests passed, F tests failed out of T" and
# lists its skipped tests as "(Skipped)"; the valgrind leg prints one
# "ok"/"skip"/"FAIL" line per case.
cat "$logs"/*.log | awk '
  /tests failed out of/ { total += $NF; for (i = 2; i <= NF; i++) if ($i == "failed") failed += $(i - 2) }
  /^[ \t]+[0-9]+ - .* \(Skipped\)$/ { skipped++ }
  /^ok    / { total++ } /^skip  / { total++; skipped++ } /^FAIL  / { total++; failed++ }
  END {
    printf "%d passed, %d failed, %d skipped\n", total - failed - skipped, failed, skipped
  }'
