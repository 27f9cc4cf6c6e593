#!/usr/bin/env bash
# The 3CX chain end to end, built with catena's own commands on this machine in a store of its
# own: a developer workstation (dev-ws) whose home holds an SSH key to the build host and a
# code-signing key; a trojanized, still validly signed installer arriving on it (a real
# Microsoft-signed DLL with data hidden in its certificate table, the shape the 3CX YARA rules
# match); a build host (build-01) where `catena attest` traces one build before the installer
# arrived and one after, the second injecting a modified DLL into the release zip; the two
# releases recorded and diffed; customers of both. Then: what did the installer reach, and
# where did the injected DLL come from?
#   scripts/demo-3cx.sh [OUT]      OUT (default a new temporary directory) keeps the store, the
#                                  answers (blast.json, origin.json, *.txt) and blast.html
# CATENA: the catena binary (default build/release/catena).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
catena=${CATENA:-$root/build/release/catena}
[ -x "$catena" ] || { echo "demo: build catena first (make release)" >&2; exit 2; }
out=${1:-$(mktemp -d /tmp/catena-3cx-demo.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${CATENA_TEST_CACHE:-$HOME/.cache/catena-test-data}
signed=$cache/pe/x86-msvcp140.dll
vendor_dll=$cache/pe/x86-vcruntime140.dll
if [ ! -f "$signed" ] || [ ! -f "$vendor_dll" ]; then
  "$root/scripts/fetch-test-data.sh" >/dev/null
fi

db=$out/store.db
rm -rf "$db" "$db-wal" "$db-shm" "$out/ws" "$out/build-01"
say() { printf '\n== %s\n' "$*"; }
c() { "$catena" "$@" --db "$db"; }
# A moment apart, so that "before" and "after" are told apart by the clock.
tick() { sleep 0.05; }

say "intelligence: the 3CX indicators (STIX) and structural YARA rules"
c intel import "$root/intel/3cx-2023.stix.json" --feed 3cx-2023 >/dev/null

say "dev-ws: a developer's home with an SSH key to build-01 and a code-signing key"
home=$out/ws/home/dev
mkdir -p "$home/.ssh" "$home/Downloads" "$home/signing"
printf 'Host build\n  HostName build-01\n  User ci\n' >"$home/.ssh/config"
ssh-keygen -q -t ed25519 -N '' -C dev@dev-ws -f "$home/.ssh/id_ed25519"
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=Example Desktop Code Signing" -days 30 \
  -keyout "$out/ws/cs.key" -out "$out/ws/cs.crt" 2>/dev/null
openssl pkcs12 -export -passout pass: -inkey "$out/ws/cs.key" -in "$out/ws/cs.crt" \
  -out "$home/signing/codesign.p12"
rm -f "$out/ws/cs.key" "$out/ws/cs.crt"
c scan --host dev-ws --yara "$root/intel/rules" --format json "$out/ws" >/dev/null || [ $? -eq 1 ]
c access scan --host dev-ws --home "$home" --no-system --format json >/dev/null || [ $? -eq 1 ]

say "build-01: the source tree, and a build before the installer arrived"
b=$out/build-01
mkdir -p "$b/src" "$b/vendor"
printf '#include <stdio.h>\nint main(void) { puts("desktop app"); return 0; }\n' >"$b/src/main.c"
cp "$vendor_dll" "$b/vendor/ffmpeg.dll"
c scan --host build-01 --format json "$b" >/dev/null || [ $? -eq 1 ]
rm -f "$out/build-key" "$out/build-key.pub"
"$catena" key generate --out "$out/build-key" >/dev/null
build() {  # build VERSION: compile, bundle the vendored DLL, zip the release
  (cd "$b" && "$catena" attest --host build-01 --step "build-$1" --key "$out/build-key" \
    --db "$db" -m src -m vendor -p "release-$1.zip" -- sh -c \
    "rm -rf stage && mkdir stage && cc -o stage/app src/main.c && cp vendor/ffmpeg.dll stage/ \
     && cd stage && python3 -m zipfile -c ../release-$1.zip app ffmpeg.dll" >/dev/null)
}
tick
build 18.12.407
c release inspect --store --name 3cx-desktop --version 18.12.407 --format json \
  "$b/release-18.12.407.zip" >/dev/null || [ $? -eq 1 ]
tick

say "dev-ws: the trojanized installer arrives, still validly signed"
python3 - "$signed" "$home/Downloads/X_TRADER_r7.17.90p608.exe" <<'PY'
# Data added inside the certificate table: the WIN_CERTIFICATE's length and the security
# directory's size grow over it, so the Authenticode digest (which skips the table) and the
# signature stay valid.
import struct, sys
pe = bytearray(open(sys.argv[1], "rb").read())
lfanew = struct.unpack_from("<I", pe, 0x3C)[0]
magic = struct.unpack_from("<H", pe, lfanew + 24)[0]
directories = lfanew + 24 + (96 if magic == 0x10B else 112)
security = directories + 4 * 8
offset, size = struct.unpack_from("<II", pe, security)
assert offset + size == len(pe), "the certificate table is not at the end"
length = struct.unpack_from("<I", pe, offset)[0]
padded = (length + 7) & ~7
payload = bytes((i * 131 + 7) % 251 for i in range(4096)) + b"\xfe\xed\xfa\xce"
payload += b"\0" * (-len(payload) % 8)
pe = pe[: offset + padded] + b"\0" * (offset + padded - len(pe)) + payload
struct.pack_into("<I", pe, offset, padded + len(payload))
struct.pack_into("<I", pe, security + 4, padded + len(payload))
open(sys.argv[2], "wb").write(pe)
PY
installer=$(sha256sum "$home/Downloads/X_TRADER_r7.17.90p608.exe" | cut -d' ' -f1)
c scan --host dev-ws --yara "$root/intel/rules" --format json "$out/ws" >/dev/null || [ $? -eq 1 ]
tick

say "build-01: the next build, with a modified ffmpeg.dll injected into the release"
python3 - "$b/vendor/ffmpeg.dll" <<'PY'
import sys
dll = bytearray(open(sys.argv[1], "rb").read())
middle = len(dll) // 3
dll[middle : middle + 64] = bytes(x ^ 0x5A for x in dll[middle : middle + 64])
open(sys.argv[1], "wb").write(dll)
PY
injected=$(sha256sum "$b/vendor/ffmpeg.dll" | cut -d' ' -f1)
build 18.12.416
c release inspect --store --name 3cx-desktop --version 18.12.416 --format json \
  "$b/release-18.12.416.zip" >/dev/null || [ $? -eq 1 ]

say "the two releases compared"
c release diff "$b/release-18.12.407.zip" "$b/release-18.12.416.zip" >"$out/release-diff.txt" ||
  [ $? -eq 1 ]
sed -n '1,12p' "$out/release-diff.txt"

say "customers of both releases"
cat >"$out/deployments.csv" <<EOF
site,release,version,installed_at,removed_at
early-customer,3cx-desktop,18.12.407,$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ),
acme-corp,3cx-desktop,18.12.416,$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ),
globex,3cx-desktop,18.12.416,$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ),
EOF
c graph import-deployments "$out/deployments.csv"

say "what did the installer reach? (catena graph blast --sha256 $installer)"
c graph blast --sha256 "$installer" --html "$out/blast.html" | tee "$out/blast.txt"
c graph blast --sha256 "$installer" --format json >"$out/blast.json"

say "where did the injected ffmpeg.dll come from? (catena graph origin --sha256 $injected)"
c graph origin --sha256 "$injected" --html "$out/origin.html" | tee "$out/origin.txt" | sed -n '1,30p'
c graph origin --sha256 "$injected" --format json >"$out/origin.json"
printf '%s\n%s\n' "$installer" "$injected" >"$out/digests.txt"

say "written to $out: blast.html, origin.html, blast.json, origin.json, release-diff.txt"
