#!/usr/bin/env bash
# ctest's launcher for the Windows leg: runs one test .exe under Wine.
#
# Usage: ci/wine-test.sh <program.exe> [args...]
#   TOFU_WINE         the wine program            (default: wine)
#   TOFU_WINE_STARTS  file that collects start failures (optional)
#
# Every tofu test program prints a line before it does anything else. A run
# that exits non-zero having printed nothing at all never reached the program
# (Wine failed to start it); that is not a test result. Such a run is reported
# on stderr and in TOFU_WINE_STARTS, and the program is started once more:
# the second run's result is the test's. A program that printed anything is
# never run again, whatever its status.
set -uo pipefail

WINE=${TOFU_WINE:-wine}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$WINE" "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] && [ ! -s "$out" ]; then
  msg="wine-test: $* exited with status $rc before printing anything (Wine did not start it); started once more"
  echo "$msg" >&2
  [ -n "${TOFU_WINE_STARTS:-}" ] && echo "$msg" >>"$TOFU_WINE_STARTS"
  "$WINE" "$@"
  rc=$?
fi
exit "$rc"
