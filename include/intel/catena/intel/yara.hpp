#pragma once
/// YARA rules (libyara), compiled once per run and applied to the bytes the scan already holds.
///
///   CATENA_TRY(YaraRules rules, YaraRules::load({"rules/"}));
///   CATENA_TRY(std::vector<YaraMatch> hits, rules.scan(bytes, /*timeout_seconds=*/10));
///
/// Paths are rule files or directories of them (searched recursively for *.yar, *.yara and
/// compiled *.yarc files), source or compiled (recognised by content). Sources are compiled
/// together in one namespace per file; a source that does not compile is an error naming the
/// file and line. scan() may be called from several threads at once (up to libyara's 32).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::intel {

struct YaraMatch {
  std::string rule;
  std::string ns;  // the rule's namespace (its file for sources)
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> meta;  // in declaration order
};

class YaraRules {
 public:
  [[nodiscard]] static Result<YaraRules> load(const std::vector<std::string>& paths);
  /// Matches of every rule set on `bytes`. Interrupted (timeout) or LimitExceeded (too many
  /// concurrent scans, too many matches) when libyara gives up.
  [[nodiscard]] Result<std::vector<YaraMatch>> scan(std::span<const std::byte> bytes,
                                                    int timeout_seconds) const;
  size_t rule_count() const;
  /// SHA-256 (hex) over the rule files as loaded: what a stored YARA result depends on.
  const std::string& identity() const;

  struct Impl;
  std::shared_ptr<Impl> impl;
};

}  // namespace catena::intel
