#!/usr/bin/env bash
# Indicator feeds at scale:
#  1. `catena intel import` of a 1,000,000-indicator CSV (target < 10 s);
#  2. `catena intel match` over SCANS stored scans of FILES files each (generated straight into a
#     store) against 1,000,000 indicators, 1,000 of which name stored contents (target < 30 s and
#     < 1 GB RSS for 1,000 x 100,000).
#   bench/intel_bench.sh [SCANS] [FILES]      (default 1000 100000)
# The generated store is large (about 15 GB at the default size) and is removed afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scans=${1:-1000}
files=${2:-100000}
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/catena-intel-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"

# 1. Import: a CSV of 1,000,000 random SHA-256 indicators with labels and sources.
/usr/bin/python3 - "$work/feed.csv" <<'PY'
import os, sys
with open(sys.argv[1], "w") as f:
    f.write("sha256,label,source\n")
    for i in range(1000000):
        f.write("%s,sample %d,bench\n" % (os.urandom(32).hex(), i))
PY
rm -f "$work"/i.db*
t_import=$(timed "$catena intel import $work/feed.csv --feed bench --db $work/i.db")
count=$(sqlite3 "$work/i.db" "select count(*) from indicators")
printf 'intel import, 1,000,000-line CSV: %.2f s (%s indicators stored)\n' "$t_import" "$count"

# 2. Match: a store with $scans scans of $files files each. Contents cycle through 10 x $files
# distinct SHA-256 values (the same files on many hosts and days); 1,000 indicators name some.
"$catena" scan "$root/bench" --db "$work/m.db" --no-dpkg --quiet --format json >/dev/null || true
distinct=$((files * 10))
sqlite3 "$work/m.db" <<SQL
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
DELETE FROM findings; DELETE FROM files; DELETE FROM contents; DELETE FROM scans;
DROP INDEX files_by_scan; DROP INDEX files_by_sha256;
CREATE TABLE bench_gen(id INTEGER PRIMARY KEY, sha BLOB);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $distinct)
  INSERT INTO bench_gen SELECT i, randomblob(32) FROM n;
INSERT INTO contents(sha256, size, format, first_seen_ns) SELECT sha, 1000, 'other', 0 FROM bench_gen;
WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i < 99)
  INSERT OR IGNORE INTO hosts(name) SELECT 'host-' || i FROM h;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $scans)
  INSERT INTO scans(id, host_id, kind, started_ns, finished_ns, catena_version, arguments, roots,
                    status, files, bytes, errors, digests)
  SELECT i, (SELECT id FROM hosts WHERE name = 'host-' || (i % 100)), 'scan',
         1700000000000000000 + i * 86400000000000, NULL, 'bench', '[]', '["/"]', 'complete',
         $files, 0, 0, 'sha256' FROM s;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $scans),
               f(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM f WHERE j + 1 < $files)
  INSERT INTO files(scan_id, path, type, size, mode, uid, gid, mtime_ns, ctime_ns, inode, device,
                    sha256, package)
  SELECT s.i, CAST('/opt/app/lib/file-' || f.j || '.so' AS BLOB), 'file', 1000, 33261, 0, 0, 0, 0,
         f.j, 1, (SELECT sha FROM bench_gen WHERE id = (f.j + (s.i % 10) * $files)), ''
  FROM s, f;
CREATE INDEX files_by_scan ON files(scan_id);
CREATE INDEX files_by_sha256 ON files(sha256);
SQL
# The million indicators: the bench feed's random ones, but 1,000 replaced by stored contents.
"$catena" intel import "$work/feed.csv" --feed bench --db "$work/m.db" >/dev/null
sqlite3 "$work/m.db" "UPDATE indicators SET digest = (SELECT sha FROM bench_gen
  WHERE bench_gen.id = (indicators.id * 997) % $distinct) WHERE id <= 1000;
  DROP TABLE bench_gen;"
rows=$(sqlite3 "$work/m.db" "select count(*) from files")
size=$(du -sh "$work/m.db" | cut -f1)
echo "store: $scans scans, $rows file records, $size"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
/usr/bin/time -f '%e %M' -o "$work/match.time" "$catena" intel match --db "$work/m.db" --format json >"$work/match.json" || true
# time(1) writes "Command exited with non-zero status 1" first when there are matches (exit 1).
read -r t_match rss_kb < <(tail -1 "$work/match.time")
matches=$(/usr/bin/python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['matches']))" "$work/match.json")
printf 'intel match: %.2f s, %d MB peak RSS, %s matches (cold cache)\n' "$t_match" "$((rss_kb / 1024))" "$matches"
