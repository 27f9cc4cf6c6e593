#include "catena/pkg/dpkg.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::pkg {
namespace {

using test::HasError;
using test::HasErrorContaining;
using test::IsOk;

TEST(ParseList, SplitsPathsAndSkipsRoot) {
  auto paths = parse_list("/.\n/usr\n/usr/bin/ls\n\n");
  ASSERT_THAT(paths, IsOk());
  EXPECT_EQ(*paths, (std::vector<std::string_view>{"/usr", "/usr/bin/ls"}));
}

TEST(ParseList, NamesTheFirstBadLine) {
  EXPECT_THAT(parse_list("/usr\nrelative\n"), HasErrorContaining(ErrorCode::Parse, "line 2"));
}

TEST(ParseDiversions, ReadsTriples) {
  auto diversions = parse_diversions("/usr/bin/a\n/usr/bin/a.real\npkg\n/etc/b\n/etc/b.x\n:\n");
  ASSERT_THAT(diversions, IsOk());
  ASSERT_EQ(diversions->size(), 2u);
  EXPECT_EQ((*diversions)[0].to, "/usr/bin/a.real");
  EXPECT_EQ((*diversions)[1].by, ":");
}

TEST(ParseDiversions, RejectsBrokenInput) {
  EXPECT_THAT(parse_diversions("/a\n/b\n"), HasErrorContaining(ErrorCode::Parse, "incomplete"));
  EXPECT_THAT(parse_diversions("/a\nb\npkg\n"), HasErrorContaining(ErrorCode::Parse, "line 2"));
  EXPECT_THAT(parse_diversions("/a\n/b\n\n"), HasErrorContaining(ErrorCode::Parse, "line 3"));
}

// A small root: merged-/usr, a multiarch package under two architectures, a diversion.
class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_.mkdir("usr/bin");
    root_.mkdir("usr/share/doc/libfoo");
    root_.symlink("bin", "usr/bin");
    root_.write("var/lib/dpkg/info/coreutils.list", "/.\n/bin\n/bin/ls\n");
    root_.write("var/lib/dpkg/info/libfoo:amd64.list", "/usr/share/doc/libfoo/copyright\n");
    root_.write("var/lib/dpkg/info/libfoo:i386.list", "/usr/share/doc/libfoo/copyright\n");
    root_.write("var/lib/dpkg/info/victim.list", "/usr/bin/tool\n");
    root_.write("var/lib/dpkg/info/diverter.list", "/usr/bin/tool\n");
    root_.write("var/lib/dpkg/info/victim.md5sums", "not a list file\n");
    root_.write("var/lib/dpkg/diversions", "/usr/bin/tool\n/usr/bin/tool.real\ndiverter\n");
  }
  test::TempDir root_;
};

TEST_F(FakeRoot, ResolvesMergedUsrMultiarchAndDiversions) {
  auto owners = PackageOwners::load({.root = root_.path()});
  ASSERT_THAT(owners, IsOk());
  EXPECT_EQ(owners->package_count(), 5u);
  EXPECT_EQ(owners->owner_of("/usr/bin/ls"), "coreutils");
  EXPECT_EQ(owners->owner_of("/bin/ls"), "");
  EXPECT_EQ(owners->owner_of("/usr/share/doc/libfoo/copyright"), "libfoo:amd64, libfoo:i386");
  EXPECT_EQ(owners->owner_of("/usr/bin/tool"), "diverter");
  EXPECT_EQ(owners->owner_of("/usr/bin/tool.real"), "victim");
  EXPECT_EQ(owners->owner_of("/usr/bin/unowned"), "");
}

TEST_F(FakeRoot, ReportsBrokenDatabaseFiles) {
  root_.write("var/lib/dpkg/info/broken.list", "/ok\nnot-absolute\n");
  root_.write("var/lib/dpkg/info/fine.list", "/usr/bin/fine\n");
  auto owners = PackageOwners::load({.root = root_.path()});
  ASSERT_THAT(owners, IsOk());
  ASSERT_EQ(owners->damaged_lists().size(), 1u);
  EXPECT_NE(owners->damaged_lists()[0].find("broken.list: line 2"), std::string::npos);
  EXPECT_EQ(owners->owner_of("/usr/bin/fine"), "fine");
  EXPECT_EQ(owners->owner_of("/ok"), "");
}

TEST_F(FakeRoot, ReportsBrokenDiversions) {
  root_.write("var/lib/dpkg/diversions", "/usr/bin/tool\n");
  EXPECT_THAT(PackageOwners::load({.root = root_.path()}), HasError(ErrorCode::Parse));
}

TEST(PackageOwners, MissingDatabaseIsNotFound) {
  test::TempDir empty;
  EXPECT_THAT(PackageOwners::load({.root = empty.path()}), HasError(ErrorCode::NotFound));
}

// Parity with dpkg-query -S on this machine's own database. dpkg 1.21 does not know merged-/usr
// (it answers for /bin/ls, not /usr/bin/ls), so each path is asked under both names and the
// answers joined; diversion lines are left out, as catena reports the owner of the file on disk.
TEST(PackageOwners, AgreesWithDpkgQueryOnThisMachine) {
  if (::access("/var/lib/dpkg/info", F_OK) != 0) CATENA_SKIP_ENVIRONMENT() << "not a Debian system";
  auto owners = PackageOwners::load({});
  ASSERT_THAT(owners, IsOk());
  std::vector<std::string> paths;
  for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"}) {
    DIR* d = ::opendir(dir);
    if (d == nullptr) continue;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_REG) names.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (size_t idx = 0; idx < names.size() && idx < 150; ++idx)
      paths.push_back(std::string(dir) + "/" + names[idx]);
  }
  ASSERT_FALSE(paths.empty());
  std::vector<std::string> query = {"dpkg-query", "-S"};
  for (const std::string& path : paths) {
    query.push_back(path);
    for (const char* merged : {"/usr/bin/", "/usr/sbin/", "/usr/lib/"}) {
      if (path.starts_with(merged)) query.push_back(path.substr(4));
    }
  }
  const test::RunResult result = test::run_command(query);
  std::map<std::string, std::set<std::string>> expected;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("diversion by ")) continue;
    const size_t sep = line.find(": /");
    if (sep == std::string::npos) continue;
    std::string path = line.substr(sep + 2);
    if (!path.starts_with("/usr/")) path = "/usr" + path;
    std::istringstream packages(line.substr(0, sep));
    std::string package;
    while (std::getline(packages, package, ',')) {
      package.erase(0, package.find_first_not_of(' '));
      expected[path].insert(package);
    }
  }
  size_t compared = 0;
  for (const std::string& path : paths) {
    std::set<std::string> ours;
    std::istringstream packages(owners->owner_of(path));
    std::string package;
    while (std::getline(packages, package, ',')) {
      package.erase(0, package.find_first_not_of(' '));
      ours.insert(package);
    }
    auto found = expected.find(path);
    if (found == expected.end()) {
      EXPECT_TRUE(ours.empty()) << path << " is owned by nothing according to dpkg";
      continue;
    }
    // A diverted path: dpkg lists both packages; the file on disk belongs to the diverter.
    if (found->second.size() > ours.size() && !ours.empty()) continue;
    EXPECT_EQ(ours, found->second) << path;
    ++compared;
  }
  EXPECT_GT(compared, paths.size() / 2);
}

}  // namespace
}  // namespace catena::pkg

namespace catena::pkg {
namespace {

TEST_F(FakeRoot, KeepsOnlyPathsUnderTheGivenTrees) {
  auto owners = PackageOwners::load({.root = root_.path()}, {"/usr/bin"});
  ASSERT_THAT(owners, test::IsOk());
  EXPECT_EQ(owners->owner_of("/usr/bin/ls"), "coreutils");
  EXPECT_EQ(owners->owner_of("/usr/share/doc/libfoo/copyright"), "");
  auto single = PackageOwners::load({.root = root_.path()}, {"/usr/share/doc/libfoo/copyright"});
  ASSERT_THAT(single, test::IsOk());
  EXPECT_EQ(single->owner_of("/usr/share/doc/libfoo/copyright"), "libfoo:amd64, libfoo:i386");
  EXPECT_EQ(single->path_count(), 1u);
}

}  // namespace
}  // namespace catena::pkg
