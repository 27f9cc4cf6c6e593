// The one walker: byte order, nothing followed, depth bounded and said, swaps refused.
#include "catena/core/walk.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "catena/core/fs.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

struct Recorder : WalkVisitor {
  void file(const WalkEntry& e) override {
    files.push_back(e.path);
    types.push_back(e.type);
    depths.push_back(e.depth);
    stat_given.push_back(e.st != nullptr);
  }
  bool wants(const WalkEntry& e) override { return e.name != "skipped"; }
  bool enter(const WalkEntry& e, int fd) override {
    entered.push_back(e.path);
    return fd >= 0;
  }
  void problem(const std::string& path, WalkProblem problem, int) override {
    problems.emplace_back(path, problem);
  }
  std::vector<std::string> files, entered;
  std::vector<unsigned char> types;
  std::vector<unsigned> depths;
  std::vector<bool> stat_given;
  std::vector<std::pair<std::string, WalkProblem>> problems;
};

WalkStats walk(const test::TempDir& dir,
               const WalkOptions& options,
               Recorder& recorder,
               const std::string& root_path = "") {
  const UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  return walk_tree(fd.get(), root_path, options, recorder);
}

TEST(WalkTree, VisitsInByteOrderAndFollowsNothing) {
  test::TempDir tree;
  tree.write("b", "");
  tree.write("a/\xff", "");
  tree.write("a/Z", "");
  tree.write("skipped/secret", "");
  tree.mkdir("outside");
  tree.write("outside/x", "");
  tree.symlink("a/link", "../outside");  // a directory symlink is an entry, never entered
  Recorder r;
  const WalkStats stats = walk(tree, {}, r);
  EXPECT_EQ(r.files, (std::vector<std::string>{"a/Z", "a/link", "a/\xff", "b", "outside/x"}));
  EXPECT_EQ(r.types[1], DT_LNK);
  EXPECT_EQ(r.depths, (std::vector<unsigned>{1, 1, 1, 0, 1}));
  EXPECT_EQ(r.entered, (std::vector<std::string>{"a", "outside"}));
  EXPECT_EQ(stats.directories, 3u);
  EXPECT_TRUE(r.problems.empty());
  // Paths under an absolute root are absolute.
  Recorder absolute;
  walk(tree, {}, absolute, tree.path());
  EXPECT_EQ(absolute.files.back(), tree / "outside/x");
}

TEST(WalkTree, FilesKnownByTheirListingAreNotStatted) {
  test::TempDir tree;
  tree.write("d/f", "x");
  Recorder r;
  walk(tree, {.stat_files = false}, r);
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.types[0], DT_REG);
  // tmpfs and ext4 give d_type; a file system that does not gets an lstat instead.
  EXPECT_FALSE(r.stat_given[0]);
}

TEST(WalkTree, ADirectoryBelowTheDepthLimitIsReportedNotEntered) {
  test::TempDir tree;
  std::string deep;
  for (int i = 0; i < 10; ++i) deep += (i ? "/d" : "d") + std::to_string(i);
  tree.write(deep + "/tool", "");
  Recorder r;
  const WalkStats stats = walk(tree, {.max_depth = 4}, r);
  EXPECT_TRUE(r.files.empty());
  EXPECT_EQ(stats.too_deep, 1u);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].first, "d0/d1/d2/d3/d4");
  EXPECT_EQ(r.problems[0].second, WalkProblem::TooDeep);
  Recorder all;
  walk(tree, {.max_depth = 10}, all);  // the tool is at depth 10
  EXPECT_EQ(all.files, std::vector<std::string>{deep + "/tool"});
}

// Between the listing and the open a directory becomes a symlink to another tree: refused,
// reported, and nothing of the other tree is visited.
TEST(WalkTree, ADirectorySwappedForASymlinkIsRefused) {
  test::TempDir tree;
  test::TempDir other;
  other.write("secret", "");
  tree.write("d/mine", "");
  WalkOptions options;
  options.before_open = [&](const std::string& path) {
    if (path != "d") return;
    ASSERT_EQ(::rename((tree / "d").c_str(), (tree / "away").c_str()), 0);
    ASSERT_EQ(::symlink(other.path().c_str(), (tree / "d").c_str()), 0);
  };
  Recorder r;
  walk(tree, options, r);
  for (const std::string& f : r.files) EXPECT_EQ(f.find("secret"), std::string::npos) << f;
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].first, "d");
  EXPECT_EQ(r.problems[0].second, WalkProblem::Replaced);
  EXPECT_EQ(describe_walk_problem(WalkProblem::Replaced, 0), "replaced while it was examined");
}

}  // namespace
}  // namespace catena
