#!/usr/bin/env bash
# What a scan with many findings costs in memory: every finding is stored as it is made and
# printed as it is read back, so peak RSS should not grow with their number.
#   bench/findings_bench.sh [PREV_CATENA] [FILES]
# A tree of FILES (default 200,000) world-writable executables, one WORLD_WRITABLE_EXECUTABLE
# each: `catena audit` of it (json output, --html), peak RSS and time, against the same audit of
# a tree of as many harmless files, and against PREV_CATENA's audit of the same trees.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prev=${1:-}
files=${2:-200000}
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d /var/tmp/catena-findings.XXXXXX)
trap 'rm -rf "$work"' EXIT

make_tree() {  # make_tree DIR MODE
  python3 - "$1" "$2" "$files" <<'PY'
import os, sys
top, mode, n = sys.argv[1], int(sys.argv[2], 8), int(sys.argv[3])
for i in range(n):
    d = os.path.join(top, "d%d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "t%d" % i)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n# %d\n" % i)
    os.chmod(p, mode)
PY
}
make_tree "$work/writable" 777
make_tree "$work/harmless" 644

# audit BINARY TREE: "seconds peak-RSS-KB findings" of one audit of TREE on a fresh store.
audit() {
  rm -f "$work"/s.db*
  /usr/bin/time -f "%e %M" -o "$work/time.out" "$1" audit --db "$work/s.db" -q --format json \
    --no-dpkg --no-access --path "" --home "$work/nohome" --system-dir "$2" \
    --html "$work/report.html" >"$work/out.json" 2>/dev/null || true
  local findings
  findings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$work/out.json")
  echo "$(tail -n 1 "$work/time.out") $findings"
}

echo "tree: $files files; columns: seconds, peak RSS (KB), findings"
for binary in "$catena" ${prev:+"$prev"}; do
  echo "== $binary"
  echo "harmless: $(audit "$binary" "$work/harmless")"
  echo "writable: $(audit "$binary" "$work/writable")"
done
