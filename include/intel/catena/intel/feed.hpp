#pragma once
/// Indicator feeds: file hashes published after an attack, read from plain hash lists, CSV with
/// a header, STIX 2.1 bundles and MISP event JSON.
///
///   CATENA_TRY(FeedContents feed, parse_feed(text, FeedFormat::Auto, {}));
///   for (const Indicator& i : feed.indicators) { ... }
///
/// A feed is read whole or not at all: the first malformed line (or JSON path) is an error that
/// names it, so that an import stores nothing from a feed it could not fully understand. What a
/// format allows to be skipped (comments, blank lines, STIX objects that are not indicators) is
/// counted, never silently dropped.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::intel {

enum class HashAlgorithm { Md5, Sha1, Sha256 };
std::string_view algorithm_name(HashAlgorithm algorithm);

struct Indicator {
  HashAlgorithm algorithm = HashAlgorithm::Sha256;
  std::string digest;     // raw bytes (16, 20 or 32)
  std::string label;      // what the file is, as the feed describes it
  std::string reference;  // where the feed says it comes from (publisher, URL)
};

enum class FeedFormat { Auto, Plain, Csv, Stix, Misp, Json /* STIX or MISP, by content */ };
std::string_view feed_format_name(FeedFormat format);

struct FeedOptions {
  std::string column;  // CSV: the hash column's header name; empty to find it
  /// MISP: only attributes marked for detection (to_ids); by default all, those not marked
  /// counted in FeedContents::not_for_detection.
  bool to_ids_only = false;
  /// STIX: keep indicators whose valid_until has passed (by default left out, counted).
  bool include_expired = false;
  int64_t now_ns = 0;  // what "passed" is measured against; 0: the clock
};

struct FeedContents {
  FeedFormat format = FeedFormat::Plain;
  std::string shape;                  // JSON: what was found ("bare event", "bundle", ...)
  std::vector<Indicator> indicators;  // duplicates removed (same algorithm and digest)
  uint64_t duplicates = 0;
  uint64_t skipped = 0;  // every entry left out: comments and blank lines, other types, ...
  std::map<std::string, uint64_t> skipped_by;  // JSON feeds: why ("deleted", "not a file hash")
  uint64_t hashes_skipped = 0;                 // of those, entries that held a file hash
  uint64_t not_for_detection = 0;              // MISP: imported, but not marked to_ids
};

/// Reads a feed. Auto: JSON is MISP when it is an array, has "Event" or "response", or is a
/// bare MISP event (Attribute, Object, or info with uuid/date); else STIX. A first line with a
/// comma and no bare hash is CSV, otherwise a plain list. Errors are Parse with "line N: ..."
/// or "objects[3].pattern: ...", "Event.Attribute[2].value: ...". A JSON feed whose every file
/// hash was left out (deleted, not for detection) is an error that says so: an import never
/// takes nothing in silence.
[[nodiscard]] Result<FeedContents> parse_feed(std::string_view text,
                                              FeedFormat format,
                                              const FeedOptions& options);

inline constexpr size_t kMaxFeedLine = 1 << 20;

struct StreamStats {
  FeedFormat format = FeedFormat::Plain;
  uint64_t indicators = 0;  // given to the sink (duplicates included)
  uint64_t skipped = 0;
};

/// A plain or CSV feed read from `in` a chunk at a time, each indicator handed to `sink` as it
/// is read: memory stays bounded however long the feed. `format` Auto decides from the first
/// line (Plain or CSV; JSON feeds are read whole with parse_feed). The sink deduplicates. A
/// line over kMaxFeedLine bytes is an error.
[[nodiscard]] Result<StreamStats> stream_feed(std::istream& in,
                                              FeedFormat format,
                                              const FeedOptions& options,
                                              const std::function<Status(Indicator&&)>& sink);

/// The algorithm of a hex digest by its length (32, 40, 64), with its bytes; case-insensitive.
[[nodiscard]] Result<std::pair<HashAlgorithm, std::string>> parse_hex_digest(std::string_view hex);

}  // namespace catena::intel
