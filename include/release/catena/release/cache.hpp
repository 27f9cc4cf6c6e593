#pragma once
/// What `release inspect` found inside a release file, kept by the file's SHA-256, so that a
/// release inspected before (the previous release a diff compares with, or the same one
/// inspected again) is not decompressed and analysed again: only its outer bytes are read and
/// hashed.
///
///   StoreCache cache(store);                       // any InspectionCache
///   InspectOptions options{.cache = &cache};
///   inspect("dist/", options);                     // fills the cache
///   inspect("dist/", options);                     // each archive reused: seen.reused
///
/// A part is reused only under the same key: the inspection code's version, every analyser's
/// version and inputs (YARA rules, blocked signers), the limits, the depth and whether all
/// digests were computed. Indicator matches are never kept: they are matched again, from the
/// kept MD5, SHA-1 and SHA-256 of every file, against the indicators of this run. A part that
/// hit a limit is not kept (the budget it ran out of belongs to its release), nor one whose
/// expanded bytes exceed what this release has left. The kept bytes are decoded as untrusted
/// input: anything that does not decode is a miss, and the file is inspected again.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/release/inspect.hpp"

namespace catena::release {

/// Raised whenever what inspect concludes about a file changes, so kept parts are not reused.
inline constexpr int kInspectionVersion = 2;

/// Called from several threads at once (a directory release's workers, a diff's two sides):
/// an implementation locks.
class InspectionCache {
 public:
  virtual ~InspectionCache() = default;
  /// The value kept for (content, key), or nullopt.
  virtual std::optional<std::string> get_part(const Sha256& content, const std::string& key) = 0;
  /// Keeps `value` for (content, key), replacing what was there. Failing to keep is silent:
  /// the cache only saves time.
  virtual void put_part(const Sha256& content, const std::string& key, std::string_view value) = 0;
};

/// One release file's part of an inspection: the file first, then everything inside it, with
/// paths relative to the file's own (a suffix: "" for the file, "!/member" inside it) and
/// depths relative to its own.
struct InspectionPart {
  std::vector<ReleaseFile> files;
  std::vector<DigestValues> digests;  // per file; empty digests for a non-file
  std::vector<Finding> findings;      // indicator matches left out
  uint64_t archives = 0;
  uint64_t expanded_bytes = 0;  // read out of its archives (Inspection::expanded_bytes)
  uint64_t budget_bytes = 0;    // drawn on the release's budget of expanded bytes
};

std::string encode_part(const InspectionPart& part);
/// Parse when the bytes are not a part this version wrote (truncated, altered, another version).
[[nodiscard]] Result<InspectionPart> decode_part(std::string_view bytes);

}  // namespace catena::release
