#!/usr/bin/env bash
# Build tofu with the poll backend and run every suite, once per compiler;
# build the library alone with -std=c11 -pedantic-errors (no GNU extension
# may creep in: MSVC, which nothing here can run, must compile it too); and
# check the layering of common/ (ci/check-layers.sh).
# Usage: ci/test-linux.sh [gcc] [clang]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

compilers=("$@")
[ ${#compilers[@]} -gt 0 ] || compilers=(gcc clang)

bash ci/setup-debian.sh

for cc in "${compilers[@]}"; do
  dir="build/linux-$cc"
  echo "=== tofu: poll backend, $cc ($dir) ==="
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" -DTOFU_BACKEND=poll
  cmake --build "$dir"
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 120
  echo "=== tofu: the library alone, ISO C11, $cc -pedantic-errors ==="
  cmake -S . -B "$dir-pedantic" -G Ninja -DCMAKE_C_COMPILER="$cc" -DTOFU_PEDANTIC=ON \
    -DTOFU_BUILD_TESTS=OFF -DTOFU_BUILD_EXAMPLES=OFF -DTOFU_BUILD_BENCH=OFF
  cmake --build "$dir-pedantic"
done
bash ci/check-layers.sh "build/linux-${compilers[0]}"

bash ci/test-install.sh
