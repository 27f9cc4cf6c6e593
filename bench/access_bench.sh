#!/usr/bin/env bash
# Build-access discovery over 50 generated homes with typical dotfiles, and `catena audit` of
# this machine end to end with where its time goes.
#   bench/access_bench.sh [RUNS]     (default 3 rounds; medians, warm cache)
#
# Each home: every kind of credential (tests/access/make_home.sh: real keys from ssh-keygen,
# openssl), shell and editor dotfiles, 120 application config files under ~/.config, 400 files
# under ~/.local/share, three projects of 300 source files each with a .git directory of 400
# objects, a node_modules tree of 1,500 files and a ~/.cache of 1,000 files (the last two and
# the git objects are skipped by the walk, as in real homes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
homes=50
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"

echo "generating $homes homes..."
for i in $(seq "$homes"); do
  h=$work/homes/user$i
  sh "$root/tests/access/make_home.sh" "$h" "u$i" >/dev/null
  /usr/bin/python3 - "$h" <<'PY'
import os, sys
h = sys.argv[1]
def w(rel, text="x = 1\n"):
    p = os.path.join(h, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
for name in (".bashrc", ".profile", ".bash_history", ".vimrc", ".tmux.conf", ".inputrc"):
    w(name, "# " + name + "\n" * 40)
for a in range(12):
    for b in range(10):
        w(f".config/app{a}/settings{b}.conf")
for a in range(400):
    w(f".local/share/app{a % 20}/data{a}.txt")
for p in range(3):
    for s in range(300):
        w(f"src/project{p}/src/mod{s % 15}/file{s}.c", "int f(void) { return 0; }\n")
    w(f"src/project{p}/.git/config", '[remote "origin"]\n\turl = git@github.com:acme/p.git\n')
    for o in range(400):
        w(f"src/project{p}/.git/objects/{o % 256:02x}/{o:038x}")
for n in range(1500):
    w(f"node_modules/pkg{n % 100}/lib/f{n}.js")
for n in range(1000):
    w(f".cache/thing/{n % 50}/c{n}")
PY
done
files=$(find "$work/homes" -type f | wc -l)
args=()
for h in "$work"/homes/*; do args+=(--home "$h"); done
echo "1. access scan of $homes homes ($files files in all), $runs rounds, warm cache"
"$catena" access scan "${args[@]}" --no-system --db "$work/db" --format json >"$work/out.json" || true
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('   discoveries:', len(d['build_access']['discoveries']), ' findings:', len(d['findings']))" "$work/out.json"
for _ in $(seq "$runs"); do
  timed "'$catena' access scan ${args[*]} --no-system --db '$work/db' --format json" >>"$work/t_access"
done
printf '   catena access scan: median %.3f s (runs: %s)\n' "$(median <"$work/t_access")" "$(tr '\n' ' ' <"$work/t_access")"

echo "2. hostile homes: a 1 MB .git-credentials of one repeated line, a 1 MB ssh config of one Host line"
hostile=$work/hostile
mkdir -p "$hostile/.ssh"
/usr/bin/python3 - "$hostile" <<'PY'
import os, sys
h = sys.argv[1]
line = "https://u:tok@github.com\n"
with open(os.path.join(h, ".git-credentials"), "w") as f:
    f.write(line * ((1 << 20) // len(line)))
names, size = [], 4
while size < (1 << 20) - 64:
    n = f" h{len(names)}.example"
    names.append(n)
    size += len(n)
with open(os.path.join(h, ".ssh/config"), "w") as f:
    f.write("Host" + "".join(names) + "\n")
PY
for host in one two; do
  timed "'$catena' access scan --home '$hostile' --no-system --host $host --db '$work/hostile.db' --format json" >>"$work/t_hostile_$host"
done
for _ in $(seq "$runs"); do
  timed "'$catena' access scan --home '$hostile' --no-system --host two --db '$work/hostile.db' --format json" >>"$work/t_hostile"
done
printf '   first host: %.3f s; second host (shared-credential check over every discovery): median %.3f s (runs: %s)\n' \
  "$(cat "$work/t_hostile_one")" "$(median <"$work/t_hostile")" "$(tr '\n' ' ' <"$work/t_hostile")"

echo "3. catena audit of this machine (release build, default places, warm cache after one run)"
"$catena" audit --db "$work/audit.db" --format json >/dev/null 2>&1 || true
for _ in $(seq "$runs"); do
  timed "'$catena' audit --db '$work/audit.db' --format json" >>"$work/t_audit"
done
"$catena" audit --db "$work/audit.db" --format json >"$work/audit.json" 2>/dev/null || true
/usr/bin/python3 - "$work/audit.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"   files {d['files']}, bytes {d['bytes']}, findings {len(d['findings'])}, verdict {d['verdict']}")
for k, v in d.get("summary", {}).items():
    print(f"   {k}: {v}")
PY
printf '   catena audit: median %.2f s (runs: %s)\n' "$(median <"$work/t_audit")" "$(tr '\n' ' ' <"$work/t_audit")"
