// The one reader: what every command gets when it reads a file, and what it refuses.
#include "catena/core/content.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <span>
#include <string>
#include <vector>

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

std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// What the scan hooks into a read: the bytes of each pass before the fstat that checks it.
TEST(ReadContentHooks, EachPassHandsItsBytesBeforeTheCheck) {
  test::TempDir dir;
  const std::string large(2 * kContentMapBytes + 5, 'L');
  dir.write("small", "small content");
  dir.write("large", large);
  for (const bool hold : {false, true}) {
    std::vector<std::string> calls;
    std::string copy;  // what `hold` keeps until the read returns
    std::string whole;
    bool held = false;
    std::string pass_sha256;
    ReadHooks hooks;
    hooks.begin = [&](int, const struct stat&, int attempt) {
      calls.push_back("begin " + std::to_string(attempt));
      return true;
    };
    if (hold) {
      hooks.hold = [&](int, const struct stat& st, std::span<const std::byte> head) {
        calls.push_back("hold " + std::to_string(head.size()));
        copy = large;
        EXPECT_EQ(static_cast<size_t>(st.st_size), copy.size());
        return std::as_bytes(std::span(copy));
      };
    }
    hooks.pass = [&](const ReadPass& pass) {
      calls.push_back("pass");
      held = pass.held;
      whole = text_of(pass.whole);
      pass_sha256 = to_hex(*pass.digests->sha256);
    };
    hooks.after = [&](int attempt) { calls.push_back("after " + std::to_string(attempt)); };
    ContentReader reader;
    for (const char* name : {"small", "large"}) {
      calls.clear();
      const FileContent c = reader.read(AT_FDCWD, dir / name, {.head_bytes = 4, .hooks = &hooks});
      ASSERT_EQ(c.status, FileContent::Status::Read);
      EXPECT_EQ(c.passes, 1);
      EXPECT_EQ(pass_sha256, to_hex(*c.digests.sha256));
      EXPECT_EQ(pass_sha256, tool_digest("sha256sum", dir / name));
      if (name == std::string("small")) {
        EXPECT_EQ(calls, (std::vector<std::string>{"begin 0", "pass", "after 0"}));
        EXPECT_TRUE(held);  // in the reader's buffer
        EXPECT_EQ(whole, "small content");
      } else if (hold) {
        EXPECT_EQ(calls, (std::vector<std::string>{"begin 0", "hold 4", "pass", "after 0"}));
        EXPECT_TRUE(held);
        EXPECT_EQ(whole, large);
      } else {
        EXPECT_EQ(calls, (std::vector<std::string>{"begin 0", "pass", "after 0"}));
        EXPECT_FALSE(held);  // hashed from a mapping, which may fault: not handed over
        EXPECT_TRUE(whole.empty());
      }
    }
  }
}

TEST(ReadContentHooks, ATruncationUnderTheMappingIsReadAgainAndSaid) {
  test::TempDir dir;
  dir.write("big", std::string(4 << 20, 'q'));
  ReadHooks hooks;
  int passes = 0;
  hooks.before_bytes = [&](int attempt) {
    if (attempt == 0) {
      ASSERT_EQ(::truncate((dir / "big").c_str(), 100), 0);
    }
  };
  hooks.pass = [&](const ReadPass&) { ++passes; };
  ContentReader reader;
  const FileContent c = reader.read(AT_FDCWD, dir / "big", {.hooks = &hooks});
  ASSERT_EQ(c.status, FileContent::Status::Read);
  EXPECT_EQ(c.passes, 2);
  EXPECT_EQ(passes, 1);  // the faulted pass handed nothing
  EXPECT_EQ(c.first_size, 4 << 20);
  EXPECT_EQ(c.st.st_size, 100);
  EXPECT_EQ(to_hex(*c.digests.sha256), tool_digest("sha256sum", dir / "big"));
  // The same reader, its digest contexts reused, hashes the next file from a clean state.
  dir.write("next", std::string(3 << 20, 'n'));
  const FileContent next = reader.read(AT_FDCWD, dir / "next", {});
  ASSERT_EQ(next.status, FileContent::Status::Read);
  EXPECT_EQ(to_hex(*next.digests.sha256), tool_digest("sha256sum", dir / "next"));
}

TEST(ReadContentHooks, AFileThatKeepsChangingIsChangedAfterTwoPasses) {
  test::TempDir dir;
  dir.write("log", "start");
  ReadHooks hooks;
  int passes = 0;
  hooks.pass = [&](const ReadPass&) { ++passes; };
  hooks.after = [&](int) {
    const int fd = ::open((dir / "log").c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "more", 4), 4);
    ::close(fd);
  };
  const FileContent c = read_content(AT_FDCWD, dir / "log", {.hooks = &hooks});
  EXPECT_EQ(c.status, FileContent::Status::Changed);
  EXPECT_EQ(c.passes, 2);
  EXPECT_EQ(passes, 2);
  EXPECT_EQ(c.first_size, 5);
  EXPECT_EQ(c.st.st_size, 13);  // as last seen
  EXPECT_FALSE(c.digests.sha256.has_value());
}

TEST(ReadContentHooks, ABeginThatSaysNoReadsNothing) {
  test::TempDir dir;
  dir.write("f", "content");
  ReadHooks hooks;
  bool passed = false;
  hooks.begin = [](int, const struct stat&, int) { return false; };
  hooks.pass = [&](const ReadPass&) { passed = true; };
  const FileContent c = read_content(AT_FDCWD, dir / "f", {.hooks = &hooks});
  EXPECT_EQ(c.status, FileContent::Status::Declined);
  EXPECT_FALSE(passed);
  EXPECT_FALSE(c.digests.sha256.has_value());
  EXPECT_EQ(c.st.st_size, 7);
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
