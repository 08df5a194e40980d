#!/usr/bin/env bash
# Run every case of every suite under valgrind memcheck (the default backend, gcc,
# no sanitizer): any invalid access or any leak (definite or indirect) fails
# the case. check runs in-process (CK_FORK=no) so that valgrind sees the case
# itself. Cases that only measure time or hold thousands of connections run
# with smaller figures (environment below); none is left out.
# Usage: ci/test-valgrind.sh [jobs]   (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${1:-2}
bash ci/setup-debian.sh valgrind

dir=build/valgrind
cmake -S . -B "$dir" -G Ninja -DTOFU_BACKEND= -DCMAKE_BUILD_TYPE=Debug -DTOFU_BUILD_EXAMPLES=OFF -DTOFU_BUILD_BENCH=OFF \
  -DTOFU_BUILD_SHARED=OFF
cmake --build "$dir"

export CK_FORK=no
# The bounds the cases promise ("within 1 s") are asserted by the native legs;
# under valgrind they get ten times as long (tests/support/engines.h).
export TOFU_TEST_TIME_SCALE=${TOFU_TEST_TIME_SCALE:-10}
export TOFU_REL_SEEDS=${TOFU_REL_SEEDS:-4} TOFU_REL_SOAK_SECONDS=${TOFU_REL_SOAK_SECONDS:-2}
export TOFU_REL_SETUP_SEEDS=${TOFU_REL_SETUP_SEEDS:-1000}
export TOFU_REL_CONNECTIONS=${TOFU_REL_CONNECTIONS:-300} TOFU_REL_SILENT=${TOFU_REL_SILENT:-300}
export TOFU_REL_BIG_CONNECTIONS=${TOFU_REL_BIG_CONNECTIONS:-1000}
export TOFU_REL_SHORT_CONNECTIONS=${TOFU_REL_SHORT_CONNECTIONS:-2000}
export TOFU_REL_FUZZ_MUTATIONS=${TOFU_REL_FUZZ_MUTATIONS:-20} TOFU_REL_NO_RSS_CHECK=1 TOFU_REL_NO_RLIMIT=1
logs=$dir/logs
rm -rf "$logs"
mkdir -p "$logs"

run_case() { # <program> <case>
  local prog=$1 name=$2 log
  log=$logs/$(basename "$prog").$name.log
  set +e
  timeout 900 valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --child-silent-after-fork=yes --trace-children=no "$prog" "$name" >"$log" 2>&1
  local rc=$?
  set -e
  case $rc in
  0) echo "ok    $(basename "$prog") $name" ;;
  77) echo "skip  $(basename "$prog") $name: $(grep -m1 '^SKIP' "$log" | cut -d: -f2-)" ;;
  *)
    echo "FAIL  $(basename "$prog") $name (exit $rc)"
    sed 's/^/    /' "$log" | tail -n 60
    return 1
    ;;
  esac
}
export -f run_case
export logs

progs=$(find "$dir/tests" -maxdepth 2 -type f -name 'test_*' -perm -u+x | sort)
list=$(for p in $progs; do "$p" --list | sed "s|^|$p |"; done)
echo "valgrind: $(echo "$list" | wc -l) cases, $jobs at a time"
if echo "$list" | xargs -P "$jobs" -L 1 bash -c 'run_case "$0" "$1"'; then
  echo "valgrind: no error, no leak"
else
  echo "valgrind: failures (logs in $logs)" >&2
  exit 1
fi
