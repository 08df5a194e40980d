#!/usr/bin/env bash
# The attack of issue 16 on tofu-echo-server, measured: PEERS hostile peers
# (default 2000) each say hello, send the header of a maximal frame (65,535
# bytes of text headers + 65,535 of body claimed) and most of its payload,
# then stall (bench/half-frames.c). While they hold, a legitimate client
# (tofu-echo-client, 100 requests of 1 KiB) connects; the server's resident
# set is sampled every 0.2 s.
#
#   bash bench/half-frames.sh            # build (Release), run, print the figures
#   PEERS=N HOLD=S bash bench/half-frames.sh
#   SMALL=N bash bench/half-frames.sh    # N more peers take what is left of the pool
#   TOFU_ECHO_SERVER=path bash bench/half-frames.sh   # another build's server
#
# Fails when the server's peak resident set passes max_memory (the echo
# server's default, 64 MiB) + 16 MiB, or when the client is not served within
# 15 s. Linux only (/proc). Not part of ctest: it takes HOLD seconds (45).
set -euo pipefail
cd "$(dirname "$0")/.."

peers=${PEERS:-2000}
hold=${HOLD:-45}
client_at=${CLIENT_AT:-2}
limit_kib=$((64 * 1024))
dir=build/bench
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOFU_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" --target tofu-echo-server tofu-echo-client half-frames >/dev/null
server=${TOFU_ECHO_SERVER:-$dir/examples/tofu-echo-server}
ulimit -n "$(ulimit -Hn)"

port=$((20000 + RANDOM % 20000))
out=$(mktemp)
"$server" --listen "tcp://127.0.0.1:$port" >"$out" 2>&1 &
spid=$!
attacker=""
cleanup() {
  [ -n "$attacker" ] && kill "$attacker" 2>/dev/null || true
  kill "$spid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$out"
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
grep -q listening "$out" || { cat "$out"; echo "the server did not start" >&2; exit 1; }

kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$spid/status"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
rss0=$(kib VmRSS)
t0=$(ms)
"$dir/bench/half-frames" --connect "127.0.0.1:$port" -n "$peers" --hold "$hold" \
  --small "${SMALL:-0}" &
attacker=$!

client_ms=""
client_ok=0
peak=0
while [ "$(ms)" -lt $((t0 + hold * 1000)) ]; do
  r=$(kib VmRSS)
  [ "$r" -gt "$peak" ] && peak=$r
  if [ -z "$client_ms" ] && [ "$(ms)" -ge $((t0 + client_at * 1000)) ]; then
    c0=$(ms)
    if timeout 60 "$dir/examples/tofu-echo-client" --connect "tcp://127.0.0.1:$port" \
      -n 100 -s 1024 -c 1 >/dev/null 2>&1; then
      client_ok=1
    fi
    client_ms=$(($(ms) - c0))
  fi
  sleep 0.2
done
hwm=$(kib VmHWM)
wait "$attacker" || true
attacker=""

printf 'peers                   %s (each: hello, a maximal frame claimed, 125,535 bytes of it sent)\n' "$peers"
printf 'small peers             %s (each: hello, 256 bytes of body claimed, 128 sent)\n' "${SMALL:-0}"
printf 'server RSS before       %s KiB\n' "$rss0"
printf 'server RSS peak         %s KiB sampled, %s KiB VmHWM (limit 64 MiB + 16 MiB = %s KiB)\n' \
  "$peak" "$hwm" $((limit_kib + 16 * 1024))
printf 'client (100 x 1 KiB)    done in %s ms, connecting %s s into the attack (%s)\n' \
  "$client_ms" "$client_at" "$([ $client_ok = 1 ] && echo served || echo FAILED)"
fail=0
[ "$hwm" -le $((limit_kib + 16 * 1024)) ] || { echo "peak RSS beyond max_memory + 16 MiB" >&2; fail=1; }
[ $client_ok = 1 ] && [ "$client_ms" -le 15000 ] || { echo "client not served within 15 s" >&2; fail=1; }
exit $fail
