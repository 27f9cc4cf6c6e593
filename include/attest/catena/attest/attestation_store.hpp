#pragma once
/// What provenance keeps: verified build attestations.
///
/// `catena attest` and `provenance import` write through this interface. The SQLite store
/// (store::Store) implements it; a second backend (the fleet server's PostgreSQL) implements the
/// same interface.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::attest {

/// A digest an attestation names, and in what role.
struct AttestationDigest {
  Sha256 sha256{};
  std::string role;  // "subject", "material", "tool" or "library"
  std::string name;  // the path or name the attestation gives it
};

/// A stored build attestation: its envelope kept whole, with what it says indexed.
struct AttestationRecord {
  int64_t id = 0;
  Sha256 envelope_sha256{};
  std::string host;
  std::string builder_id;
  std::string step;
  std::optional<int64_t> started_ns;
  std::optional<int64_t> finished_ns;
  std::optional<int64_t> exit_code;
  int64_t stored_ns = 0;
  std::string source;  // where it came from: "attest" or the imported file
  std::vector<AttestationDigest> digests;
};

/// An attestation that names a digest, with the role and name it gives it.
struct AttestationHit {
  AttestationRecord attestation;  // without its digests list
  std::string role;
  std::string name;
};

/// Stored build attestations, indexed by the digests they name.
class AttestationStore {
 public:
  virtual ~AttestationStore() = default;

  /// Stores an attestation and its digests in one transaction; the same envelope stored twice
  /// is kept once (its existing id is returned).
  [[nodiscard]] virtual Result<int64_t> put_attestation(const AttestationRecord& record,
                                                        std::string_view envelope) = 0;
  /// Every attestation naming this SHA-256 (as subject, material, tool or library), newest
  /// first.
  [[nodiscard]] virtual Result<std::vector<AttestationHit>> find_attestations(
      const Sha256& sha256) = 0;
  /// Attestations of builds on `host`, newest first (every host when empty).
  [[nodiscard]] virtual Result<std::vector<AttestationRecord>> list_attestations(
      const std::string& host) = 0;
};

}  // namespace catena::attest
