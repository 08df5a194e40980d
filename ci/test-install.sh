#!/usr/bin/env bash
# Install tofu into a scratch prefix and build a consumer program against it,
# once with find_package(tofu) (static and shared) and once with pkg-config;
# then check the installed manual pages and docs (ci/check-man.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-debian.sh man-db groff-base # scdoc is in the base list

build=build/install-check
prefix="$PWD/$build/prefix"
rm -rf "$build"
cmake -S . -B "$build/tofu" -G Ninja -DTOFU_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release
cmake --build "$build/tofu"
cmake --install "$build/tofu" --prefix "$prefix"

echo "=== consumer via find_package(tofu) ==="
cmake -S tests/install -B "$build/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$build/consumer"
"$build/consumer/consumer_static"
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$build/consumer/consumer_shared"

echo "=== consumer via pkg-config ==="
export PKG_CONFIG_PATH="$(dirname "$(find "$prefix" -name tofu.pc | head -n1)")"
# shellcheck disable=SC2046 # the flags are meant to split
cc -std=c11 -Wall -Wextra -Werror tests/install/consumer.c -o "$build/consumer_pc" \
  $(pkg-config --cflags tofu) $(pkg-config --libs --static tofu)
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$build/consumer_pc"
echo "=== manual pages and docs ==="
bash ci/check-man.sh "$prefix"
echo "install check: ok"
