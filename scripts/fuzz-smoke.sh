#!/usr/bin/env bash
# Runs each fuzzer for a fixed time over its seed corpus (a copy: seeds stay as committed).
# Usage: fuzz-smoke.sh BUILD_DIR SECONDS [WORK_DIR]
# With WORK_DIR the grown corpora are kept there (and reused by the next run); without, a
# temporary directory is used and removed.
set -euo pipefail
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 3 ]; then
  work=$3
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
status=0
compgen -G "$build/*_fuzz" >/dev/null || { echo "fuzz-smoke: no fuzzers in $build" >&2; exit 2; }
for fuzzer in "$build"/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  mkdir -p "$work/$name"
  cp -r "$root/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null || true
  if ! "$fuzzer" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$name-" \
       "$work/$name" >"$work/$name.log" 2>&1; then
    echo "fuzz-smoke: $name found a crash; input kept in tests/data/regress/$name/" >&2
    mkdir -p "$root/tests/data/regress/$name"
    cp "$work/$name"-crash-* "$work/$name"-leak-* "$work/$name"-timeout-* "$root/tests/data/regress/$name/" 2>/dev/null || true
    tail -30 "$work/$name.log" >&2
    status=1
  else
    echo "fuzz-smoke: $name ran ${seconds}s: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$name.log" | head -1 || true)"
  fi
done
exit $status
