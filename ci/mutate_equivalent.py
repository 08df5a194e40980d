"""Exit 0 if ci/mutants-equivalent.txt lists this mutant as equivalent.

Usage: mutate_equivalent.py LIST FILE ORIGINAL_LINE MUTATED_LINE SOURCE LINE

The list has one mutant a line, "file<TAB>function<TAB>original
line<TAB>mutated line<TAB>why it is equivalent", matched on the file, the
function the line is in (found in SOURCE, the unmutated file, above LINE) and
the two lines with their blanks trimmed: not on the line number, which moves
as the file changes. '#' starts a comment line."""
import re
import sys

DEFINITION = re.compile(r"^[A-Za-z_][^;]*\b([A-Za-z_][A-Za-z_0-9]*)\s*\([^;]*$")


def function_of(source, line):
    """The function whose body holds line n (1-based): the name of the last
    definition that starts in column 0 above it."""
    lines = open(source, encoding="utf-8").read().split("\n")
    for i in range(min(line, len(lines)) - 1, -1, -1):
        m = DEFINITION.match(lines[i])
        if m and not lines[i].startswith(("typedef", "struct", "enum", "#")):
            return m.group(1)
    return ""


def main():
    path, f, orig, mut = sys.argv[1:5]
    func = function_of(sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 6 else None
    for entry in open(path, encoding="utf-8"):
        if entry.startswith("#") or not entry.strip():
            continue
        parts = entry.rstrip("\n").split("\t")
        if len(parts) != 5 or not parts[4].strip():
            sys.exit("%s: not file, function, original, mutated, why: %r" % (path, entry))
        if (parts[0] == f and (func is None or parts[1] == func) and
                parts[2].strip() == orig.strip() and parts[3].strip() == mut.strip()):
            sys.exit(0)
    sys.exit(1)


main()
