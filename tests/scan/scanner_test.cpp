#include "catena/scan/scanner.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "catena/core/fs.hpp"
#include "catena/store/store.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::scan {
namespace {

using scan::FileRecord;
using scan::FileType;
using test::HasError;
using test::IsOk;

struct Scanned {
  ScanSummary summary;
  std::map<std::string, FileRecord> records;
};

class ScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open_memory();
    ASSERT_THAT(opened, IsOk());
    store_ = std::move(*opened);
  }

  Scanned scan(ScanOptions options) {
    Scanned out;
    auto summary = run_scan(*store_, options, ScanMeta{});
    EXPECT_THAT(summary, IsOk());
    if (!summary) return out;
    out.summary = *summary;
    EXPECT_THAT(store_->for_each_file(summary->scan_id,
                                      [&](const FileRecord& r) { out.records[r.path] = r; }),
                IsOk());
    return out;
  }

  size_t count_rule(const ScanSummary& summary, std::string_view rule) {
    size_t count = 0;
    for (const Finding& f : test::all(summary.findings)) count += f.rule == rule ? 1 : 0;
    return count;
  }

  test::TempDir tree_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ScannerTest, RecordsFilesSymlinksAndSpecialFilesWithoutOpeningThem) {
  tree_.write("bin/tool", "#!/bin/sh\necho hi\n", 0755);
  tree_.write("lib/data.bin", std::string(300000, 'z'));
  tree_.write("empty", "");
  tree_.symlink("bin/link", "tool");
  tree_.symlink("loop-a", "loop-b");
  tree_.symlink("loop-b", "loop-a");
  tree_.symlink("bin/self", ".");
  ASSERT_EQ(::mkfifo((tree_ / "pipe").c_str(), 0644), 0);

  Scanned s = scan({.roots = {tree_.path()}, .jobs = 2});
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
  EXPECT_EQ(s.summary.totals.files, 3u);
  EXPECT_EQ(s.summary.totals.bytes, 300000u + 18u);
  EXPECT_EQ(s.summary.totals.errors, 0u);
  const FileRecord& tool = s.records.at(tree_ / "bin/tool");
  EXPECT_EQ(to_hex(*tool.sha256), test::sha256_hex("#!/bin/sh\necho hi\n"));
  EXPECT_EQ(tool.format, "script");
  EXPECT_EQ(tool.mode & 07777, 0755u);
  EXPECT_EQ(to_hex(*s.records.at(tree_ / "lib/data.bin").sha256),
            test::sha256_hex(std::string(300000, 'z')));
  EXPECT_EQ(s.records.at(tree_ / "empty").format, "empty");
  EXPECT_EQ(s.records.at(tree_ / "bin/link").type, FileType::Symlink);
  EXPECT_EQ(s.records.at(tree_ / "bin/link").link_target, "tool");
  EXPECT_EQ(s.records.at(tree_ / "loop-a").link_target, "loop-b");
  EXPECT_EQ(s.records.at(tree_ / "bin/self").link_target, ".");
  EXPECT_EQ(s.records.at(tree_ / "pipe").type, FileType::Fifo);
  EXPECT_FALSE(s.records.at(tree_ / "pipe").sha256.has_value());
  EXPECT_EQ(s.records.size(), 8u);
}

// Read again and recorded as it is after the change, and the change is said.
TEST_F(ScannerTest, ReadsAFileThatChangedOnceAgainAndSaysItChanged) {
  tree_.write("f", "before");
  ScanOptions options{.roots = {tree_.path()}, .jobs = 1};
  options.after_read_hook = [&](const std::string&, int attempt) {
    if (attempt == 0) tree_.write("f", "after, longer");
  };
  Scanned s = scan(options);
  ASSERT_EQ(count_rule(s.summary, "FILE_CHANGED_DURING_SCAN"), 1u);
  EXPECT_EQ(to_hex(*s.records.at(tree_ / "f").sha256), test::sha256_hex("after, longer"));
  EXPECT_FALSE(s.records.at(tree_ / "f").changed);  // what is recorded held still
  for (const Finding& f : test::all(s.summary.findings)) {
    if (f.rule != "FILE_CHANGED_DURING_SCAN") continue;
    EXPECT_EQ(f.evidence.at(0), (std::pair<std::string, std::string>{"size_before", "6"}));
  }
}

TEST_F(ScannerTest, SurvivesAMappedFileTruncatedWhileItIsHashed) {
  // Large enough to be mapped; truncating it under the mapping raises SIGBUS on access.
  tree_.write("big", std::string(8 << 20, 'q'));
  ScanOptions options{.roots = {tree_.path()}, .jobs = 1};
  options.before_read_hook = [&](const std::string& path, int attempt) {
    if (attempt == 0) {
      ASSERT_EQ(::truncate(path.c_str(), 100), 0);
    }
  };
  Scanned s = scan(options);
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
  const FileRecord& big = s.records.at(tree_ / "big");
  EXPECT_EQ(big.size, 100u);
  EXPECT_EQ(to_hex(*big.sha256), test::sha256_hex(std::string(100, 'q')));
  // Truncated below a page while mapped: not silent, and the size before is the size before.
  ASSERT_EQ(count_rule(s.summary, "FILE_CHANGED_DURING_SCAN"), 1u);
  for (const Finding& f : test::all(s.summary.findings)) {
    if (f.rule != "FILE_CHANGED_DURING_SCAN") continue;
    EXPECT_EQ(f.evidence.at(0).second, std::to_string(8 << 20));
    EXPECT_EQ(f.evidence.at(1).second, "100");
  }
}

// An ELF of `size` bytes: /usr/bin/ls with `tag` and zeros after it (still an ELF, its own
// content).
std::string padded_elf(size_t size, char tag) {
  auto ls = read_small_file("/usr/bin/ls", 16 << 20);
  EXPECT_TRUE(ls) << "needs /usr/bin/ls";
  std::string out = ls ? *ls : std::string();
  out.push_back(tag);
  if (out.size() < size) out.resize(size, '\0');
  return out;
}

TEST_F(ScannerTest, AFileLargerThanTheAnalysisBudgetIsStillAnalysed) {
  // Both are over kContentMapBytes; one fits the copies' budget, the other is analysed from a
  // mapping that cannot be jumped out of. Both get their structure.
  tree_.write("small.elf", padded_elf(300 << 10, 's'), 0755);
  tree_.write("big.elf", padded_elf(600 << 10, 'b'), 0755);
  ScanOptions options{.roots = {tree_.path()}, .jobs = 2};
  options.analysis_max_bytes = 400 << 10;
  Scanned s = scan(options);
  const FileRecord& small = s.records.at(tree_ / "small.elf");
  const FileRecord& big = s.records.at(tree_ / "big.elf");
  EXPECT_EQ(small.format, "elf");
  EXPECT_EQ(big.format, "elf");
  EXPECT_FALSE(small.details.empty());
  EXPECT_FALSE(big.details.empty());
  EXPECT_EQ(to_hex(*big.sha256), test::sha256_hex(padded_elf(600 << 10, 'b')));
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
}

TEST_F(ScannerTest, WorkersWaitForTheAnalysisBudgetAndAllFinish) {
  // Each copy takes most of the budget: four workers must take turns, and none is skipped.
  for (char tag = 'a'; tag < 'a' + 8; ++tag) {
    tree_.write(std::string("bin/tool-") + tag, padded_elf(300 << 10, tag), 0755);
  }
  ScanOptions options{.roots = {tree_.path()}, .jobs = 4};
  options.analysis_max_bytes = 400 << 10;
  Scanned s = scan(options);
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
  for (char tag = 'a'; tag < 'a' + 8; ++tag) {
    EXPECT_FALSE(s.records.at(tree_ / (std::string("bin/tool-") + tag)).details.empty()) << tag;
  }
}

TEST_F(ScannerTest, SparseFilesDrawOnTheScansBudgetOfHoles) {
  // 200 MiB of holes each, costing no disk: a budget that covers one of them.
  for (const char* name : {"a.img", "b.img"}) {
    const std::string path = tree_ / name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "end", 3, (off_t{200} << 20) - 3), 3);
    ::close(fd);
  }
  ScanOptions options{.roots = {tree_.path()}, .jobs = 2};
  options.sparse_budget_bytes = 300ull << 20;
  Scanned s = scan(options);
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
  const bool a_hashed = s.records.at(tree_ / "a.img").sha256.has_value();
  const bool b_hashed = s.records.at(tree_ / "b.img").sha256.has_value();
  EXPECT_NE(a_hashed, b_hashed);
  ASSERT_EQ(count_rule(s.summary, "FILE_NOT_HASHED"), 1u);
  for (const Finding& f : test::all(s.summary.findings)) {
    if (f.rule == "FILE_NOT_HASHED") {
      EXPECT_EQ(f.path, tree_ / (a_hashed ? "b.img" : "a.img"));
    }
  }
  // The default budget (16 GiB) hashes both.
  Scanned full = scan(ScanOptions{.roots = {tree_.path()}, .jobs = 2, .full = true});
  EXPECT_TRUE(full.records.at(tree_ / "a.img").sha256.has_value());
  EXPECT_TRUE(full.records.at(tree_ / "b.img").sha256.has_value());
  EXPECT_EQ(count_rule(full.summary, "FILE_NOT_HASHED"), 0u);
}

TEST_F(ScannerTest, FlagsAFileThatKeepsChanging) {
  tree_.write("log", "start");
  tree_.write("biglog", std::string(1 << 20, 's'));
  ScanOptions options{.roots = {tree_.path()}, .jobs = 1};
  options.after_read_hook = [&](const std::string& path, int) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "more", 4), 4);
    ::close(fd);
  };
  Scanned s = scan(options);
  ASSERT_EQ(count_rule(s.summary, "FILE_CHANGED_DURING_SCAN"), 2u);
  EXPECT_TRUE(s.records.at(tree_ / "log").changed);
  EXPECT_TRUE(s.records.at(tree_ / "biglog").changed);
  EXPECT_EQ(test::all(s.summary.findings)[0].severity, Severity::Medium);
}

TEST_F(ScannerTest, CountsVanishedFilesWithoutFailing) {
  for (int idx = 0; idx < 5; ++idx) tree_.write("f" + std::to_string(idx), "x");
  ScanOptions options{.roots = {tree_.path()}, .jobs = 1};
  bool deleted = false;
  options.after_read_hook = [&](const std::string& path, int) {
    if (deleted) return;
    deleted = true;
    for (int idx = 0; idx < 5; ++idx) {
      if (tree_ / ("f" + std::to_string(idx)) != path)
        ::unlink((tree_ / ("f" + std::to_string(idx))).c_str());
    }
  };
  Scanned s = scan(options);
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
  EXPECT_EQ(s.summary.totals.files, 1u);
  EXPECT_EQ(count_rule(s.summary, "FILE_VANISHED"), 4u);
  EXPECT_EQ(s.summary.totals.errors, 4u);
}

TEST_F(ScannerTest, FilesSwappedAfterListingCannotRedirectOrBlockTheScan) {
  test::TempDir outside;
  outside.write("secret", "not part of the tree");
  tree_.write("first", std::string(100, 'f'));  // largest: read first, runs the hook
  tree_.write("to-symlink", "a");
  tree_.write("to-fifo", "b");
  ScanOptions options{.roots = {tree_.path()}, .jobs = 1};
  bool swapped = false;
  options.after_read_hook = [&](const std::string&, int) {
    if (swapped) return;
    swapped = true;
    ASSERT_EQ(::unlink((tree_ / "to-symlink").c_str()), 0);
    tree_.symlink("to-symlink", outside / "secret");
    ASSERT_EQ(::unlink((tree_ / "to-fifo").c_str()), 0);
    ASSERT_EQ(::mkfifo((tree_ / "to-fifo").c_str(), 0644), 0);
  };
  Scanned s = scan(options);
  EXPECT_EQ(s.summary.status, scan::ScanStatus::Complete);
  EXPECT_EQ(s.summary.totals.files, 1u);
  EXPECT_EQ(s.records.at(tree_ / "to-symlink").type, FileType::Symlink);
  EXPECT_EQ(s.records.at(tree_ / "to-symlink").link_target, outside / "secret");
  EXPECT_FALSE(s.records.at(tree_ / "to-symlink").sha256.has_value());
  EXPECT_EQ(s.records.at(tree_ / "to-fifo").type, FileType::Fifo);
  EXPECT_FALSE(s.records.at(tree_ / "to-fifo").sha256.has_value());
  for (const auto& [path, record] : s.records) {
    if (record.sha256) {
      EXPECT_NE(to_hex(*record.sha256), test::sha256_hex("not part of the tree"));
    }
  }
}

TEST_F(ScannerTest, StopsOnCancelAndMarksTheScanInterrupted) {
  for (int idx = 0; idx < 50; ++idx) tree_.write("f" + std::to_string(idx), "x");
  std::atomic<bool> cancel{false};
  ScanOptions options{.roots = {tree_.path()}, .jobs = 1};
  options.cancel = &cancel;
  int reads = 0;
  options.after_read_hook = [&](const std::string&, int) {
    if (++reads == 10) cancel = true;
  };
  ScanSummary partial;
  auto result = run_scan(*store_, options, ScanMeta{}, &partial);
  ASSERT_THAT(result, HasError(ErrorCode::Interrupted));
  EXPECT_EQ(partial.status, scan::ScanStatus::Interrupted);
  EXPECT_LT(partial.totals.files, 50u);
  auto stored = store_->get_scan(partial.scan_id);
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->status, scan::ScanStatus::Interrupted);
  EXPECT_EQ(stored->totals.files, partial.totals.files);
}

TEST_F(ScannerTest, ExcludesByBaseNameAndByPath) {
  tree_.write("keep/a.txt", "a");
  tree_.write("keep/skip.log", "b");
  tree_.write("cache/c.txt", "c");
  Scanned s = scan({.roots = {tree_.path()}, .excludes = {"*.log", tree_.path() + "/cache"}});
  EXPECT_EQ(s.records.size(), 1u);
  EXPECT_TRUE(s.records.count(tree_ / "keep/a.txt"));
}

TEST_F(ScannerTest, FlagsWorldWritableExecutablesAndDirectories) {
  tree_.write("bin/open", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::chmod((tree_ / "bin/open").c_str(), 0777), 0);
  tree_.write("bin/data", "x", 0666);  // world-writable but not executable: not a finding
  tree_.mkdir("shared");
  ASSERT_EQ(::chmod((tree_ / "shared").c_str(), 0777), 0);
  tree_.mkdir("sticky");
  ASSERT_EQ(::chmod((tree_ / "sticky").c_str(), 01777), 0);
  Scanned s = scan({.roots = {tree_.path()}});
  ASSERT_EQ(count_rule(s.summary, "WORLD_WRITABLE_EXECUTABLE"), 1u);
  ASSERT_EQ(count_rule(s.summary, "WORLD_WRITABLE_DIR"), 1u);
  for (const Finding& f : test::all(s.summary.findings)) {
    if (f.rule == "WORLD_WRITABLE_EXECUTABLE") {
      EXPECT_EQ(f.path, tree_ / "bin/open");
      EXPECT_TRUE(f.sha256.has_value());
    }
    if (f.rule == "WORLD_WRITABLE_DIR") {
      EXPECT_EQ(f.path, tree_ / "shared");
    }
  }
}

TEST_F(ScannerTest, FollowsASymlinkRootAndDropsNestedRoots) {
  tree_.write("real/f", "x");
  tree_.symlink("alias", "real");
  Scanned s = scan({.roots = {tree_ / "alias", tree_ / "real/f", tree_ / "real"}});
  EXPECT_EQ(s.summary.roots, std::vector<std::string>{tree_ / "alias"});
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_TRUE(s.records.count(tree_ / "alias/f"));
}

TEST_F(ScannerTest, RejectsMissingRoots) {
  EXPECT_THAT(run_scan(*store_, {.roots = {tree_ / "missing"}}, ScanMeta{}),
              HasError(ErrorCode::Usage));
  EXPECT_THAT(run_scan(*store_, {}, ScanMeta{}), HasError(ErrorCode::Usage));
}

TEST_F(ScannerTest, HandlesPathsLongerThanPathMax) {
  // 300 levels of 20-byte names: about 6,300 bytes, past PATH_MAX (4,096).
  std::string relative;
  for (int level = 0; level < 300; ++level) {
    relative +=
        (level ? "/" : "") + std::string("d123456789abcdefghi") + std::to_string(level % 10);
  }
  // mkdir(2) cannot take a path this long: build it a level at a time from the parent's fd.
  int fd = ::open(tree_.path().c_str(), O_RDONLY | O_DIRECTORY);
  size_t pos = 0;
  while (pos < relative.size()) {
    size_t end = relative.find('/', pos);
    if (end == std::string::npos) end = relative.size();
    const std::string name = relative.substr(pos, end - pos);
    ::mkdirat(fd, name.c_str(), 0755);
    const int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(next, 0);
    ::close(fd);
    fd = next;
    pos = end + 1;
  }
  const int file = ::openat(fd, "deep.txt", O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(file, 0);
  ASSERT_EQ(::write(file, "deep", 4), 4);
  ::close(file);
  ::close(fd);
  Scanned s = scan({.roots = {tree_.path()}});
  const std::string deep = tree_ / (relative + "/deep.txt");
  ASSERT_GT(deep.size(), static_cast<size_t>(PATH_MAX));
  ASSERT_TRUE(s.records.count(deep));
  EXPECT_EQ(to_hex(*s.records.at(deep).sha256), test::sha256_hex("deep"));
  EXPECT_EQ(s.summary.totals.errors, 0u);
}

TEST_F(ScannerTest, OneFileSystemStaysOnTheRootDevice) {
  struct stat dev {
  }, shm{};
  if (::stat("/dev", &dev) != 0 || ::stat("/dev/shm", &shm) != 0 || dev.st_dev == shm.st_dev) {
    CATENA_SKIP_ENVIRONMENT() << "/dev/shm is not a separate mount here";
  }
  const std::string marker = "/dev/shm/catena-scanner-test-marker";
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  Scanned across = scan({.roots = {"/dev"}, .one_file_system = false});
  Scanned within = scan({.roots = {"/dev"}, .one_file_system = true});
  ::unlink(marker.c_str());
  EXPECT_TRUE(across.records.count(marker));
  EXPECT_FALSE(within.records.count(marker));
  EXPECT_TRUE(within.records.count("/dev/null"));
  EXPECT_EQ(within.records.at("/dev/null").type, FileType::CharDevice);
}

TEST_F(ScannerTest, ComputesExtraDigestsInTheSamePass) {
  tree_.write("abc", "abc");
  Scanned s = scan({.roots = {tree_.path()}, .digests = DigestSet::kMd5 | DigestSet::kSha1});
  const FileRecord& r = s.records.at(tree_ / "abc");
  ASSERT_TRUE(r.md5 && r.sha1);
  EXPECT_EQ(to_hex(*r.md5), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_hex(*r.sha1), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_F(ScannerTest, LooksUpOwningPackagesByCanonicalPath) {
  test::TempDir root;
  root.write("var/lib/dpkg/info/tool.list", "/usr/bin/tool\n");
  root.write("usr/bin/tool", "x", 0755);
  root.write("usr/bin/stray", "y", 0755);
  root.symlink("bin", "usr/bin");
  // The database lists the canonical path; the scan walks the tree through the bin symlink.
  test::TempDir fake;
  fake.write("var/lib/dpkg/info/tool.list", root / "usr/bin/tool");
  auto fake_owners = pkg::PackageOwners::load({.root = "/", .admin_dir = fake / "var/lib/dpkg"});
  ASSERT_THAT(fake_owners, IsOk());
  Scanned s = scan({.roots = {root / "bin"}, .owners = &*fake_owners});
  EXPECT_EQ(s.records.at(root / "bin/tool").package, "tool");
  EXPECT_EQ(s.records.at(root / "bin/stray").package, "");
}

}  // namespace
}  // namespace catena::scan
