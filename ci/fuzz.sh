#!/usr/bin/env bash
# Build the libFuzzer targets in fuzz/ with clang (+ ASan + UBSan) and run
# each for a bounded time, starting from the seed corpus in the repository.
# Usage: ci/fuzz.sh [seconds-per-target]   (default 30; FUZZ_SECONDS too)
# A crash fails the run; its input is in build/fuzz/artifacts/. Keep it as a
# regression test: copy it to fuzz/regressions/<target>/ (the reliability
# suite's fuzz_corpus_replay case runs every file there).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${FUZZ_SECONDS:-30}}
bash ci/setup-debian.sh clang libclang-rt-dev

out=build/fuzz
mkdir -p "$out/artifacts"
common=(common/wire.c common/message.c common/pool.c common/address.c common/status.c common/error.c
  common/platform/posix/thread.c common/platform/posix/clock.c)
flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
  -DTOFU_LIBFUZZER -Iinclude -Icommon -Icommon/platform/posix -Ifuzz -pthread)

total=0
for target in wire headers address; do
  bin="$out/fuzz_$target"
  clang "${flags[@]}" "fuzz/fuzz_$target.c" "${common[@]}" -o "$bin"
  work="$out/corpus/$target"
  mkdir -p "$work"
  log="$out/$target.log"
  echo "=== fuzz_$target: ${seconds}s from fuzz/corpus/$target ==="
  # New inputs go to the scratch corpus; the seeds in the repository are
  # read only.
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/${target}-" "$work" "fuzz/corpus/$target" \
    "fuzz/regressions/$target" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz_$target: crash; the input is in $out/artifacts/ (keep it in fuzz/regressions/$target/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  echo "fuzz_$target: ${runs:-?} executions, no crash"
  total=$((total + ${runs:-0}))
done
echo "fuzz: $total executions in total, no crash"
