#!/usr/bin/env bash
# Validate the GitHub Actions workflow, which cannot run on this machine:
# YAML style (yamllint); actionlint, which checks the schema, expressions,
# `needs`, runner labels, action versions, and the shell of every `run:` step
# through shellcheck (installed here so that it always does); that it runs
# every leg that ci/test.sh runs here, and that it runs each leg only GitHub's
# runners can run (listed below, in github_only).
set -euo pipefail
cd "$(dirname "$0")/.."

workflow=.github/workflows/ci.yml
# The legs that need a machine this one is not (real Windows, macOS): only the
# workflow runs them, so it must run every one.
github_only=(ci/test-windows-native.sh ci/test-windows-msvc.sh ci/test-macos.sh)
bash ci/setup-debian.sh yamllint shellcheck
tools=$(bash ci/setup-pytools.sh actionlint)

yamllint -s "$workflow"

# -shellcheck names the binary explicitly: actionlint would silently skip the
# shell checks if it found none on PATH.
"$tools/actionlint" -shellcheck "$(command -v shellcheck)" "$workflow"

# The legs a file runs: every ci/<name>.sh it names, except the helpers the
# legs call themselves and ci/test.sh itself.
legs() { grep -oE 'ci/[a-z-]+\.sh' "$1" | grep -vE 'ci/(setup-debian|lint-workflow|test)\.sh' | sort -u; }
missing=$(comm -23 <(legs ci/test.sh) <(legs "$workflow"))
if [ -n "$missing" ]; then
  echo "lint-workflow: $workflow does not run these legs of ci/test.sh: $missing" >&2
  exit 1
fi
missing=$(comm -23 <(printf '%s\n' "${github_only[@]}" | sort -u) <(legs "$workflow"))
if [ -n "$missing" ]; then
  echo "lint-workflow: $workflow does not run these legs that only GitHub can run: $missing" >&2
  exit 1
fi
for leg in $(legs "$workflow"); do
  [ -f "$leg" ] || { echo "lint-workflow: $workflow runs $leg, which does not exist" >&2; exit 1; }
done
echo "lint-workflow: $workflow is valid, mirrors ci/test.sh and runs ${github_only[*]}"
