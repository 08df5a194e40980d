#!/usr/bin/env bash
# Build tofu with MSVC (cl, through CMake's Visual Studio generator, the newest installed) and the
# iocp_afd backend, and run every suite natively on Windows. This is the
# GitHub Actions windows-latest leg; it runs from Git Bash (the job's
# `shell: bash`) and needs Visual Studio 2022 and vcpkg, both on the runner.
#
# Usage: ci/test-windows-msvc.sh        (from anywhere, in Git Bash on Windows)
#   VCPKG_INSTALLATION_ROOT   vcpkg's root, set on the runner (required)
#
# check and uthash come from vcpkg, in classic mode, for the triplet
# x64-windows-static-md: check is then a static library built against the
# DLL C runtime (/MD), which is the runtime CMake gives MSVC targets by
# default, so the test programs link it in and start without any DLL beside
# them, exactly as the MinGW leg's do; nothing depends on vcpkg copying
# check's DLL next to each program after the build. The benchmarks are not
# built (they are POSIX-oriented); the library, the examples and the suites
# are.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${OS:-}" != "Windows_NT" ]; then
  echo "ci/test-windows-msvc.sh: run me on Windows, in Git Bash (OS=Windows_NT)" >&2
  exit 2
fi
if [ -z "${VCPKG_INSTALLATION_ROOT:-}" ]; then
  echo "ci/test-windows-msvc.sh: VCPKG_INSTALLATION_ROOT is not set; point it at a vcpkg" \
    "checkout (GitHub's Windows runners set it)" >&2
  exit 2
fi

# Git Bash hands the variable over in Windows form (C:\...); CMake and vcpkg
# both take the mixed form C:/... (forward slashes, drive letter kept).
vcpkg_root=$VCPKG_INSTALLATION_ROOT
if command -v cygpath >/dev/null 2>&1; then
  vcpkg_root=$(cygpath -m "$vcpkg_root")
fi
vcpkg=$vcpkg_root/vcpkg.exe
[ -x "$vcpkg" ] || vcpkg=$vcpkg_root/vcpkg
if [ ! -x "$vcpkg" ]; then
  echo "ci/test-windows-msvc.sh: no vcpkg executable in $vcpkg_root" >&2
  exit 2
fi

triplet=x64-windows-static-md
dir=build/msvc
config=RelWithDebInfo

echo "=== tofu: vcpkg ($vcpkg_root): check, uthash for $triplet ==="
"$vcpkg" install --triplet "$triplet" check uthash

echo "=== tofu: iocp_afd backend, MSVC ($dir, $config) ==="
# No -G: on Windows CMake picks the newest Visual Studio it finds (2022 17.5
# is the oldest tofu builds with, for C11 atomics), so the job survives the
# runner's next Visual Studio.
cmake -S . -B "$dir" -A x64 \
  -DCMAKE_TOOLCHAIN_FILE="$vcpkg_root/scripts/buildsystems/vcpkg.cmake" \
  -DVCPKG_TARGET_TRIPLET="$triplet" \
  -DTOFU_BACKEND=iocp_afd \
  -DTOFU_BUILD_BENCH=OFF
cmake --build "$dir" --config "$config"
ctest --test-dir "$dir" -C "$config" --output-on-failure -j 2 --timeout 180
