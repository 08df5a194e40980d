#!/usr/bin/env bash
# Build with ThreadSanitizer (clang, the default backend) and run every suite; any
# data race or lock-order report fails the run. The queues, the pool and
# notify are shared between application threads and the Reactor.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-debian.sh clang libclang-rt-dev # the sanitizer runtimes for clang

dir=build/tsan
cmake -S . -B "$dir" -G Ninja -DTOFU_BACKEND= -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DTOFU_BUILD_EXAMPLES=OFF -DTOFU_BUILD_BENCH=OFF -DTOFU_BUILD_SHARED=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer -O1" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
cmake --build "$dir"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=66"
# Smaller load under TSan's 5-15x slowdown; the same code paths.
export TOFU_REL_BIG_CONNECTIONS=${TOFU_REL_BIG_CONNECTIONS:-2000}
export TOFU_REL_SOAK_SECONDS=${TOFU_REL_SOAK_SECONDS:-3}
ctest --test-dir "$dir" --output-on-failure -j2 --timeout 300
