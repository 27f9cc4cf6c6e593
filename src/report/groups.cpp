#include <algorithm>

#include "catena/report/render.hpp"

namespace catena::report {
namespace {

std::string parent_directory(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return path;
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void FindingGrouper::add(uint64_t number, const Finding& f) {
  std::string by, key, within;
  std::string package = evidence_of(f, "package");
  if (!package.empty() && !f.path.empty()) {
    by = "package";
    key = std::move(package);
    within = evidence_of(f, "group_root");
  } else if (std::string signer = evidence_of(f, "signer"); !signer.empty()) {
    by = "signer";
    key = std::move(signer);
  } else if (!f.path.empty()) {
    by = "directory";
    key = parent_directory(f.path);
  } else {
    by = "rule";
  }
  auto [it, added] = index_.try_emplace({f.rule, by, key, within}, groups_.size());
  if (added) {
    groups_.push_back({.rule = f.rule,
                       .severity = f.severity,
                       .by = std::move(by),
                       .key = std::move(key),
                       .within = std::move(within),
                       .explanation = evidence_of(f, "explanation")});
  }
  FindingGroup& group = groups_[it->second];
  group.severity = std::max(group.severity, f.severity);
  // An explanation stands for the group only when every member gives the same one.
  if (!group.explanation.empty() && group.explanation != evidence_of(f, "explanation")) {
    group.explanation.clear();
  }
  if (all_numbers_ || group.count < keep_) group.members.push_back(number);
  if (group.count < keep_) group.first.push_back(f);
  ++group.count;
}

std::vector<FindingGroup> FindingGrouper::finish() && {
  std::stable_sort(
      groups_.begin(), groups_.end(), [](const FindingGroup& a, const FindingGroup& b) {
        if (a.severity != b.severity) return a.severity > b.severity;
        if (a.count != b.count) return a.count > b.count;
        return std::tie(a.rule, a.by, a.key, a.within) < std::tie(b.rule, b.by, b.key, b.within);
      });
  return std::move(groups_);
}

std::vector<FindingGroup> group_findings(const std::vector<Finding>& findings) {
  FindingGrouper grouper(0, true);
  for (size_t n = 0; n < findings.size(); ++n) grouper.add(n + 1, findings[n]);
  return std::move(grouper).finish();
}

}  // namespace catena::report
