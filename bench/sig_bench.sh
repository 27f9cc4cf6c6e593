#!/usr/bin/env bash
# catena sig against osslsigncode verify on a corpus of 1,000 signed PE files: the Microsoft-signed
# DLLs that scripts/fetch-test-data.sh caches (90 KB to 5 MB), copied round-robin.
#   bench/sig_bench.sh [RUNS]      (default 3 rounds; medians)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
cores=$(nproc)
catena=$root/build/release/catena
cache=${CATENA_TEST_CACHE:-$HOME/.cache/catena-test-data}
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
compgen -G "$cache/pe/*.dll" >/dev/null || { echo "run scripts/fetch-test-data.sh first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"

mkdir "$work/corpus"
count=0
while [ "$count" -lt 1000 ]; do
  for dll in "$cache"/pe/*.dll; do
    [ "$count" -lt 1000 ] || break
    cp "$dll" "$work/corpus/f$count.dll"
    count=$((count + 1))
  done
done
bytes=$(du -cb "$work"/corpus/*.dll | tail -1 | cut -f1)
cat "$work"/corpus/*.dll >/dev/null
echo "corpus: 1000 signed PE files, $bytes bytes, $cores cores, $runs rounds (medians)"

for _ in $(seq "$runs"); do
  timed "$catena sig --format json $work/corpus/*.dll" >>"$work/t_catena"
  timed "ls $work/corpus/*.dll | xargs -P $cores -n 1 osslsigncode verify -in" >>"$work/t_ossl"
done
t_catena=$(median <"$work/t_catena")
t_ossl=$(median <"$work/t_ossl")
# catena hashes each file twice: the Authenticode digest and the file's own SHA-256.
speed=$(digest_speed sha256)
t_ceiling=$(echo "2 * $bytes / ($speed * $cores)" | bc -l)
printf '%-44s %8.3f s\n' "catena sig (1000 files, one process)" "$t_catena"
printf '%-44s %8.3f s\n' "osslsigncode verify, xargs -P $cores" "$t_ossl"
printf '%-44s %8.3f s\n' "SHA-256 ceiling for the bytes hashed" "$t_ceiling"
printf 'osslsigncode / catena:  %.2fx\n' "$(echo "$t_ossl / $t_catena" | bc -l)"
printf 'catena / ceiling:       %.2fx\n' "$(echo "$t_catena / $t_ceiling" | bc -l)"
