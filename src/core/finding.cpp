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

std::string evidence_of(const Finding& finding, std::string_view key) {
  for (const auto& [k, v] : finding.evidence) {
    if (k == key) return v;
  }
  return {};
}

std::string finding_subject(const Finding& f) {
  if (!f.path.empty()) return f.path;
  std::string package = evidence_of(f, "package");
  if (package.empty()) return {};
  if (std::string version = evidence_of(f, "version"); !version.empty()) package += " " + version;
  if (std::string size = evidence_of(f, "installed_size"); !size.empty()) {
    package += " (" + size + " installed)";
  }
  return package;
}

std::string finding_identity(const Finding& finding) {
  std::string identity = finding.rule;
  identity.push_back('\0');
  identity += finding.path;
  for (const auto& [key, value] : finding.evidence) {
    if (key != "package") continue;
    identity.push_back('\0');
    identity += value;
    break;
  }
  return identity;
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

void FindingCounts::add(const FindingCounts& other) {
  total += other.total;
  for (size_t i = 0; i < by_severity.size(); ++i) by_severity[i] += other.by_severity[i];
}

uint64_t FindingCounts::at_least(Severity severity) const {
  uint64_t out = 0;
  for (size_t i = static_cast<size_t>(severity); i < by_severity.size(); ++i) {
    out += by_severity[i];
  }
  return out;
}

std::optional<Severity> FindingCounts::max() const {
  for (size_t i = by_severity.size(); i-- > 0;) {
    if (by_severity[i] > 0) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

FindingStream::FindingStream(std::vector<Finding> findings) : held_(std::move(findings)) {
  sort_findings(held_);
  for (const Finding& f : held_) counts_.add(f.severity);
}

Status FindingStream::for_each(const Visitor& visit) const {
  if (source_) return source_(visit);
  for (const Finding& f : held_) visit(f);
  return {};
}

Result<std::vector<Finding>> FindingStream::collect() const {
  if (!source_) return held_;
  std::vector<Finding> out;
  out.reserve(counts_.total);
  CATENA_TRY_STATUS(for_each([&](const Finding& f) { out.push_back(f); }));
  return out;
}

}  // namespace catena
