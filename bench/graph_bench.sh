#!/usr/bin/env bash
# `catena graph blast` on a generated store against the best recursive-CTE formulation of the
# same query over the same tables (sqlite3, indexes included), both answers compared equal.
#   bench/graph_bench.sh [SCALE]     SCALE 1 (default): 10,000 hosts, 1,000,000 contents,
#                                    10,000,000 occurrences, 100,000 builds, 1,000 releases;
#                                    0.1 for a tenth of each (a quick run)
# The store is generated once into the bench cache (CATENA_BENCH_CACHE) and reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/common.sh"
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
scale=${1:-1}
hosts=$(echo "10000 * $scale / 1" | bc)
contents=$(echo "1000000 * $scale / 1" | bc)
per_host=1000  # occurrences per host: hosts × 1,000 = 10,000,000 at scale 1
builds=$(echo "100000 * $scale / 1" | bc)
releases=$(echo "1000 * $scale / 1" | bc)
build_hosts=$((hosts / 10))
cache=${CATENA_BENCH_CACHE:-$HOME/.cache/catena-bench}/graph
mkdir -p "$cache"
db=$cache/graph-$scale.db
t0=1700000000000000000  # 2023-11-14, in ns
second=1000000000

if [ ! -s "$db" ]; then
  echo "generating $db: $hosts hosts, $contents contents, $((hosts * per_host)) occurrences, $builds builds, $releases releases"
  rm -f "$db" "$db-wal" "$db-shm"
  printf 'site,release,version,installed_at\n' >"$cache/empty.csv"
  "$catena" graph import-deployments "$cache/empty.csv" --db "$db" >/dev/null
  # sha3(X, 256) (the sqlite3 shell's) gives each generated content a distinct 32-byte digest.
  /usr/bin/time -f 'generated in %e s' sqlite3 "$db" <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $hosts - 1)
INSERT INTO hosts(id, name) SELECT i + 1, 'h' || i FROM n;
INSERT INTO scan_series(id, host_id, key) SELECT id, id, 'bench' FROM hosts;
-- Each host scanned once, a second apart.
INSERT INTO scans(id, host_id, kind, started_ns, finished_ns, catena_version, arguments, roots,
                  status, series_id)
  SELECT id, id, 'scan', $t0 + id * $second, $t0 + id * $second + 1, 'bench', '[]', '[]',
         'complete', id FROM hosts;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $contents - 1)
INSERT INTO contents(sha256, size, format, first_seen_ns)
  SELECT sha3(i, 256), 1000, CASE WHEN i % 10 = 0 THEN 'elf' ELSE 'other' END, $t0 FROM n;
-- Each host holds $per_host files, each a content drawn by a fixed scattering of the indexes.
WITH RECURSIVE j(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM j WHERE i < $per_host - 1)
INSERT INTO files(scan_id, path, type, size, mode, uid, gid, mtime_ns, ctime_ns, inode, device,
                  sha256, series_id)
  SELECT h.id, '/data/f' || j.i, 'file', 1000, 33188, 0, 0, $t0, $t0, j.i, 1,
         sha3((h.id * 7919 + j.i * 104729) % $contents, 256), h.id
  FROM hosts h, j;
-- A home and one credential per host, reaching one of the build hosts (h0 .. h$((build_hosts - 1))).
INSERT INTO access_reach(host, account, credential, target, kind, path, first_ns, until_ns,
                         target_host)
  SELECT name, 'dev', 'SHA256:key-' || id, 'h' || ((id * 31) % $build_hosts), 'ssh-host',
         '/home/dev/.ssh/config', $t0, NULL, 'h' || ((id * 31) % $build_hosts) FROM hosts;
-- Builds on the build hosts, ten seconds apart from after every scan: tools are contents.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $builds - 1)
INSERT INTO attestations(id, envelope_sha256, host, builder_id, step, started_ns, finished_ns,
                         exit_code, stored_ns, source, envelope)
  SELECT i + 1, sha3('e' || i, 256), 'h' || (i % $build_hosts), 'bench', 'build-' || i,
         $t0 + ($hosts + 100 + i * 10) * $second, $t0 + ($hosts + 105 + i * 10) * $second, 0,
         $t0 + ($hosts + 106 + i * 10) * $second, 'bench', '' FROM n;
INSERT INTO attestation_digests(attestation_id, sha256, role, name)
  SELECT id, sha3((id * 13) % $contents, 256), 'tool', '/usr/bin/cc' FROM attestations;
INSERT INTO attestation_digests(attestation_id, sha256, role, name)
  SELECT id, sha3('p' || id, 256), 'subject', 'app.zip' FROM attestations;
-- Releases, each shipping the products of a hundred builds, after the last of them.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $releases - 1)
INSERT INTO releases(id, name, version, released_ns, source)
  SELECT i + 1, 'app', '1.' || i, $t0 + ($hosts + 100 + (i * 100 + 99) * 10 + 50) * $second,
         'bench' FROM n;
INSERT INTO release_files(release_id, path, sha256)
  SELECT 1 + (a.id - 1) / ($builds / $releases), 'app-' || a.id || '.zip', sha3('p' || a.id, 256)
  FROM attestations a;
INSERT INTO deployments(site, release_name, release_version, installed_ns, removed_ns, source)
  SELECT 'site-' || r.id || '-' || k.k, r.name, r.version, r.released_ns + k.k * $second, NULL,
         'bench' FROM releases r, (SELECT 1 AS k UNION SELECT 2 UNION SELECT 3) k;
COMMIT;
ANALYZE;
SQL
fi

start=$(sqlite3 "$db" "SELECT lower(hex(sha3(424242 % $contents, 256)))")
echo "store: $(du -m "$db" | cut -f1) MB; blast from content $start"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$db" >/dev/null  # page cache warm for both

times=()
rss=0
for _ in 1 2 3; do
  /usr/bin/time -f '%e %M' -o "$work/time" "$catena" graph blast --sha256 "$start" --depth 1000 --format json \
    --db "$db" >"$work/catena.json"
  read -r s kib <"$work/time"
  times+=("$s")
  [ "$kib" -gt "$rss" ] && rss=$kib
done
catena_s=$(printf '%s\n' "${times[@]}" | median)

# The same query as one recursive CTE: a row per (node, arrival) reachable by a time-respecting
# hop, one recursive term per edge kind so that each joins its table through its index; the
# earliest arrival per node is taken at the end (a CTE cannot drop a later arrival at a node
# already reached earlier, which is what the Dijkstra in catena does). No depth column: UNION
# ends the recursion once no new (node, arrival) appears; catena is given --depth 1000 (the
# generated credentials chain build hosts into paths longer than its default 16 hops), so both
# answer the same unbounded question.
start_at=$(sqlite3 "$db" "SELECT first_seen_ns FROM contents WHERE sha256 = sha3(424242 % $contents, 256)")
cat >"$work/cte.sql" <<SQL
WITH RECURSIVE r(kind, key, at) AS (
  SELECT 'content', x'$(echo "$start" | tr a-f A-F)', $start_at
  UNION
  SELECT 'occurrence', h.name || '|' || f.path, max(r.at, s.started_ns)
    FROM r JOIN files f ON r.kind = 'content' AND f.sha256 = r.key
    JOIN scans s ON s.id = f.scan_id JOIN hosts h ON h.id = s.host_id
    LEFT JOIN scans u ON u.id = f.until_scan_id
    WHERE max(r.at, s.started_ns) < coalesce(u.started_ns, 9223372036854775807)
  UNION
  SELECT 'host', substr(r.key, 1, instr(r.key, '|') - 1), r.at
    FROM r WHERE r.kind = 'occurrence'
  UNION
  SELECT 'account', a.host || '|' || a.account, max(r.at, a.first_ns)
    FROM r JOIN access_reach a ON r.kind = 'host' AND a.host = r.key
  UNION
  SELECT 'credential', a.credential, max(r.at, a.first_ns)
    FROM r JOIN access_reach a ON r.kind = 'account'
      AND a.host = substr(r.key, 1, instr(r.key, '|') - 1)
      AND a.account = substr(r.key, instr(r.key, '|') + 1)
    WHERE a.credential <> '' AND max(r.at, a.first_ns) < coalesce(a.until_ns, 9223372036854775807)
     
  UNION
  SELECT 'target', a.target, max(r.at, a.first_ns)
    FROM r JOIN access_reach a ON r.kind = 'credential' AND a.credential = r.key
    WHERE a.target <> '' AND max(r.at, a.first_ns) < coalesce(a.until_ns, 9223372036854775807)
     
  UNION
  SELECT 'host', h.name, r.at
    FROM r JOIN hosts h ON r.kind = 'target' AND h.name = r.key
  UNION
  SELECT 'build', a.id, coalesce(a.started_ns, a.finished_ns, a.stored_ns)
    FROM r JOIN attestations a ON r.kind = 'host' AND a.host = r.key
    WHERE r.at <= coalesce(a.started_ns, a.finished_ns, a.stored_ns)
  UNION
  SELECT 'artifact', d.attestation_id || '|' || d.name,
         coalesce(a.finished_ns, a.started_ns, a.stored_ns)
    FROM r JOIN attestation_digests d ON r.kind = 'build' AND d.attestation_id = r.key
    JOIN attestations a ON a.id = d.attestation_id
    WHERE d.role = 'subject'
  UNION
  SELECT 'content', d.sha256, r.at
    FROM r JOIN attestation_digests d ON r.kind = 'artifact'
      AND d.attestation_id = CAST(substr(r.key, 1, instr(r.key, '|') - 1) AS INTEGER)
      AND d.name = substr(r.key, instr(r.key, '|') + 1)
    WHERE d.role = 'subject'
  UNION
  SELECT 'build', a.id, coalesce(a.started_ns, a.finished_ns, a.stored_ns)
    FROM r JOIN attestation_digests d ON r.kind = 'content' AND d.sha256 = r.key
    JOIN attestations a ON a.id = d.attestation_id
    WHERE d.role <> 'subject' AND r.at <= coalesce(a.started_ns, a.finished_ns, a.stored_ns)
     
  UNION
  SELECT 'release', rl.name || '|' || rl.version, rl.released_ns
    FROM r JOIN release_files f ON r.kind = 'content' AND f.sha256 = r.key
    JOIN releases rl ON rl.id = f.release_id
    WHERE r.at <= rl.released_ns
  UNION
  SELECT 'deployment', d.site, max(r.at, d.installed_ns)
    FROM r JOIN deployments d ON r.kind = 'release'
      AND d.release_name = substr(r.key, 1, instr(r.key, '|') - 1)
      AND d.release_version = substr(r.key, instr(r.key, '|') + 1)
    WHERE max(r.at, d.installed_ns) < coalesce(d.removed_ns, 9223372036854775807)
     
)
SELECT kind, CASE WHEN typeof(key) = 'blob' THEN lower(hex(key)) ELSE key END, min(at)
  FROM r GROUP BY 1, 2 ORDER BY 1, 2;
SQL
read -r cte_s cte_kib < <(/usr/bin/time -f '%e %M' -o "$work/cte-time" \
  sqlite3 -separator ' ' "$db" <"$work/cte.sql" >"$work/cte.txt"; cat "$work/cte-time")
python3 - "$work/catena.json" "$work/cte.txt" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1]))
ours = sorted((n["kind"], n["key"], n["reached_at"]) for n in answer["nodes"])
theirs = []
for line in open(sys.argv[2]):
    kind, key, at = line.rstrip("\n").split(" ")
    theirs.append((kind, key, int(at)))
theirs.sort()
print("nodes reached: catena %d, CTE %d, %s" % (len(ours), len(theirs),
      "the same nodes at the same times" if ours == theirs else "DIFFERENT"))
if ours != theirs:
    a, b = set(ours), set(theirs)
    print("only catena:", sorted(a - b)[:5]); print("only CTE:", sorted(b - a)[:5])
    sys.exit(1)
PY
echo "catena graph blast (median of 3): ${catena_s} s, $((rss / 1024)) MiB peak RSS"
echo "recursive CTE (sqlite3):          ${cte_s} s, $((cte_kib / 1024)) MiB peak RSS"
echo "speed-up:                         $(echo "$cte_s / $catena_s" | bc -l | cut -c1-6)x"
