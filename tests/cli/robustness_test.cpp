// Hostile and broken input for the whole program: special files, unreadable and changing files,
// huge and many files, damaged stores, and signals in the middle of a scan.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "catena/store/store.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;
using test::run_catena_unprivileged;
using test::RunResult;

std::string query_text(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

void make_many_files(const test::TempDir& dir, int count) {
  for (int idx = 0; idx < count; ++idx) {
    if (idx % 1000 == 0) dir.mkdir("d" + std::to_string(idx / 1000));
    const std::string path = dir / ("d" + std::to_string(idx / 1000) + "/f" + std::to_string(idx));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    const std::string content = std::to_string(idx);
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
}

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The unprivileged runs need to reach the tree and the store.
    ::chmod(tree_.path().c_str(), 0755);
    ::chmod(work_.path().c_str(), 0777);
  }
  std::string db() const { return work_ / "store.db"; }
  test::TempDir tree_;
  test::TempDir work_;
};

TEST_F(RobustnessTest, FifoSocketAndDeviceNodesNeverBlockTheScan) {
  tree_.write("f", "x");
  ASSERT_EQ(::mkfifo((tree_ / "fifo").c_str(), 0666), 0);
  // Nobody ever writes to this FIFO: opening it for reading would block forever.
  const RunResult r =
      run_catena({"scan", tree_.path(), "/dev/null", "--db", db(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["files"], 1);
  const RunResult list = run_catena({"inventory", "list", "--db", db(), "--format", "jsonl"});
  EXPECT_NE(list.out.find("\"type\":\"fifo\""), std::string::npos);
  EXPECT_NE(list.out.find("\"type\":\"char_device\""), std::string::npos);
}

TEST_F(RobustnessTest, UnreadableFilesAndDirectoriesAreReportedNotFatal) {
  tree_.write("ok", "fine");
  tree_.write("secret", "no", 0600);
  tree_.write("locked/inside", "hidden");
  ASSERT_EQ(::chmod((tree_ / "locked").c_str(), 0700), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown((tree_ / "secret").c_str(), 0, 0), 0);
    ASSERT_EQ(::chown((tree_ / "locked").c_str(), 0, 0), 0);
  } else {
    ASSERT_EQ(::chmod((tree_ / "secret").c_str(), 0), 0);
    ASSERT_EQ(::chmod((tree_ / "locked").c_str(), 0), 0);
  }
  const RunResult r =
      run_catena_unprivileged({"scan", tree_.path(), "--db", db(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["files"], 1);
  EXPECT_EQ(doc["errors"], 2);
  std::set<std::string> rules;
  for (const auto& f : doc["findings"])
    rules.insert(f["rule"].get<std::string>() + " " + f["path"].get<std::string>());
  EXPECT_TRUE(rules.count("FILE_UNREADABLE " + (tree_ / "secret"))) << r.out;
  EXPECT_TRUE(rules.count("DIR_UNREADABLE " + (tree_ / "locked"))) << r.out;
  EXPECT_EQ(doc["status"], "complete");
}

TEST_F(RobustnessTest, FileGrowingDuringTheScanIsFlagged) {
  // Large enough that each read takes tens of milliseconds, so appends land inside it.
  tree_.write("growing.log", std::string(32 << 20, 'a'));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    const int fd = ::open((tree_ / "growing.log").c_str(), O_WRONLY | O_APPEND);
    const std::string chunk(4096, 'b');
    while (!stop) {
      if (::write(fd, chunk.data(), chunk.size()) < 0) break;
      ::usleep(200);
    }
    ::close(fd);
  });
  const RunResult r =
      run_catena({"scan", tree_.path(), "--db", db(), "--format", "json", "--fail-on", "critical"});
  stop = true;
  writer.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 1u) << r.out;
  EXPECT_EQ(doc["findings"][0]["rule"], "FILE_CHANGED_DURING_SCAN");
  EXPECT_EQ(doc["files"], 1);
}

TEST_F(RobustnessTest, SparseFileLargerThan4GiBIsHashedExactly) {
  const std::string path = tree_ / "sparse.img";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  const off_t size = (off_t{1} << 32) + 3;
  ASSERT_EQ(::pwrite(fd, "end", 3, size - 3), 3);
  ::close(fd);
  const RunResult r = run_catena({"scan", tree_.path(), "--db", db(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["bytes"], static_cast<uint64_t>(size));
  const RunResult peer = test::run_command({"openssl", "dgst", "-sha256", "-r", path});
  const RunResult list = run_catena({"inventory", "list", "--db", db(), "--format", "json"});
  const json records = json::parse(list.out);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["sha256"], peer.out.substr(0, 64));
  EXPECT_EQ(records[0]["size"], static_cast<uint64_t>(size));
}

TEST_F(RobustnessTest, TwoHundredThousandFilesWithProgressOnATerminal) {
  make_many_files(tree_, 200000);
  // script(1) gives catena a terminal on stderr; stdout goes to a file.
  const std::string out = work_ / "out.json";
  const std::string command =
      test::catena_binary() + " scan " + tree_.path() + " --db " + db() + " --format json > " + out;
  const RunResult r = test::run_command({"script", "-qefc", command, "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::ifstream in(out);
  const json doc = json::parse(in);
  EXPECT_EQ(doc["files"], 200000);
  EXPECT_EQ(doc["errors"], 0);
  // The progress line ("N files, X MB, Y/s") went to the terminal, and only there.
  EXPECT_NE(r.out.find(" files, "), std::string::npos);
  const RunResult piped = run_catena({"inventory", "scans", "--db", db(), "--format", "jsonl"});
  EXPECT_EQ(piped.err, "");
  EXPECT_EQ(query_text(db(), "SELECT count(*) FROM files"), "200000");
}

// An audit with ten thousand findings: each output form carries every one, most severe
// first, and the standard's verdict counts them all while naming only the first few. The
// findings are read back from the store as they are printed (nothing holds them all; the
// figures of memory are in docs/benchmarks.md, not asserted here).
TEST_F(RobustnessTest, EveryFindingOfAHugeAuditIsPrintedInOrderAndCounted) {
  constexpr int kWritable = 10000;
  for (int idx = 0; idx < kWritable; ++idx) {
    if (idx % 1000 == 0) tree_.mkdir("d" + std::to_string(idx / 1000));
    const std::string path =
        tree_ / ("d" + std::to_string(idx / 1000) + "/t" + std::to_string(idx));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "#!/bin/sh\n", 10), 10);
    ::close(fd);
    ASSERT_EQ(::chmod(path.c_str(), 0777), 0);
  }
  ASSERT_EQ(::chmod((tree_ / "d7").c_str(), 0777), 0);  // one more finding, of another rule
  const std::string html = work_ / "audit.html";
  const RunResult r =
      run_catena({"audit", "--db", db(), "--format", "json", "--no-dpkg", "--no-access", "--path",
                  "", "--home", work_ / "nohome", "--system-dir", tree_.path(), "--html", html});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  const json& findings = doc["findings"];
  ASSERT_EQ(findings.size(), kWritable + 1u);
  const auto rank = [](const std::string& severity) {
    for (int i = 0; const char* name : {"info", "low", "medium", "high", "critical"}) {
      if (severity == name) return i;
      ++i;
    }
    return -1;
  };
  size_t writable = 0;
  for (size_t i = 0; i < findings.size(); ++i) {
    const json& f = findings[i];
    EXPECT_EQ(f["id"], i + 1);
    writable += f["rule"] == "WORLD_WRITABLE_EXECUTABLE" ? 1 : 0;
    if (i == 0) continue;
    const json& before = findings[i - 1];
    const int now = rank(f["severity"]);
    const int was = rank(before["severity"]);
    ASSERT_LE(now, was) << i;
    if (now == was && f["rule"] == before["rule"]) {
      ASSERT_LT(before["path"].get<std::string>(), f["path"].get<std::string>()) << i;
    }
  }
  EXPECT_EQ(writable, static_cast<size_t>(kWritable));
  const json* rule = nullptr;
  for (const json& candidate : doc["rules"]) {
    if (candidate["id"] == "no-writable-tools") rule = &candidate;
  }
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ((*rule)["status"], "fail");
  EXPECT_EQ((*rule)["count"], kWritable + 1);
  ASSERT_EQ((*rule)["findings"].size(), 20u);
  for (const json& id : (*rule)["findings"]) {
    const std::string named = findings[id.get<size_t>() - 1]["rule"];
    EXPECT_TRUE(named == "WORLD_WRITABLE_EXECUTABLE" || named == "WORLD_WRITABLE_DIR") << named;
  }
  // The page has one row per finding.
  std::ifstream page(html);
  const std::string text((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  size_t rows = 0;
  for (size_t at = text.find("<tr id=\"f"); at != std::string::npos;
       at = text.find("<tr id=\"f", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, kWritable + 1u);
  // SARIF and jsonl carry them all too.
  const RunResult sarif =
      run_catena({"scan", tree_.path(), "--db", db(), "--no-dpkg", "--format", "sarif"});
  ASSERT_EQ(sarif.exit_code, 1) << sarif.err;
  const json run = json::parse(sarif.out)["runs"][0];
  EXPECT_EQ(run["results"].size(), kWritable + 1u);
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 2u);
  const RunResult lines =
      run_catena({"scan", tree_.path(), "--db", db(), "--no-dpkg", "--format", "jsonl"});
  EXPECT_EQ(std::count(lines.out.begin(), lines.out.end(), '\n'), kWritable + 2);
  // Later, the audit's findings again from the store, in the same order.
  const std::string audit_id = std::to_string(doc["scan_id"].get<int64_t>());
  const RunResult stored =
      run_catena({"inventory", "findings", "--db", db(), "--scan", audit_id, "--format", "json"});
  ASSERT_EQ(stored.exit_code, 1) << stored.err;
  const json again = json::parse(stored.out);
  ASSERT_EQ(again["findings"].size(), findings.size());
  EXPECT_EQ(again["findings"][0]["path"], findings[0]["path"]);
  EXPECT_EQ(again["findings"][kWritable]["path"], findings[kWritable]["path"]);
  EXPECT_EQ(again["command"], "audit");
  EXPECT_EQ(run_catena({"inventory", "findings", "--db", db(), "--scan", audit_id, "--fail-on",
                        "critical", "--format", "jsonl"})
                .exit_code,
            0);
}

TEST_F(RobustnessTest, InterruptLeavesAConsistentStoreMarkedIncomplete) {
  make_many_files(tree_, 60000);
  ASSERT_EQ(run_catena({"scan", tree_ / "d0", "--db", db(), "--format", "json"}).exit_code, 0);
  int expected_scans = 1;
  for (int signal_number : {SIGINT, SIGKILL}) {
    ++expected_scans;
    test::Child child(
        {test::catena_binary(), "scan", tree_.path(), "--db", db(), "--format", "json", "-j", "1"});
    // Wait until the scan has committed something, so the signal lands mid-scan (up to two
    // minutes: a sanitizer build on a loaded machine can take half a minute to its first batch).
    // The files of this scan by its own id (scans are numbered 1, 2, 3 here): asking for the
    // newest scan's could count the previous scan's files just before this one begins.
    std::string committed;
    for (int tries = 0; tries < 2400; ++tries) {
      committed = query_text(
          db(), "SELECT count(*) FROM files WHERE scan_id = " + std::to_string(expected_scans));
      if (!committed.empty() && committed != "0") break;
      ::usleep(50000);
    }
    child.signal(signal_number);
    const RunResult r = child.wait();
    const std::string status =
        query_text(db(), "SELECT status FROM scans ORDER BY id DESC LIMIT 1");
    if (signal_number == SIGINT) {
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
      EXPECT_EQ(status, "interrupted");
      EXPECT_EQ(json::parse(r.out)["status"], "interrupted");
    } else {
      EXPECT_EQ(r.exit_code, 128 + SIGKILL);
      EXPECT_EQ(status, "running");  // nobody has opened the store since
      // The next command to open the store, a reader too, sees that no process holds the scan
      // and marks it interrupted with the count of what it committed.
      const RunResult listed = run_catena({"inventory", "scans", "--db", db(), "--format", "json"});
      EXPECT_EQ(listed.exit_code, 0) << listed.err;
      EXPECT_EQ(query_text(db(), "SELECT status FROM scans ORDER BY id DESC LIMIT 1"),
                "interrupted");
      const std::string files =
          query_text(db(), "SELECT files FROM scans ORDER BY id DESC LIMIT 1");
      EXPECT_EQ(files, query_text(db(),
                                  "SELECT count(*) FROM files WHERE scan_id = "
                                  "(SELECT max(id) FROM scans)"));
      EXPECT_NE(files, "0");
      EXPECT_NE(listed.out.find("interrupted"), std::string::npos) << listed.out;
    }
    EXPECT_EQ(query_text(db(), "PRAGMA integrity_check"), "ok");
    // Earlier scans are intact.
    EXPECT_EQ(query_text(db(), "SELECT status FROM scans WHERE id = 1"), "complete");
    EXPECT_EQ(query_text(db(), "SELECT count(*) FROM files WHERE scan_id = 1"), "1000");
  }
  // And the store keeps working.
  EXPECT_EQ(run_catena({"scan", tree_ / "d1", "--db", db(), "--format", "json"}).exit_code, 0);
}

// Two scans creating one new store at once: creation and migration are serialised, so both
// succeed (before, one failed about one time in two).
TEST_F(RobustnessTest, ConcurrentFirstUseOfANewStoreSucceeds) {
  tree_.write("a/f", "x");
  for (int round = 0; round < 8; ++round) {
    const std::string store = tree_ / ("new" + std::to_string(round) + "/c.db");
    test::Child first({test::catena_binary(), "scan", tree_ / "a", "--db", store, "--no-dpkg"});
    test::Child second({test::catena_binary(), "scan", tree_ / "a", "--db", store, "--no-dpkg"});
    const RunResult a = first.wait();
    const RunResult b = second.wait();
    EXPECT_EQ(a.exit_code, 0) << "round " << round << ": " << a.err;
    EXPECT_EQ(b.exit_code, 0) << "round " << round << ": " << b.err;
    EXPECT_EQ(query_text(store, "SELECT count(*) FROM scans WHERE status = 'complete'"), "2");
  }
}

// A page of random bytes in a store: `catena store check` says so, and after a killed writer
// the next command refuses to write into it.
TEST_F(RobustnessTest, ADamagedStoreIsNoticedAndNotWrittenInto) {
  tree_.write("a/f", "x");
  for (int i = 0; i < 300; ++i) tree_.write("b/f" + std::to_string(i), std::to_string(i));
  ASSERT_EQ(run_catena({"scan", tree_ / "b", "--db", db(), "--no-dpkg"}).exit_code, 0);
  const RunResult sound = run_catena({"store", "check", "--db", db()});
  EXPECT_EQ(sound.exit_code, 0) << sound.err;
  EXPECT_NE(sound.out.find(": ok"), std::string::npos) << sound.out;
  // A scan "killed" while writing: its row says running, and nobody holds it.
  ASSERT_EQ(test::run_command({"sqlite3", db(), "UPDATE scans SET status = 'running' WHERE id = 1"})
                .exit_code,
            0);
  // Random bytes over a page in the middle of the file.
  {
    std::fstream file(db(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(3 * 4096);
    std::string noise(4096, '\0');
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 131 + 17) % 251);
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }
  const RunResult checked = run_catena({"store", "check", "--db", db()});
  EXPECT_EQ(checked.exit_code, 1) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("damaged"), std::string::npos) << checked.out;
  const RunResult refused = run_catena({"scan", tree_ / "a", "--db", db(), "--no-dpkg"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.err.find("damaged"), std::string::npos) << refused.err;
}

TEST_F(RobustnessTest, DamagedLockedReadOnlyAndNewerStoresFailClearly) {
  tree_.write("f", "x");
  tree_.write("garbage.db", std::string(4096, 'g'));
  RunResult r = run_catena({"scan", tree_.path(), "--db", tree_ / "garbage.db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a catena store"), std::string::npos) << r.err;

  ASSERT_EQ(run_catena({"scan", tree_.path(), "--db", db(), "--format", "json"}).exit_code, 0);
  {
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    r = run_catena({"scan", tree_.path(), "--db", db()});
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("locked"), std::string::npos) << r.err;
  }

  // A store the user may not write (owned by root, 0644).
  ASSERT_EQ(::chmod(db().c_str(), 0644), 0);
  if (::geteuid() != 0) {
    ASSERT_EQ(::chmod(db().c_str(), 0444), 0);
  }
  r = run_catena_unprivileged({"scan", tree_.path(), "--db", db()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;

  {
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &other), SQLITE_OK);
    const std::string newer = "PRAGMA user_version = " + std::to_string(store::kSchemaVersion + 1);
    ASSERT_EQ(sqlite3_exec(other, newer.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
  }
  r = run_catena({"inventory", "list", "--db", db()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("newer than this catena"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace catena
