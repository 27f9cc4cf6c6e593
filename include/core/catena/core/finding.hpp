#pragma once
/// The one finding model every check reports through.
///
///   Finding f{.rule = "WORLD_WRITABLE_EXECUTABLE", .severity = Severity::High, .path = path,
///             .message = "..."};
///   f.add_evidence("mode", "0777");
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/result.hpp"

namespace catena {

enum class Severity { Info = 0, Low = 1, Medium = 2, High = 3, Critical = 4 };

std::string_view severity_name(Severity severity);
/// Accepts info, low, medium, high, critical (any case); Usage error otherwise.
[[nodiscard]] Result<Severity> parse_severity(std::string_view text);

struct Finding {
  std::string rule;  // stable UPPER_SNAKE id, documented in docs/rules.md
  Severity severity = Severity::Info;
  std::string path;  // exact bytes; empty for host-level findings
  std::optional<Sha256> sha256;
  std::string message;  // one sentence a person understands
  std::vector<std::pair<std::string, std::string>> evidence;

  Finding& add_evidence(std::string key, std::string value) {
    evidence.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

/// Orders findings most severe first, then by rule and path, so output is stable.
void sort_findings(std::vector<Finding>& findings);

/// The most severe finding's severity, or nullopt when there are none.
std::optional<Severity> max_severity(const std::vector<Finding>& findings);

}  // namespace catena
