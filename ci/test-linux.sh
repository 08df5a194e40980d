#!/usr/bin/env bash
# Build tofu with the poll backend and run every suite, once per compiler.
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
done

bash ci/test-install.sh
