#!/usr/bin/env bash
# catena scan against AIDE and parallel sha256sum on the same warm tree, plus the SHA-256 ceiling
# of this machine, and catena's peak memory on a 200,000-file tree.
#   bench/scan_bench.sh [TREE] [RUNS]      (default /usr/lib/x86_64-linux-gnu, 5 rounds; medians)
# Needs build/release/catena (make release) and aide (scripts/setup.sh installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-/usr/lib/x86_64-linux-gnu}
runs=${2:-5}
cores=$(nproc)
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "tree: $tree ($files files, $bytes bytes), $cores cores, $runs rounds (medians)"

# Warm the page cache so every tool reads from memory.
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

. "$root/bench/common.sh"

cat >"$work/aide.conf" <<CONF
database_out=file:$work/aide.db
database_in=file:$work/aide.db
gzip_dbout=no
report_url=stdout
Hash = sha256
$tree Hash
CONF

# The tools take turns within each round, so that a noisy neighbour slows all of them alike.
for _ in $(seq "$runs"); do
  rm -f "$work"/c.db*
  timed "$catena scan '$tree' --db $work/c.db --jobs $cores --quiet --no-dpkg --format json" >>"$work/t_catena"
  rm -f "$work"/c.db*
  timed "$catena scan '$tree' --db $work/c.db --jobs $cores --quiet --format json" >>"$work/t_catena_dpkg"
  rm -f "$work/aide.db"
  timed "aide --init -c $work/aide.conf -W $cores" >>"$work/t_aide"
  timed "find '$tree' -type f -print0 | xargs -0 -P $cores -n 64 sha256sum" >>"$work/t_sha"
done
t_catena=$(median <"$work/t_catena")
t_catena_dpkg=$(median <"$work/t_catena_dpkg")
t_aide=$(median <"$work/t_aide")
t_sha=$(median <"$work/t_sha")

# The ceiling: OpenSSL's EVP SHA-256 on 16 KiB blocks, one stream per core.
speed=$(digest_speed sha256)
t_ceiling=$(echo "$bytes / ($speed * $cores)" | bc -l)

printf '%-34s %8.3f s\n' "catena scan (no dpkg lookup)" "$t_catena"
printf '%-34s %8.3f s\n' "catena scan (with dpkg owners)" "$t_catena_dpkg"
printf '%-34s %8.3f s\n' "aide --init sha256 -W $cores" "$t_aide"
printf '%-34s %8.3f s\n' "sha256sum, xargs -P $cores" "$t_sha"
printf '%-34s %8.3f s  (%.0f MB/s per core)\n' "SHA-256 ceiling" "$t_ceiling" "$(echo "$speed / 1000000" | bc -l)"
printf 'aide / catena:        %.2fx\n' "$(echo "$t_aide / $t_catena_dpkg" | bc -l)"
printf 'sha256sum / catena:   %.2fx\n' "$(echo "$t_sha / $t_catena_dpkg" | bc -l)"
printf 'catena / ceiling:     %.2fx\n' "$(echo "$t_catena_dpkg / $t_ceiling" | bc -l)"

# Peak memory on a tree of 200,000 small files.
many=$work/many
mkdir -p "$many"
for dir_idx in $(seq 0 199); do
  mkdir "$many/d$dir_idx"
  (cd "$many/d$dir_idx" && seq 0 999 | sed "s/^/f$dir_idx-/" | xargs touch)
done
rm -f "$work/m.db"*
rss=$( { /usr/bin/time -f '%M' "$catena" scan "$many" --db "$work/m.db" --jobs "$cores" --quiet --format json >/dev/null; } 2>&1 | tail -1)
rm -f "$work"/m.db*
t_many=$(timed "$catena scan '$many' --db $work/m.db --jobs $cores --quiet --format json")
printf '200,000 files: %.3f s, peak RSS %d MB\n' "$t_many" "$((rss / 1024))"
