#!/usr/bin/env bash
# Every test of tofu that this machine can run, each leg a script of its own:
#   Linux, poll backend: gcc and clang (+ the install check), ASan+UBSan, TSan,
#   valgrind memcheck, a short fuzzing run, and the quick benchmark comparison
#   (which fails only on a lost or wrong echo, never on speed);
#   Windows, iocp_afd backend: MinGW-w64 cross build run under Wine;
#   and the lint of the GitHub workflow that mirrors these legs.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
leg() {
  local t=$SECONDS
  echo "=== ci/test.sh: $* ==="
  bash "$@"
  echo "=== ci/test.sh: $* passed in $((SECONDS - t)) s ==="
}

leg ci/test-linux.sh gcc clang
leg ci/test-sanitize.sh
leg ci/test-tsan.sh
leg ci/test-valgrind.sh
leg ci/fuzz.sh 20
leg ci/test-windows-wine.sh
leg ci/bench.sh
leg ci/lint-workflow.sh
echo "tofu: all legs passed in $((SECONDS - start)) s"
