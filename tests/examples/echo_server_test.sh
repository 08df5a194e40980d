#!/usr/bin/env bash
# tofu-echo-server driven from outside: a client written from the wire
# description alone, sending the frames a tofu (Zig) node sends
# (raw_echo_client), over TCP on IPv4 and IPv6 and over a Unix domain socket,
# then SIGTERM and SIGINT: the server must exit 0 and remove its socket file.
# tofu-client (the README's quick-API client) gets its echo too.
# Usage: echo_server_test.sh <tofu-echo-server> <raw_echo_client> <tofu-client>
set -euo pipefail
server=$1 client=$2 quick=$3
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

# Start the server on $1 with the signal $2 to stop it; sets $pid and $addr.
start() {
  : >"$dir/out" # not the previous server's "listening" line
  "$server" --listen "$1" >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 100); do
    addr=$(sed -n 's/^tofu-echo-server: listening on \([^ ]*\).*/\1/p' "$dir/out")
    [ -n "$addr" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$dir/err" >&2; echo "server died" >&2; exit 1; }
    sleep 0.05
  done
  echo "server printed no 'listening' line in 5 s" >&2
  exit 1
}

stop() { # <signal>
  kill "-$1" "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || { echo "server exited $rc after SIG$1" >&2; cat "$dir/err" >&2; exit 1; }
}

start "tcp://127.0.0.1:0"
IFS='|' read -r _ host port <<<"$addr"
"$client" tcp "$host" "$port"
"$client" tcp "$host" "$port" # a second connection after the first said bye
out=$("$quick" "tcp://$host:$port")
[ "$out" = "Response: ping" ] || { echo "tofu-client printed '$out'" >&2; exit 1; }
stop TERM
echo "tcp: ok ($addr)"

# IPv6 loopback, where the machine has it.
if grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
  start "tcp://[::1]:0"
  IFS='|' read -r _ host port <<<"$addr"
  "$client" tcp "$host" "$port"
  out=$("$quick" "tcp://[$host]:$port")
  [ "$out" = "Response: ping" ] || { echo "tofu-client printed '$out' over IPv6" >&2; exit 1; }
  stop TERM
  echo "tcp over IPv6: ok ($addr)"
else
  echo "tcp over IPv6: skipped (no IPv6 loopback on this machine)"
fi

sock=$dir/echo.sock
start "unix://$sock"
"$client" unix "$sock"
stop INT
[ ! -e "$sock" ] || { echo "the socket file $sock is still there" >&2; exit 1; }
echo "unix: ok, socket file removed"
