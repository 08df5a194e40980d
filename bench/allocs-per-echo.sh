#!/usr/bin/env bash
# Allocation calls per echo in steady state: tofu-bench runs each line twice,
# a short window and a long one, under the counting preload library
# (bench/alloc-count.c); what the long run allocated beyond the short one,
# divided by the echoes it made beyond the short one, is the per-echo figure,
# free of what setup and teardown allocate. 0.000 means no allocation per
# message. Linux with glibc.
#
#   bash bench/allocs-per-echo.sh build/bench/bench [short_s] [long_s]
#
# Lines: stream S=1024 (TOFU_BENCH_SIZE=S for another) over TCP with
# C = 10, 100, 1000 and over UDS with C = 100, and pingpong over TCP.
set -euo pipefail
dir=${1:?usage: allocs-per-echo.sh BENCH_DIR [short_s] [long_s]}
short=${2:-1}
long=${3:-3}
warmup=0.5
size=${TOFU_BENCH_SIZE:-1024}
lib=$(cd "$dir" && pwd)/libtofu-alloc-count.so
if [ ! -x "$dir/tofu-bench" ] || [ ! -f "$lib" ]; then
  echo "allocs-per-echo.sh: $dir needs tofu-bench and libtofu-alloc-count.so" >&2
  exit 2
fi
count=$(mktemp)
trap 'rm -f "$count"' EXIT

# <scenario> <transport> <C> <seconds>: prints "allocs echoes"
run() {
  local rate
  rate=$(TOFU_ALLOC_COUNT_FILE=$count LD_PRELOAD=$lib "$dir/tofu-bench" --scenario "$1" \
    --transport "$2" --size "$size" --conns "$3" --seconds "$4" --warmup "$warmup" |
    awk -v s="$1" '$2 == s { print $6 }')
  awk -v rate="$rate" -v t="$4" -v w="$warmup" '{ printf "%s %.0f\n", $2, rate * (t + w) }' "$count"
}

echo "line               allocs/echo   (short: allocs echoes, long: allocs echoes)"
for l in "stream tcp 10" "stream tcp 100" "stream tcp 1000" "stream uds 100" "pingpong tcp 1"; do
  read -r scen tr c <<<"$l"
  set -- "$scen" "$tr" "$c"
  s=$(run "$1" "$2" "$3" "$short")
  g=$(run "$1" "$2" "$3" "$long")
  echo "$s $g" | awk -v n="$1 $2 C=$3" '{
    d = $4 - $2; r = d > 0 ? ($3 - $1) / d : 0
    printf "%-18s %11.4f   (%s %s, %s %s)\n", n, r, $1, $2, $3, $4 }'
done
