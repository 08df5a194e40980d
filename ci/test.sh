#!/usr/bin/env bash
# Every test of tofu that this machine can run: the Linux leg (poll backend,
# gcc and clang) and the Windows leg (iocp_afd backend, MinGW-w64 under Wine).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/test-linux.sh gcc clang
bash ci/test-windows-wine.sh
echo "tofu: all legs passed"
