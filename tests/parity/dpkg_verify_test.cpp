// catena packages verify against the real `dpkg --verify`, on this machine and on small roots
// built the way dpkg lays them out. The two must report the same set of (path, problem); where
// catena deliberately differs (docs/packages.md), the test says so and checks catena is right.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/dpkg_root.hpp"
#include "support/run.hpp"

namespace catena {
namespace {

using nlohmann::json;
using Problems = std::set<std::pair<std::string, std::string>>;  // (path, problem)

// "??5?????? c /etc/x" -> (/etc/x, modified); "missing     /x" -> missing; "?????????" -> could
// not be read.
Problems parse_dpkg(const std::string& text) {
  Problems out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 13) continue;
    const std::string flags = line.substr(0, 9);
    const std::string path = line.substr(12);
    const std::string problem = flags.starts_with("missing") ? "missing"
                                : flags == "?????????"       ? "unverifiable"
                                                             : "modified";
    out.emplace(path, problem);
  }
  return out;
}

struct CatenaResult {
  Problems problems;     // the ones dpkg also reports
  Problems beyond_dpkg;  // diverted files: dpkg skips them
  json document;
};

CatenaResult parse_catena(const std::string& text) {
  CatenaResult out;
  out.document = json::parse(text);
  for (const json& f : out.document["findings"]) {
    const std::string rule = f["rule"];
    std::string problem;
    if (rule == "PKG_FILE_MODIFIED" || rule == "PKG_CONFFILE_MODIFIED") problem = "modified";
    if (rule == "PKG_FILE_MISSING" || rule == "PKG_CONFFILE_MISSING") problem = "missing";
    if (rule == "PKG_FILE_UNVERIFIABLE") problem = "unverifiable";
    if (problem.empty()) continue;
    const bool diverted = f.contains("evidence") && f["evidence"].contains("diverted_by");
    (diverted ? out.beyond_dpkg : out.problems).emplace(f["path"], problem);
  }
  return out;
}

test::RunResult dpkg_verify(const std::string& root) {
  return test::run_command({"dpkg", "--root=" + root, "--verify"});
}

test::RunResult catena_verify(const std::string& root) {
  return test::run_catena({"packages", "verify", "--root", root, "--format", "json", "--no-unowned",
                           "--no-repository"});
}

TEST(DpkgVerifyParity, ThisMachine) {
  const test::RunResult dpkg = test::run_command({"dpkg", "--verify"});
  ASSERT_EQ(dpkg.exit_code, 0) << dpkg.err;
  const test::RunResult catena = catena_verify("/");
  ASSERT_TRUE(catena.exit_code == 0 || catena.exit_code == 1) << catena.err;
  const Problems expected = parse_dpkg(dpkg.out);
  const CatenaResult got = parse_catena(catena.out);
  EXPECT_EQ(got.problems, expected);
  for (const auto& entry : got.beyond_dpkg) EXPECT_FALSE(expected.contains(entry));
  EXPECT_GT(got.document["files"].get<uint64_t>(), 0u);
}

class FakeRootParity : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(root_.path().c_str(), 0755);
    // Merged /usr, with relative links as Debian makes them.
    root_.dir().mkdir("usr/bin");
    root_.dir().mkdir("usr/lib");
    root_.dir().symlink("bin", "usr/bin");
    root_.dir().symlink("lib", "usr/lib");
  }

  void expect_parity() {
    const test::RunResult dpkg = dpkg_verify(root_.path());
    ASSERT_EQ(dpkg.exit_code, 0) << dpkg.err;
    const test::RunResult catena = catena_verify(root_.path());
    ASSERT_TRUE(catena.exit_code == 0 || catena.exit_code == 1) << catena.err;
    EXPECT_FALSE(dpkg.out.empty());  // every scenario here has something to find
    EXPECT_EQ(parse_catena(catena.out).problems, parse_dpkg(dpkg.out)) << dpkg.out;
  }

  test::FakeDpkgRoot root_;
};

TEST_F(FakeRootParity, ModifiedMissingConffilesMultiarchAndMergedUsr) {
  root_.install({.name = "coreutils",
                 .files = {{"/bin/ls", "ls"},
                           {"/bin/cat", "cat"},
                           {"/usr/bin/with space", "s"},
                           {"/usr/share/doc/coreutils/README", "r"}},
                 .symlinks = {{"/usr/bin/dir-alias", "ls"}}});
  root_.install({.name = "libfoo",
                 .multi_arch = "same",
                 .dirs = {"/usr/lib/foo"},
                 .files = {{"/lib/libfoo.so.1", "foo"}, {"/usr/share/doc/libfoo/copyright", "c"}}});
  root_.install({.name = "svc",
                 .conffiles = {{"/etc/svc.conf", "a=1\n"},
                               {"/etc/svc.d/b.conf", "b\n"},
                               {"/etc/svc.d/c.conf", "c\n"}},
                 .symlinks = {{"/usr/bin/svc", "/bin/ls"}}});
  root_.dir().write("usr/bin/ls", "trojan", 0755);
  root_.dir().write("usr/bin/with space", "changed", 0755);
  root_.dir().write("usr/lib/libfoo.so.1", "changed");
  ASSERT_EQ(::unlink((root_ / "usr/bin/cat").c_str()), 0);
  ASSERT_EQ(::unlink((root_ / "usr/bin/dir-alias").c_str()), 0);
  ASSERT_EQ(::rmdir((root_ / "usr/lib/foo").c_str()), 0);
  root_.dir().write("etc/svc.conf", "a=2\n");
  ASSERT_EQ(::unlink((root_ / "etc/svc.d/b.conf").c_str()), 0);
  expect_parity();
}

TEST_F(FakeRootParity, AFileReplacedByASymlink) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}}});
  ASSERT_EQ(::unlink((root_ / "usr/bin/tool").c_str()), 0);
  root_.dir().symlink("usr/bin/tool", "elsewhere");
  expect_parity();
}

TEST_F(FakeRootParity, AConffileNeverConfigured) {
  root_.install({.name = "svc", .conffiles = {{"/etc/svc.conf", "a=1\n"}}});
  std::string status;
  {
    std::ifstream in(root_.admin() + "/status");
    std::stringstream text;
    text << in.rdbuf();
    status = text.str();
  }
  const size_t hash = status.find(test::md5_hex("a=1\n"));
  ASSERT_NE(hash, std::string::npos);
  status.replace(hash, 32, "newconffile");
  root_.dir().write("var/lib/dpkg/status", status);
  expect_parity();
}

TEST_F(FakeRootParity, AnUnreadableFile) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "tool"}, {"/usr/bin/ok", "ok"}}});
  for (const char* dir : {"", "/var", "/var/lib", "/var/lib/dpkg", "/var/lib/dpkg/info"}) {
    ::chmod((root_.path() + dir).c_str(), 0755);
  }
  ::chmod((root_ / "usr/bin/tool").c_str(), 0);
  const test::RunResult dpkg =
      test::run_unprivileged({"dpkg", "--root=" + root_.path(), "--verify"});
  const test::RunResult catena =
      test::run_catena_unprivileged({"packages", "verify", "--root", root_.path(), "--format",
                                     "json", "--no-unowned", "--no-repository"});
  ASSERT_EQ(dpkg.exit_code, 0) << dpkg.err;
  ASSERT_EQ(catena.exit_code, 0) << catena.err;  // unverifiable is low, below --fail-on
  const Problems expected = {{"/usr/bin/tool", "unverifiable"}};
  EXPECT_EQ(parse_dpkg(dpkg.out), expected);
  EXPECT_EQ(parse_catena(catena.out).problems, expected);
}

// The deliberate differences: dpkg is silent or aborts, catena reports.

TEST_F(FakeRootParity, DivertedFileDpkgSkipsCatenaChecks) {
  root_.install({.name = "orig", .files = {{"/usr/bin/tool", "original"}}});
  ASSERT_EQ(::rename((root_ / "usr/bin/tool").c_str(), (root_ / "usr/bin/tool.distrib").c_str()),
            0);
  root_.install({.name = "wrapper", .files = {{"/usr/bin/tool", "wrapper"}}});
  root_.divert("/usr/bin/tool", "/usr/bin/tool.distrib", "wrapper");
  root_.dir().write("usr/bin/tool.distrib", "trojan", 0755);
  const test::RunResult dpkg = dpkg_verify(root_.path());
  ASSERT_EQ(dpkg.exit_code, 0) << dpkg.err;
  EXPECT_EQ(dpkg.out, "");  // dpkg 1.21 misses it
  const CatenaResult catena = parse_catena(catena_verify(root_.path()).out);
  EXPECT_TRUE(catena.problems.empty());
  EXPECT_EQ(catena.beyond_dpkg, (Problems{{"/usr/bin/tool.distrib", "modified"}}));
}

TEST_F(FakeRootParity, MalformedMd5sumsDpkgAbortsCatenaGoesOn) {
  root_.install({.name = "a", .files = {{"/usr/bin/a", "a"}}});
  root_.install({.name = "b", .files = {{"/usr/bin/b", "b"}}});
  root_.dir().write("var/lib/dpkg/info/a.md5sums", "zzzz  usr/bin/a\n");
  root_.dir().write("usr/bin/b", "trojan", 0755);
  EXPECT_NE(dpkg_verify(root_.path()).exit_code, 0);
  const test::RunResult catena = catena_verify(root_.path());
  EXPECT_EQ(catena.exit_code, 1);
  const CatenaResult got = parse_catena(catena.out);
  EXPECT_EQ(got.problems, (Problems{{"/usr/bin/b", "modified"}}));
  bool damaged = false;
  for (const json& f : got.document["findings"]) damaged |= f["rule"] == "PKG_DATABASE_DAMAGED";
  EXPECT_TRUE(damaged);
}

TEST_F(FakeRootParity, DirectoryInPlaceOfAFileDpkgAbortsCatenaReports) {
  root_.install({.name = "a", .files = {{"/usr/bin/a", "a"}}});
  ASSERT_EQ(::unlink((root_ / "usr/bin/a").c_str()), 0);
  root_.dir().mkdir("usr/bin/a");
  EXPECT_NE(dpkg_verify(root_.path()).exit_code, 0);
  EXPECT_EQ(parse_catena(catena_verify(root_.path()).out).problems,
            (Problems{{"/usr/bin/a", "modified"}}));
}

}  // namespace
}  // namespace catena
