#!/usr/bin/env bash
# catena baseline check against aide --check -W <cores> on the same warm tree, nothing changed.
#   bench/baseline_bench.sh [TREE] [RUNS]      (default /usr/lib/x86_64-linux-gnu, 5 rounds)
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
. "$root/bench/common.sh"

files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "tree: $tree ($files files, $bytes bytes), $cores cores, $runs rounds (medians)"
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

# Equivalent watches: permissions, inode, owner, size, times, link target, SHA-256, xattrs,
# capabilities, ACLs, file type.
cat >"$work/aide.conf" <<CONF
database_in=file:$work/aide.db
database_out=file:$work/aide.db.new
gzip_dbout=no
report_url=stdout
Watch = p+i+u+g+s+m+c+l+sha256+xattrs+caps+acl+ftype
$tree Watch
CONF
aide --init -c "$work/aide.conf" -W "$cores" >/dev/null 2>&1 || true
mv "$work/aide.db.new" "$work/aide.db"
"$catena" baseline create --name bench --db "$work/c.db" --jobs "$cores" "$tree" >/dev/null

for _ in $(seq "$runs"); do
  timed "$catena baseline check --name bench --db $work/c.db --jobs $cores --format json" >>"$work/t_catena"
  timed "aide --check -c $work/aide.conf -W $cores" >>"$work/t_aide"
done
t_catena=$(median <"$work/t_catena")
t_aide=$(median <"$work/t_aide")
printf '%-40s %8.3f s\n' "catena baseline check" "$t_catena"
printf '%-40s %8.3f s\n' "aide --check -W $cores" "$t_aide"
printf 'aide / catena:  %.2fx\n' "$(echo "$t_aide / $t_catena" | bc -l)"
