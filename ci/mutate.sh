#!/usr/bin/env bash
# The mutation leg: how many small faults planted in the library the suites
# notice. universalmutator (PyPI, pinned in ci/setup-pytools.sh) writes every
# mutant of each library source the Linux build compiles (common/ and the
# poll, epoll and posix backends: flipped comparisons and operators, negated
# conditions, deleted statements, changed constants, and the rules of
# ci/mutate.rules: an error return made TOFU_OK, a constant plus one). A
# seeded order of them is built, one at a time, in a copy of the sources,
# and each built mutant runs the whole ctest suite (-j2), stopping at the
# first failing case: a killed mutant costs little, a survivor runs every
# case. A mutant that does not compile is left out and the next one taken,
# until SIZE have been built. Survivors listed in ci/mutants-equivalent.txt
# (judged equivalent, each with its reason) do not count: the score is
# killed / (built - equivalent survivors); every other survivor is printed
# with its diff.
#
# Usage: ci/mutate.sh [SEED] [SIZE]     (default seed 1, size 60)
#   MUTATE_MIN_SCORE=95        exit 1 below this score, in percent
#   MUTATE_ONLY="id id ..."    run just these mutants (ids as printed:
#                              file:line:k, the k-th mutant of that line)
# Not a leg of ci/test.sh: see docs/reliability.md, "Mutation testing", for
# what it costs.
set -euo pipefail
cd "$(dirname "$0")/.."

seed=${1:-1}
size=${2:-60}
min_score=${MUTATE_MIN_SCORE:-95}
work=$PWD/build/mutate
bin=$(bash ci/setup-pytools.sh mutator)
bash ci/setup-debian.sh >&2

# The sources the Linux build compiles; iocp_afd is Windows-only.
files=(common/*.c common/platform/*.c common/platform/posix/*.c backends/poll/*.c
  backends/epoll/*.c backends/posix/*.c)

mkdir -p "$work"
src=$work/src
rm -rf "$src" "$work/pristine"
mkdir -p "$src"
# The committed tree plus what the work tree changed or added, never build/.
# The pristine copy restores each mutated file (the work tree may change
# while this runs).
git ls-files -z --cached --others --exclude-standard | grep -zv '^build/' |
  xargs -0 cp --parents -t "$src" 2>/dev/null || true
cp -r "$src" "$work/pristine"

# --- the index: every mutant as (id, file, line, new text) ------------------
index=$work/index.tsv
: >"$index"
gen=$work/gen
for f in "${files[@]}"; do
  rm -rf "$gen"
  mkdir -p "$gen"
  "$bin/mutate" "$src/$f" c ci/mutate.rules --noCheck --mutantDir "$gen" >/dev/null 2>&1 || true
  python3 ci/mutate_index.py "$src/$f" "$f" "$gen" >>"$index"
done
rm -rf "$gen"
# Each mutant's id: file:line:k, k its rank among the mutants of that line.
awk -F'\t' '{ k[$1 ":" $2]++; print $1 ":" $2 ":" k[$1 ":" $2] "\t" $0 }' "$index" >"$index.ids"
mv "$index.ids" "$index"
total=$(wc -l <"$index")

# --- the order: the index shuffled by the seed (or the ids asked for) ---------
order=$work/order.tsv
if [ -n "${MUTATE_ONLY:-}" ]; then
  awk -F'\t' -v want="$MUTATE_ONLY" \
    'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) k[w[i]] = 1 } $1 in k' \
    "$index" >"$order"
  size=$(wc -l <"$order")
else
  python3 -c '
import random, sys
rows = sorted(open(sys.argv[1], encoding="utf-8").read().splitlines())
random.Random(int(sys.argv[2])).shuffle(rows)
print("\n".join(rows))' "$index" "$seed" >"$order"
fi

# --- the builds, configured once; a mutant rebuilds what it touches ----------
# A mutant of backends/epoll/ is built and tested on epoll, every other one on
# poll (backends/posix/ serves both).
for backend in poll epoll; do
  cmake -S "$src" -B "$work/build-$backend" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOFU_BACKEND=$backend -DTOFU_BUILD_BENCH=OFF -DTOFU_BUILD_EXAMPLES=ON >"$work/configure.log"
  cmake --build "$work/build-$backend" -j2 >"$work/build.log"
done

# The suite must pass on the sources as they are, or a kill means nothing.
for backend in poll epoll; do
  ctest --test-dir "$work/build-$backend" -j2 >"$work/baseline-$backend.log" 2>&1 || {
    echo "ci/mutate.sh: the suite fails without a mutant ($backend; $work/baseline-$backend.log)" >&2
    exit 1
  }
done

equiv=ci/mutants-equivalent.txt
rm -rf "$work/killed"
mkdir -p "$work/killed"
restore() { cp "$work/pristine/$1" "$src/$1" && touch "$src/$1"; }

log=$work/mutants.log
: >"$log"
start=$SECONDS
built=0 killed=0 stillborn=0 equivalent=0
survivors=()
while IFS=$'\t' read -r id f line text; do
  [ "$built" -lt "$size" ] || break
  t=$SECONDS
  bdir=$work/build-poll
  case $f in backends/epoll/*) bdir=$work/build-epoll ;; esac
  orig_line=$(sed -n "${line}p" "$src/$f")
  python3 -c '
import sys
p, n, t = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(p, encoding="utf-8").read().split("\n")
lines[n - 1] = t
open(p, "w", encoding="utf-8").write("\n".join(lines))' "$src/$f" "$line" "$text"
  if ! cmake --build "$bdir" -j2 >"$work/mutant-build.log" 2>&1; then
    stillborn=$((stillborn + 1))
    printf 'stillborn %s\n' "$id" >>"$log"
    restore "$f"
    continue
  fi
  built=$((built + 1))
  set +e
  timeout 900 ctest --test-dir "$bdir" -j2 --timeout 60 --stop-on-failure >"$work/mutant-test.log" 2>&1
  rc=$?
  set -e
  restore "$f"
  if [ "$rc" -ne 0 ]; then
    killed=$((killed + 1))
    cp "$work/mutant-test.log" "$work/killed/${id//\//_}.log"
    # The cases ctest lists as failed (the first to fail stopped the run).
    by=$(sed -n '/tests FAILED:/,$s/^[[:space:]]*[0-9]* - \([^ ]*\) (\(.*\))$/\1 (\2)/p' \
      "$work/mutant-test.log" | paste -sd ' ' -)
    printf 'killed    %s  %ds  by %s\n' "$id" $((SECONDS - t)) "${by:-ctest exit $rc}" >>"$log"
  elif python3 ci/mutate_equivalent.py "$equiv" "$f" "$orig_line" "$text" "$work/pristine/$f" \
    "$line"; then
    equivalent=$((equivalent + 1))
    printf 'equiv     %s  %ds\n' "$id" $((SECONDS - t)) >>"$log"
  else
    survivors+=("$id")
    printf 'SURVIVED  %s  %ds\n    - %s\n    + %s\n' "$id" $((SECONDS - t)) "$orig_line" "$text" >>"$log"
  fi
  echo "mutant $built/$size $id: $(grep -v '^    ' "$log" | tail -n 1 | awk '{print $1}')" \
    "($((SECONDS - start)) s so far)" >&2
done <"$order"
# Leave the copy's builds as the sources are, for the next run.
for backend in poll epoll; do cmake --build "$work/build-$backend" -j2 >/dev/null 2>&1 || true; done

elapsed=$((SECONDS - start))
counted=$((built - equivalent))
score=$(python3 -c "print('%.1f' % (100.0 * $killed / $counted if $counted else 0))")
echo "=== ci/mutate.sh: seed $seed, $total mutants in the index, $size asked ==="
cat "$log"
echo "built $built, stillborn $stillborn (left out), killed $killed," \
  "equivalent survivors $equivalent, other survivors ${#survivors[@]}"
echo "score: $killed / $counted = $score % of the non-equivalent built mutants, in $elapsed s"
python3 -c "import sys; sys.exit(0 if $score >= $min_score else 1)" || {
  echo "ci/mutate.sh: score below $min_score %" >&2
  exit 1
}
