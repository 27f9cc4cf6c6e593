// catena packages verify end to end: output, exit codes, and damaged databases.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/dpkg_root.hpp"
#include "support/run.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;

class PackagesCli : public ::testing::Test {
 protected:
  test::RunResult verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"packages", "verify", "--root", root_.path(),
                                     "--no-repository"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_catena(args);
  }
  test::FakeDpkgRoot root_;
};

TEST_F(PackagesCli, ReportsAsJsonWithAVerdictAndExitCode) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  test::RunResult r = verify({"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["command"], "packages verify");
  EXPECT_EQ(doc["verdict"], "pass");
  EXPECT_EQ(doc["summary"]["packages"], "1");
  EXPECT_EQ(doc["files"], 1);
  EXPECT_FALSE(doc.contains("scan_id"));

  root_.dir().write("usr/bin/tool", "#!/bin/sh\nevil\n", 0755);
  r = verify({"--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  doc = json::parse(r.out);
  EXPECT_EQ(doc["verdict"], "fail");
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["rule"], "PKG_FILE_MODIFIED");
  EXPECT_EQ(doc["findings"][0]["severity"], "high");
  EXPECT_EQ(doc["findings"][0]["evidence"]["format"], "script");
  EXPECT_EQ(doc["findings"][0]["sha256"], test::sha256_hex("#!/bin/sh\nevil\n"));

  // --fail-on decides the exit code; the table names the rule and the path.
  EXPECT_EQ(verify({"--fail-on", "critical"}).exit_code, 0);
  r = verify({"--format", "table"});
  EXPECT_NE(r.out.find("PKG_FILE_MODIFIED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/usr/bin/tool"), std::string::npos);
  r = verify({"--format", "jsonl"});
  std::istringstream lines(r.out);
  std::string first, last, line;
  std::getline(lines, first);
  while (std::getline(lines, line)) last = line;
  EXPECT_EQ(json::parse(first)["rule"], "PKG_FILE_MODIFIED");
  EXPECT_EQ(json::parse(first)["record"], "finding");
  // The last line sums the run up, as the json form does.
  EXPECT_EQ(json::parse(last)["record"], "summary");
  EXPECT_EQ(json::parse(last)["verdict"], "fail");
  EXPECT_EQ(json::parse(last)["findings"], 1);
}

TEST_F(PackagesCli, DamagedOrMissingDatabasesAreClearErrors) {
  test::TempDir empty;
  test::RunResult r = run_catena({"packages", "verify", "--root", empty.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no dpkg status file"), std::string::npos) << r.err;

  root_.dir().write("var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVers");
  r = verify();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;

  root_.dir().write("var/lib/dpkg/status", "Package: a\n\x01\x02 garbage\n\n");
  r = verify();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

TEST_F(PackagesCli, UnknownPackageIsAUsageError) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  const test::RunResult r = verify({"--package", "nonesuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("package 'nonesuch' is not installed"), std::string::npos) << r.err;
}

TEST_F(PackagesCli, HostileListAndMd5sumsContentIsReportedNotFatal) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  root_.install({.name = "other", .files = {{"/usr/bin/other", "other"}}});
  // A .list with a relative path, an md5sums line with a NUL and an escaping path.
  root_.dir().write("var/lib/dpkg/info/tool.list", "/usr\nusr/bin/tool\n");
  root_.dir().write("var/lib/dpkg/info/other.md5sums",
                    std::string("0123\0  x\n", 9) + test::md5_hex("other") +
                        "  ../../../../etc/passwd\n" + test::md5_hex("other") +
                        "  usr/bin/other\n");
  const test::RunResult r = verify({"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;  // medium findings are below the default --fail-on
  const json doc = json::parse(r.out);
  int damaged = 0;
  for (const json& f : doc["findings"]) damaged += f["rule"] == "PKG_DATABASE_DAMAGED";
  EXPECT_EQ(damaged, 2) << r.out;
}

TEST_F(PackagesCli, AuditVerifiesPackagesAndStoresTheFindings) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  root_.dir().write("usr/bin/tool", "#!/bin/sh\nevil\n", 0755);
  test::TempDir work;
  const std::string db = work / "c.db";
  work.mkdir("bin");
  work.mkdir("home");
  const test::RunResult r =
      run_catena({"audit", "--db", db, "--format", "json", "--path", work / "bin", "--home",
                  work / "home", "--system-dir", work / "bin", "--packages-root", root_.path()});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["summary"]["packages"].get<std::string>().rfind(
                "1 verified, 1 files (0 digests known, not read again), ", 0),
            0u)
      << doc["summary"];
  bool reported = false;
  for (const json& f : doc["findings"]) reported |= f["rule"] == "PKG_FILE_MODIFIED";
  EXPECT_TRUE(reported);
  const test::RunResult stored =
      test::run_command({"sqlite3", db, "SELECT rule, path FROM findings WHERE rule LIKE 'PKG_%'"});
  // The root has no apt lists, which is said, not passed over.
  EXPECT_EQ(stored.out, "PKG_FILE_MODIFIED|/usr/bin/tool\nPKG_REPOSITORY_UNKNOWN|\n");

  // A database that cannot be read turns into a finding, not a pass.
  root_.dir().write("var/lib/dpkg/status", "Package: broken\n");
  const test::RunResult broken = run_catena(
      {"audit", "--db", db, "--format", "json", "--path", work / "bin", "--home", work / "home",
       "--system-dir", work / "bin", "--packages-root", root_.path(), "--fail-on", "medium"});
  ASSERT_EQ(broken.exit_code, 1) << broken.err;
  EXPECT_NE(broken.out.find("PKG_DATABASE_DAMAGED"), std::string::npos);
}

// The audit's steps add to each other's findings: the package verification must not drop
// what build-access discovery found.
TEST_F(PackagesCli, AuditKeepsAccessAndPackageFindingsTogether) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  root_.dir().write("usr/bin/tool", "#!/bin/sh\nevil\n", 0755);
  test::TempDir work;
  work.mkdir("bin");
  work.write("home/.npmrc", "//registry.npmjs.org/:_authToken=catenasecret_audit\n", 0644);
  const test::RunResult r = run_catena(
      {"audit", "--db", work / "c.db", "--format", "json", "--path", work / "bin", "--home",
       work / "home", "--system-dir", work / "bin", "--packages-root", root_.path()});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  std::set<std::string> rules;
  for (const json& f : doc["findings"]) rules.insert(f["rule"].get<std::string>());
  EXPECT_TRUE(rules.count("PKG_FILE_MODIFIED")) << r.out;
  EXPECT_TRUE(rules.count("ACCESS_CREDENTIAL_WORLD_READABLE")) << r.out;
  EXPECT_EQ(r.out.find("catenasecret"), std::string::npos);
}

// A rule of the standard that no check examined is "skipped", and the verdict says it is
// incomplete; the exit code follows only what was examined.
TEST_F(PackagesCli, RulesNotExaminedAreSkippedNotPassed) {
  test::TempDir work;
  work.mkdir("bin");
  work.mkdir("home");
  const test::RunResult r = run_catena({"audit", "--db", work / "c.db", "--format", "json",
                                        "--path", work / "bin", "--home", work / "home",
                                        "--system-dir", work / "bin", "--no-dpkg", "--no-access"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json::parse(r.out);
  std::map<std::string, std::string> status;
  for (const json& rule : doc["rules"]) {
    status[rule["id"].get<std::string>()] = rule["status"].get<std::string>();
  }
  EXPECT_EQ(status["no-modified-packaged-executable"], "skipped");
  EXPECT_EQ(status["no-unowned-system-executable"], "skipped");
  EXPECT_EQ(status["all-software-from-a-repository"], "skipped");
  EXPECT_EQ(status["no-unprotected-signing-key"], "skipped");
  EXPECT_EQ(status["credentials-protected"], "skipped");
  EXPECT_EQ(status["clean-baseline"], "skipped");   // this host has no baseline
  EXPECT_EQ(status["no-indicator-match"], "pass");  // the scan ran
  EXPECT_EQ(doc["standard"]["complete"], false);
  EXPECT_EQ(doc["standard"]["skipped"].size(), 6u);
  const test::RunResult table =
      run_catena({"audit", "--db", work / "c.db", "--path", work / "bin", "--home", work / "home",
                  "--system-dir", work / "bin", "--no-dpkg", "--no-access"});
  EXPECT_NE(table.out.find("incomplete: 6 rules of the standard not examined"), std::string::npos)
      << table.out;
}

}  // namespace
}  // namespace catena

namespace catena {
namespace {

// With a store, a second verification reads only the files whose stat anchors moved, and a file
// rewritten with its mtime put back is still found (its ctime moved).
TEST_F(PackagesCli, VerifyWithAStoreReadsOnlyWhatChanged) {
  root_.install({.name = "tool",
                 .files = {{"/usr/bin/tool", "#!/bin/sh\ngood\n"}, {"/usr/share/doc/t", "docs"}}});
  test::TempDir work;
  const std::string db = work / "c.db";
  // Digests of files changed within 2 s of their reading are not trusted (racy): wait that out.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const auto reused = [&](const test::RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out);
    return std::stoi(doc["summary"]["reused"].get<std::string>());
  };
  EXPECT_EQ(reused(verify({"--db", db, "--format", "json", "--no-unowned"})), 0);
  EXPECT_EQ(reused(verify({"--db", db, "--format", "json", "--no-unowned"})), 2);
  EXPECT_EQ(reused(verify({"--db", db, "--format", "json", "--no-unowned", "--full"})), 0);

  // Same size, other bytes, the old mtime restored.
  const std::string tool = root_.dir() / "usr/bin/tool";
  struct stat before {};
  ASSERT_EQ(::stat(tool.c_str(), &before), 0);
  root_.dir().write("usr/bin/tool", "#!/bin/sh\nEVIL\n", 0755);
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, tool.c_str(), times, 0), 0);
  const test::RunResult r = verify({"--db", db, "--format", "json", "--no-unowned"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["rule"], "PKG_FILE_MODIFIED");
  EXPECT_EQ(doc["findings"][0]["sha256"], test::sha256_hex("#!/bin/sh\nEVIL\n"));
  EXPECT_EQ(verify({"--full"}).exit_code, 2);  // --full means nothing without a store
}

// The audit's second run takes the packaged file's MD5 from what is stored.
TEST_F(PackagesCli, ASecondAuditReadsNoUnchangedPackagedFile) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  test::TempDir work;
  work.mkdir("bin");
  work.mkdir("home");
  const std::string db = work / "c.db";
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  const auto audit = [&] {
    const test::RunResult r =
        run_catena({"audit", "--db", db, "--format", "json", "--path", work / "bin", "--home",
                    work / "home", "--system-dir", work / "bin", "--packages-root", root_.path()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["summary"]["packages"].get<std::string>();
  };
  EXPECT_EQ(audit().rfind("1 verified, 1 files (0 digests known, not read again)", 0), 0u);
  EXPECT_EQ(audit().rfind("1 verified, 1 files (1 digests known, not read again)", 0), 0u);
}

}  // namespace
}  // namespace catena
