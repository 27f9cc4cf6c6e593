#pragma once
/// What build-access discovery keeps: each host's discoveries.
///
/// The access step of an audit and `catena access` write through this interface. The SQLite store
/// (store::Store) implements it; a second backend (the fleet server's PostgreSQL) implements the
/// same interface.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catena/access/discovery.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::access {

/// Build access recorded per host, and the key its credential fingerprints are made with.
class AccessStore {
 public:
  virtual ~AccessStore() = default;

  /// The HMAC key of credential fingerprints. It is kept outside the database, in `key_path`
  /// (default: beside the store), created mode 0600 on first use, so a copied database alone
  /// cannot be used to test guesses against its fingerprints. A key that is not the one the
  /// store's fingerprints were made with, or a key file others can read, is an error.
  [[nodiscard]] virtual Result<std::string> access_key(const std::string& key_path) = 0;
  /// STORE_READABLE_BY_OTHERS when others can read the store (it holds fingerprints).
  [[nodiscard]] virtual std::optional<Finding> exposure_finding() const = 0;
  /// Replaces everything recorded about `host`'s build access with `records`.
  [[nodiscard]] virtual Status replace_access(const std::string& host,
                                              int64_t discovered_ns,
                                              const std::vector<Discovery>& records) = 0;
  /// The build access recorded for `host` (every host when empty), ordered by path.
  [[nodiscard]] virtual Result<std::vector<Discovery>> list_access(const std::string& host) = 0;
  /// For every credential recorded on a host other than `host`: its fingerprint and the hosts
  /// that hold it. One query, whatever the number of discoveries.
  [[nodiscard]] virtual Result<std::map<std::string, std::vector<std::string>>> credential_hosts(
      const std::string& host) = 0;
};

}  // namespace catena::access
