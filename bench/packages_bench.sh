#!/usr/bin/env bash
# catena packages verify against dpkg --verify and debsums -s on this machine's own packages,
# same warm cache, plus the MD5 ceiling of this machine.
#   bench/packages_bench.sh [RUNS]      (default 3 rounds; medians)
# Needs build/release/catena (make release), debsums (scripts/setup.sh installs it), and root
# for a complete read (as another user some files are unreadable to every tool alike).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
cores=$(nproc)
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$root/bench/common.sh"

# Warm the cache. The ceiling covers every packaged file with a hash, as dpkg --verify reads
# them all (catena reads a hard-linked content once, so its own byte count is lower).
"$catena" packages verify --no-unowned --no-repository --format json >"$work/warm.json" || true
bytes=$({ cat /var/lib/dpkg/info/*.md5sums | cut -c35- | sed 's|^|/|' | tr '\n' '\0' |
  xargs -0 stat -L -c %s 2>/dev/null || true; } | awk '{s+=$1} END {printf "%.0f\n", s}')
files=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['files'])" "$work/warm.json")
packages=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['summary']['packages'])" "$work/warm.json")
echo "packages: $packages, $files files, $bytes bytes, $cores cores, $runs rounds (medians)"

for _ in $(seq "$runs"); do
  timed "$catena packages verify --no-unowned --no-repository --format json" >>"$work/t_catena"
  timed "$catena packages verify --format json" >>"$work/t_catena_full"
  timed "dpkg --verify" >>"$work/t_dpkg"
  timed "debsums -s" >>"$work/t_debsums"
done
t_catena=$(median <"$work/t_catena")
t_catena_full=$(median <"$work/t_catena_full")
t_dpkg=$(median <"$work/t_dpkg")
t_debsums=$(median <"$work/t_debsums")

# The ceiling: OpenSSL's EVP MD5 on 16 KiB blocks, one stream per core.
speed=$(digest_speed md5)
t_ceiling=$(echo "$bytes / ($speed * $cores)" | bc -l)

printf '%-44s %8.3f s\n' "catena packages verify (dpkg's checks)" "$t_catena"
printf '%-44s %8.3f s\n' "catena packages verify (+unowned, +apt)" "$t_catena_full"
printf '%-44s %8.3f s\n' "dpkg --verify" "$t_dpkg"
printf '%-44s %8.3f s\n' "debsums -s" "$t_debsums"
printf '%-44s %8.3f s  (%.0f MB/s per core)\n' "MD5 ceiling" "$t_ceiling" "$(echo "$speed / 1000000" | bc -l)"
printf 'dpkg --verify / catena:  %.2fx\n' "$(echo "$t_dpkg / $t_catena" | bc -l)"
printf 'debsums -s / catena:     %.2fx\n' "$(echo "$t_debsums / $t_catena" | bc -l)"
printf 'catena / ceiling:        %.2fx\n' "$(echo "$t_catena / $t_ceiling" | bc -l)"
