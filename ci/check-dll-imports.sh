#!/usr/bin/env bash
# Check that tofu's Windows libraries, as cross-built by MinGW-w64, need
# nothing but Windows itself:
#   - libtofu.dll imports only Windows system DLLs (kernel32, ws2_32, ntdll,
#     the C runtime, advapi32, user32, the api-ms-win-* sets), so it never
#     needs a MinGW runtime DLL such as libwinpthread-1.dll or
#     libgcc_s_seh-1.dll beside it;
#   - libtofu.a leaves no pthread_* symbol undefined, so a program linking it
#     does not need winpthreads either.
# ci/test-windows-wine.sh runs it right after building.
#
# Usage: ci/check-dll-imports.sh BUILD_DIR
#   BUILD_DIR is searched for every libtofu.dll and libtofu.a under it.
#   OBJDUMP, NM   the tools (default: x86_64-w64-mingw32-objdump and
#                 x86_64-w64-mingw32-nm, Debian: binutils-mingw-w64-x86-64)
# Exits 1 when a check fails (naming what failed), 2 on a usage error.
set -euo pipefail

me=ci/check-dll-imports.sh
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $me BUILD_DIR   (a directory holding a MinGW build of tofu)" >&2
  exit 2
fi
build=$1
objdump=${OBJDUMP:-x86_64-w64-mingw32-objdump}
nm=${NM:-x86_64-w64-mingw32-nm}
for tool in "$objdump" "$nm"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$me: $tool not found (Debian: apt-get install binutils-mingw-w64-x86-64)" >&2
    exit 2
  fi
done

# The DLLs a Windows installation always has; compared in lower case.
system_dll() {
  case "$1" in
    kernel32.dll | ws2_32.dll | ntdll.dll | msvcrt.dll | ucrtbase.dll | advapi32.dll | user32.dll) return 0 ;;
    api-ms-win-*.dll) return 0 ;;
    *) return 1 ;;
  esac
}

# Every file named $1 under the build directory; none is a failure ($2 says
# what to look at then).
find_all() {
  local name=$1 hint=$2 found
  found=$(find "$build" -name "$name" -type f | sort)
  if [ -z "$found" ]; then
    echo "$me: FAIL: no $name under $build ($hint)" >&2
    exit 1
  fi
  printf '%s\n' "$found"
}

# Print each line of $1 indented, as the lists below are.
indent() {
  local line
  while IFS= read -r line; do printf '  %s\n' "$line"; done <<<"$1"
}

status=0

dlls=$(find_all libtofu.dll "was tofu built there for Windows, with TOFU_BUILD_SHARED=ON?")
while IFS= read -r dll; do
  imports=$("$objdump" -p "$dll" | sed -n 's/^[[:space:]]*DLL Name:[[:space:]]*//p' | tr -d '\r' | sort -fu)
  if [ -z "$imports" ]; then
    echo "$me: FAIL: $objdump -p $dll lists no imported DLL at all (not a MinGW DLL?)" >&2
    status=1
    continue
  fi
  offenders=()
  while IFS= read -r imp; do
    system_dll "$(printf '%s' "$imp" | tr '[:upper:]' '[:lower:]')" || offenders+=("$imp")
  done <<<"$imports"
  if [ ${#offenders[@]} -gt 0 ]; then
    echo "$me: FAIL: $dll imports DLLs that are not part of Windows:" >&2
    printf '  %s\n' "${offenders[@]}" >&2
    echo "  (all its imports: $(paste -sd ' ' <<<"$imports"))" >&2
    status=1
  else
    echo "$me: ok: $dll imports only Windows system DLLs:"
    indent "$imports"
  fi
done <<<"$dlls"

archives=$(find_all libtofu.a "was tofu built there for Windows?")
while IFS= read -r lib; do
  # An undefined reference to winpthreads, direct or through its import
  # stubs (__imp_pthread_*).
  undefined=$("$nm" -u "$lib")
  pthread_refs=$(grep -E ' U (__imp_)?pthread_' <<<"$undefined" | sed 's/^[[:space:]]*U[[:space:]]*//' | sort -u || true)
  if [ -n "$pthread_refs" ]; then
    echo "$me: FAIL: $lib leaves pthread symbols undefined (it would need winpthreads):" >&2
    indent "$pthread_refs" >&2
    status=1
  else
    echo "$me: ok: $lib has no undefined pthread_* symbol"
  fi
done <<<"$archives"

exit "$status"
