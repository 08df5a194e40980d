#!/usr/bin/env bash
# Build tofu with the iocp_afd backend and run every suite natively on Windows,
# in an MSYS2 MINGW64 shell (the GitHub Actions Windows leg runs exactly this).
# Unlike Wine, real Windows has AF_UNIX, so the Unix-socket cases run here.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${MSYSTEM:-}" != "MINGW64" ]; then
  echo "ci/test-windows-native.sh: run me in an MSYS2 MINGW64 shell (MSYSTEM=MINGW64)" >&2
  exit 2
fi

pacman -S --needed --noconfirm \
  mingw-w64-x86_64-gcc mingw-w64-x86_64-cmake mingw-w64-x86_64-ninja \
  mingw-w64-x86_64-check mingw-w64-x86_64-uthash mingw-w64-x86_64-pkgconf

dir=build/windows-native
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOFU_BACKEND=iocp_afd
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure -j2 --timeout 180
