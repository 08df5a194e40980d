"""ci/mutate.sh's index: the mutants universalmutator wrote for one source
file, as lines "file<TAB>line<TAB>new text" (one changed line each).

Usage: mutate_index.py ORIGINAL NAME MUTANT_DIR

Left out, as equivalent by construction: a change only inside a comment, and
a change to an assertion (TOFU_ASSERT is compiled out of the RelWithDebInfo
build the leg runs)."""
import os
import sys


def code(line, in_comment):
    """The line without its comments (string literals kept), and whether a
    block comment is still open at its end."""
    out, i, n, in_str = [], 0, len(line), None
    while i < n:
        c = line[i]
        if in_comment:
            if line.startswith("*/", i):
                in_comment, i = False, i + 2
            else:
                i += 1
            continue
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(line[i + 1])
                i += 2
                continue
            if c == in_str:
                in_str = None
            i += 1
            continue
        if c in "\"'":
            in_str = c
        elif line.startswith("/*", i):
            in_comment, i = True, i + 2
            continue
        elif line.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out).strip(), in_comment


def main():
    orig_path, name, gen = sys.argv[1:4]
    orig = open(orig_path, encoding="utf-8").read().split("\n")
    opened_at, opened = [], False
    for line in orig:
        opened_at.append(opened)
        _, opened = code(line, opened)
    rows = set()
    for m in os.listdir(gen):
        mut = open(os.path.join(gen, m), encoding="utf-8").read().split("\n")
        if len(mut) != len(orig):
            continue
        diff = [i for i in range(len(orig)) if orig[i] != mut[i]]
        if len(diff) != 1:
            continue
        i = diff[0]
        if "TOFU_ASSERT" in orig[i] or "assert(" in orig[i]:
            continue
        if code(orig[i], opened_at[i]) == code(mut[i], opened_at[i]):
            continue
        rows.add((name, i + 1, mut[i].replace("\t", " ")))
    for r in sorted(rows):
        print("%s\t%d\t%s" % r)


main()
