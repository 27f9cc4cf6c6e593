#pragma once
/// Which Debian package owns a path, from the dpkg database (`info/*.list` and `diversions`).
///
///   CATENA_TRY(auto owners, PackageOwners::load({}));       // the running system
///   std::string package = owners.owner_of("/usr/bin/ls");   // "coreutils"
///
/// Listed paths are canonicalised once at load time (merged-/usr: coreutils lists /bin/ls,
/// which lives at /usr/bin/ls), so lookups take canonical paths and cost one hash probe.
/// Diversions are applied as dpkg applies them: a diverted file belongs to the diverting
/// package, and the original package's file is found at the diverted-to path.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::pkg {

/// A cap on one .list or diversions file; the largest real .list files are a few MB.
inline constexpr uint64_t kMaxDpkgFileBytes = 256ull * 1024 * 1024;

struct DpkgLocation {
  std::string root = "/";  // the file system the database describes
  std::string admin_dir;   // default: <root>/var/lib/dpkg
};

/// `path` (absolute) under `root`: "/mnt/img" + "/usr/bin/ls"; `path` itself when root is "/".
std::string join_root(std::string_view root, std::string_view path);

struct Diversion {
  std::string from;
  std::string to;
  std::string by;  // package name, or ":" for a local diversion
};

/// Parses the `diversions` file: groups of three lines (from, to, package).
/// Parse error naming the line when a group is incomplete or a path is not absolute.
[[nodiscard]] Result<std::vector<Diversion>> parse_diversions(std::string_view text);

/// Splits a `.list` file into its absolute paths; Parse error naming the first bad line.
[[nodiscard]] Result<std::vector<std::string_view>> parse_list(std::string_view text);

class PackageOwners {
 public:
  /// Loads the database. NotFound when there is no dpkg database at the location (not a
  /// Debian system), Io/Parse when its info directory or diversions cannot be read. A .list
  /// file that cannot be read or parsed is skipped and named in damaged_lists(): one broken
  /// package must not take every other owner with it.
  /// With `only_under` (canonical directories), only paths within them are kept: a scan of one
  /// tree then indexes a few thousand paths instead of every file the system has.
  [[nodiscard]] static Result<PackageOwners> load(const DpkgLocation& location,
                                                  const std::vector<std::string>& only_under = {});

  /// The owning package(s) of a canonical absolute path, comma-separated ("libc6:amd64" keeps
  /// its architecture qualifier as dpkg prints it); empty when no package owns it.
  std::string owner_of(std::string_view path) const;
  bool owned(std::string_view path) const { return owners_.find(path) != owners_.end(); }

  size_t package_count() const { return packages_.size(); }
  size_t path_count() const { return owners_.size(); }
  /// "<path>: <reason>" for each .list file that was skipped.
  const std::vector<std::string>& damaged_lists() const { return damaged_lists_; }

 private:
  void add(std::string path, uint32_t package_index);

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::vector<std::string> packages_;
  std::vector<std::string> damaged_lists_;
  // Most paths have one owner; shared paths (directories, multiarch docs) keep extras aside.
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> owners_;
  std::unordered_map<std::string, std::vector<uint32_t>, Hash, std::equal_to<>> extra_owners_;
};

}  // namespace catena::pkg
