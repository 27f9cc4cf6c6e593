// Incremental scans: what is not read again, what is always found, and what the store keeps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "catena/core/fs.hpp"
#include "catena/intel/index.hpp"
#include "catena/intel/yara.hpp"
#include "catena/scan/scanner.hpp"
#include "catena/store/store.hpp"
#include "support/matchers.hpp"
#include "support/tree.hpp"

namespace catena::scan {
namespace {

using scan::FileRecord;
using test::IsOk;

// Files written by a test are "racy" (changed within the window of the scan that records them)
// and read again by design; the tests use a short window and wait it out.
constexpr int64_t kWindowNs = 20'000'000;
void wait_out_window() { std::this_thread::sleep_for(std::chrono::milliseconds(40)); }

void copy_file(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

struct ScanRun {
  ScanSummary summary;
  std::map<std::string, FileRecord> records;
  std::set<std::string> read;  // paths opened and read
  uint64_t runs(std::string_view analyser) const {
    for (const auto& [name, count] : summary.analyser_runs) {
      if (name == analyser) return count;
    }
    return 0;
  }
  size_t count_rule(std::string_view rule) const {
    size_t n = 0;
    for (const Finding& f : test::all(summary.findings)) n += f.rule == rule ? 1 : 0;
    return n;
  }
};

class IncrementalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_path_ = db_dir_ / "store.db";
    auto opened = store::Store::open(store_path_, store::Store::Access::ReadWrite);
    ASSERT_THAT(opened, IsOk());
    store_ = std::move(*opened);
  }

  ScanOptions options() const {
    ScanOptions o;
    o.roots = {tree_.path()};
    o.jobs = 2;
    o.racy_window_ns = kWindowNs;
    return o;
  }

  ScanRun scan(ScanOptions o, const std::string& host = "host-a") {
    ScanRun out;
    std::mutex mutex;
    o.after_read_hook = [&](const std::string& path, int) {
      std::lock_guard lock(mutex);
      out.read.insert(path);
    };
    auto summary = run_scan(*store_, o, ScanMeta{.kind = "scan", .host = host});
    EXPECT_THAT(summary, IsOk());
    if (!summary) return out;
    out.summary = *summary;
    EXPECT_THAT(store_->for_each_file(summary->scan_id,
                                      [&](const FileRecord& r) { out.records[r.path] = r; }),
                IsOk());
    return out;
  }

  // Same size, other bytes, and the old mtime put back (`touch -d`): only ctime tells.
  void rewrite_keeping_mtime(const std::string& relative, std::string_view content) {
    const std::string path = tree_ / relative;
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    ASSERT_EQ(static_cast<size_t>(before.st_size), content.size());
    {
      std::ofstream out(path, std::ios::binary | std::ios::in | std::ios::out);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    const timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  std::string sha_of(const ScanRun& run, const std::string& relative) const {
    auto it = run.records.find(tree_ / relative);
    if (it == run.records.end() || !it->second.sha256) return "";
    return to_hex(*it->second.sha256);
  }

  test::TempDir tree_;
  test::TempDir db_dir_;
  std::string store_path_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(IncrementalTest, AnUnchangedTreeIsNotReadOrWrittenAgain) {
  for (int i = 0; i < 20; ++i)
    tree_.write("d/f" + std::to_string(i), "content " + std::to_string(i));
  tree_.symlink("link", "d/f1");
  wait_out_window();
  const ScanRun first = scan(options());
  EXPECT_TRUE(first.summary.full_pass);
  EXPECT_EQ(first.summary.totals.files_read, 20u);
  wait_out_window();
  const ScanRun second = scan(options());
  EXPECT_FALSE(second.summary.full_pass);
  EXPECT_EQ(second.summary.totals.files_read, 0u);
  EXPECT_EQ(second.summary.totals.files_reused, 20u);
  EXPECT_EQ(second.summary.totals.files, 20u);
  EXPECT_TRUE(second.read.empty());
  // The second scan's records are the first's, though none was written again.
  ASSERT_EQ(second.records.size(), first.records.size());
  for (const auto& [path, record] : first.records) {
    const FileRecord& again = second.records.at(path);
    EXPECT_EQ(again.sha256, record.sha256) << path;
    EXPECT_EQ(again.inode, record.inode) << path;
    EXPECT_EQ(again.link_target, record.link_target) << path;
    EXPECT_EQ(again.format, record.format) << path;
  }
}

TEST_F(IncrementalTest, EveryFileIsHandedOnReadOrReusedWithItsDigestsAndFormat) {
  tree_.write("bin/tool", "#!/bin/sh\necho tool\n", 0755);
  tree_.write("data/notes", "plain text");
  wait_out_window();
  struct Seen {
    std::optional<Md5> md5;
    std::optional<Sha256> sha256;
    std::string format;
    uint32_t mode = 0;
    int64_t read_ns = 0;
  };
  const auto collect = [&](std::map<std::string, Seen>& into) {
    ScanOptions o = options();
    o.digests = DigestSet::kSha256 | DigestSet::kMd5;
    o.on_file = [&](const SeenFile& f) {
      const FileRecord& r = f.record;
      EXPECT_FALSE(into.contains(r.path)) << r.path;  // once per file
      into[r.path] = {r.md5, r.sha256, r.format, r.mode, f.read_ns};
    };
    return scan(o);
  };
  std::map<std::string, Seen> first;
  const ScanRun read = collect(first);
  ASSERT_EQ(read.summary.totals.files_read, 2u);
  wait_out_window();
  std::map<std::string, Seen> second;
  const ScanRun reused = collect(second);
  ASSERT_EQ(reused.summary.totals.files_reused, 2u);  // nothing read: all from the reference
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  for (const auto& [path, seen] : first) {
    const Seen& again = second.at(path);
    ASSERT_TRUE(seen.md5.has_value()) << path;
    EXPECT_EQ(again.md5, seen.md5) << path;
    EXPECT_EQ(again.sha256, read.records.at(path).sha256) << path;
    EXPECT_EQ(again.format, seen.format) << path;
    EXPECT_EQ(again.mode, seen.mode) << path;
    // A reused file's digest dates from the scan that read it.
    EXPECT_EQ(again.read_ns, read.summary.started_ns) << path;
  }
  EXPECT_EQ(first.at(tree_ / "bin/tool").format, "script");
  EXPECT_EQ(to_hex(*first.at(tree_ / "data/notes").md5), "31bc5c2b8fd4f20cd747347b7504a385");
}

TEST_F(IncrementalTest, AnIndicatorPublishedLaterMatchesAFileThatIsNotReadAgain) {
  tree_.write("bin/dropper", "payload bytes");  // as below
  tree_.write("bin/benign", "nothing to see");
  wait_out_window();
  ASSERT_EQ(scan(options()).summary.totals.files_read, 2u);
  wait_out_window();
  // The feed names the dropper's SHA-256 only now: the unchanged file is matched from its
  // recorded digest, by the table's digest analyser, without being read.
  const std::string payload = "payload bytes";
  const std::string sha = to_hex(sha256_of(std::as_bytes(std::span(payload))));
  intel::IndicatorIndex index;
  auto raw = hex_decode(sha);
  ASSERT_TRUE(raw);
  index.add({.algorithm = "sha256", .digest = *raw, .label = "dropper"});
  ScanOptions o = options();
  o.indicators = &index;
  const ScanRun second = scan(o);
  EXPECT_EQ(second.summary.totals.files_read, 0u);
  std::vector<std::string> matched;
  for (const Finding& f : test::all(second.summary.findings)) {
    if (f.rule == "IOC_MATCH") matched.push_back(f.path);
  }
  EXPECT_EQ(matched, std::vector<std::string>{tree_ / "bin/dropper"});
}

TEST_F(IncrementalTest, ContentRewrittenWithItsMtimePutBackIsFound) {
  tree_.write("tool", "original-bytes");
  tree_.write("other", "unchanged");
  wait_out_window();
  const ScanRun first = scan(options());
  rewrite_keeping_mtime("tool", "TROJANED-bytes");
  wait_out_window();
  const ScanRun second = scan(options());
  EXPECT_EQ(second.read, std::set<std::string>{tree_ / "tool"});
  EXPECT_EQ(sha_of(second, "tool"), test::sha256_hex("TROJANED-bytes"));
  EXPECT_EQ(sha_of(first, "tool"), test::sha256_hex("original-bytes"));  // kept for scan 1
}

TEST_F(IncrementalTest, AFileReplacedByRenameIsFound) {
  tree_.write("tool", "version one");
  wait_out_window();
  scan(options());
  tree_.write("tool.new", "version two");
  ASSERT_EQ(::rename((tree_ / "tool.new").c_str(), (tree_ / "tool").c_str()), 0);
  wait_out_window();
  const ScanRun second = scan(options());
  EXPECT_EQ(second.read, std::set<std::string>{tree_ / "tool"});
  EXPECT_EQ(sha_of(second, "tool"), test::sha256_hex("version two"));
}

// With the default window: a rewrite right after the scan (same clock tick, same size) leaves
// the times a coarse clock gives unchanged; the record is racy, so the file is read again.
TEST_F(IncrementalTest, ARewriteWithinTheSameSecondIsFound) {
  ScanOptions o = options();
  o.racy_window_ns = ScanOptions{}.racy_window_ns;
  tree_.write("tool", "AAAA");
  scan(o);
  rewrite_keeping_mtime("tool", "BBBB");
  const ScanRun second = scan(o);
  EXPECT_EQ(sha_of(second, "tool"), test::sha256_hex("BBBB"));
  EXPECT_TRUE(second.read.contains(tree_ / "tool"));
}

TEST_F(IncrementalTest, FullReadsEverythingAndAnExpiredFullEveryForcesIt) {
  tree_.write("a", "1");
  tree_.write("b", "2");
  wait_out_window();
  scan(options());
  wait_out_window();
  ScanOptions full = options();
  full.full = true;
  const ScanRun forced = scan(full);
  EXPECT_TRUE(forced.summary.full_pass);
  EXPECT_EQ(forced.summary.totals.files_read, 2u);
  ScanOptions expired = options();
  expired.full_every_ns = 1;  // the last full pass is older than 1 ns
  const ScanRun due = scan(expired);
  EXPECT_TRUE(due.summary.full_pass);
  EXPECT_EQ(due.summary.totals.files_read, 2u);
  ScanOptions never = options();
  never.full_every_ns = 0;
  const ScanRun incremental = scan(never);
  EXPECT_FALSE(incremental.summary.full_pass);
  EXPECT_EQ(incremental.summary.totals.files_read, 0u);
}

TEST_F(IncrementalTest, AnInterruptedScanIsNeverTheReference) {
  for (int i = 0; i < 6; ++i) tree_.write("f" + std::to_string(i), "v1-" + std::to_string(i));
  wait_out_window();
  scan(options());
  for (int i = 0; i < 6; ++i) tree_.write("f" + std::to_string(i), "v2-" + std::to_string(i));
  wait_out_window();
  // Interrupted after it has read (and recorded) some of the changed files.
  std::atomic<bool> cancel{false};
  std::atomic<int> reads{0};
  ScanOptions o = options();
  o.jobs = 1;
  o.cancel = &cancel;
  o.after_read_hook = [&](const std::string&, int) {
    if (++reads == 3) cancel = true;
  };
  ScanSummary partial;
  auto interrupted = run_scan(*store_, o, ScanMeta{.host = "host-a"}, &partial);
  ASSERT_FALSE(interrupted);
  EXPECT_EQ(interrupted.error().code, ErrorCode::Interrupted);
  EXPECT_GE(partial.totals.files_read, 1u);
  // What the interrupted scan recorded is not trusted: every changed file is read again.
  wait_out_window();
  const ScanRun next = scan(options());
  EXPECT_EQ(next.summary.totals.files_read, 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(sha_of(next, "f" + std::to_string(i)), test::sha256_hex("v2-" + std::to_string(i)));
  }
  // The next complete scan is a reference again.
  wait_out_window();
  EXPECT_EQ(scan(options()).summary.totals.files_read, 0u);
}

TEST_F(IncrementalTest, TwoHostsNeverShareRecords) {
  tree_.write("x", "same tree, two hosts");
  wait_out_window();
  scan(options(), "host-a");
  wait_out_window();
  EXPECT_EQ(scan(options(), "host-b").summary.totals.files_read, 1u);
  EXPECT_EQ(scan(options(), "host-a").summary.totals.files_read, 0u);
}

TEST_F(IncrementalTest, OtherRootsOrWalkOptionsAreAnotherSeries) {
  tree_.write("x", "1");
  tree_.write("skip.log", "2");
  wait_out_window();
  scan(options());
  wait_out_window();
  ScanOptions excluded = options();
  excluded.excludes = {"*.log"};
  EXPECT_EQ(scan(excluded).summary.totals.files_read, 1u);  // a series of its own
  EXPECT_EQ(scan(excluded).summary.totals.files_read, 0u);
}

TEST_F(IncrementalTest, RemovedAndAddedFilesShowInTheScanThatSawThem) {
  tree_.write("keep", "k");
  tree_.write("gone", "g");
  wait_out_window();
  const ScanRun first = scan(options());
  ASSERT_EQ(::unlink((tree_ / "gone").c_str()), 0);
  tree_.write("new", "n");
  wait_out_window();
  const ScanRun second = scan(options());
  EXPECT_FALSE(second.records.contains(tree_ / "gone"));
  EXPECT_TRUE(second.records.contains(tree_ / "new"));
  EXPECT_EQ(second.read, std::set<std::string>{tree_ / "new"});
  // Scan 1 is still what it was.
  EXPECT_TRUE(first.records.contains(tree_ / "gone"));
  std::set<std::string> paths;
  ASSERT_THAT(store_->for_each_file(first.summary.scan_id,
                                    [&](const FileRecord& r) { paths.insert(r.path); }),
              IsOk());
  EXPECT_TRUE(paths.contains(tree_ / "gone"));
  EXPECT_FALSE(paths.contains(tree_ / "new"));
}

TEST_F(IncrementalTest, OtherDigestsReadOnlyForTheDigestAndAnalyseNothingAgain) {
  tree_.mkdir("bin");
  copy_file("/bin/true", (tree_ / "bin/true"));
  wait_out_window();
  const ScanRun first = scan(options());
  EXPECT_EQ(first.runs("structure"), 1u);
  wait_out_window();
  ScanOptions md5 = options();
  md5.digests = DigestSet::kSha256 | DigestSet::kMd5;
  const ScanRun second = scan(md5);
  EXPECT_EQ(second.summary.totals.files_read, 1u);  // for its MD5
  EXPECT_EQ(second.runs("structure"), 0u);          // the content's facts are known
  EXPECT_EQ(second.runs("format"), 0u);
  EXPECT_TRUE(second.records.at(tree_ / "bin/true").md5.has_value());
  EXPECT_EQ(second.records.at(tree_ / "bin/true").format, "elf");
  wait_out_window();
  EXPECT_EQ(scan(md5).summary.totals.files_read, 0u);
}

TEST_F(IncrementalTest, CopiesOfOneContentAreAnalysedOnce) {
  for (int i = 0; i < 10; ++i) {
    tree_.mkdir("c" + std::to_string(i));
    copy_file("/bin/true", (tree_ / ("c" + std::to_string(i) + "/true")));
    copy_file("/bin/false", (tree_ / ("c" + std::to_string(i) + "/false")));
  }
  const ScanRun run = scan(options());
  EXPECT_EQ(run.summary.totals.files_read, 20u);
  EXPECT_EQ(run.runs("structure"), 2u);
  for (int i = 0; i < 10; ++i) {
    const FileRecord& r = run.records.at(tree_ / ("c" + std::to_string(i) + "/true"));
    EXPECT_EQ(r.format, "elf");
    EXPECT_FALSE(r.details.empty());
  }
}

TEST_F(IncrementalTest, NewYaraRulesReAnalyseWhatTheyNeedAndKeepTheRest) {
  tree_.write("payload.bin", "this file carries MARKER-ONE and MARKER-TWO");
  copy_file("/bin/true", (tree_ / "true"));
  tree_.write("rules/one.yar", "rule one { strings: $a = \"MARKER-ONE\" condition: $a }\n");
  tree_.write("rules2/two.yar", "rule two { strings: $a = \"MARKER-TWO\" condition: $a }\n");
  auto one = intel::YaraRules::load({tree_ / "rules/one.yar"});
  auto two = intel::YaraRules::load({tree_ / "rules2/two.yar"});
  ASSERT_THAT(one, IsOk());
  ASSERT_THAT(two, IsOk());
  ScanOptions with_one = options();
  with_one.roots = {tree_ / "payload.bin", tree_ / "true"};
  with_one.yara = &*one;
  wait_out_window();
  const ScanRun first = scan(with_one);
  EXPECT_EQ(first.count_rule("YARA_MATCH"), 1u);
  wait_out_window();
  // Same rules, nothing changed: nothing read, the match is issued again from stored facts.
  const ScanRun again = scan(with_one);
  EXPECT_EQ(again.summary.totals.files_read, 0u);
  EXPECT_EQ(again.count_rule("YARA_MATCH"), 1u);
  // Other rules: the files are read for YARA; the structure of the ELF is not parsed again.
  ScanOptions with_two = with_one;
  with_two.yara = &*two;
  const ScanRun other = scan(with_two);
  EXPECT_EQ(other.summary.totals.files_read, 2u);
  EXPECT_EQ(other.runs("yara"), 2u);
  EXPECT_EQ(other.runs("structure"), 0u);
  ASSERT_EQ(other.count_rule("YARA_MATCH"), 1u);
  for (const Finding& f : test::all(other.summary.findings)) {
    if (f.rule != "YARA_MATCH") continue;
    for (const auto& [key, value] : f.evidence) {
      if (key == "rule") {
        EXPECT_EQ(value, "two");
      }
    }
  }
}

TEST_F(IncrementalTest, MetadataFindingsAreRaisedForReusedFiles) {
  tree_.write("bin/tool", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::chmod((tree_ / "bin/tool").c_str(), 0777), 0);
  wait_out_window();
  const ScanRun first = scan(options());
  const size_t writable = first.count_rule("WORLD_WRITABLE_EXECUTABLE");
  EXPECT_GE(writable, 1u);
  wait_out_window();
  const ScanRun second = scan(options());
  EXPECT_EQ(second.summary.totals.files_read, 0u);
  EXPECT_EQ(second.count_rule("WORLD_WRITABLE_EXECUTABLE"), writable);
}

}  // namespace
}  // namespace catena::scan

namespace catena::scan {
namespace {

// A hostile tree: nesting far deeper than the open-file limit allows descriptors.
TEST(HostileTree, ADeepChainIsWalkedWithFewDescriptors) {
  test::TempDir tree;
  std::string relative;
  for (int level = 0; level < 300; ++level) relative += (level ? "/d" : "d");
  ASSERT_TRUE(std::filesystem::create_directories(tree / relative));
  tree.write(relative + "/tool",
             "\x7f"
             "ELF-ish",
             0755);
  ASSERT_EQ(::chmod((tree / (relative + "/tool")).c_str(), 0777), 0);
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto store = store::Store::open_memory();
  ASSERT_THAT(store, IsOk());
  ScanOptions options;
  options.roots = {tree.path()};
  options.jobs = 2;
  auto summary = run_scan(**store, options, ScanMeta{});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_THAT(summary, IsOk());
  EXPECT_FALSE(summary->totals.incomplete);
  size_t writable = 0;
  for (const Finding& f : test::all(summary->findings)) {
    EXPECT_NE(f.rule, "SCAN_RESOURCE_LIMIT") << f.path;
    EXPECT_NE(f.rule, "DIR_UNREADABLE") << f.path;
    writable += f.rule == "WORLD_WRITABLE_EXECUTABLE" ? 1 : 0;
  }
  EXPECT_EQ(writable, 1u);
}

TEST(HostileTree, DeeperThanTheLimitIsAHighFindingAndAnIncompleteScan) {
  test::TempDir tree;
  std::string relative;
  for (int level = 0; level < 40; ++level) relative += (level ? "/d" : "d");
  ASSERT_TRUE(std::filesystem::create_directories(tree / relative));
  tree.write(relative + "/tool", "x", 0755);
  auto store = store::Store::open_memory();
  ASSERT_THAT(store, IsOk());
  ScanOptions options;
  options.roots = {tree.path()};
  options.max_depth = 20;
  auto summary = run_scan(**store, options, ScanMeta{});
  ASSERT_THAT(summary, IsOk());
  EXPECT_TRUE(summary->totals.incomplete);
  EXPECT_EQ(summary->totals.files, 0u);
  size_t limits = 0;
  for (const Finding& f : test::all(summary->findings)) {
    if (f.rule != "SCAN_DEPTH_LIMIT") continue;
    ++limits;
    EXPECT_EQ(f.severity, Severity::High);
  }
  EXPECT_EQ(limits, 1u);
  auto stored = (*store)->get_scan(summary->scan_id);
  ASSERT_THAT(stored, IsOk());
  EXPECT_TRUE(stored->totals.incomplete);
}

TEST(HostileTree, AHugeDirectoryCostsTheQueueBoundNotItsSize) {
  test::TempDir tree;
  constexpr size_t kFiles = 20000;
  tree.mkdir("huge");
  for (size_t i = 0; i < kFiles; ++i) {
    const UniqueFd fd(::open((tree / ("huge/f" + std::to_string(i))).c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
  }
  for (const unsigned jobs : {1u, 2u}) {
    auto store = store::Store::open_memory();
    ASSERT_THAT(store, IsOk());
    ScanOptions options;
    options.roots = {tree.path()};
    options.jobs = jobs;
    options.max_queued_files = 100;
    auto summary = run_scan(**store, options, ScanMeta{});
    ASSERT_THAT(summary, IsOk());
    EXPECT_EQ(summary->totals.files, kFiles) << jobs;  // every file, none lost to the bound
    // One worker lists the whole directory before it would read a file: without the bound the
    // queue holds all 20,000. With it, the bound plus one listing chunk (4,096).
    EXPECT_LE(summary->peak_queued_files, 100u + 4096u) << jobs;
  }
}

}  // namespace
}  // namespace catena::scan
