#!/usr/bin/env bash
# The Windows leg: cross-compile tofu with MinGW-w64 for the iocp_afd backend
# and run its tests (staged proofs, backend tests, the poller and engine
# conformance suites) under Wine. See ../../shared/WINDOWS-LEG.md.
#
# Usage: ci/test-windows-wine.sh            (from anywhere; needs root for apt-get)
#   TOFU_WIN_BUILD   build directory          (default: <repo>/build/win)
#   TOFU_WIN_CHECK   check-for-MinGW cache    (default: <repo>/build/win-check)
#   TOFU_CTEST_ARGS  extra arguments to ctest (e.g. "-R poc")
#
# Idempotent: packages already installed are not fetched again, check for
# MinGW is built once and cached under TOFU_WIN_CHECK, the Wine prefix is kept
# in the build directory. Exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${TOFU_WIN_BUILD:-$ROOT/build/win}
CHECK_DIR=${TOFU_WIN_CHECK:-$ROOT/build/win-check}
CHECK_PREFIX=$CHECK_DIR/prefix
TOOLCHAIN=$ROOT/cmake/mingw-w64-x86_64.cmake
JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf '\n== %s\n' "$*"; }

# --- 1. Dependencies ----------------------------------------------------------
bash "$ROOT/ci/setup-debian.sh" gcc-mingw-w64-x86-64 wine64 wine uthash-dev dpkg-dev

# --- 2. check, built for MinGW from Debian's source package (cached) -------------
# apt-get source needs deb-src entries. They are derived at run time from the
# machine's own deb entries and kept in a private apt configuration under the
# cache directory, so the system's apt setup is left untouched and no mirror
# name is ever written into the repository.
write_deb_src() {
  local dir=$1 f
  : >"$dir/sources.list"
  : >"$dir/parts/deb-src.sources"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    # deb822 stanzas: keep the enabled ones whose Types include "deb",
    # retyped deb-src; comments are dropped.
    awk '
      function flush() {
        if (deb && !off && body != "") printf "%s\n", body
        body = ""; deb = 0; off = 0
      }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      /^Types:/ { if ($0 ~ /[[:space:]]deb([[:space:]]|$)/) deb = 1; body = body "Types: deb-src\n"; next }
      /^Enabled:[[:space:]]*no/ { off = 1 }
      { body = body $0 "\n" }
      END { flush() }
    ' "$f" >>"$dir/parts/deb-src.sources"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$dir/sources.list"
  done
}

build_check() {
  log "building check for MinGW into $CHECK_PREFIX"
  local apt_dir=$CHECK_DIR/apt
  rm -rf "$apt_dir" "$CHECK_DIR/src" "$CHECK_DIR/build" "$CHECK_PREFIX"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts" "$CHECK_DIR/src"
  write_deb_src "$apt_dir"
  if ! [ -s "$apt_dir/parts/deb-src.sources" ] && ! [ -s "$apt_dir/sources.list" ]; then
    echo "no deb entry found in the apt configuration to derive deb-src from" >&2
    exit 1
  fi
  local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/parts"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update
  (cd "$CHECK_DIR/src" && apt-get "${apt_opts[@]}" source check)
  local src
  src=$(find "$CHECK_DIR/src" -mindepth 1 -maxdepth 1 -type d -name 'check-*' | head -n 1)
  [ -n "$src" ] || {
    echo "apt-get source check produced no source tree" >&2
    exit 1
  }
  cmake -S "$src" -B "$CHECK_DIR/build" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$CHECK_PREFIX" \
    -DCHECK_ENABLE_TESTS=OFF -DBUILD_TESTING=OFF \
    -DCHECK_ENABLE_SUBUNIT=OFF -DENABLE_SUBUNIT_EXT=OFF \
    -DCHECK_ENABLE_TIMEOUT_TESTS=OFF \
    -DBUILD_SHARED_LIBS=OFF
  cmake --build "$CHECK_DIR/build" -j "$JOBS"
  cmake --install "$CHECK_DIR/build"
  # check's configure looks for clock_gettime in librt only, misses MinGW's
  # (in winpthreads) and compiles its own stand-in, which always returns 0.
  # Linked into a test it would replace the real one and stop every clock the
  # engine reads, so it is renamed inside the archive (check's own calls
  # follow the rename) and the check below refuses an archive that still
  # exports it.
  local lib=$CHECK_PREFIX/lib/libcheck.a
  x86_64-w64-mingw32-objcopy --redefine-sym clock_gettime=check_compat_clock_gettime "$lib"
  if x86_64-w64-mingw32-nm "$lib" >"$CHECK_DIR/nm.txt" && grep -q ' T clock_gettime$' "$CHECK_DIR/nm.txt"; then
    echo "check for MinGW still defines its own clock_gettime" >&2
    exit 1
  fi
  # check's exported target does not carry the threads library its static
  # archive needs under MinGW; add it so every consumer links -lpthread.
  local targets
  targets=$(find "$CHECK_PREFIX" -name 'check-targets.cmake' | head -n 1)
  if [ -n "$targets" ] && ! grep -q 'tofu: static check needs pthread' "$targets"; then
    cat >>"$targets" <<'EOF'

# tofu: static check needs pthread under MinGW
if(TARGET Check::check)
  set_property(TARGET Check::check APPEND PROPERTY INTERFACE_LINK_LIBRARIES pthread)
endif()
if(TARGET Check::checkShared)
  set_property(TARGET Check::checkShared APPEND PROPERTY INTERFACE_LINK_LIBRARIES pthread)
endif()
EOF
  fi
  rm -rf "$CHECK_DIR/build" "$CHECK_DIR/src" "$apt_dir/lists"
  touch "$CHECK_PREFIX/.tofu-check-built-v3"
}

if [ -f "$CHECK_PREFIX/.tofu-check-built-v3" ]; then
  log "check for MinGW: cached in $CHECK_PREFIX"
else
  mkdir -p "$CHECK_DIR"
  build_check
fi

# --- 3. Configure and build tofu for Windows ----------------------------------
log "configuring $BUILD (TOFU_BACKEND=iocp_afd)"
cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DTOFU_BACKEND=iocp_afd \
  -DCMAKE_CROSSCOMPILING_EMULATOR="$ROOT/ci/wine-test.sh" \
  -DCMAKE_PREFIX_PATH="$CHECK_PREFIX"
log "building"
cmake --build "$BUILD" -j "$JOBS"
log "checking libtofu.dll imports only Windows system DLLs, libtofu.a no pthread_* symbol"
bash "$ROOT/ci/check-dll-imports.sh" "$BUILD"

# --- 4. Run the tests under Wine ------------------------------------------------
export WINEPREFIX=$BUILD/wineprefix
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
stop_wine() { wineserver -k 2>/dev/null || true; }
trap stop_wine EXIT
mkdir -p "$WINEPREFIX"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  wine wineboot --init >/dev/null 2>&1 || true
  # Let the first start finish (services, registry updates) before any test
  # runs: a test started meanwhile can hang at exit.
  wineserver -w
fi
# One persistent server for the whole run: each test .exe then starts in
# about a second instead of starting its own server. (Exit status 2: a server
# for this prefix is running already, which is just as good.)
wineserver -p || [ $? -eq 2 ]
# Warm up: the first program run in a new server starts Wine's own services
# and, on a fresh prefix, has been seen to hang at exit; let a throwaway
# program take that hit, bounded, rather than the first test.
timeout 60 wine cmd /c exit >/dev/null 2>&1 || true
log "ctest under Wine, backend iocp_afd"
# ci/wine-test.sh starts each test program; a start Wine failed (no output at
# all) is listed here and retried once, and the list is printed either way.
export TOFU_WINE_STARTS=$BUILD/wine-start-failures.txt
: >"$TOFU_WINE_STARTS"
report_starts() {
  if [ -s "$TOFU_WINE_STARTS" ]; then
    log "Wine failed to start $(wc -l <"$TOFU_WINE_STARTS") test program(s); each was started once more"
    cat "$TOFU_WINE_STARTS"
  fi
}
status=0
# shellcheck disable=SC2086
(cd "$BUILD" && ctest --output-on-failure --timeout 300 -j "$JOBS" ${TOFU_CTEST_ARGS:-}) || status=$?
report_starts
[ "$status" -eq 0 ] || exit "$status"
log "Windows leg (iocp_afd under $(wine --version 2>/dev/null)): all tests passed or skipped"
