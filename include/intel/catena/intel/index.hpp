#pragma once
/// Stored indicators in memory for the scan: one hash-table lookup per digest of each file.
///
///   IndicatorIndex index;
///   CATENA_TRY_STATUS(index.load(store));
///   for (const IndicatorMatch* m : index.find(Algorithm::Sha256, digest_bytes)) { ... }
#include <string>
#include <unordered_map>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/intel/intel_store.hpp"

namespace catena::intel {

class IndicatorIndex {
 public:
  [[nodiscard]] Status load(IntelStore& store);
  void add(intel::IndicatorRecord indicator);
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// Whether some indicator is an MD5 or a SHA-1, so that the scan computes that digest too.
  bool has_md5() const { return has_md5_; }
  bool has_sha1() const { return has_sha1_; }
  /// IOC_MATCH findings for a file with these digests (raw bytes; empty when not computed).
  std::vector<Finding> match(const std::string& path,
                             std::string_view sha256,
                             std::string_view md5,
                             std::string_view sha1) const;

 private:
  // Keyed by algorithm name + digest bytes, so an MD5 never matches a SHA-1's prefix.
  std::unordered_map<std::string, std::vector<intel::IndicatorRecord>> by_digest_;
  size_t count_ = 0;
  bool has_md5_ = false, has_sha1_ = false;
};

}  // namespace catena::intel
