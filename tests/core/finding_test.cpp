#include "catena/core/finding.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "catena/core/rules.hpp"
#include "catena/core/time.hpp"
#include "support/matchers.hpp"

namespace catena {
namespace {

TEST(Severity, ParsesNamesInAnyCase) {
  EXPECT_THAT(parse_severity("HIGH"), test::IsOkAndHolds(Severity::High));
  EXPECT_THAT(parse_severity("info"), test::IsOkAndHolds(Severity::Info));
  EXPECT_THAT(parse_severity("severe"), test::HasError(ErrorCode::Usage));
}

TEST(SortFindings, MostSevereFirstThenRuleThenPath) {
  std::vector<Finding> findings = {{.rule = "B", .severity = Severity::Low, .path = "/z"},
                                   {.rule = "A", .severity = Severity::Critical, .path = "/b"},
                                   {.rule = "B", .severity = Severity::Low, .path = "/a"},
                                   {.rule = "A", .severity = Severity::Low, .path = "/c"}};
  sort_findings(findings);
  EXPECT_EQ(findings[0].path, "/b");
  EXPECT_EQ(findings[1].path, "/c");
  EXPECT_EQ(findings[2].path, "/a");
  EXPECT_EQ(findings[3].path, "/z");
  EXPECT_EQ(max_severity(findings), Severity::Critical);
  EXPECT_EQ(max_severity({}), std::nullopt);
}

TEST(RuleCatalogue, EveryRuleIsDocumented) {
  std::ifstream docs(std::string(CATENA_SOURCE_DIR) + "/docs/rules.md");
  ASSERT_TRUE(docs.good());
  std::stringstream text;
  text << docs.rdbuf();
  for (const RuleInfo& rule : rule_catalogue()) {
    EXPECT_NE(text.str().find("`" + std::string(rule.id) + "`"), std::string::npos) << rule.id;
  }
}

TEST(MakeFinding, TakesSeverityAndSummaryFromTheCatalogue) {
  const Finding f = make_finding("FILE_VANISHED", "/x");
  EXPECT_EQ(f.severity, Severity::Info);
  EXPECT_EQ(f.path, "/x");
  EXPECT_EQ(f.message, find_rule("FILE_VANISHED")->summary);
  EXPECT_EQ(make_finding("WORLD_WRITABLE_DIR", "/d").severity, Severity::High);
}

TEST(ErrnoText, NamesTheError) {
  EXPECT_EQ(errno_text(ENOENT), "No such file or directory");
  EXPECT_FALSE(errno_text(99999).empty());
}

TEST(FormatRfc3339, FormatsUtcWithNanoseconds) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
}

}  // namespace
}  // namespace catena
