#!/usr/bin/env bash
# `catena release diff` against diffoscope (Debian's, default options) on the same pair of real
# releases: two consecutive Debian kernel image packages (each ~400 MB and ~4,000 files
# expanded), fetched from the Debian archive into a cache. Also `release inspect` of one of them
# against the SHA-256 ceiling: the bytes it expands, hashed by sha256sum from a page-cached
# extraction, on one core.
#   bench/release_bench.sh [OLD_PACKAGE NEW_PACKAGE]
# DIFFOSCOPE_TIMEOUT (seconds, default 3600): diffoscope is stopped there and the speed-up is
# then reported as a lower bound.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/common.sh"
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
cache=${CATENA_BENCH_CACHE:-$HOME/.cache/catena-bench}/releases
mkdir -p "$cache"
if [ $# -eq 2 ]; then
  old=$1 new=$2
else
  # The two newest kernel image ABIs the archive has.
  mapfile -t abis < <(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
    awk '{print $1}' | sort -t- -k4,4n | tail -2)
  old=${abis[0]} new=${abis[1]}
fi
for p in "$old" "$new"; do
  if ! compgen -G "$cache/${p}_*.deb" >/dev/null; then
    (cd "$cache" && apt-get download "$p" >/dev/null)
  fi
done
old_deb=$(ls "$cache/${old}"_*.deb | head -1)
new_deb=$(ls "$cache/${new}"_*.deb | head -1)
if ! command -v diffoscope >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends diffoscope >/dev/null
fi
work=$(mktemp -d /var/tmp/catena-release.XXXXXX)
trap 'rm -rf "$work"' EXIT

# wall_rss CMD...: "seconds max-RSS-KiB" of one run (exit status ignored).
wall_rss() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
  tail -1 "$work/time"
}

echo "release pair: $(basename "$old_deb") ($(du -m "$old_deb" | cut -f1) MB) -> $(basename "$new_deb") ($(du -m "$new_deb" | cut -f1) MB)"
cat "$old_deb" "$new_deb" >/dev/null  # page cache warm for both tools

read -r inspect_s inspect_kib < <(wall_rss "$catena" release inspect --format json "$old_deb")
files=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["files"]), d["expanded_bytes"])' "$work/out")
read -r file_count expanded <<<"$files"
mkdir -p "$work/x"
dpkg-deb -x "$old_deb" "$work/x"
find "$work/x" -type f -print0 | xargs -0 cat >/dev/null
sha_s=$(timed "find '$work/x' -type f -print0 | xargs -0 sha256sum")

diff_times=()
diff_rss=0
for _ in 1 2 3; do
  read -r s kib < <(wall_rss "$catena" release diff --format json "$old_deb" "$new_deb")
  diff_times+=("$s")
  [ "$kib" -gt "$diff_rss" ] && diff_rss=$kib
done
diff_s=$(printf '%s\n' "${diff_times[@]}" | median)
findings=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["changed"], d["added"], d["removed"], d["moved"], len(d["findings"]))' "$work/out")

limit=${DIFFOSCOPE_TIMEOUT:-3600}
read -r dscope_s dscope_kib < <(wall_rss timeout "$limit" diffoscope "$old_deb" "$new_deb")
bound=""
if awk -v s="$dscope_s" -v l="$limit" 'BEGIN {exit !(s >= l - 1)}'; then bound=">"; fi

echo "files in one release:          $file_count ($((expanded / 1000000)) MB expanded)"
echo "release inspect:               ${inspect_s} s, $((inspect_kib / 1024)) MiB peak RSS"
echo "sha256sum of the same bytes:   ${sha_s} s (extracted, page-cached, one core)"
echo "release diff (median of 3):    ${diff_s} s, $((diff_rss / 1024)) MiB peak RSS; changed added removed moved findings: $findings"
echo "diffoscope (default options):  ${bound}${dscope_s} s, $((dscope_kib / 1024)) MiB peak RSS"
echo "speed-up:                      ${bound}$(echo "$dscope_s / $diff_s" | bc -l | cut -c1-6)x"
echo "inspect / sha256 ceiling:      $(echo "$inspect_s / $sha_s" | bc -l | cut -c1-5)x"
