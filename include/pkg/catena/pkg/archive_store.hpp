#pragma once
/// What the archive anchor keeps between runs: the newest signed Release it believed for each
/// inspected system, so that an older one shown later (a replayed archive state, validly
/// signed) is refused. Implemented by the SQLite store (store::Store).
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

#include "catena/core/result.hpp"

namespace catena::pkg {

/// A signed Release believed for `system` (who was inspected: a host name, and the root when
/// not "/"), named by its apt list file ("deb.debian.org_debian_dists_bookworm_InRelease"),
/// with the Date it carries.
struct ReleaseMark {
  std::string system;
  std::string release;
  int64_t date_ns = 0;
};

class ArchiveStore {
 public:
  virtual ~ArchiveStore() = default;
  /// The newest Date believed for each Release of `system`.
  [[nodiscard]] virtual Result<std::unordered_map<std::string, int64_t>> newest_releases(
      const std::string& system) = 0;
  /// Keeps each mark whose Date is newer than the one kept.
  [[nodiscard]] virtual Status remember_releases(std::span<const ReleaseMark> marks) = 0;
};

}  // namespace catena::pkg
