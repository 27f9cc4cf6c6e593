// The audit as a library call: what `catena audit` runs, without the command line.
#include "catena/audit/run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "catena/audit/packages.hpp"
#include "catena/core/fs.hpp"
#include "catena/pkg/verify.hpp"
#include "support/matchers.hpp"
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
  EXPECT_TRUE(has_rule(test::all(result->findings), "WORLD_WRITABLE_EXECUTABLE"));
  ASSERT_TRUE(result->access.has_value());
  EXPECT_TRUE(result->examined.access);
  EXPECT_FALSE(result->examined.packages);  // not asked for: its rules are skipped, not passed
  ASSERT_FALSE(result->steps.empty());
  EXPECT_EQ(result->steps.front().first, "access");
  // The host holds no build access: the standard is advice, and the skipped rules are counted.
  EXPECT_EQ(result->verdict.verdict, "advice");
  EXPECT_GT(result->verdict.skipped, 0u);
  // Every finding of every step is stored with the scan.
  auto stored = scan::stored_findings(*store_, result->scan.scan_id, {}).collect();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->size(), result->findings.size());

  // A second audit of the unchanged places reads nothing again.
  Audit again = request();
  auto second = run_audit(*store_, again);
  ASSERT_TRUE(second) << second.error().describe();
  EXPECT_EQ(second->scan.totals.files_read, 0u);
  EXPECT_EQ(second->scan.totals.files_reused, 2u);
  EXPECT_TRUE(has_rule(test::all(second->findings), "WORLD_WRITABLE_EXECUTABLE"));
}

// Three audits of a tree where a world-writable tool is added and another removed between them:
// each audit's findings are new or open against the one before, and what went away is resolved.
TEST_F(AuditRun, EachAuditIsComparedWithTheHostsEarlierOne) {
  const auto rule_paths = [](const std::vector<Finding>& findings) {
    std::set<std::string> out;
    for (const Finding& f : findings) {
      if (f.rule == "WORLD_WRITABLE_EXECUTABLE") out.insert(f.path);
    }
    return out;
  };
  const std::string open = dir_ / "tools/bin/open";
  const std::string added = dir_ / "tools/bin/added";
  Audit a = request();
  auto first = run_audit(*store_, a);
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_FALSE(first->comparison.has_value());  // the host's first audit

  dir_.write("tools/bin/added", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::chmod(added.c_str(), 0777), 0);
  Audit b = request();
  auto second = run_audit(*store_, b);
  ASSERT_TRUE(second) << second.error().describe();
  ASSERT_TRUE(second->comparison.has_value());
  const FindingComparison& c2 = *second->comparison;
  EXPECT_EQ(c2.scan_id, first->scan.scan_id);
  std::set<std::string> fresh, still;
  for (const Finding& f : test::all(second->findings)) {
    if (f.rule != "WORLD_WRITABLE_EXECUTABLE") continue;
    (c2.is_new(f) ? fresh : still).insert(f.path);
  }
  EXPECT_EQ(fresh, std::set<std::string>{added});
  EXPECT_EQ(still, std::set<std::string>{open});
  EXPECT_TRUE(rule_paths(c2.resolved).empty());
  EXPECT_EQ(c2.new_count + c2.open_count, second->findings.size());

  ASSERT_EQ(::unlink(open.c_str()), 0);
  Audit c = request();
  auto third = run_audit(*store_, c);
  ASSERT_TRUE(third) << third.error().describe();
  ASSERT_TRUE(third->comparison.has_value());
  EXPECT_EQ(third->comparison->scan_id, second->scan.scan_id);
  EXPECT_EQ(rule_paths(third->comparison->resolved), std::set<std::string>{open});
  for (const Finding& f : test::all(third->findings)) {
    if (f.path == added) {
      EXPECT_FALSE(third->comparison->is_new(f)) << f.rule;
    }
  }

  // Against the first audit instead: the added tool is new, the removed one resolved.
  Audit d = request();
  d.since = first->scan.scan_id;
  auto fourth = run_audit(*store_, d);
  ASSERT_TRUE(fourth) << fourth.error().describe();
  ASSERT_TRUE(fourth->comparison.has_value());
  EXPECT_EQ(fourth->comparison->scan_id, first->scan.scan_id);
  EXPECT_EQ(rule_paths(fourth->comparison->resolved), std::set<std::string>{open});
  for (const Finding& f : test::all(fourth->findings)) {
    if (f.path == added) {
      EXPECT_TRUE(fourth->comparison->is_new(f)) << f.rule;
    }
  }

  // An id that is no audit of this host is refused before anything is scanned.
  Audit e = request();
  e.since = 9999;
  auto refused = run_audit(*store_, e);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Usage);
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

namespace catena::audit {
namespace {

// A file as the scan hands it to on_file: the record and what the writer knows of it.
struct Seen {
  scan::FileRecord record;
  std::string package;
  bool owners_known = true;
  scan::SeenFile view() const {
    return {.record = record, .package = package, .owners_known = owners_known, .read_ns = 42};
  }
};

Seen seen(std::string_view path,
          uint32_t mode,
          std::string_view format,
          std::string_view package,
          const std::optional<Sha256>& sha256,
          const std::optional<Md5>& md5,
          bool changed = false) {
  Seen out;
  out.record.path = std::string(path);
  out.record.mode = mode;
  out.record.size = 7;
  out.record.sha256 = sha256;
  out.record.md5 = md5;
  out.record.format = std::string(format);
  out.record.package = std::string(package);
  out.record.changed = changed;
  out.package = std::string(package);
  return out;
}

TEST(ScanHarvest, JudgesUnownedExecutablesInTheToolDirectoriesAndKeepsDigests) {
  const std::optional<Sha256> sha = Sha256{1};
  const std::optional<Md5> md5 = Md5{2};
  const std::optional<Md5> none;
  ScanHarvest harvest({"/usr/bin", "/usr/lib"});
  harvest.add(seen("/usr/bin/dropped", 0755, "elf", "", sha, none).view());       // unowned
  harvest.add(seen("/usr/lib/x/payload.so", 0644, "elf", "", sha, none).view());  // ELF, no x bit
  harvest.add(seen("/usr/lib/x/notes.txt", 0644, "text", "", sha, none).view());  // not executable
  harvest.add(seen("/usr/bin/ls", 0755, "elf", "coreutils", sha, md5).view());    // owned
  harvest.add(seen("/usr/share/tool", 0755, "script", "", sha, none).view());     // not a tool dir
  harvest.add(seen("/usr/binary/tool", 0755, "elf", "", sha, none).view());       // a sibling name
  harvest.add(seen("/usr/bin/busy", 0755, "elf", "busybox", sha, md5, true).view());  // changed
  std::vector<std::string> unowned;
  for (const Finding& f : harvest.unowned) {
    EXPECT_EQ(f.rule, "UNOWNED_EXECUTABLE");
    EXPECT_EQ(f.sha256, sha);
    unowned.push_back(f.path);
  }
  EXPECT_EQ(unowned, (std::vector<std::string>{"/usr/bin/dropped", "/usr/lib/x/payload.so"}));
  ASSERT_EQ(harvest.digests.size(), 1u);  // the changed file's digest describes no moment
  EXPECT_EQ(harvest.digests[0].path, "/usr/bin/ls");
  EXPECT_EQ(harvest.digests[0].md5, *md5);
  EXPECT_EQ(harvest.digests[0].recorded_ns, 42);
}

TEST(ScanHarvest, WithoutAPackageDatabaseNothingIsJudgedUnowned) {
  const std::optional<Sha256> sha = Sha256{1};
  const std::optional<Md5> none;
  ScanHarvest harvest({"/usr/bin"});
  harvest.add(seen("/usr/bin/a", 0755, "elf", "", sha, none).view());
  Seen unknown = seen("/usr/bin/b", 0755, "elf", "", sha, none);
  unknown.owners_known = false;  // the owners could not be loaded: every file looks unowned
  harvest.add(unknown.view());
  harvest.add(seen("/usr/bin/c", 0755, "elf", "", sha, none).view());
  EXPECT_TRUE(harvest.owners_missing());
  EXPECT_TRUE(harvest.unowned.empty());
  EXPECT_TRUE(harvest.tool_dirs().empty());  // the package step walks them itself
}

TEST(ScanHarvest, OnlyToolDirectoriesTheScanSeesWholeAreCovered) {
  const std::vector<std::string> tools = pkg::system_tool_dirs("/", false);
  ASSERT_NE(std::find(tools.begin(), tools.end(), "/usr/bin"), tools.end());
  scan::ScanOptions whole;
  whole.roots = {"/usr/"};
  std::vector<std::string> covered = covered_tool_dirs(whole);
  EXPECT_NE(std::find(covered.begin(), covered.end(), "/usr/bin"), covered.end());
  for (const std::string& dir : covered) EXPECT_TRUE(dir.starts_with("/usr/")) << dir;

  scan::ScanOptions one;
  one.roots = {"/usr/bin"};
  EXPECT_EQ(covered_tool_dirs(one), std::vector<std::string>{"/usr/bin"});
  one.roots = {"/usr/bi"};
  EXPECT_TRUE(covered_tool_dirs(one).empty());

  // An exclusion could hide any file: the package step then walks for itself.
  whole.excludes = {"*.so"};
  EXPECT_TRUE(covered_tool_dirs(whole).empty());
}

}  // namespace
}  // namespace catena::audit
