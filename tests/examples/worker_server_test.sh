#!/usr/bin/env bash
# tofu-worker-server (four workers on one group) listening on TCP and on a
# Unix domain socket at once, driven by tofu-echo-client (which checks every
# echo: id, sequence and body) with several connections and requests in
# flight on each, bodies of 100 and 1,000 bytes and of 1 MiB (several
# frames each, joined), and by tofu-client; then SIGTERM: the server must exit 0,
# remove its socket file, have answered exactly the requests sent, and have
# spread them over more than one worker.
# Usage: worker_server_test.sh <tofu-worker-server> <tofu-echo-client> <tofu-client>
set -euo pipefail
server=$1 client=$2 quick=$3
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
sock=$dir/workers.sock
: >"$dir/out" # there before the server starts writing to it
workers=4

"$server" --listen "tcp://127.0.0.1:0" --listen "unix://$sock" --workers "$workers" \
  >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do
  [ "$(grep -c 'listening on' "$dir/out")" -eq 2 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/err" >&2; echo "server died" >&2; exit 1; }
  sleep 0.05
done
[ "$(grep -c 'listening on' "$dir/out")" -eq 2 ] || { echo "server did not listen twice" >&2; exit 1; }
tcp=$(sed -n 's/^tofu-worker-server: listening on \(tcp|[^ ]*\).*/\1/p' "$dir/out")
IFS='|' read -r _ host port <<<"$tcp"
[ -n "$port" ] || { echo "no TCP address in: $(cat "$dir/out")" >&2; exit 1; }

conns=4 n=500
"$client" --connect "tcp://$host:$port" -c "$conns" -n "$n" -w 16 -s 100 -o any
"$client" --connect "unix://$sock" -c "$conns" -n "$n" -w 16 -s 1000 -o any
# Bodies of 1 MiB, the server's max_message: each travels as 17 frames of
# one id and is joined at both ends.
big=20
"$client" --connect "tcp://$host:$port" -c 2 -n "$big" -w 4 -s 1048576 -o any
"$client" --connect "unix://$sock" -c 2 -n "$big" -w 4 -s 1048576 -o any
out=$("$quick" "tcp://$host:$port")
[ "$out" = "Response: ping" ] || { echo "tofu-client printed '$out'" >&2; exit 1; }
sent=$((2 * conns * n + 2 * 2 * big + 1))

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { echo "server exited $rc after SIGTERM" >&2; cat "$dir/err" >&2; exit 1; }
[ ! -e "$sock" ] || { echo "the socket file $sock is still there" >&2; exit 1; }
cat "$dir/err"
total=$(sed -n 's/^tofu-worker-server: stopped after \([0-9]*\) requests/\1/p' "$dir/err")
[ "$total" = "$sent" ] || { echo "server answered $total requests, $sent were sent" >&2; exit 1; }
busy=$(sed -n 's/^tofu-worker-server: requests per worker://p' "$dir/err" | tr ' ' '\n' | grep -c '^[1-9]' || true)
[ "$busy" -ge 2 ] || { echo "only $busy of $workers workers answered anything" >&2; exit 1; }
echo "ok: $sent requests over TCP and a Unix socket, $busy of $workers workers answered"
