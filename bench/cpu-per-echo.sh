#!/usr/bin/env bash
# CPU per echo of two tofu-bench builds, interleaved: the method of
# docs/performance.md for "before and after" figures. Each round runs every
# line once with A, then once with B; a line's figure is the whole process's
# CPU (perf stat task-clock, the warm-up counted) divided by the echoes of the
# measured window and of the warm-up at the window's rate. Prints each round
# and, per line, the median of A, of B and of the ratios B/A.
#
#   bash bench/cpu-per-echo.sh A/tofu-bench B/tofu-bench [rounds] [seconds]
#
# Lines: stream S=1024 (TOFU_BENCH_SIZE=S for another) over TCP with C = 10, 100, 1000 and over UDS with
# C = 100. Needs perf (Debian: linux-perf) with task-clock available.
set -euo pipefail
a=${1:?usage: cpu-per-echo.sh A/tofu-bench B/tofu-bench [rounds] [seconds]}
b=${2:?usage: cpu-per-echo.sh A/tofu-bench B/tofu-bench [rounds] [seconds]}
rounds=${3:-5}
seconds=${4:-1.5}
warmup=0.5
size=${TOFU_BENCH_SIZE:-1024}
lines=("tcp 100" "tcp 1000" "tcp 10" "uds 100")
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# <binary> <transport> <C>: prints "msgs_per_s us_per_echo"
one() {
  local stat res
  stat=$(mktemp)
  res=$(perf stat -x, -e task-clock -o "$stat" "$1" --scenario stream --transport "$2" \
    --size "$size" --conns "$3" --seconds "$seconds" --warmup "$warmup" | awk '$2 == "stream" { print $6 }')
  awk -F, -v rate="$res" -v t="$seconds" -v w="$warmup" '
    $3 == "task-clock" { ms = $1 }
    END { printf "%s %.3f\n", rate, ms * 1000 / (rate * (t + w)) }' "$stat"
  rm -f "$stat"
}

for r in $(seq 1 "$rounds"); do
  for l in "${lines[@]}"; do
    set -- $l
    ra=$(one "$a" "$1" "$2")
    rb=$(one "$b" "$1" "$2")
    echo "round $r $1 C=$2 A ${ra% *} msgs/s ${ra#* } us/echo  B ${rb% *} msgs/s ${rb#* } us/echo"
    echo "$1 $2 ${ra#* } ${rb#* } ${ra% *} ${rb% *}" >>"$out"
  done
done

echo "line            A us/echo  B us/echo  B/A cpu (median of ratios)  B/A msgs/s"
for l in "${lines[@]}"; do
  set -- $l
  awk -v tr="$1" -v c="$2" '
    function median(v, n,   i, j, x) {
      for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    $1 == tr && $2 == c { n++; a[n] = $3; b[n] = $4; q[n] = $4 / $3; s[n] = $6 / $5 }
    END { printf "%-3s C=%-5s %9.3f  %9.3f  %9.3f                   %9.3f\n", tr, c, median(a, n), median(b, n), median(q, n), median(s, n) }' "$out"
done
