#!/usr/bin/env bash
# README.md's quick client must be examples/tofu-client.c's main, statement
# for statement: the lines between "README: begin" and "README: end" in the
# file must appear, in order and without gaps, in README's code block.
# Usage: readme_example_test.sh <README.md> <tofu-client.c>
set -euo pipefail
readme=$1 src=$2
want=$(sed -n '/README: begin/,/README: end/p' "$src" | sed '1d;$d' | sed 's/^ *//')
[ -n "$want" ] || { echo "no README markers in $src" >&2; exit 1; }
have=$(sed 's/^ *//' "$readme")
if ! grep -qF -- "$(printf '%s\n' "$want" | head -1)" <<<"$have"; then
  echo "README.md does not show tofu-client's first line" >&2
  exit 1
fi
# The block in README starting at the first wanted line, as long as want.
n=$(printf '%s\n' "$want" | wc -l)
first=$(printf '%s\n' "$want" | head -1)
got=$(awk -v first="$first" -v n="$n" '
  { sub(/^ */, "") }
  !on && index($0, first) == 1 && length($0) == length(first) { on = 1 }
  on && n-- > 0 { print }
' "$readme")
if [ "$got" != "$want" ]; then
  echo "README.md's client differs from examples/tofu-client.c:" >&2
  diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 || true
  exit 1
fi
stmts=$(printf '%s\n' "$want" | grep -c ';')
[ "$stmts" -le 12 ] || { echo "the README client has $stmts statements (at most 12)" >&2; exit 1; }
echo "README client: $stmts statements, same as examples/tofu-client.c"
