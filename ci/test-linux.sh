#!/usr/bin/env bash
# Build tofu and run every suite on both Linux backends: each compiler on the
# default backend, and the first compiler named on the other one too (poll
# and epoll both stay in CI, whichever is the default); build the library
# alone with -std=c11 -pedantic-errors on each backend (no GNU extension may
# creep in: MSVC, which nothing here can run, must compile it too); and check
# the layering of common/ (ci/check-layers.sh).
# Usage: ci/test-linux.sh [gcc] [clang]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

compilers=("$@")
[ ${#compilers[@]} -gt 0 ] || compilers=(gcc clang)

bash ci/setup-debian.sh

# <dir> <compiler> <backend> (empty: the default; -DTOFU_BACKEND= resets a
# build directory configured for another backend before)
configure() {
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$2" \
    -DTOFU_BACKEND="$3"
}
suites() { # <dir> <compiler> <backend>
  configure "$@"
  echo "=== tofu: $(resolved "$1") backend, $2 ($1) ==="
  cmake --build "$1"
  ctest --test-dir "$1" --output-on-failure -j2 --timeout 120
}
resolved() { sed -n 's/^TOFU_BACKEND_RESOLVED:INTERNAL=//p' "$1/CMakeCache.txt"; }

for cc in "${compilers[@]}"; do
  dir="build/linux-$cc"
  suites "$dir" "$cc" ""
  default=$(resolved "$dir")
  other=poll
  [ "$default" = poll ] && other=epoll
  if [ "$cc" = "${compilers[0]}" ]; then
    suites "build/linux-$cc-$other" "$cc" "$other"
  fi
  for backend in "$default" "$other"; do
    echo "=== tofu: the library alone, ISO C11, $cc -pedantic-errors, $backend backend ==="
    cmake -S . -B "$dir-pedantic-$backend" -G Ninja -DCMAKE_C_COMPILER="$cc" -DTOFU_PEDANTIC=ON \
      -DTOFU_BACKEND="$backend" -DTOFU_BUILD_TESTS=OFF -DTOFU_BUILD_EXAMPLES=OFF -DTOFU_BUILD_BENCH=OFF
    cmake --build "$dir-pedantic-$backend"
  done
done
bash ci/check-layers.sh "build/linux-${compilers[0]}"

bash ci/test-install.sh
