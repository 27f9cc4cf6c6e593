// Reading through mappings of files that shrink underneath.
#include "catena/core/mapped.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "support/tree.hpp"

namespace catena {
namespace {

constexpr size_t kSize = 1 << 20;

TEST(StableMapping, AFileTruncatedWhileReadGivesZerosAndSaysChanged) {
  test::TempDir dir;
  dir.write("f", std::string(kSize, 'x'));
  const std::string path = dir / "f";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  size_t xs = 0;
  size_t zeros = 0;
  const MapResult result = with_stable_mapping(fd, kSize, [&](std::span<const std::byte> bytes) {
    // Read the first half, truncate, read on: the second half faults and reads as zeros, and
    // the loop (which a jump would have cut short) runs to its end.
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (i == kSize / 2) {
        ASSERT_EQ(::truncate(path.c_str(), 4096), 0);
      }
      if (bytes[i] == std::byte{'x'}) ++xs;
      if (bytes[i] == std::byte{0}) ++zeros;
    }
  });
  ::close(fd);
  EXPECT_EQ(result, MapResult::Changed);
  EXPECT_EQ(xs + zeros, kSize);
  EXPECT_GE(xs, kSize / 2);
  EXPECT_GT(zeros, 0u);
}

TEST(StableMapping, AnUnchangedFileIsDone) {
  test::TempDir dir;
  dir.write("f", std::string(kSize, 'y'));
  const int fd = ::open((dir / "f").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  size_t ys = 0;
  const MapResult result = with_stable_mapping(fd, kSize, [&](std::span<const std::byte> bytes) {
    for (std::byte b : bytes) ys += b == std::byte{'y'} ? 1 : 0;
  });
  ::close(fd);
  EXPECT_EQ(result, MapResult::Done);
  EXPECT_EQ(ys, kSize);
}

// The digest loop's guard still jumps: a truncation ends `use` early and says Changed.
TEST(GuardedMapping, ATruncationJumpsOutOfTheLoop) {
  test::TempDir dir;
  dir.write("f", std::string(kSize, 'z'));
  const std::string path = dir / "f";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  volatile size_t reached = 0;
  const MapResult result = with_mapping(fd, kSize, [&](std::span<const std::byte> bytes) {
    ASSERT_EQ(::truncate(path.c_str(), 0), 0);
    for (size_t i = 0; i < bytes.size(); ++i) reached = reached + (bytes[i] == std::byte{'z'});
  });
  ::close(fd);
  EXPECT_EQ(result, MapResult::Changed);
  EXPECT_LT(reached, kSize);
}

}  // namespace
}  // namespace catena
