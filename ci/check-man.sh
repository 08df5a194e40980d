#!/usr/bin/env bash
# Check tofu's manual pages (docs/man):
#   - every page renders with man(1) without a warning from groff or man, and
#     no rendered line is wider than the 80 columns it is rendered at;
#   - every function the public headers mark TOFU_API is declared in the
#     SYNOPSIS of a page (the missing ones are named), "man FUNCTION" finds
#     that page through the function's alias page, and the page's NAME line
#     lists it (for whatis and apropos);
#   - given an install prefix, share/doc/tofu holds every docs/*.md.
# Usage: ci/check-man.sh [DIR]
#   DIR is a build directory (pages in DIR/docs/man) or an install prefix
#   (pages in DIR/share/man, headers in DIR/include/tofu); default: build.
# Needs man-db and groff-base: bash ci/setup-debian.sh man-db groff-base.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$(cd "${1:-build}" && pwd)

if [ -d "$dir/share/man/man7" ]; then
  mandir=$dir/share/man headers=$dir/include/tofu docdir=$dir/share/doc/tofu
elif [ -d "$dir/docs/man/man7" ]; then
  mandir=$dir/docs/man headers=$root/include/tofu docdir=""
else
  echo "check-man: no manual pages under $dir (share/man or docs/man); was scdoc found at configure time?" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset MAN_KEEP_FORMATTING MANOPT
export MANWIDTH=80 LC_ALL=C.UTF-8
failed=0
fail() {
  echo "check-man: $*" >&2
  failed=1
}

# Render from the top of the manual tree, where an alias page's
# ".so man3/PAGE.3" is found. Anything on stderr is a failure.
render() {
  (cd "$mandir" && man --warnings -E UTF-8 -l "$1") >"$tmp/out" 2>"$tmp/err" || true
  if [ -s "$tmp/err" ]; then
    fail "$1: warnings:"
    sed 's/^/    /' "$tmp/err" >&2
  fi
  if [ ! -s "$tmp/out" ]; then
    fail "$1: renders to nothing"
  fi
  perl -CS -ne 'chomp; printf "    line %d is %d columns: %s\n", $., length, $_ if length > 80' \
    "$tmp/out" >"$tmp/wide"
  if [ -s "$tmp/wide" ]; then
    fail "$1: lines wider than $MANWIDTH columns:"
    cat "$tmp/wide" >&2
  fi
}

# The functions named in the SYNOPSIS of the page last rendered.
synopsis_functions() {
  { sed -n '/^SYNOPSIS$/,/^[A-Z][A-Z ]*$/p' "$tmp/out" | grep -oE 'tofu_[a-z0-9_]+\(' || true; } |
    tr -d '(' | sort -u
}

# (a) every page, aliases included, renders cleanly.
pages=0
: >"$tmp/declared"
for f in "$mandir"/man3/tofu*.3 "$mandir"/man7/tofu*.7; do
  [ -e "$f" ] || continue
  rel=${f#"$mandir"/}
  pages=$((pages + 1))
  render "$rel"
  if ! head -n1 "$f" | grep -q '^\.so '; then
    synopsis_functions | tee -a "$tmp/declared" >"$tmp/synopsis"
    sed -n '/^NAME$/,/^[A-Z][A-Z ]*$/p' "$tmp/out" | tr -s ' ,\n' '\n' | sort -u >"$tmp/name"
    unnamed=$(comm -23 "$tmp/synopsis" "$tmp/name" | tr '\n' ' ')
    [ -z "$unnamed" ] || fail "$rel: its NAME line does not list: $unnamed"
  fi
done
[ -e "$mandir/man7/tofu.7" ] || fail "man7/tofu.7 is missing"

# (b) every TOFU_API function is declared by a page and found by "man NAME".
grep -h '^[[:space:]]*TOFU_API[[:space:]]' "$headers"/*.h >"$tmp/api_lines"
sed -E 's/^[[:space:]]*TOFU_API[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/' "$tmp/api_lines" |
  sort -u >"$tmp/api"
if grep -vqE '^[A-Za-z_][A-Za-z0-9_]*$' "$tmp/api"; then
  fail "cannot read the function name of these TOFU_API lines (keep the name on the TOFU_API line):"
  grep -vE '^[A-Za-z_][A-Za-z0-9_]*$' "$tmp/api" | sed 's/^/    /' >&2
fi
sort -u -o "$tmp/declared" "$tmp/declared"
comm -23 "$tmp/api" "$tmp/declared" >"$tmp/missing"
if [ -s "$tmp/missing" ]; then
  fail "TOFU_API functions that no page declares in its SYNOPSIS (add them to a page in docs/man):"
  sed 's/^/    /' "$tmp/missing" >&2
fi
while read -r fn; do
  if [ ! -e "$mandir/man3/$fn.3" ]; then
    grep -qx "$fn" "$tmp/missing" || fail "$fn: no alias page man3/$fn.3"
    continue
  fi
  (cd "$mandir" && man -l "man3/$fn.3" 2>/dev/null) >"$tmp/out" || true
  synopsis_functions | grep -qx "$fn" || fail "man3/$fn.3 does not show a SYNOPSIS declaring $fn"
  found=$(MANPATH=$mandir man -w "$fn" 2>/dev/null || true)
  case $found in
    "$mandir"/man3/*) ;;
    *) fail "MANPATH=$mandir man -w $fn finds '${found:-nothing}'" ;;
  esac
done <"$tmp/api"

# An install prefix also holds the markdown documentation.
if [ -n "$docdir" ]; then
  docs=0
  while read -r md; do
    docs=$((docs + 1))
    [ -f "$docdir/${md#docs/}" ] || fail "$docdir/${md#docs/} is missing"
  done < <(find docs -name '*.md' -not -path 'docs/man/*')
  [ ! -e "$docdir/man" ] || fail "$docdir/man: the page sources are installed with the docs"
fi

if [ "$failed" -ne 0 ]; then
  echo "check-man: FAILED ($mandir)" >&2
  exit 1
fi
echo "check-man: ok: $pages pages render cleanly at $MANWIDTH columns," \
  "$(wc -l <"$tmp/api") TOFU_API functions declared and found by man${docdir:+, $docs docs in $docdir}"
