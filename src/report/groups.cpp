#include <algorithm>
#include <map>
#include <tuple>

#include "catena/report/render.hpp"

namespace catena::report {
namespace {

std::string evidence_of(const Finding& f, std::string_view key) {
  for (const auto& [k, v] : f.evidence) {
    if (k == key) return v;
  }
  return {};
}

std::string parent_directory(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return path;
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::vector<FindingGroup> group_findings(const std::vector<Finding>& findings) {
  // (rule, by, key) -> group, in the order first seen.
  std::map<std::tuple<std::string, std::string, std::string>, size_t> index;
  std::vector<FindingGroup> groups;
  for (size_t n = 0; n < findings.size(); ++n) {
    const Finding& f = findings[n];
    std::string by, key;
    if (std::string package = evidence_of(f, "package"); !package.empty()) {
      by = "package";
      key = std::move(package);
    } else if (std::string signer = evidence_of(f, "signer"); !signer.empty()) {
      by = "signer";
      key = std::move(signer);
    } else if (!f.path.empty()) {
      by = "directory";
      key = parent_directory(f.path);
    } else {
      by = "host";
    }
    auto [it, added] = index.try_emplace({f.rule, by, key}, groups.size());
    if (added) {
      groups.push_back({.rule = f.rule,
                        .severity = f.severity,
                        .by = by,
                        .key = key,
                        .explanation = evidence_of(f, "explanation")});
    }
    FindingGroup& group = groups[it->second];
    group.severity = std::max(group.severity, f.severity);
    // An explanation stands for the group only when every member gives the same one.
    if (group.explanation != evidence_of(f, "explanation")) group.explanation.clear();
    group.members.push_back(n + 1);
  }
  std::stable_sort(groups.begin(), groups.end(), [](const FindingGroup& a, const FindingGroup& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.members.size() != b.members.size()) return a.members.size() > b.members.size();
    return std::tie(a.rule, a.by, a.key) < std::tie(b.rule, b.by, b.key);
  });
  return groups;
}

}  // namespace catena::report
