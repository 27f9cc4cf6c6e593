#!/usr/bin/env python3
"""Lists every skipped test of a ctest run with its reason (from ctest's JUnit file).

A skip is honest only for what a fresh machine cannot give (root, a second file system, ptrace
in a container): such tests skip with a reason starting "environment:". Any other skip fails
the run under CI (CI=true): a tool or data that setup.sh or fetch-test-data.sh provides is
never a reason to skip.
usage: test-skips.py JUNIT.xml
"""
import os
import sys
import xml.etree.ElementTree as ET


def reason_of(output: str) -> str:
    # GoogleTest prints "file:line: Skipped", the message, then "[  SKIPPED ] Name".
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(": Skipped"):
            message = []
            for follow in lines[i + 1:]:
                if follow.startswith("[  SKIPPED ]") or not follow.strip():
                    break
                message.append(follow.strip())
            return " ".join(message) or "(no reason given)"
    return "(no reason given)"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        tree = ET.parse(sys.argv[1])
    except (OSError, ET.ParseError) as e:
        print(f"test-skips: cannot read {sys.argv[1]}: {e}", file=sys.stderr)
        return 2
    skipped = []
    for case in tree.iter("testcase"):
        output = "".join(child.text or "" for child in case if child.tag == "system-out")
        if case.get("status") == "skipped" or case.find("skipped") is not None or \
                "[  SKIPPED ]" in output:
            skipped.append((case.get("name", "?"), reason_of(output)))
    if not skipped:
        print("skipped tests: none")
        return 0
    print(f"skipped tests: {len(skipped)}")
    dishonest = 0
    for name, reason in sorted(skipped):
        print(f"  {name}: {reason}")
        if not reason.startswith("environment:"):
            dishonest += 1
    if dishonest and os.environ.get("CI") == "true":
        print(f"{dishonest} skipped for a reason other than the environment: under CI that fails "
              "the run", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
