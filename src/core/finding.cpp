#include "catena/core/finding.hpp"

#include <algorithm>
#include <cctype>

namespace catena {

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::Info:
      return "info";
    case Severity::Low:
      return "low";
    case Severity::Medium:
      return "medium";
    case Severity::High:
      return "high";
    case Severity::Critical:
      return "critical";
  }
  return "info";
}

Result<Severity> parse_severity(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (Severity s :
       {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical}) {
    if (lower == severity_name(s)) return s;
  }
  return make_error(ErrorCode::Usage, "unknown severity '" + std::string(text) +
                                          "' (expected info, low, medium, high or critical)");
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.rule != b.rule) return a.rule < b.rule;
    return a.path < b.path;
  });
}

std::optional<Severity> max_severity(const std::vector<Finding>& findings) {
  std::optional<Severity> out;
  for (const Finding& f : findings) {
    if (!out || f.severity > *out) out = f.severity;
  }
  return out;
}

}  // namespace catena
