#!/usr/bin/env bash
# What a second run costs when little or nothing changed, against the first run and the peers.
#   bench/incremental_bench.sh [PREV_CATENA] [RUNS]
# 1. `catena audit` of this machine: the first (full) audit and the second, same warm cache,
#    each round on a fresh store. With PREV_CATENA (the release binary of the previous commit),
#    its first audit runs in the same rounds, to show the first audit did not get slower.
# 2. A tree of 200,000 files: a full scan, then a re-scan after 1% of the files changed.
# 3. `catena packages verify --db`, second run, against `dpkg --verify`.
# Needs build/release/catena (make release) and root (the audit reads every home).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prev=${1:-}
runs=${2:-3}
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d /var/tmp/catena-incremental.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"

# timed_rss CMD: "seconds peak-RSS-KB" of one run.
timed_rss() {
  /usr/bin/time -f "%e %M" -o "$work/time.out" bash -c "$1" >/dev/null 2>&1 || true
  tail -n 1 "$work/time.out"  # after "Command exited with non-zero status" (findings: exit 1)
}

echo "== 1. catena audit of this machine, $runs rounds (medians)"
"$catena" audit --db "$work/warm.db" -q --format json >"$work/audit.json" || true
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('files:', d['files'], 'bytes:', d['bytes'])" "$work/audit.json"
for _ in $(seq "$runs"); do
  rm -f "$work"/a.db*
  timed_rss "$catena audit --db $work/a.db -q --format json" >>"$work/audit_first"
  timed_rss "$catena audit --db $work/a.db -q --format json" >>"$work/audit_second"
  if [ -n "$prev" ]; then
    rm -f "$work"/p.db*
    timed_rss "$prev audit --db $work/p.db -q --format json" >>"$work/audit_prev"
  fi
done
"$catena" audit --db "$work/a.db" -q --format json >"$work/second.json" || true
python3 - "$work/second.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print('second audit: files_read', d['files_read'], 'files_reused', d['files_reused'],
      '|', d['summary'].get('packages', ''))
PY
first=$(cut -d' ' -f1 "$work/audit_first" | median)
second=$(cut -d' ' -f1 "$work/audit_second" | median)
printf '%-40s %8.2f s  peak RSS %s KB\n' "first audit (full pass)" "$first" "$(cut -d' ' -f2 "$work/audit_first" | median)"
printf '%-40s %8.2f s  peak RSS %s KB\n' "second audit (nothing changed)" "$second" "$(cut -d' ' -f2 "$work/audit_second" | median)"
printf 'first / second: %.1fx\n' "$(echo "$first / $second" | bc -l)"
if [ -n "$prev" ]; then
  before=$(cut -d' ' -f1 "$work/audit_prev" | median)
  printf '%-40s %8.2f s  peak RSS %s KB\n' "first audit, previous commit" "$before" "$(cut -d' ' -f2 "$work/audit_prev" | median)"
  printf 'first audit vs previous commit: %+.1f%%\n' "$(echo "($first / $before - 1) * 100" | bc -l)"
fi
# The floor of a second audit: listing and lstat of every file it covers.
roots=$(python3 -c "import json,sys; print(' '.join(r['path'] for r in json.load(open(sys.argv[1]))['roots']))" "$work/audit.json")
walk=$(timed "find $roots -xdev -printf '%s %T@ %C@ %i\n'")
printf '%-40s %8.2f s\n' "find over the same roots (lstat each)" "$walk"

echo "== 2. a tree of 200,000 files, 1% changed"
python3 - "$work/tree" <<'PY'
import os, random, sys
random.seed(7)
base = sys.argv[1]
for d in range(2000):
    path = os.path.join(base, "d%04d" % d)
    os.makedirs(path)
    for f in range(100):
        with open(os.path.join(path, "f%03d" % f), "wb") as out:
            out.write(os.urandom(random.randint(0, 8192)))
PY
sleep 3  # past the racy window of the files just written
"$catena" scan "$work/tree" --db "$work/warm2.db" -q --format json >/dev/null || true
for _ in $(seq "$runs"); do
  rm -f "$work"/t.db*
  timed "$catena scan $work/tree --db $work/t.db -q --format json" >>"$work/tree_full"
  python3 - "$work/tree" <<'PY'
import os, random, sys
base = sys.argv[1]
for d in random.sample(range(2000), 20):
    for f in range(100):
        with open(os.path.join(base, "d%04d" % d, "f%03d" % f), "r+b") as out:
            out.write(os.urandom(16))
PY
  sleep 3
  /usr/bin/time -f "%e" -o "$work/time.out" "$catena" scan "$work/tree" --db "$work/t.db" -q --format json >"$work/rescan.json" || true
  tail -n 1 "$work/time.out" >>"$work/tree_rescan"
done
python3 - "$work/rescan.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print('re-scan: files', d['files'], 'files_read', d['files_read'], 'files_reused', d['files_reused'])
PY
full=$(median <"$work/tree_full")
rescan=$(median <"$work/tree_rescan")
printf '%-40s %8.2f s\n' "full scan" "$full"
printf '%-40s %8.2f s\n' "re-scan after 1% changed" "$rescan"
printf 'full / re-scan: %.1fx\n' "$(echo "$full / $rescan" | bc -l)"

echo "== 3. packages verify, second run, against dpkg --verify"
rm -f "$work"/v.db*
"$catena" packages verify --db "$work/v.db" --no-unowned --no-repository -q --format json >/dev/null || true
sleep 3
for _ in $(seq "$runs"); do
  timed "$catena packages verify --db $work/v.db --no-unowned --no-repository --format json" >>"$work/v_catena"
  timed "dpkg --verify" >>"$work/v_dpkg"
done
v_catena=$(median <"$work/v_catena")
v_dpkg=$(median <"$work/v_dpkg")
printf '%-40s %8.2f s\n' "catena packages verify --db (2nd run)" "$v_catena"
printf '%-40s %8.2f s\n' "dpkg --verify" "$v_dpkg"
printf 'dpkg --verify / catena: %.1fx\n' "$(echo "$v_dpkg / $v_catena" | bc -l)"
