#!/usr/bin/env bash
# Build with AddressSanitizer + UndefinedBehaviorSanitizer (clang, the default backend)
# and run every suite and the examples that run as tests; any report fails the
# run. The benchmarks are not built here (ci/bench.sh runs them).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-debian.sh libclang-rt-dev # the sanitizer runtimes for clang

dir=build/linux-asan
cmake -S . -B "$dir" -G Ninja -DTOFU_BACKEND= -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DTOFU_SANITIZE=ON \
  -DTOFU_BUILD_BENCH=OFF -DTOFU_BUILD_EXAMPLES=ON
cmake --build "$dir"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$dir" --output-on-failure -j2 --timeout 300
