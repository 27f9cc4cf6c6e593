#!/usr/bin/env bash
# Installs every package catena needs to build, test and benchmark, from Debian's archive.
# Idempotent: when everything is already installed it changes nothing and needs no network.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libssl-dev libsqlite3-dev libcli11-dev libfmt-dev nlohmann-json3-dev libexpected-dev
  libarchive-dev libtomlplusplus-dev libyara-dev libsimdjson-dev libyaml-dev libxml2-dev
  # tests, fuzzing, benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev
  python3 python3-jsonschema sqlite3 openssl aide coreutils findutils bc time util-linux bsdutils
  debsums gpg gpg-agent gpgv openssh-client libcap2-bin putty-tools default-jre-headless osslsigncode wixl msitools python3-pefile yara
  in-toto python3-securesystemslib
  # the audit report is checked in a headless browser (printed to PDF, read back as text)
  chromium poppler-utils
  # graph exports are read back by GraphViz
  graphviz
)
# npm fetches the SARIF schema for tests; a machine with its own Node.js keeps it.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
  exit 2
fi

echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
