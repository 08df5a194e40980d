#!/usr/bin/env bash
# Install what building and testing tofu on Debian/Ubuntu needs.
# Usage: ci/setup-debian.sh [extra-package ...]
# Packages already installed are not fetched again; apt-get update runs first
# whenever something is missing.
set -euo pipefail

# scdoc: the manual pages (docs/man); without it they are skipped, not an error.
packages=(cmake ninja-build gcc clang pkg-config check libsubunit-dev uthash-dev scdoc "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "ci/setup-debian.sh: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
