#!/usr/bin/env bash
# Run tofu-bench, raw-poll, relay-poll and the libuv/libzmq/nng peers in ONE run,
# interleaved case by case, print the table with the ratio to raw-poll on
# every line, and plot msgs/s against C for every implementation.
#
#   bash bench/compare.sh [--quick] [--seconds T] [--no-install] [--replot]
#
# --quick: stream S=1024 (TCP C=1,10,100,1000; UDS C=10,100) and pingpong
#          S=64 (TCP, UDS; free and pinned to one CPU with taskset, filed as
#          pingpong-pin), 1.5 s windows: about 3 minutes.
# On Linux, tofu-bench runs on both Linux backends (tofu-poll, tofu-epoll).
# full:    every case of BENCH.md (S=64,1024,65535; C=1,10,100,1000; both
#          transports), 3 s windows: about 10 minutes.
# --replot: no runs, only the table and plot again from the last raw file.
# Output: build/bench/compare-<mode>.txt (raw lines), the table on stdout
#         with each line's ratios to raw-poll, to libuv and to relay-poll (the
#         floor of the Reactor-plus-application-thread shape) of the same run,
#         build/bench/stream-<mode>.png (the plot).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
seconds=""
install=1
replot=0
while [ $# -gt 0 ]; do
  case "$1" in
  --quick) mode=quick ;;
  --seconds) seconds="$2"; shift ;;
  --no-install) install=0 ;;
  --replot) replot=1 ;;
  *) echo "usage: $0 [--quick] [--seconds T] [--no-install] [--replot]" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$seconds" ] || { [ $mode = quick ] && seconds=1.5 || seconds=3; }
warmup=0.5

raw=build/bench/compare-$mode.txt
if [ $replot = 0 ]; then
# --- Tools and libraries ------------------------------------------------------
if [ $install = 1 ]; then
  bash ci/setup-debian.sh libuv1-dev libzmq3-dev libnng-dev gnuplot-nox >/dev/null
fi

# --- Build (Release) ----------------------------------------------------------
# The default backend builds everything; on Linux tofu-bench is built once
# more on the other Linux backend (poll or epoll), so both run in every case.
dir=build/bench
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOFU_BUILD_TESTS=OFF -DTOFU_BACKEND= >/dev/null
cmake --build "$dir" >/dev/null
bin="$dir/bench"
impls=()
for p in raw-poll relay-poll tofu-bench; do
  [ -x "$bin/$p" ] && impls+=("$bin/$p")
done
if [ "$(uname -s)" = Linux ]; then
  default=$(sed -n 's/^TOFU_BACKEND_RESOLVED:INTERNAL=//p' "$dir/CMakeCache.txt")
  other=epoll
  [ "$default" = epoll ] && other=poll
  cmake -S . -B "$dir-$other" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOFU_BACKEND=$other \
    -DTOFU_BUILD_TESTS=OFF -DTOFU_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$dir-$other" --target tofu-bench >/dev/null
  impls+=("$dir-$other/bench/tofu-bench")
fi
for p in uv-bench zmq-bench nng-bench; do
  [ -x "$bin/$p" ] && impls+=("$bin/$p")
done

# --- Cases --------------------------------------------------------------------
cases=()
if [ $mode = quick ]; then
  cases+=("pingpong tcp 64 1" "pingpong uds 64 1")
  # Pingpong with every thread of the run on one CPU: the hand-off between
  # threads without a second core to hide it.
  command -v taskset >/dev/null && cases+=("pingpong-pin tcp 64 1" "pingpong-pin uds 64 1")
  for c in 1 10 100 1000; do cases+=("stream tcp 1024 $c"); done
  for c in 10 100; do cases+=("stream uds 1024 $c"); done
else
  for t in tcp uds; do for s in 64 1024 65535; do cases+=("pingpong $t $s 1"); done; done
  for t in tcp uds; do for s in 64 1024 65535; do for c in 1 10 100 1000; do
    cases+=("stream $t $s $c")
  done; done; done
fi

: >"$raw"
echo "# tofu bench/compare.sh $mode: $(date -u +%FT%TZ), $(nproc) cores, $(uname -sr)" | tee -a "$raw"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" | tee -a "$raw"
echo "# window ${seconds}s after ${warmup}s warm-up; implementations: ${impls[*]}" | tee -a "$raw"
n=0
for cs in "${cases[@]}"; do
  read -r scen tr size conns <<<"$cs"
  # Rotate the order each case so no implementation always runs first.
  k=${#impls[@]}
  pin=()
  run_scen=$scen
  if [ "$scen" = pingpong-pin ]; then
    pin=(taskset -c 0)
    run_scen=pingpong
  fi
  for ((j = 0; j < k; j++)); do
    p=${impls[$(((n + j) % k))]}
    limit=$(awk -v s="$seconds" -v w="$warmup" 'BEGIN { print int(s + w + 40) }')
    st=0
    # A pinned run is filed under its own scenario name.
    timeout "$limit" "${pin[@]}" "$p" --scenario "$run_scen" --transport "$tr" --size "$size" \
      --conns "$conns" --seconds "$seconds" --warmup "$warmup" 2>>"$raw.err" |
      sed "s/ $run_scen $tr / $scen $tr /" >>"$raw" || st=$?
    [ $st = 0 ] || echo "# $(basename "$p") $scen $tr $size $conns: exit status $st (see $raw.err)" >>"$raw"
  done
  n=$((n + 1))
done
fi
dir=build/bench

# --- Table with ratios --------------------------------------------------------
echo
awk '
  /^#/ {
    if ($0 ~ /errors=[1-9]/ || $0 ~ /exit status/) bad[++nb] = $0
    if ($2 ~ /^tofu-/ && $0 ~ /pool_limit_kb/) notes[++nn] = $0
    next
  }
  NF == 9 {
    key = $2 " " $3 " " $4 " " $5
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    line[key, $1] = $0; rate[key, $1] = $6; p50[key, $1] = $8
    if (!($1 in isimpl)) { isimpl[$1] = 1; impl[++ni] = $1 }
  }
  END {
    fmt = "%-14s %-12s %-9s %5s %5s %10s %8s %7s %7s %9s %9s %8s %8s %9s %9s\n"
    printf fmt, "impl", "scenario", "transport", "S", "C", "msgs_per_s", "mb_per_s", "p50_us", \
      "p99_us", "x_raw_rate", "x_raw_p50", "x_uv_rate", "x_uv_p50", "x_relay", "x_relay_p50"
    for (i = 1; i <= nk; i++) {
      key = order[i]
      base = rate[key, "raw-poll"]; bp50 = p50[key, "raw-poll"]
      uv = rate[key, "libuv"]; up50 = p50[key, "libuv"]
      rl = rate[key, "relay-poll"]; rp50 = p50[key, "relay-poll"]
      for (j = 1; j <= ni; j++) {
        im = impl[j]
        if (!((key, im) in line)) continue
        split(line[key, im], f, " ")
        r = (base > 0) ? sprintf("%.2f", f[6] / base) : "-"
        q = (bp50 != "-" && bp50 > 0 && f[8] != "-") ? sprintf("%.2f", f[8] / bp50) : "-"
        u = (uv > 0) ? sprintf("%.2f", f[6] / uv) : "-"
        v = (up50 != "-" && up50 > 0 && f[8] != "-") ? sprintf("%.2f", f[8] / up50) : "-"
        w = (rl > 0) ? sprintf("%.2f", f[6] / rl) : "-"
        x = (rp50 != "-" && rp50 > 0 && f[8] != "-") ? sprintf("%.2f", f[8] / rp50) : "-"
        printf fmt, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], r, q, u, v, w, x
      }
    }
    print ""
    for (i = 1; i <= nn; i++) print notes[i]
    if (nb) { print ""; print "ERRORS:"; for (i = 1; i <= nb; i++) print bad[i] }
    else print "# every echo checked: 0 errors in every run"
  }' "$raw" | tee "$dir/compare-$mode-table.txt"

# --- Plot: msgs/s against C, stream S=1024 ------------------------------------
if command -v gnuplot >/dev/null; then
  png="$dir/stream-$mode.png"
  plots=""
  colors=(black red "#1f77b4" "#2ca02c" "#ff7f0e" "#9467bd")
  for tr in tcp uds; do
    i=0
    dash=1
    [ $tr = uds ] && dash=2
    for p in $(awk 'NF == 9 && $1 !~ /^#/ { print $1 }' "$raw" | awk '!s[$0]++'); do
      f="$dir/plot-$mode-$tr-$p.dat"
      awk -v p="$p" -v t="$tr" '$1 == p && $2 == "stream" && $3 == t && $4 == 1024 { print $5, $6 }' \
        "$raw" | sort -n >"$f"
      [ -s "$f" ] && plots+="'$f' using 1:2 with linespoints lw 2 pt $((i + 4)) dt $dash lc rgb '${colors[$i]}' title '$p $tr',"
      i=$(((i + 1) % ${#colors[@]}))
    done
  done
  gnuplot <<EOF
set terminal pngcairo size 1000,650 font "DejaVu Sans,11"
set output "$png"
set title "stream, S = 1024, W = 16: msgs/s against C ($mode run, $(nproc) cores; TCP solid, UDS dashed)"
set xlabel "connections (C)"
set ylabel "messages per second (log)"
set logscale x
set xtics (1, 10, 100, 1000)
set format y "%.0s%c"
set logscale y
set grid
set key outside right
plot ${plots%,}
EOF
  echo "plot: $png"
fi
