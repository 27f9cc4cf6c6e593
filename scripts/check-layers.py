#!/usr/bin/env python3
"""Rules of the module graph that the compiler cannot see.

The command line parses options and renders; every rule lives in its module, so nothing in
src/cli may create a finding (a server reusing the library would miss it). Exit 1 naming each
offending line.
"""
import pathlib
import re
import sys

CREATES_FINDING = re.compile(r"\bmake_finding\s*\(|\bFinding\s*\{|\bFinding\s+\w+\s*[={(]|\.rule\s*=[^=]")


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = []
    for path in sorted((root / "src" / "cli").glob("*.[ch]pp")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("//", 1)[0]
            if CREATES_FINDING.search(code):
                bad.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    for line in bad:
        print(f"creates a finding in the command line: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
