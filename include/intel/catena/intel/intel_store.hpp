#pragma once
/// What intelligence keeps: indicator feeds and blocked signers.
///
/// `catena intel` writes through this interface; a scan loads what it matches from it. The SQLite
/// store (store::Store) implements it; a second backend (the fleet server's PostgreSQL) implements
/// the same interface.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::intel {

/// An imported indicator feed.
struct FeedRecord {
  int64_t id = 0;
  std::string name;
  std::string source;  // the file it was imported from
  std::string format;  // plain, csv, stix
  int64_t imported_ns = 0;
  uint64_t indicators = 0;
};

/// One file-hash indicator of a feed.
struct IndicatorRecord {
  std::string feed;       // the feed's name (ignored when importing)
  std::string algorithm;  // md5, sha1, sha256
  std::string digest;     // raw bytes
  std::string label;
  std::string reference;
};

/// A blocked signing certificate: by SHA-256 thumbprint, or by issuer and serial.
struct BlockedSignerRecord {
  std::string feed;        // the feed's name (ignored when importing)
  std::string thumbprint;  // lower-case hex; empty when named by issuer and serial
  std::string issuer;      // as catena prints names (RFC 2253); empty with a thumbprint
  std::string serial;      // lower-case hex without leading zeros; empty with a thumbprint
  std::string label;
};

/// An indicator that names a stored content.
struct IndicatorHit {
  IndicatorRecord indicator;
  Sha256 content{};
};

/// A feed written a row at a time in one transaction (for feeds too large to hold): nothing is
/// visible until commit(), and destroying it uncommitted leaves the store as it was.
class FeedImport {
 public:
  virtual ~FeedImport() = default;
  /// Adds an indicator; one already in the feed (same algorithm and digest) is counted, not
  /// added.
  [[nodiscard]] virtual Status add(IndicatorRecord indicator) = 0;
  /// Commits, recording the feed's format as finally known; returns how many indicators were
  /// duplicates.
  [[nodiscard]] virtual Result<uint64_t> commit(const std::string& format) = 0;
};

/// Indicator feeds, their indicators and blocked signers.
class IntelStore {
 public:
  virtual ~IntelStore() = default;

  /// Begins replacing the feed named feed.name.
  [[nodiscard]] virtual Result<std::unique_ptr<FeedImport>> begin_feed_import(
      const FeedRecord& feed) = 0;
  /// Stores a feed and its indicators in one transaction, replacing a feed of the same name.
  [[nodiscard]] virtual Result<int64_t> import_feed(
      const FeedRecord& feed, std::span<const IndicatorRecord> indicators) = 0;
  /// Stores a feed of blocked signers in one transaction, replacing a feed of the same name.
  [[nodiscard]] virtual Result<int64_t> import_signer_feed(
      const FeedRecord& feed, std::span<const BlockedSignerRecord> signers) = 0;
  [[nodiscard]] virtual Status for_each_blocked_signer(
      const std::function<void(BlockedSignerRecord&&)>& visit) = 0;
  [[nodiscard]] virtual Result<std::vector<FeedRecord>> list_feeds() = 0;
  /// NotFound when there is no feed of that name.
  [[nodiscard]] virtual Status remove_feed(const std::string& name) = 0;
  /// Every indicator of every feed, streamed.
  [[nodiscard]] virtual Status for_each_indicator(
      const std::function<void(IndicatorRecord&&)>& visit) = 0;
  /// Every indicator that names a stored content: a SHA-256 one by the content's key, an MD5 or
  /// SHA-1 one by the digest some scan recorded for the content. No file is read.
  [[nodiscard]] virtual Status for_each_indicator_hit(
      const std::function<void(IndicatorHit&&)>& visit) = 0;
  /// How many stored indicators use `algorithm` ("md5", "sha1", "sha256").
  [[nodiscard]] virtual Result<uint64_t> count_indicators(const std::string& algorithm) = 0;
};

}  // namespace catena::intel
