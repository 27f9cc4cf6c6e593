#pragma once
/// The dpkg database as `dpkg --verify` reads it: the `status` file (with the journal in
/// `updates/` applied), `info/<package>.list` and `.md5sums`, conffiles and diversions.
///
///   CATENA_TRY(DpkgDatabase db, DpkgDatabase::open({.root = "/"}));
///   for (const InstalledPackage& p : db.packages()) {
///     CATENA_TRY(std::string md5sums, db.read_info(p, "md5sums"));
///   }
///
/// Everything here is parsed as untrusted input: a damaged file gives an error naming the file
/// and line, never a crash, and a bad md5sums line is returned as such instead of ending the
/// parse (dpkg aborts the whole verification on one).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/result.hpp"
#include "catena/pkg/dpkg.hpp"

namespace catena::pkg {

/// A cap on the status file and each journal entry; a large real status file is a few MB.
inline constexpr uint64_t kMaxStatusBytes = 512ull * 1024 * 1024;

struct Conffile {
  std::string path;
  std::string hash;  // as recorded: 32 hex digits, or "newconffile" before first configuration
  bool obsolete = false;
  bool remove_on_upgrade = false;
};

struct InstalledPackage {
  std::string name;
  std::string architecture;  // empty for a package that was never unpacked
  std::string version;
  std::string multi_arch;           // "same", "foreign", "allowed" or empty
  uint64_t installed_size_kib = 0;  // Installed-Size (KiB, the package's own estimate); 0: none
  std::string want, flag, state;    // the three words of the Status field
  std::vector<Conffile> conffiles;
  size_t line = 0;  // where its paragraph starts in the status file (or journal entry)

  /// "libc6:amd64" for a Multi-Arch: same package, else the bare name: dpkg's own spelling,
  /// used for info files in a database of format 1 and in dpkg-query output.
  std::string qualified_name() const;
  /// True when dpkg has files of it on disk (any state but not-installed).
  bool has_files() const { return state != "not-installed" && !state.empty(); }
};

/// Parses status paragraphs. Parse error (with the line) for a paragraph without Package or
/// Status, a Status that is not three words, a malformed Conffiles line, or a text that does
/// not end in a newline (a truncated file: dpkg always ends it with one).
[[nodiscard]] Result<std::vector<InstalledPackage>> parse_status(std::string_view text);

struct Md5sumEntry {
  std::string path;  // absolute, as in the .list file
  std::string md5;   // 32 lower-case hex digits
};

struct BadLine {
  size_t line = 0;
  std::string reason;
};

struct Md5sums {
  std::vector<Md5sumEntry> entries;
  std::vector<BadLine> bad_lines;
};

/// Parses an md5sums file: "<32 hex digits><space><space or *><path relative to the root>".
/// Paths may contain spaces. A line with a bad hash or separator is kept in `bad_lines`.
Md5sums parse_md5sums(std::string_view text);

class DpkgDatabase {
 public:
  /// NotFound when there is no status file at the location; Parse or Io when it cannot be read.
  [[nodiscard]] static Result<DpkgDatabase> open(const DpkgLocation& location);

  const std::string& root() const { return root_; }
  const std::string& admin_dir() const { return admin_dir_; }
  /// Every package of the status file, in its order, journal entries applied.
  const std::vector<InstalledPackage>& packages() const { return packages_; }
  const std::vector<Diversion>& diversions() const { return diversions_; }
  /// The info file of a package ("list", "md5sums", "conffiles"): NotFound when absent.
  [[nodiscard]] Result<std::string> read_info(const InstalledPackage& package,
                                              std::string_view kind) const;
  std::string info_path(const InstalledPackage& package, std::string_view kind) const;

 private:
  std::string root_;
  std::string admin_dir_;
  bool multiarch_layout_ = true;  // info/format says 1: Multi-Arch: same names carry ":arch"
  std::vector<InstalledPackage> packages_;
  std::vector<Diversion> diversions_;
};

}  // namespace catena::pkg
