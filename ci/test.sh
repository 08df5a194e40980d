#!/usr/bin/env bash
# Every test of tofu that this machine can run: the Linux leg (poll backend,
# gcc and clang, then ASan+UBSan), the Windows leg (iocp_afd backend,
# MinGW-w64 under Wine), and the lint of the GitHub workflow that mirrors them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/test-linux.sh gcc clang
bash ci/test-sanitize.sh
bash ci/test-windows-wine.sh
bash ci/lint-workflow.sh
echo "tofu: all legs passed"
