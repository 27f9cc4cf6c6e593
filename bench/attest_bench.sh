#!/usr/bin/env bash
# Build provenance: what tracing costs a real build, how fast materials are hashed against
# in-toto-run, and how fast a supply chain is verified against in-toto-verify.
#   bench/attest_bench.sh [RUNS]     (default 3 rounds; medians)
#
# 1. A generated C project (400 translation units, a static library and a program, make -j2)
#    built bare and under `catena attest` (tracing on), in turns, from clean each time.
# 2. 1 GB of materials in two shapes (16 files of 64 MiB; 10,240 files of 100 KiB), warm cache:
#    `catena attest -m DIR -- true` against `in-toto-run -m DIR -- true`.
# 3. A layout of 5 steps with 10,000 artifacts per link (written by the reference's own API):
#    `catena intoto verify` against `in-toto-verify`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
catena=$root/build/release/catena
[ -x "$catena" ] || { echo "build the release binary first (make release)" >&2; exit 2; }
command -v in-toto-run >/dev/null || { echo "in-toto is not installed (scripts/setup.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/bench/common.sh"
"$catena" key generate --out "$work/key" >/dev/null
in-toto-keygen -t ed25519 "$work/itkey" >/dev/null

# 1. Tracing overhead on a real build.
proj=$work/proj
mkdir -p "$proj/src"
/usr/bin/python3 - "$proj" <<'PY'
import os, sys
proj = sys.argv[1]
units = 400
for i in range(units):
    with open(f"{proj}/src/u{i}.c", "w") as f:
        f.write('#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n')
        f.write(f'#include "common.h"\n')
        for k in range(12):
            f.write(f"static int helper_{k}(int x) {{ int a[64]; for (int j = 0; j < 64; ++j) a[j] = (x * {k + 1} + j) ^ (j << 2); int s = 0; for (int j = 0; j < 64; ++j) s += a[j] % 7; return s; }}\n")
        f.write(f"int unit_{i}(int x) {{ char buf[128]; snprintf(buf, sizeof buf, \"%d\", x); return (int)strlen(buf)")
        for k in range(12):
            f.write(f" + helper_{k}(x)")
        f.write("; }\n")
with open(f"{proj}/src/common.h", "w") as f:
    f.write("#pragma once\n")
    for i in range(units):
        f.write(f"int unit_{i}(int x);\n")
with open(f"{proj}/src/main.c", "w") as f:
    f.write('#include <stdio.h>\n#include "common.h"\nint main(void) { long s = 0;\n')
    for i in range(units):
        f.write(f"  s += unit_{i}({i});\n")
    f.write('  printf("%ld\\n", s); return 0; }\n')
with open(f"{proj}/Makefile", "w") as f:
    objs = " ".join(f"src/u{i}.o" for i in range(units))
    f.write(f"CFLAGS = -O2 -Wall\nall: app\napp: src/main.o libunits.a\n\t$(CC) -o $@ $^\n")
    f.write(f"libunits.a: {objs}\n\tar rcs $@ $^\n")
    f.write("%.o: %.c src/common.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n")
    f.write("clean:\n\trm -f src/*.o libunits.a app\n")
PY
echo "1. build of $(ls "$proj"/src/*.c | wc -l) C files with make -j2, $runs rounds"
for _ in $(seq "$runs"); do
  make -s -C "$proj" clean >/dev/null
  timed "make -s -C '$proj' -j2" >>"$work/t_bare"
  make -s -C "$proj" clean >/dev/null
  timed "cd '$proj' && '$catena' attest --step build --key '$work/key' --no-store -m src -m Makefile -p app --out '$work/build.intoto.json' -- make -s -j2" >>"$work/t_traced"
done
t_bare=$(median <"$work/t_bare")
t_traced=$(median <"$work/t_traced")
runs_seen=$(/usr/bin/python3 -c "
import base64, json, sys
e = json.load(open(sys.argv[1])); s = json.loads(base64.b64decode(e['payload']))
deps = s['predicate']['buildDefinition']['resolvedDependencies']
print(sum(1 for d in deps if d['annotations']['kind'] == 'tool'), len({d['digest']['sha256'] for d in deps if d['annotations']['kind'] == 'tool'}))
" "$work/build.intoto.json")
printf '%-48s %8.3f s\n' "make -j2 (bare)" "$t_bare"
printf '%-48s %8.3f s  (%s program runs, distinct programs: %s)\n' "catena attest -- make -j2 (traced)" "$t_traced" ${runs_seen% *} ${runs_seen#* }
echo "tracing overhead: $(echo "($t_traced / $t_bare - 1) * 100" | bc -l | xargs printf '%.1f')%"

# 2. Hashing 1 GB of materials.
mkdir -p "$work/big" "$work/small"
for i in $(seq 16); do head -c 67108864 /dev/urandom >"$work/big/f$i"; done
/usr/bin/python3 - "$work/small" <<'PY'
import os, sys
d = sys.argv[1]
chunk = os.urandom(102400)
for i in range(10240):
    sub = os.path.join(d, str(i % 64))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"f{i}"), "wb") as f:
        f.write(chunk[i % 100:] + chunk[:i % 100])
PY
for shape in big small; do
  cat "$work/$shape"/* "$work/$shape"/*/* >/dev/null 2>&1 || true
  rm -f "$work/t_c" "$work/t_i"
  for _ in $(seq "$runs"); do
    timed "cd '$work' && '$catena' attest --step h --key '$work/key' --no-store --no-trace -m $shape --out '$work/h.json' -- true" >>"$work/t_c"
    timed "cd '$work' && in-toto-run -n h -k '$work/itkey' -t ed25519 -m $shape --metadata-directory '$work' -- true" >>"$work/t_i"
  done
  t_c=$(median <"$work/t_c")
  t_i=$(median <"$work/t_i")
  files=$(find "$work/$shape" -type f | wc -l)
  printf '2. 1 GiB in %-6s files: catena %8.3f s   in-toto-run %8.3f s   catena %.1fx faster\n' "$files" "$t_c" "$t_i" "$(echo "$t_i / $t_c" | bc -l)"
done

# 3. Verifying a 5-step chain with 10,000 artifacts per link.
chain=$work/chain
mkdir -p "$chain"
/usr/bin/python3 - "$chain" "$work/itkey" <<'PY'
import hashlib, os, subprocess, sys
from in_toto.models.layout import Layout, Step
from in_toto.models.link import Link, FILENAME_FORMAT
from in_toto.models.metadata import Metablock
from securesystemslib.interface import import_ed25519_privatekey_from_file, import_publickeys_from_file
chain, keypath = sys.argv[1], sys.argv[2]
os.chdir(chain)
subprocess.run(["in-toto-keygen", "-t", "ed25519", "owner"], check=True, stdout=subprocess.DEVNULL)
owner = import_ed25519_privatekey_from_file("owner")
func = import_ed25519_privatekey_from_file(keypath)
pub = list(import_publickeys_from_file([keypath + ".pub"], ["ed25519"]).values())[0]
pub["keyval"].pop("private", None)
layout = Layout()
layout.set_relative_expiration(days=30)
keyid = layout.add_functionary_key(pub)["keyid"]
artifacts = {f"src/dir{i % 100}/file{i}.c": {"sha256": hashlib.sha256(str(i).encode()).hexdigest()} for i in range(10000)}
steps = []
for n in range(5):
    step = Step(name=f"step{n}")
    step.pubkeys = [keyid]
    if n == 0:
        step.add_product_rule_from_string("CREATE src/*")
    else:
        step.add_material_rule_from_string(f"MATCH src/* WITH PRODUCTS FROM step{n - 1}")
        step.add_product_rule_from_string(f"MATCH src/* WITH MATERIALS FROM step{n}")
    step.add_material_rule_from_string("DISALLOW *")
    step.add_product_rule_from_string("DISALLOW *")
    steps.append(step)
    link = Link(name=f"step{n}", materials={} if n == 0 else artifacts, products=artifacts, command=["true"])
    signed = Metablock(signed=link)
    signed.sign(func)
    signed.dump(FILENAME_FORMAT.format(step_name=f"step{n}", keyid=func["keyid"]))
layout.steps = steps
signed = Metablock(signed=layout)
signed.sign(owner)
signed.dump("root.layout")
PY
rm -f "$work/t_c" "$work/t_i"
for _ in $(seq "$runs"); do
  timed "cd '$chain' && '$catena' intoto verify --layout root.layout --layout-key owner.pub" >>"$work/t_c"
  timed "cd '$chain' && in-toto-verify -l root.layout -k owner.pub -t ed25519" >>"$work/t_i"
done
( cd "$chain" && "$catena" intoto verify --layout root.layout --layout-key owner.pub >/dev/null ) && c_ok=pass || c_ok=fail
( cd "$chain" && in-toto-verify -l root.layout -k owner.pub -t ed25519 >/dev/null 2>&1 ) && i_ok=pass || i_ok=fail
t_c=$(median <"$work/t_c")
t_i=$(median <"$work/t_i")
printf '3. 5 steps x 10,000 artifacts: catena %8.3f s (%s)   in-toto-verify %8.3f s (%s)   catena %.1fx faster\n' "$t_c" "$c_ok" "$t_i" "$i_ok" "$(echo "$t_i / $t_c" | bc -l)"
