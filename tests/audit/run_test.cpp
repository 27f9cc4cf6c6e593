// The audit as a library call: what `catena audit` runs, without the command line.
#include "catena/audit/run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "catena/core/fs.hpp"
#include "support/tree.hpp"

namespace catena::audit {
namespace {

bool has_rule(const std::vector<Finding>& findings, std::string_view rule) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.rule == rule; });
}

class AuditRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("tools/bin/tool", "#!/bin/sh\necho tool\n", 0755);
    dir_.write("tools/bin/open", "#!/bin/sh\necho open\n", 0755);
    ASSERT_EQ(::chmod((dir_ / "tools/bin/open").c_str(), 0777), 0);
    dir_.mkdir("home");
    auto opened = store::Store::open(dir_ / "c.db", store::Store::Access::ReadWrite);
    ASSERT_TRUE(opened) << opened.error().describe();
    store_ = std::move(*opened);
  }

  Audit request() {
    Audit a;
    a.places =
        AuditPlaces{.path_env = "", .homes = {dir_ / "home"}, .system_dirs = {dir_ / "tools"}};
    a.packages = false;
    a.config = Config{.standard = build_server_standard()};
    // The files were written a moment ago: without this, the racy window (2 s) re-reads them.
    a.session.scan.racy_window_ns = 0;
    return a;
  }

  test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AuditRun, ScansLooksForAccessStoresAndJudges) {
  Audit a = request();
  auto result = run_audit(*store_, a);
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_FALSE(result->interrupted);
  EXPECT_TRUE(has_rule(result->findings, "WORLD_WRITABLE_EXECUTABLE"));
  ASSERT_TRUE(result->access.has_value());
  EXPECT_TRUE(result->examined.access);
  EXPECT_FALSE(result->examined.packages);  // not asked for: its rules are skipped, not passed
  ASSERT_FALSE(result->steps.empty());
  EXPECT_EQ(result->steps.front().first, "access");
  // The host holds no build access: the standard is advice, and the skipped rules are counted.
  EXPECT_EQ(result->verdict.verdict, "advice");
  EXPECT_GT(result->verdict.skipped, 0u);
  // Every finding of every step is stored with the scan.
  auto stored = store_->findings_of(result->scan.scan_id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->size(), result->findings.size());

  // A second audit of the unchanged places reads nothing again.
  Audit again = request();
  auto second = run_audit(*store_, again);
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ(second->scan.totals.files_read, 0u);
  EXPECT_EQ(second->scan.totals.files_reused, 2u);
  EXPECT_TRUE(has_rule(second->findings, "WORLD_WRITABLE_EXECUTABLE"));
}

TEST_F(AuditRun, AnInterruptedScanRunsNoLaterStep) {
  Audit a = request();
  std::atomic<bool> cancel{true};
  a.session.scan.cancel = &cancel;
  auto result = run_audit(*store_, a);
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_TRUE(result->interrupted);
  EXPECT_TRUE(result->steps.empty());
  EXPECT_FALSE(result->access.has_value());
  // Nothing judged the access, so the host is held to the standard (not advised), and no rule
  // passed: every one is skipped.
  EXPECT_TRUE(result->verdict.build_access);
  EXPECT_EQ(result->verdict.skipped, result->verdict.rules.size());
}

TEST_F(AuditRun, NoPlaceToScanIsAUsageError) {
  Audit a = request();
  a.places.system_dirs = {dir_ / "absent"};
  auto result = run_audit(*store_, a);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Usage);
}

}  // namespace
}  // namespace catena::audit
