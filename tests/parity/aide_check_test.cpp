// catena baseline check against the real `aide --check` with an equivalent configuration, on
// the same tree and the same changes: both must name the same added, removed and changed paths.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using Changes = std::set<std::pair<std::string, std::string>>;  // (kind, path)

// The entry lists of an AIDE 0.18 report ("f+++...: /path" under "Added entries:" and so on).
// Directories are left out: a catena baseline records what is in them, not the directories.
Changes parse_aide(const std::string& report) {
  Changes out;
  std::istringstream lines(report);
  std::string line;
  std::string kind;
  while (std::getline(lines, line)) {
    if (line == "Added entries:") kind = "added";
    if (line == "Removed entries:") kind = "removed";
    if (line == "Changed entries:") kind = "changed";
    if (line.starts_with("Detailed information")) break;
    const size_t colon = line.find(": /");
    if (kind.empty() || colon == std::string::npos || line.starts_with('d')) continue;
    out.emplace(kind, line.substr(colon + 2));
  }
  return out;
}

Changes parse_catena(const std::string& text) {
  Changes out;
  const json doc = json::parse(text);
  for (const json& f : doc["findings"]) {
    const std::string rule = f["rule"];
    const std::string kind = rule == "FILE_ADDED"     ? "added"
                             : rule == "FILE_REMOVED" ? "removed"
                             : rule == "FILE_CHANGED" ? "changed"
                                                      : "";
    if (!kind.empty()) out.emplace(kind, f["path"]);
  }
  return out;
}

TEST(AideParity, SameChangedPathsAsAideCheck) {
  test::TempDir work;
  const std::string tree = work / "tree";
  for (const char* name : {"content", "mode", "owner", "mtime", "removed", "same", "caps"}) {
    work.write(std::string("tree/") + name, std::string(name) + "\n", 0755);
  }
  work.write("tree/sub/deep", "deep\n");
  work.symlink("tree/link", "same");
  const std::string conf = work / "aide.conf";
  work.write("aide.conf", "database_in=file:" + (work / "aide.db") +
                              "\ndatabase_out=file:" + (work / "aide.db.new") +
                              "\ngzip_dbout=no\nreport_url=stdout\n"
                              "Watch = p+i+u+g+s+m+c+l+sha256+xattrs+caps+acl+ftype\n" +
                              tree + " Watch\n");
  const std::string db = work / "catena.db";
  test::RunResult r = test::run_command({"aide", "--init", "-c", conf});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(::rename((work / "aide.db.new").c_str(), (work / "aide.db").c_str()), 0);
  r = test::run_catena({"baseline", "create", "--name", "parity", "--db", db, tree});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The changes: content, mode, owner, mtime, an added file, a removed one, a retargeted
  // symlink, a file capability.
  work.write("tree/content", "trojan\n", 0755);
  ::chmod((work / "tree/mode").c_str(), 04755);
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown((work / "tree/owner").c_str(), 65534, 65534), 0);
  }
  ASSERT_EQ(test::run_command({"touch", "-d", "2001-01-01", work / "tree/mtime"}).exit_code, 0);
  work.write("tree/added", "new\n", 0755);
  ASSERT_EQ(::unlink((work / "tree/removed").c_str()), 0);
  ASSERT_EQ(::unlink((work / "tree/link").c_str()), 0);
  work.symlink("tree/link", "content");
  if (root) {
    ASSERT_EQ(test::run_command({"setcap", "cap_net_raw+ep", work / "tree/caps"}).exit_code, 0);
  }

  const test::RunResult aide = test::run_command({"aide", "--check", "-c", conf});
  ASSERT_GT(aide.exit_code, 0) << aide.err;  // AIDE exits non-zero when it finds differences
  const test::RunResult catena =
      test::run_catena({"baseline", "check", "--name", "parity", "--db", db, "--format", "json"});
  ASSERT_EQ(catena.exit_code, 1) << catena.err;

  Changes expected = {{"added", tree + "/added"},     {"removed", tree + "/removed"},
                      {"changed", tree + "/content"}, {"changed", tree + "/mode"},
                      {"changed", tree + "/mtime"},   {"changed", tree + "/link"}};
  if (root) {
    expected.emplace("changed", tree + "/owner");
    expected.emplace("changed", tree + "/caps");
  }
  EXPECT_EQ(parse_aide(aide.out), expected) << aide.out;
  EXPECT_EQ(parse_catena(catena.out), expected) << catena.out;
}

}  // namespace
}  // namespace catena
