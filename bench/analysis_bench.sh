#!/usr/bin/env bash
# What content analysis (format classification is always on; signature verification of PE,
# Mach-O, MSI and signed kernel modules; ELF/PE/Mach-O/MSI structure) adds to `catena scan`:
# the same warm tree scanned with and without --no-analysis, in turns.
#   bench/analysis_bench.sh [TREE] [RUNS]      (default /usr, 5 rounds; medians)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-/usr}
runs=${2:-5}
cores=$(nproc)
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"

files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "tree: $tree ($files files, $bytes bytes), $cores cores, $runs rounds (medians)"
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

for _ in $(seq "$runs"); do
  rm -f "$work"/a.db*
  timed "$catena scan '$tree' --db $work/a.db --jobs $cores --quiet --no-dpkg --format json" >>"$work/t_full"
  rm -f "$work"/b.db*
  timed "$catena scan '$tree' --db $work/b.db --jobs $cores --quiet --no-dpkg --no-analysis --format json" >>"$work/t_bare"
done
full=$(median <"$work/t_full")
bare=$(median <"$work/t_bare")
signed=$(sqlite3 "$work/a.db" "select count(*) from contents where signature is not null and signature != ''")
printf 'catena scan, analysis on:   %.3f s\n' "$full"
printf 'catena scan, --no-analysis: %.3f s\n' "$bare"
printf 'analysis adds %.1f%% (%s contents with a signature verdict)\n' \
  "$(echo "($full - $bare) / $bare * 100" | bc -l)" "$signed"
