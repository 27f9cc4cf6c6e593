#!/usr/bin/env bash
# `catena scan --yara RULES` (one read per file: hashes and YARA over the same bytes) against what
# a team runs without it: `yara -r RULES TREE` then `sha256sum` over the same tree, both on all
# cores, on a warm tree. Also checks that the two report the same YARA matches.
#   bench/yara_bench.sh [TREE] [RUNS]      (default /usr/lib/x86_64-linux-gnu, 3 rounds; medians)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=${1:-/usr/lib/x86_64-linux-gnu}
runs=${2:-3}
cores=$(nproc)
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
command -v yara >/dev/null || { echo "yara is not installed (scripts/setup.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"

# The shipped 3CX rules (pe and math modules) and string rules that hit real files here.
mkdir "$work/rules"
cp "$root/intel/rules/3cx-2023.yar" "$work/rules/"
cat >"$work/rules/strings.yar" <<'YAR'
rule elf_with_openssl_strings { strings: $a = "OPENSSL_init" $b = "EVP_DigestInit" condition: uint32(0) == 0x464c457f and all of them }
rule mentions_passwd { strings: $a = "/etc/passwd" condition: $a }
rule hex_marker { strings: $h = { 7F 45 4C 46 02 01 01 } condition: $h at 0 and filesize < 20KB }
YAR
cat "$work"/rules/*.yar >"$work/all.yar"

files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "tree: $tree ($files files, $bytes bytes), $cores cores, $runs rounds (medians)"
find "$tree" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

for _ in $(seq "$runs"); do
  rm -f "$work"/c.db*
  timed "$catena scan '$tree' --db $work/c.db --jobs $cores --quiet --no-dpkg --yara $work/rules --format json" >>"$work/t_catena"
  timed "yara -r -N -p $cores -w $work/all.yar '$tree' >/dev/null; find '$tree' -type f -print0 | xargs -0 -P $cores -n 64 sha256sum >/dev/null" >>"$work/t_peer"
done
t_catena=$(median <"$work/t_catena")
t_peer=$(median <"$work/t_peer")
printf '%-48s %8.3f s\n' "catena scan --yara (hashes + YARA, one read)" "$t_catena"
printf '%-48s %8.3f s\n' "yara -r, then sha256sum (xargs -P $cores)" "$t_peer"
printf 'catena is %.2fx faster\n' "$(echo "$t_peer / $t_catena" | bc -l)"

# Same matches? (rule, path) pairs from both.
"$catena" scan "$tree" --db "$work/m.db" --jobs "$cores" --quiet --no-dpkg --yara "$work/rules" --format json >"$work/scan.json" || true
/usr/bin/python3 - "$work/scan.json" >"$work/ours" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["rule"] == "YARA_MATCH":
        print(f["evidence"]["rule"], f["path"])
PY
yara -r -N -p "$cores" -w "$work/all.yar" "$tree" 2>/dev/null >"$work/theirs" || true
sort -o "$work/ours" "$work/ours"; sort -o "$work/theirs" "$work/theirs"
if cmp -s "$work/ours" "$work/theirs"; then
  echo "matches: identical ($(wc -l <"$work/ours") rule/file pairs)"
else
  echo "matches: DIFFER (catena $(wc -l <"$work/ours"), yara $(wc -l <"$work/theirs"))"
  diff "$work/ours" "$work/theirs" | head -10
fi
