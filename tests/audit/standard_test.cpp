// The standard: parsing catena.toml and judging findings rule by rule.
#include "catena/audit/standard.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "catena/audit/audit.hpp"
#include "catena/core/fs.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::audit {
namespace {

Finding finding(std::string rule, Severity severity, std::string path = "/usr/bin/x") {
  return Finding{.rule = std::move(rule), .severity = severity, .path = std::move(path)};
}

const RuleResult& result_of(const Verdict& verdict, std::string_view id) {
  for (const RuleResult& r : verdict.rules) {
    if (r.rule->id == id) return r;
  }
  ADD_FAILURE() << "no rule " << id;
  return verdict.rules.front();
}

Verdict judge(const Standard& standard,
              std::vector<Finding> findings,
              bool build_access,
              const Examined& examined = {}) {
  auto verdict = evaluate(standard, FindingStream(std::move(findings)), build_access, examined);
  EXPECT_TRUE(verdict) << verdict.error().describe();
  return verdict ? std::move(*verdict) : Verdict{};
}

// The report numbers of a rule's examples.
std::vector<uint64_t> ids(const RuleResult& result) {
  std::vector<uint64_t> out;
  for (const FindingRef& f : result.examples) out.push_back(f.id);
  return out;
}

TEST(Standard, BuildServerStandardFailsOnlyTheRulesItsFindingsBreak) {
  const Standard standard = build_server_standard();
  const std::vector<Finding> findings = {
      finding("IOC_MATCH", Severity::Critical),
      finding("PKG_FILE_MODIFIED", Severity::Low, "/usr/share/doc/x"),  // docs: below high
      finding("ACCESS_SSH_KEY_UNPROTECTED", Severity::Medium),          // reaches nothing critical
      finding("PE_CERT_PADDING", Severity::High, "/opt/x.dll"),
      finding("FILE_CHANGED_BY_PACKAGE", Severity::Info),
  };
  const Verdict verdict = judge(standard, findings, true);
  EXPECT_EQ(verdict.verdict, "fail");
  EXPECT_EQ(result_of(verdict, "no-indicator-match").status, RuleStatus::Fail);
  // Numbered as the report numbers them: most severe first.
  EXPECT_EQ(ids(result_of(verdict, "no-indicator-match")), std::vector<uint64_t>{1});
  EXPECT_EQ(result_of(verdict, "no-modified-packaged-executable").status, RuleStatus::Pass);
  EXPECT_EQ(result_of(verdict, "credentials-protected").status, RuleStatus::Pass);
  EXPECT_EQ(ids(result_of(verdict, "no-signature-anomaly")), std::vector<uint64_t>{2});
  EXPECT_EQ(result_of(verdict, "clean-baseline").status, RuleStatus::Pass);

  const Verdict advice = judge(standard, findings, false);
  EXPECT_EQ(advice.verdict, "advice");
  EXPECT_EQ(result_of(advice, "no-indicator-match").status, RuleStatus::Advice);
  EXPECT_EQ(judge(standard, {}, true).verdict, "pass");
}

TEST(Standard, RulesNoExaminedCheckCanBreakAreSkipped) {
  EXPECT_EQ(check_of("PKG_FILE_MODIFIED"), "packages");
  EXPECT_EQ(check_of("UNOWNED_EXECUTABLE"), "packages");
  EXPECT_EQ(check_of("ACCESS_SHARED_CREDENTIAL"), "access");
  EXPECT_EQ(check_of("FILE_ADDED"), "baselines");
  EXPECT_EQ(check_of("IOC_MATCH"), "scan");
  const Standard standard = build_server_standard();
  const Examined scan_only{.packages = false, .access = false, .baselines = false};
  const Verdict partial = judge(standard, {}, true, scan_only);
  EXPECT_EQ(partial.verdict, "pass");
  EXPECT_EQ(partial.skipped, 6u);
  EXPECT_EQ(result_of(partial, "no-modified-packaged-executable").status, RuleStatus::Skipped);
  EXPECT_EQ(result_of(partial, "credentials-protected").status, RuleStatus::Skipped);
  EXPECT_EQ(result_of(partial, "no-indicator-match").status, RuleStatus::Pass);
  // A finding still fails a rule whatever was examined; a rule mixing checks is examined when
  // one of them ran.
  const Verdict failed =
      judge(standard, {finding("PKG_FILE_MODIFIED", Severity::High)}, true, scan_only);
  EXPECT_EQ(result_of(failed, "no-modified-packaged-executable").status, RuleStatus::Fail);
  EXPECT_EQ(judge(standard, {}, true).skipped, 0u);
}

TEST(Standard, CustomRulesWithSeverityAndPaths) {
  auto config = parse_config(
      "[standard]\nname = \"acme\"\n"
      "[[standard.rule]]\nid = \"tools-signed\"\nfindings = [\"SIG_*\"]\n"
      "min_severity = \"medium\"\npaths = [\"/opt/*\"]\n");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->standard.name, "acme");
  ASSERT_EQ(config->standard.rules.size(), 1u);
  EXPECT_EQ(config->standard.rules[0].title, "tools-signed");
  EXPECT_FALSE(config->inventory.declared);
  const std::vector<Finding> findings = {
      finding("SIG_UNTRUSTED", Severity::High, "/usr/bin/tool"),  // outside the paths
      finding("SIG_UNTRUSTED", Severity::Low, "/opt/tool"),       // below the severity
      finding("SIG_SIGNATURE_INVALID", Severity::High, "/opt/a/b"),
  };
  const Verdict verdict = judge(config->standard, findings, true);
  EXPECT_EQ(ids(verdict.rules[0]), std::vector<uint64_t>{1});
  EXPECT_EQ(verdict.verdict, "fail");
}

TEST(Standard, CountsEveryFindingAndNamesTheFirstFew) {
  std::vector<Finding> findings;
  for (int i = 0; i < 1000; ++i) {
    findings.push_back(
        finding("WORLD_WRITABLE_EXECUTABLE", Severity::High, "/usr/bin/t" + std::to_string(i)));
  }
  findings.push_back(finding("IOC_MATCH", Severity::Critical, "/usr/bin/evil"));
  const Standard standard = build_server_standard();  // the verdict points into it
  const Verdict verdict = judge(standard, findings, true);
  const RuleResult& writable = result_of(verdict, "no-writable-tools");
  EXPECT_EQ(writable.status, RuleStatus::Fail);
  EXPECT_EQ(writable.count, 1000u);
  ASSERT_EQ(writable.examples.size(), kRuleExamples);
  // The IOC match is the most severe: #1; the writable tools follow in path order.
  EXPECT_EQ(writable.examples.front().id, 2u);
  EXPECT_EQ(writable.examples.front().path, "/usr/bin/t0");
  EXPECT_EQ(writable.examples.back().id, kRuleExamples + 1);
  EXPECT_EQ(result_of(verdict, "no-indicator-match").count, 1u);
}

TEST(Standard, ScanFullEveryIsADuration) {
  EXPECT_EQ(parse_config("")->full_every_ns, 7LL * 86400 * 1'000'000'000);
  EXPECT_EQ(parse_config("[scan]\nfull_every = \"12h\"\n")->full_every_ns,
            12LL * 3600 * 1'000'000'000);
  EXPECT_EQ(parse_config("[scan]\nfull_every = \"0\"\n")->full_every_ns, 0);
  EXPECT_EQ(*parse_duration("90m"), 5400LL * 1'000'000'000);
  EXPECT_FALSE(parse_duration("d"));
  EXPECT_FALSE(parse_duration("-1d"));
  EXPECT_FALSE(parse_duration("99999999999d"));
}

TEST(Standard, ConfigErrorsNameTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[standrd]\n", "unknown section [standrd]"},
      {"[standard]\nname = 1\n[[standard.rule]]\nid=\"a\"\nfindings=[\"X\"]\n", "standard.name"},
      {"[standard]\nname = \"x\"\n", "at least one"},
      {"[[standard.rule]]\nfindings = [\"X\"]\n", "needs an id"},
      {"[[standard.rule]]\nid = \"a\"\n", "needs findings"},
      {"[[standard.rule]]\nid = \"a\"\nfindings = [\"X\"]\n[[standard.rule]]\nid = \"a\"\n"
       "findings = [\"Y\"]\n",
       "two standard rules"},
      {"[[standard.rule]]\nid = \"a\"\nfindings = [\"X\"]\nmin_severity = \"severe\"\n",
       "min_severity"},
      {"[[standard.rule]]\nid = \"a\"\nfindings = \"X\"\n", "list of strings"},
      {"[build]\nhosts = [\"a\"]\nregistry = [\"b\"]\n", "unknown key build.registry"},
      {"x = [", "not valid TOML"},
      {"[scan]\nfull_every = \"7 days\"\n", "scan.full_every"},
      {"[scan]\nfull_every = 7\n", "must be a string"},
      {"[scan]\nfull_evry = \"7d\"\n", "unknown key scan.full_evry"},
  };
  for (const auto& [text, expected] : cases) {
    auto config = parse_config(text);
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().message.find(expected), std::string::npos)
        << text << " -> " << config.error().message;
  }
  auto defaults = parse_config("");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->standard.name, "build-server standard");
}

// A user's tool directories are places the user chose: followed only inside the home to the
// home owner's directories.
TEST(AuditPlaces, UserToolDirectoriesAreFollowedOnlyInsideTheHome) {
  test::TempDir home;
  home.mkdir("go");
  home.mkdir("go/bin");
  home.mkdir(".cargo");
  home.symlink(".cargo/bin", "/usr/share");
  home.mkdir(".local");
  home.write(".npmrc", "prefix=/\n");
  // The home belongs to a user other than the one who owns /bin (root), as in real life.
  if (::geteuid() == 0) {
    ASSERT_EQ(test::run_command({"chown", "-R", "65534:65534", home.path()}).exit_code, 0);
  }
  AuditPlaces places{.path_env = "", .homes = {home.path()}, .system_dirs = {}};
  const AuditRoots roots = audit_roots(places);
  const auto has_root = [&](const std::string& path) {
    return std::find(roots.roots.begin(), roots.roots.end(), path) != roots.roots.end();
  };
  auto real_home = canonical_path(home.path());
  ASSERT_TRUE(real_home);
  EXPECT_TRUE(has_root(*real_home + "/go/bin"));
  EXPECT_TRUE(has_root(*real_home + "/.local"));
  EXPECT_FALSE(has_root("/usr/share"));
  EXPECT_FALSE(has_root("/usr/bin"));
  std::set<std::string> refused;
  for (const auto& [place, why] : roots.refused) refused.insert(place);
  EXPECT_TRUE(refused.count(home / ".cargo/bin"));
  EXPECT_TRUE(refused.count("/bin")) << roots.refused.size();  // root's, not this home's owner's
  const std::vector<Finding> findings = refused_place_findings(roots);
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].rule, "AUDIT_PLACE_NOT_FOLLOWED");
  if (::geteuid() == 0) {
    // Inside the home but another user's directory: not followed either.
    home.mkdir(".deno");
    home.mkdir(".deno/bin");
    ASSERT_EQ(::chown((home / ".deno").c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown((home / ".deno/bin").c_str(), 1234, 1234), 0);
    const AuditRoots again = audit_roots(places);
    EXPECT_EQ(std::find(again.roots.begin(), again.roots.end(), *real_home + "/.deno/bin"),
              again.roots.end());
  }
}

}  // namespace
}  // namespace catena::audit
