#pragma once
/// What baselines keep: a named, frozen scan of a host and the configuration that chose it.
///
/// The baseline commands write through this interface (the scan itself through scan::ScanStore).
/// The SQLite store (store::Store) implements it; a second backend (the fleet server's PostgreSQL)
/// implements the same interface.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::baseline {

/// A named baseline: a frozen scan of this host's selected paths, the configuration that chose
/// them and the package versions installed when it was taken.
struct BaselineRecord {
  int64_t id = 0;
  std::string name;
  std::string host;
  int64_t scan_id = 0;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
  std::string config;    // JSON
  std::string packages;  // JSON object: qualified package name -> version
};

/// An export of a baseline as a store has seen it: the newest of each (host, name, signer),
/// so that an older export signed by the same key is known for a rollback.
struct ExportMark {
  std::string host;
  std::string name;
  std::string key_id;  // the signer's (catena key id)
  int64_t sequence = 0;
  int64_t exported_ns = 0;
};

/// Named baselines of hosts.
class BaselineStore {
 public:
  virtual ~BaselineStore() = default;

  /// Creates the baseline, or moves an existing one of the same host and name to the record's
  /// scan, config and packages (keeping its creation time). Returns its id.
  [[nodiscard]] virtual Result<int64_t> put_baseline(const BaselineRecord& baseline) = 0;
  /// NotFound when this host has no baseline of that name.
  [[nodiscard]] virtual Result<BaselineRecord> get_baseline(const std::string& host,
                                                            const std::string& name) = 0;
  [[nodiscard]] virtual Result<std::vector<BaselineRecord>> list_baselines() = 0;
  /// NotFound when there is no such baseline.
  [[nodiscard]] virtual Status delete_baseline(const std::string& host,
                                               const std::string& name) = 0;
  /// The newest export of that baseline by that signer this store has seen (made or checked).
  [[nodiscard]] virtual Result<std::optional<ExportMark>> newest_export(
      const std::string& host, const std::string& name, const std::string& key_id) = 0;
  /// Keeps `mark` when it is newer (by sequence) than the one kept.
  [[nodiscard]] virtual Status remember_export(const ExportMark& mark) = 0;
};

}  // namespace catena::baseline
