#pragma once
/// `catena packages verify --anchor archive`: installed files checked against what the Debian
/// archive signed, not against the md5sums database that any root user can edit.
///
/// The chain: each `InRelease` in the apt lists is checked with gpgv against the archive
/// keyrings; a local `Packages` index counts only when its SHA-256 (decompressed) is the one the
/// signed `InRelease` lists; the `.deb` of the installed version must have the SHA-256 that
/// index lists; and each installed file must have the SHA-256 of its copy inside that `.deb`
/// (read with libarchive). A break anywhere is a finding, never a pass.
///
///   AnchorOptions options;
///   options.packages = {"gcc-12"};
///   CATENA_TRY(VerifyReport report, verify_against_archive(options));
#include <atomic>
#include <string>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/pkg/archive_store.hpp"
#include "catena/pkg/dpkg.hpp"
#include "catena/pkg/verify.hpp"

namespace catena::pkg {

/// Caps on what a .deb may make catena read: members of the outer ar archive, entries of its
/// data archive, and bytes decompressed from it.
inline constexpr size_t kMaxDebMembers = 64;
inline constexpr size_t kMaxDebEntries = 1 << 20;
inline constexpr uint64_t kMaxDebDataBytes = 64ull << 30;

struct AnchorOptions {
  DpkgLocation location;
  /// Package names (or name:arch); with `toolchain`, the build toolchain's packages are added.
  std::vector<std::string> packages;
  bool toolchain = false;
  /// OpenPGP keyrings trusted to sign InRelease files (binary or ASCII-armoured). Default: the
  /// archive keyring of the machine running catena (/usr/share/keyrings/debian-archive-
  /// keyring.gpg), never a keyring under the inspected root: its apt's own trusted keys
  /// (trusted.gpg, trusted.gpg.d, Signed-By) that are not among these are reported
  /// (PKG_APT_FOREIGN_KEY), not trusted.
  std::vector<std::string> keyrings;
  std::string lists_dir;  // default: <root>/var/lib/apt/lists
  /// Where .deb files are looked for. Default: <root>/var/cache/apt/archives and `download_dir`.
  std::vector<std::string> deb_dirs;
  /// When set (and the root is "/"), a .deb found nowhere is fetched with `apt-get download`.
  std::string download_dir;
  /// The time Release files are judged at (Unix ns): 0 for now; the time an image was taken
  /// when anchoring a copy of a system (`--archive-snapshot`). A Release whose Valid-Until is
  /// before it is not believed (ARCHIVE_RELEASE_EXPIRED), as apt does.
  int64_t at_ns = 0;
  /// A Release whose Date is older than this at `at_ns` is reported (ARCHIVE_RELEASE_STALE)
  /// and still used. 0: no limit — Debian's stable archive signs its Release again only at a
  /// point release, months apart, so a fixed limit would fire on every stable system.
  unsigned max_release_age_days = 0;
  /// When set, a Release older (by its Date) than the newest one believed before for
  /// `system` is not believed (ARCHIVE_RELEASE_REPLAYED), and the Releases believed now are
  /// remembered. `system` names who is inspected: the host, and the root when not "/".
  ArchiveStore* store = nullptr;
  std::string system;
  unsigned jobs = 0;
  const std::atomic<bool>* cancel = nullptr;
};

/// Usage error for a named package that is not installed or an empty selection; NotFound when
/// there is no dpkg database.
[[nodiscard]] Result<VerifyReport> verify_against_archive(const AnchorOptions& options);

/// True when an installed package belongs to the build toolchain (compilers, binutils, make,
/// cmake, git, dpkg-dev, C library headers, interpreters).
bool is_toolchain_package(std::string_view name);

struct DebFile {
  std::string path;  // absolute, as installed ("/usr/bin/ls")
  Sha256 sha256{};
  uint64_t size = 0;
};

/// The regular files inside a .deb's data archive with their SHA-256 (hard links resolved).
/// Parse/LimitExceeded errors for a damaged or oversized archive.
[[nodiscard]] Result<std::vector<DebFile>> read_deb_files(const std::string& deb_path);

}  // namespace catena::pkg
