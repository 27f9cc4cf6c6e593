#!/usr/bin/env bash
# `catena release diff` against diffoscope (Debian's, default options) on the same pair of real
# releases, fetched from the Debian archive into a cache. Also `release inspect` of the older one
# against the SHA-256 ceiling: the bytes it expands, hashed by sha256sum from a page-cached
# extraction, on one core.
#   bench/release_bench.sh                  LibreOffice as Debian ships it, two security updates
#                                           apart: the same 17 packages at 4:7.4.7-1+deb12u13
#                                           and +deb12u14, each a directory of NAME.deb (same
#                                           paths on both sides; ~340 MB and ~5,000 files)
#   bench/release_bench.sh kernel           the two newest kernel image packages (paths differ
#                                           by ABI: /lib/modules/6.1.0-N-amd64/...)
#   bench/release_bench.sh OLD NEW          two package names, or two paths (files or dirs)
# DIFFOSCOPE_TIMEOUT (seconds, default 3600): diffoscope is stopped there and the speed-up is
# then reported as a lower bound; DIFFOSCOPE=0 skips it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/common.sh"
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
cache=${CATENA_BENCH_CACHE:-$HOME/.cache/catena-bench}/releases
mkdir -p "$cache"

# fetch_package NAME: NAME's .deb in the cache (the archive's current version).
fetch_package() {
  if ! compgen -G "$cache/${1}_*.deb" >/dev/null; then
    (cd "$cache" && apt-get download "$1" >/dev/null)
  fi
  ls "$cache/${1}"_*.deb | head -1
}

libreoffice=(libreoffice-core libreoffice-common libreoffice-writer libreoffice-calc
  libreoffice-impress libreoffice-draw libreoffice-base-core libreoffice-math libreoffice-base
  libreoffice-help-en-us libreoffice-l10n-de libreoffice-gtk3 libreoffice-style-colibre
  libreoffice-script-provider-python libreoffice-report-builder libreoffice-sdbc-hsqldb
  libreoffice-help-common)
# fetch_set VERSION: a directory holding each LibreOffice package at VERSION as NAME.deb.
fetch_set() {
  local dir=$cache/libreoffice-${1##*+}
  mkdir -p "$dir"
  for p in "${libreoffice[@]}"; do
    [ -f "$dir/$p.deb" ] && continue
    (cd "$dir" && apt-get download "$p=$1" >/dev/null && mv "${p}"_*.deb "$p.deb")
  done
  echo "$dir"
}

if [ $# -eq 2 ]; then
  if [ -e "$1" ] && [ -e "$2" ]; then
    old_rel=$1 new_rel=$2
  else
    old_rel=$(fetch_package "$1") new_rel=$(fetch_package "$2")
  fi
elif [ "${1:-}" = kernel ]; then
  # The two newest kernel image ABIs the archive has.
  mapfile -t abis < <(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
    awk '{print $1}' | sort -t- -k4,4n | tail -2)
  old_rel=$(fetch_package "${abis[0]}") new_rel=$(fetch_package "${abis[1]}")
else
  old_rel=$(fetch_set 4:7.4.7-1+deb12u13) new_rel=$(fetch_set 4:7.4.7-1+deb12u14)
fi
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

echo "release pair: $(basename "$old_rel") ($(du -sm "$old_rel" | cut -f1) MB) -> $(basename "$new_rel") ($(du -sm "$new_rel" | cut -f1) MB)"
find "$old_rel" "$new_rel" -type f -print0 | xargs -0 cat >/dev/null  # page cache warm for both tools

# Cold figures are taken with --no-cache: nothing kept from an earlier run is reused.
read -r serial_s serial_kib < <(wall_rss "$catena" release inspect --no-cache -j1 --format json "$old_rel")
read -r inspect_s inspect_kib < <(wall_rss "$catena" release inspect --no-cache --format json "$old_rel")
files=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["files"]), d["expanded_bytes"])' "$work/out")
read -r file_count expanded <<<"$files"
mkdir -p "$work/x"
# The bytes inspect expands: each package's files (a release's own files beside them count too).
find "$old_rel" -name '*.deb' -print0 | xargs -0 -I{} dpkg-deb -x {} "$work/x"
find "$old_rel" -type f ! -name '*.deb' -exec cp {} "$work/x/" \;
find "$work/x" -type f -print0 | xargs -0 cat >/dev/null
sha_s=$(timed "find '$work/x' -type f -print0 | xargs -0 sha256sum")
cores=$(nproc)
sha_all_s=$(timed "find '$work/x' -type f -print0 | xargs -0 -n 256 -P $cores sha256sum")
# The same bytes inspected where they lie (no archive to decompress): what catena adds to
# hashing them, every file parsed and analysed.
read -r tree_serial_s tree_serial_kib < <(wall_rss "$catena" release inspect --no-cache -j1 --format json "$work/x")
read -r tree_s tree_kib < <(wall_rss "$catena" release inspect --no-cache --format json "$work/x")
# What the bytes cost to get at: each package's data decompressed (dpkg-deb, as the archive
# compressed it) and hashed, one package after another.
unpack_s=$(timed "find '$old_rel' -name '*.deb' -print0 | xargs -0 -I{} sh -c 'dpkg-deb --fsys-tarfile {} | sha256sum >/dev/null'")
unpack_all_s=$(timed "find '$old_rel' -name '*.deb' -print0 | xargs -0 -P $cores -I{} sh -c 'dpkg-deb --fsys-tarfile {} | sha256sum >/dev/null'")

diff_times=()
diff_rss=0
for _ in 1 2 3; do
  read -r s kib < <(wall_rss "$catena" release diff --no-cache --format json "$old_rel" "$new_rel")
  diff_times+=("$s")
  [ "$kib" -gt "$diff_rss" ] && diff_rss=$kib
done
diff_s=$(printf '%s\n' "${diff_times[@]}" | median)
findings=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["changed"], d["added"], d["removed"], d["moved"], len(d["findings"]))' "$work/out")

# With a store that keeps what was found inside each release file (the default): the first
# inspection keeps it, a second reuses it, and a diff against a release inspected before reads
# only the new one.
cache_db=$work/cache.db
read -r keep_s keep_kib < <(wall_rss "$catena" release inspect --db "$cache_db" --format json "$old_rel")
read -r again_s again_kib < <(wall_rss "$catena" release inspect --db "$cache_db" --format json "$old_rel")
reused=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reused"])' "$work/out")
read -r warm_s warm_kib < <(wall_rss "$catena" release diff --db "$cache_db" --format json "$old_rel" "$new_rel")
cache_mb=$(( $(stat -c %s "$cache_db") / 1000000 ))

limit=${DIFFOSCOPE_TIMEOUT:-3600}
bound=""
if [ "${DIFFOSCOPE:-1}" = 0 ]; then
  dscope_s=0 dscope_kib=0  # skipped on request (DIFFOSCOPE=0): it takes minutes
else
  read -r dscope_s dscope_kib < <(wall_rss timeout "$limit" diffoscope "$old_rel" "$new_rel")
  if awk -v s="$dscope_s" -v l="$limit" 'BEGIN {exit !(s >= l - 1)}'; then bound=">"; fi
fi

echo "files in one release:          $file_count ($((expanded / 1000000)) MB expanded)"
echo "release inspect -j1:           ${serial_s} s, $((serial_kib / 1024)) MiB peak RSS (one worker)"
echo "release inspect:               ${inspect_s} s, $((inspect_kib / 1024)) MiB peak RSS ($cores workers)"
echo "sha256sum of the same bytes:   ${sha_s} s (extracted, page-cached, one core); ${sha_all_s} s on $cores"
echo "decompression + sha256sum:     ${unpack_s} s (dpkg-deb --fsys-tarfile | sha256sum per package); ${unpack_all_s} s on $cores"
echo "release inspect of the extracted files: ${tree_s} s, $((tree_kib / 1024)) MiB peak RSS; -j1 ${tree_serial_s} s"
echo "release inspect, keeping parts: ${keep_s} s, $((keep_kib / 1024)) MiB peak RSS (store ${cache_mb} MB)"
echo "release inspect again:         ${again_s} s, $((again_kib / 1024)) MiB peak RSS ($reused release files reused)"
echo "release diff, old one kept:    ${warm_s} s, $((warm_kib / 1024)) MiB peak RSS"
echo "release diff (median of 3):    ${diff_s} s, $((diff_rss / 1024)) MiB peak RSS; changed added removed moved findings: $findings"
echo "diffoscope (default options):  ${bound}${dscope_s} s, $((dscope_kib / 1024)) MiB peak RSS"
[ "${DIFFOSCOPE:-1}" = 0 ] || echo "speed-up:                      ${bound}$(echo "$dscope_s / $diff_s" | bc -l | cut -c1-6)x"
echo "inspect / sha256 ceiling:      $(echo "$inspect_s / $sha_s" | bc -l | cut -c1-5)x"
echo "inspect / sha256 on $cores cores:  $(echo "$inspect_s / $sha_all_s" | bc -l | cut -c1-5)x"
echo "inspect / decompress+sha256:   $(echo "$inspect_s / $unpack_s" | bc -l | cut -c1-5)x; on $cores cores $(echo "$inspect_s / $unpack_all_s" | bc -l | cut -c1-5)x"
echo "extracted inspect / sha256:    $(echo "$tree_s / $sha_s" | bc -l | cut -c1-5)x; on $cores cores $(echo "$tree_s / $sha_all_s" | bc -l | cut -c1-5)x"
