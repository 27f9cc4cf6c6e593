#pragma once
/// The catalogue of finding rules: id, default severity and a one-line summary. Every rule a
/// check emits is listed here and in docs/rules.md (a test keeps the two in step).
#include <optional>
#include <span>
#include <string_view>

#include "catena/core/finding.hpp"

namespace catena {

struct RuleInfo {
  std::string_view id;
  Severity severity;
  std::string_view summary;
};

std::span<const RuleInfo> rule_catalogue();
/// The catalogue entry of `id`, or nullopt for an unknown rule.
std::optional<RuleInfo> find_rule(std::string_view id);

/// A finding of a catalogued rule, with the catalogue's severity and summary as its message.
/// `id` must be in the catalogue (a programmer error otherwise).
Finding make_finding(std::string_view id, std::string path);

}  // namespace catena
