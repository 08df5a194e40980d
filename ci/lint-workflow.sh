#!/usr/bin/env bash
# Validate the GitHub Actions workflow, which cannot run on this machine:
# YAML style (yamllint), the workflow schema (action-validator), and that it
# runs every leg that ci/test.sh runs here (it may add the native Windows leg).
set -euo pipefail
cd "$(dirname "$0")/.."

workflow=.github/workflows/ci.yml
tools=build/lint-tools
validator_version=0.6.0

need=(yamllint)
command -v npm >/dev/null 2>&1 || need+=(npm)
bash ci/setup-debian.sh "${need[@]}"

yamllint -s "$workflow"

if [ ! -x "$tools/node_modules/.bin/action-validator" ]; then
  mkdir -p "$tools"
  npm install --loglevel=error --no-audit --no-fund --prefix "$tools" "@action-validator/cli@$validator_version"
fi
"$tools/node_modules/.bin/action-validator" "$workflow"

# The legs a file runs: every ci/<name>.sh it names, except the helpers the
# legs call themselves and ci/test.sh itself.
legs() { grep -oE 'ci/[a-z-]+\.sh' "$1" | grep -vE 'ci/(setup-debian|lint-workflow|test)\.sh' | sort -u; }
missing=$(comm -23 <(legs ci/test.sh) <(legs "$workflow"))
if [ -n "$missing" ]; then
  echo "lint-workflow: $workflow does not run these legs of ci/test.sh: $missing" >&2
  exit 1
fi
for leg in $(legs "$workflow"); do
  [ -f "$leg" ] || { echo "lint-workflow: $workflow runs $leg, which does not exist" >&2; exit 1; }
done
echo "lint-workflow: $workflow is valid and mirrors ci/test.sh"
