#pragma once
/// The standard a host that can reach the build must meet, and the verdict against it.
///
/// A standard is a list of rules; each names the finding rules (globs such as "PE_*") that
/// break it, optionally only at or above a severity and only under some paths. A host with
/// build access passes when no rule is broken; for a host without build access the same rules
/// are advice and the verdict is "advice".
///
/// The standard and the build inventory live in one TOML file (catena.toml):
///
///   [build]                          # see access::Inventory
///   hosts = ["build*.corp.example"]
///
///   [standard]
///   name = "acme build hosts"
///   [[standard.rule]]
///   id = "no-indicator-match"
///   title = "No indicator-of-compromise or YARA match"
///   findings = ["IOC_MATCH", "YARA_MATCH", "SIG_SIGNER_BLOCKED"]
///   min_severity = "info"            # optional (default info)
///   paths = ["/usr/*", "/opt/*"]     # optional fnmatch globs (default: everywhere)
///
/// A [standard] with rules replaces the built-in build-server standard entirely; unknown keys
/// are errors, so a misspelt rule never passes silently.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catena/access/access.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::audit {

struct StandardRule {
  std::string id;
  std::string title;
  std::vector<std::string> findings;  // finding rule ids or globs
  Severity min_severity = Severity::Info;
  std::vector<std::string> paths;  // empty: any path
};

struct Standard {
  std::string name;
  std::vector<StandardRule> rules;
};

/// The built-in build-server standard (docs/audit.md lists its rules).
Standard build_server_standard();

struct Config {
  access::Inventory inventory;
  Standard standard;  // the built-in one unless the file declares [standard]
  /// [scan] full_every: an incremental scan reads every file again when its series' last full
  /// pass is older than this ("7d", "12h", "90m", "0" for never). Default 7 days.
  int64_t full_every_ns = 7LL * 24 * 3600 * 1'000'000'000;
};

/// "7d", "12h", "90m", "45s" or "0" → nanoseconds; Parse error otherwise.
[[nodiscard]] Result<int64_t> parse_duration(std::string_view text);

/// Parses catena.toml ([build] and [standard]); Parse error naming the key or line.
[[nodiscard]] Result<Config> parse_config(std::string_view toml_text);

/// "skipped": none of the checks that can break the rule ran (packages with --no-dpkg, build
/// access with --no-access, baselines on a host that has none); it is neither pass nor fail.
enum class RuleStatus { Pass, Fail, Advice, Skipped };
std::string_view rule_status_name(RuleStatus status);  // "pass", "fail", "advice", "skipped"

/// Which of an audit's checks ran.
struct Examined {
  bool scan = true;
  bool packages = true;
  bool access = true;
  bool baselines = true;
};

/// The check whose findings a finding rule is: "scan", "packages", "access", "baselines" or
/// "provenance".
std::string_view check_of(std::string_view finding_rule);

struct RuleResult {
  const StandardRule* rule = nullptr;
  RuleStatus status = RuleStatus::Pass;
  uint64_t count = 0;                // every finding that breaks the rule
  std::vector<FindingRef> examples;  // the first kRuleExamples of them
};

/// How many findings a rule's result names; the count is always exact.
constexpr size_t kRuleExamples = 20;

struct Verdict {
  bool build_access = false;
  std::string verdict;  // "pass", "fail" (build-access hosts) or "advice" (others)
  std::vector<RuleResult> rules;
  size_t skipped = 0;  // rules not examined: a "pass" with skipped rules is incomplete
};

/// Judges findings against a standard one at a time, holding only counts and examples: the
/// verdict of an audit with millions of findings is exact and costs no more memory than one
/// with ten. `standard` must outlive the evaluation and its verdict.
class Evaluation {
 public:
  explicit Evaluation(const Standard& standard);
  /// The next finding in report order: the n-th call is finding n.
  void add(const Finding& finding);
  Verdict finish(bool build_access, const Examined& examined) const;

 private:
  const Standard* standard_;
  uint64_t seen_ = 0;
  std::vector<RuleResult> results_;
  // Which of the standard's rules name a finding rule id, by id: fnmatch once per id.
  std::unordered_map<std::string, std::vector<bool>> named_;
};

/// Judges `findings` against `standard`. A rule none of whose finding rules can come from an
/// examined check is skipped. Errors: the findings cannot be read.
[[nodiscard]] Result<Verdict> evaluate(const Standard& standard,
                                       const FindingStream& findings,
                                       bool build_access,
                                       const Examined& examined = {});

}  // namespace catena::audit
