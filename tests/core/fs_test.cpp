#include "catena/core/fs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/matchers.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

TEST(AbsolutePath, NormalisesWithoutResolvingDotDot) {
  EXPECT_EQ(absolute_path("/usr//bin/./ls/"), "/usr/bin/ls");
  EXPECT_EQ(absolute_path("/"), "/");
  EXPECT_EQ(absolute_path("/a/../b"), "/a/../b");
  EXPECT_EQ(absolute_path("rel").front(), '/');
}

TEST(PathIsWithin, ComparesComponents) {
  EXPECT_TRUE(path_is_within("/usr/lib/x", "/usr/lib"));
  EXPECT_TRUE(path_is_within("/usr/lib", "/usr/lib"));
  EXPECT_FALSE(path_is_within("/usr/lib64", "/usr/lib"));
  EXPECT_TRUE(path_is_within("/anything", "/"));
}

TEST(ReadSmallFile, EnforcesItsCapAndRefusesSpecialFiles) {
  test::TempDir dir;
  dir.write("small", "hello");
  EXPECT_THAT(read_small_file(dir / "small", 5), test::IsOkAndHolds(std::string("hello")));
  EXPECT_THAT(read_small_file(dir / "small", 4), test::HasError(ErrorCode::LimitExceeded));
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_THAT(read_small_file(dir / "fifo", 100), test::HasError(ErrorCode::Io));
  dir.symlink("link", dir / "small");
  EXPECT_THAT(read_small_file(dir / "link", 100), test::HasError(ErrorCode::Io));
  EXPECT_THAT(read_small_file(dir / "missing", 100), test::HasError(ErrorCode::NotFound));
}

}  // namespace
}  // namespace catena
