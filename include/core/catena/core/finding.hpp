#pragma once
/// The one finding model every check reports through.
///
///   Finding f{.rule = "WORLD_WRITABLE_EXECUTABLE", .severity = Severity::High, .path = path,
///             .message = "..."};
///   f.add_evidence("mode", "0777");
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
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

/// The value of the first evidence named `key`, or empty.
std::string evidence_of(const Finding& finding, std::string_view key);

/// What a finding is about, for a person: its path; else its package with version and
/// installed size ("xtrader 7.17 (3.1 MiB installed)"); else empty.
std::string finding_subject(const Finding& finding);

/// Orders findings most severe first, then by rule and path, so output is stable.
void sort_findings(std::vector<Finding>& findings);

/// What makes findings of two runs the same finding: its rule, its path and the package it is
/// about (a finding about a package has no path). Evidence that changes from run to run
/// (sizes, times, digests) is left out, so that a finding still there is "open", not "new".
std::string finding_identity(const Finding& finding);

/// How a run's findings compare with an earlier run of the same host: each finding is "new"
/// or "open" (the earlier run had it), and the earlier run's findings not found now are
/// "resolved".
struct FindingComparison {
  int64_t scan_id = 0;  // the earlier run
  int64_t started_ns = 0;
  std::unordered_set<std::string> earlier;  // finding_identity of each earlier finding
  std::vector<Finding> resolved;            // most severe first
  uint64_t new_count = 0;
  uint64_t open_count = 0;

  bool is_new(const Finding& finding) const { return !earlier.contains(finding_identity(finding)); }
};

/// The most severe finding's severity, or nullopt when there are none.
std::optional<Severity> max_severity(const std::vector<Finding>& findings);

/// A finding named by its number in a report (1 = the first, most severe), with what a reader
/// needs to recognise it: how a standard's rule points at the findings that break it.
struct FindingRef {
  uint64_t id = 0;
  std::string rule;
  std::string path;
};

/// How many findings there are of each severity: what a verdict and an exit code need, without
/// holding the findings.
struct FindingCounts {
  uint64_t total = 0;
  std::array<uint64_t, 5> by_severity{};

  void add(Severity severity) {
    ++total;
    ++by_severity[static_cast<size_t>(severity)];
  }
  void add(const FindingCounts& other);
  /// How many are at or above `severity`.
  uint64_t at_least(Severity severity) const;
  std::optional<Severity> max() const;
};

/// A report's findings, most severe first (the order of sort_findings), visited one at a time.
/// A scan or an audit may have millions: theirs are read from the store as they are visited and
/// never held together. A check of a few files holds its own.
///
///   FindingStream stream(std::move(findings));        // held, sorted here
///   CATENA_TRY_STATUS(stream.for_each([&](const Finding& f) { print(f); }));
class FindingStream {
 public:
  using Visitor = std::function<void(const Finding&)>;
  /// Calls the visitor with each finding in order; an error when they cannot be read.
  using Source = std::function<Status(const Visitor&)>;

  FindingStream() = default;
  FindingStream(std::vector<Finding> findings);  // NOLINT: a held list is a stream
  FindingStream(FindingCounts counts, Source source)
      : counts_(counts), source_(std::move(source)) {}

  const FindingCounts& counts() const { return counts_; }
  uint64_t size() const { return counts_.total; }
  bool empty() const { return counts_.total == 0; }
  [[nodiscard]] Status for_each(const Visitor& visit) const;
  /// Every finding in one vector: for tests and for reports known to be small.
  [[nodiscard]] Result<std::vector<Finding>> collect() const;

 private:
  FindingCounts counts_;
  std::vector<Finding> held_;
  Source source_;
};

}  // namespace catena
