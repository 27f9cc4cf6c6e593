#!/usr/bin/env bash
# What the audit report costs a reader: the HTML page of an audit of FINDINGS findings (default
# 10,000: world-writable executables in 40 directories) — its size, the time `catena report`
# takes to write it from the store, and the time headless Chromium takes to load and paint it
# (a --screenshot of the page, less that of an empty page: Chromium's own start; --dump-dom is
# not used for timing, as serialising 10,000 rows back out costs more than loading them) — and
# the lines of the terminal table, grouped and with --all.
#   bench/report_bench.sh [FINDINGS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/common.sh"
findings=${1:-10000}
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d /var/tmp/catena-report.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$work/tree" "$findings" <<'PY'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(top, "dir%02d" % (i % 40))
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "tool%05d" % i)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n# %d\n" % i)
    os.chmod(p, 0o777)
PY
mkdir -p "$work/home"
audit=("$catena" audit --db "$work/c.db" --path "$work/tree" --system-dir "$work/tree"
       --home "$work/home" --no-dpkg --no-access)
"${audit[@]}" >"$work/table.txt" || true
"${audit[@]}" --all >"$work/all.txt" 2>/dev/null || true
printf '<!DOCTYPE html><title>empty</title>' >"$work/empty.html"

write_times=()
for _ in 1 2 3 4 5; do
  write_times+=("$(timed "'$catena' report --db '$work/c.db' --format json --html '$work/page.html'")")
done
chromium_load() {  # chromium_load PAGE: seconds to load and paint it into a screenshot
  timed "chromium --headless --no-sandbox --disable-gpu --user-data-dir='$work/profile' --window-size=1200,1800 --screenshot='$work/shot.png' 'file://$1'"
}
chromium_load "$work/empty.html" >/dev/null  # the profile is created once, outside the rounds
page_times=()
empty_times=()
for _ in 1 2 3 4 5 6 7; do
  empty_times+=("$(chromium_load "$work/empty.html")")
  page_times+=("$(chromium_load "$work/page.html")")
done
rows=$(chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
  --dump-dom "file://$work/page.html" 2>/dev/null | grep -o '<tr id="f' | wc -l)
page=$(printf '%s\n' "${page_times[@]}" | median)
empty=$(printf '%s\n' "${empty_times[@]}" | median)
echo "findings:                 $findings (rows Chromium read: $rows)"
echo "page size:                $(stat -c %s "$work/page.html") bytes"
echo "report --html (median):   $(printf '%s\n' "${write_times[@]}" | median) s"
echo "Chromium, page (median):  $page s"
echo "Chromium, empty (median): $empty s"
echo "load, page less empty:    $(echo "$page - $empty" | bc -l) s"
echo "table lines, grouped:     $(wc -l <"$work/table.txt")"
echo "table lines, --all:       $(wc -l <"$work/all.txt")"
