// The one reader: what every command gets when it reads a file, and what it refuses.
#include "catena/core/content.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

std::string tool_digest(const char* tool, const std::string& path) {
  const test::RunResult r = test::run_command({tool, path});
  EXPECT_EQ(r.exit_code, 0);
  return r.out.substr(0, r.out.find(' '));
}

TEST(ReadContent, EveryDigestInOnePassSmallOrMapped) {
  test::TempDir dir;
  std::string large;
  for (int i = 0; large.size() < 3 * kContentMapBytes + 17; ++i) large += std::to_string(i * 7);
  dir.write("small", "small content\n");
  dir.write("large", large);
  for (const char* name : {"small", "large"}) {
    const FileContent c = read_content(
        AT_FDCWD, dir / name,
        {.digests = DigestSet::kSha256 | DigestSet::kMd5 | DigestSet::kSha1, .head_bytes = 8});
    ASSERT_EQ(c.status, FileContent::Status::Read) << name;
    EXPECT_EQ(to_hex(*c.digests.sha256), tool_digest("sha256sum", dir / name)) << name;
    EXPECT_EQ(to_hex(*c.digests.md5), tool_digest("md5sum", dir / name)) << name;
    EXPECT_EQ(to_hex(*c.digests.sha1), tool_digest("sha1sum", dir / name)) << name;
    EXPECT_EQ(c.bytes, static_cast<uint64_t>(c.st.st_size));
    ASSERT_EQ(c.head.size(), 8u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(c.head.data()), 8),
              std::string(name == std::string("small") ? "small co" : large.substr(0, 8)));
  }
  // Relative to a directory descriptor, as the walkers read.
  const int dir_fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  const FileContent relative = read_content(dir_fd, "small", {});
  ::close(dir_fd);
  ASSERT_EQ(relative.status, FileContent::Status::Read);
  EXPECT_EQ(to_hex(*relative.digests.sha256), tool_digest("sha256sum", dir / "small"));
  EXPECT_FALSE(relative.digests.md5.has_value());  // only what was asked for
}

TEST(ReadContent, NeverFollowsBlocksOrReadsWhatIsNotTheListedFile) {
  test::TempDir dir;
  dir.write("target", "secret");
  dir.symlink("link", dir / "target");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);  // nobody writes: a read would block
  const FileContent link = read_content(AT_FDCWD, dir / "link", {});
  EXPECT_EQ(link.status, FileContent::Status::NotRegular);
  EXPECT_TRUE(S_ISLNK(link.st.st_mode));
  EXPECT_FALSE(link.digests.sha256.has_value());
  // A path a person named may be followed.
  EXPECT_EQ(read_content(AT_FDCWD, dir / "link", {.follow = true}).status,
            FileContent::Status::Read);
  const FileContent fifo = read_content(AT_FDCWD, dir / "fifo", {});
  EXPECT_EQ(fifo.status, FileContent::Status::NotRegular);
  EXPECT_TRUE(S_ISFIFO(fifo.st.st_mode));
  EXPECT_EQ(read_content(AT_FDCWD, dir / "missing", {}).status, FileContent::Status::Missing);
  EXPECT_EQ(read_content(AT_FDCWD, dir.path(), {}).status, FileContent::Status::NotRegular);

  // Swapped after the listing saw it: another inode under the same name is not read.
  struct stat listed {};
  ASSERT_EQ(::lstat((dir / "target").c_str(), &listed), 0);
  dir.write("other", "trojan");
  ASSERT_EQ(::rename((dir / "other").c_str(), (dir / "target").c_str()), 0);
  const FileContent swapped = read_content(AT_FDCWD, dir / "target", {.expect = &listed});
  EXPECT_EQ(swapped.status, FileContent::Status::Changed);
  EXPECT_FALSE(swapped.digests.sha256.has_value());
}

TEST(ReadContent, HeadOnlyReadsNoDigest) {
  test::TempDir dir;
  dir.write("f", std::string(1 << 20, 'z'));
  const FileContent c = read_content(AT_FDCWD, dir / "f", {.digests = 0, .head_bytes = 4096});
  ASSERT_EQ(c.status, FileContent::Status::Read);
  EXPECT_EQ(c.head.size(), 4096u);
  EXPECT_EQ(c.bytes, 4096u);
  EXPECT_FALSE(c.digests.sha256.has_value());
}

TEST(WholeContent, CopyOrStableMappingGiveTheSameBytes) {
  test::TempDir dir;
  std::string content;
  for (int i = 0; content.size() < (1 << 20); ++i) content += std::to_string(i);
  dir.write("f", content);
  for (const uint64_t copy_max : {uint64_t{1} << 30, uint64_t{4096}}) {
    std::string seen;
    auto r = with_whole_content(dir / "f", copy_max, [&](std::span<const std::byte> bytes) {
      seen.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    });
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(seen, content) << copy_max;
  }
  bool called = false;
  auto missing = with_whole_content(dir / "nothing", 0, [&](auto) { called = true; });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  auto directory = with_whole_content(dir.path(), 0, [&](auto) { called = true; });
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, ErrorCode::Usage);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace catena
