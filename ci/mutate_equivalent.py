"""Exit 0 if ci/mutants-equivalent.txt lists this mutant as equivalent.

Usage: mutate_equivalent.py LIST FILE ORIGINAL_LINE MUTATED_LINE

The list has one mutant a line, "file<TAB>original line<TAB>mutated
line<TAB>why it is equivalent", matched on the file and the two lines with
their blanks trimmed (not on the line number, which moves as the file
changes); '#' starts a comment line."""
import sys

path, f, orig, mut = sys.argv[1:5]
for line in open(path, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 4 or not parts[3].strip():
        sys.exit("%s: an entry without its reason: %r" % (path, line))
    if parts[0] == f and parts[1].strip() == orig.strip() and parts[2].strip() == mut.strip():
        sys.exit(0)
sys.exit(1)
