#!/usr/bin/env bash
# The layering of common/ (docs/layering.md), checked on a built libtofu.a:
#   1. calls between files run one way: the graph "file A calls a function
#      defined in file B", read off the archive's symbol tables, has no
#      cycle (tsort finds one if there is);
#   2. nothing in common/ outside common/platform/ names a platform;
#   3. the backends and common/ include nothing of each other: a backend
#      builds on the public headers (include/tofu/) and its own folders
#      (its own, those above it up to backends/, and backends/posix/ as
#      "posix/..."); common/ includes only common/ and include/.
# Usage: ci/check-layers.sh BUILD_DIR     (a POSIX build of tofu)
set -euo pipefail
cd "$(dirname "$0")/.."

lib=${1:?usage: ci/check-layers.sh BUILD_DIR}/libtofu.a
[ -f "$lib" ] || { echo "check-layers: $lib not found (build tofu first)" >&2; exit 2; }

# --- 1. One-way calls ----------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# "member symbol" for every global definition and every undefined reference.
nm -A -g --defined-only "$lib" | awk '{ split($1, a, ":"); print a[2], $NF }' | sort -k2 >"$tmp/defs"
nm -A -u "$lib" | awk '{ split($1, a, ":"); print a[2], $NF }' | sort -k2 >"$tmp/uses"
# caller callee, for calls between two different files of the library.
join -1 2 -2 2 -o 1.1,2.1 "$tmp/uses" "$tmp/defs" | awk '$1 != $2' | sed 's/\.c\.o//g' | sort -u >"$tmp/edges"
if ! tsort "$tmp/edges" >"$tmp/order" 2>"$tmp/loop"; then
  echo "check-layers: calls between these files of libtofu.a form a cycle:" >&2
  grep -v 'input contains a loop' "$tmp/loop" | sed 's/^tsort: /  /' >&2
  exit 1
fi
echo "check-layers: $(wc -l <"$tmp/edges") call edges between files, no cycle; from the top:"
tr '\n' ' ' <"$tmp/order" | fold -s -w 100 | sed 's/^/  /'
echo

# --- 2. No platform outside common/platform/ ------------------------------------
if found=$(grep -rnE 'pthread|_WIN32|_POSIX_C_SOURCE|clock_gettime|windows\.h|unistd\.h' common \
  --include='*.c' --include='*.h' | grep -v '^common/platform/'); then
  echo "check-layers: platform names in common/ outside common/platform/:" >&2
  echo "$found" >&2
  exit 1
fi
echo "check-layers: common/ outside common/platform/ names no platform"

# --- 3. Backends and common/ apart ------------------------------------------------
# Every quoted #include must name a file in the places the rule allows. A file
# in neither is reported too: a header the check cannot place is one to look at.
outside=""
while IFS= read -r -d '' f; do
  dir=$(dirname "$f")
  while IFS= read -r inc; do
    ok=""
    if [ "${f#backends/}" != "$f" ]; then
      d=$dir
      while [ "${d#backends}" != "$d" ]; do
        [ -f "$d/$inc" ] && ok=1 && break
        d=$(dirname "$d")
      done
    else
      for d in "$dir" common common/platform/posix common/platform/win32; do
        [ -f "$d/$inc" ] && ok=1 && break
      done
    fi
    [ -f "include/$inc" ] && ok=1
    [ -n "$ok" ] || outside+="  $f: #include \"$inc\""$'\n'
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find backends common -name '*.[ch]' -print0)
if [ -n "$outside" ]; then
  echo "check-layers: includes across the backends/common/ line (or of no file in the tree):" >&2
  printf '%s' "$outside" >&2
  exit 1
fi
echo "check-layers: the backends include only include/tofu/ and backends/; common/ includes no backend"
