#!/usr/bin/env bash
# Build tofu with the poll backend and Apple's clang and run every suite on
# macOS. This is the GitHub Actions macos-latest leg; it also runs on any Mac
# with Homebrew.
#
# Usage: ci/test-macos.sh               (from anywhere, on macOS)
#
# check, uthash, ninja and pkg-config come from Homebrew; those already
# installed are left as they are, and cmake is installed only if missing.
# The benchmarks are not built; the library, the examples and the suites are.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" != "Darwin" ]; then
  echo "ci/test-macos.sh: run me on macOS (uname -s is $(uname -s), not Darwin)" >&2
  exit 2
fi
if ! command -v brew >/dev/null 2>&1; then
  echo "ci/test-macos.sh: Homebrew (brew) is needed to install check and uthash" >&2
  exit 2
fi

# Formulas first, then the tools, each by what it provides; `brew install`
# of something already there is not asked for.
missing=()
for f in check uthash; do
  brew list --formula --versions "$f" >/dev/null 2>&1 || missing+=("$f")
done
for tool in ninja pkg-config cmake; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci/test-macos.sh: brew install ${missing[*]}"
  HOMEBREW_NO_AUTO_UPDATE=${HOMEBREW_NO_AUTO_UPDATE:-1} HOMEBREW_NO_INSTALL_CLEANUP=1 \
    brew install "${missing[@]}"
fi

# Homebrew's prefix (/opt/homebrew on Apple silicon) is not on CMake's
# default search path: uthash.h and check's pkg-config file are found there.
prefix=$(brew --prefix)
dir=build/macos
echo "=== tofu: poll backend, $(cc --version | head -n 1) ($dir) ==="
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DTOFU_BACKEND=poll \
  -DTOFU_BUILD_BENCH=OFF
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 180
