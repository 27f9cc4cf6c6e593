// End-to-end tests: run the catena binary on generated trees and check what it prints.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "catena/core/text.hpp"
#include "support/cache.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;
using test::RunResult;

class CliTest : public ::testing::Test {
 protected:
  std::string db() const { return work_ / "store.db"; }
  RunResult catena(std::vector<std::string> args) {
    args.push_back("--db");
    args.push_back(db());
    return run_catena(args);
  }
  json json_of(const RunResult& result) {
    auto doc = json::parse(result.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << result.out << result.err;
    return doc;
  }
  test::TempDir tree_;
  test::TempDir work_;
};

TEST_F(CliTest, ScanJsonHasTheDocumentedShape) {
  tree_.write("a.sh", "#!/bin/sh\n", 0755);
  tree_.write("b", "");
  const RunResult r = catena({"scan", tree_.path(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const json doc = json_of(r);
  for (const char* key :
       {"scan_id", "host", "started", "finished", "files", "bytes", "errors", "findings"}) {
    EXPECT_TRUE(doc.contains(key)) << key;
  }
  EXPECT_EQ(doc["files"], 2);
  EXPECT_EQ(doc["bytes"], 10);
  EXPECT_EQ(doc["errors"], 0);
  EXPECT_EQ(doc["status"], "complete");
  EXPECT_TRUE(doc["findings"].is_array());
  EXPECT_EQ(doc["host"], json_of(catena({"scan", tree_.path(), "--format", "json"}))["host"]);
}

TEST_F(CliTest, InventoryMatchesSha256sumOnTheSameTree) {
  for (int idx = 0; idx < 40; ++idx) {
    tree_.write("d" + std::to_string(idx % 4) + "/f" + std::to_string(idx),
                std::string(idx * 997, static_cast<char>('a' + idx % 26)));
  }
  ASSERT_EQ(catena({"scan", tree_.path(), "--format", "json"}).exit_code, 0);
  const RunResult list = catena({"inventory", "list", "--format", "jsonl"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::map<std::string, std::string> ours;
  std::istringstream lines(list.out);
  std::string line;
  while (std::getline(lines, line)) {
    const json record = json::parse(line);
    for (const char* key :
         {"path", "size", "mode", "uid", "gid", "mtime", "sha256", "format", "package"}) {
      EXPECT_TRUE(record.contains(key)) << key;
    }
    ours[record["path"]] = record["sha256"];
  }
  ASSERT_EQ(ours.size(), 40u);
  std::vector<std::string> argv = {"sha256sum"};
  for (const auto& [path, sha] : ours) argv.push_back(path);
  const RunResult peer = test::run_command(argv);
  ASSERT_EQ(peer.exit_code, 0);
  std::istringstream peer_lines(peer.out);
  size_t compared = 0;
  while (std::getline(peer_lines, line)) {
    const std::string sha = line.substr(0, 64);
    const std::string path = line.substr(66);
    EXPECT_EQ(ours.at(path), sha) << path;
    ++compared;
  }
  EXPECT_EQ(compared, 40u);
}

TEST_F(CliTest, ExitCodesFollowFailOn) {
  tree_.write("tool", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::chmod((tree_ / "tool").c_str(), 0777), 0);
  EXPECT_EQ(catena({"scan", tree_.path(), "--format", "json"}).exit_code, 1);
  EXPECT_EQ(catena({"scan", tree_.path(), "--format", "json", "--fail-on", "critical"}).exit_code,
            0);
  EXPECT_EQ(catena({"scan", tree_.path(), "--format", "json", "--fail-on", "low"}).exit_code, 1);
  const RunResult bad = catena({"scan", tree_.path(), "--fail-on", "severe"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(bad.err.empty());
}

TEST_F(CliTest, UsageAndOperationalErrorsExitTwoWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  for (const Case& c :
       std::vector<Case>{{{"scan", "/nonexistent/catena"}, "cannot scan /nonexistent/catena"},
                         {{"scan", "--bogus", "/tmp"}, "bogus"},
                         {{"frobnicate"}, "frobnicate"},
                         {{"inventory", "find", "--sha256", "xyz"}, "64 hex digits"},
                         {{"inventory", "list", "--format", "sarif"}, "sarif"},
                         {{"scan", "/tmp", "--digests", "crc32"}, "crc32"}}) {
    const RunResult r = catena(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  }
  // The help offers only the formats a command takes.
  for (const char* sub : {"list", "find", "scans"}) {
    const RunResult help = run_catena({"inventory", sub, "--help"});
    EXPECT_EQ(help.out.find("sarif"), std::string::npos) << sub << help.out;
  }
  const RunResult none = run_catena({"inventory", "list", "--db", work_ / "absent.db"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no store at"), std::string::npos) << none.err;
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1);
}

TEST_F(CliTest, HelpIsCompleteForEveryCommand) {
  const RunResult top = run_catena({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"scan", "audit", "inventory"})
    EXPECT_NE(top.out.find(command), std::string::npos);
  for (const auto& args : std::vector<std::vector<std::string>>{{"scan", "--help"},
                                                                {"audit", "--help"},
                                                                {"inventory", "list", "--help"},
                                                                {"inventory", "find", "--help"}}) {
    const RunResult r = run_catena(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--db"), std::string::npos) << args[0];
    EXPECT_NE(r.out.find("--format"), std::string::npos) << args[0];
  }
  EXPECT_NE(run_catena({"--version"}).out.find("catena "), std::string::npos);
}

TEST_F(CliTest, StorePathComesFromDbThenEnvironment) {
  tree_.write("f", "x");
  test::RunOptions env{.env = {{"CATENA_DB", work_ / "env.db"}}};
  ASSERT_EQ(run_catena({"scan", tree_.path(), "--format", "json"}, env).exit_code, 0);
  EXPECT_EQ(::access((work_ / "env.db").c_str(), F_OK), 0);
  ASSERT_EQ(run_catena({"scan", tree_.path(), "--format", "json", "--db", work_ / "flag.db"}, env)
                .exit_code,
            0);
  EXPECT_EQ(::access((work_ / "flag.db").c_str(), F_OK), 0);
  test::RunOptions home{.env = {{"HOME", work_ / "home"}},
                        .unset_env = {"CATENA_DB", "XDG_DATA_HOME"}};
  ASSERT_EQ(run_catena({"scan", tree_.path(), "--format", "json"}, home).exit_code, 0);
  EXPECT_EQ(::access((work_ / "home/.local/share/catena/catena.db").c_str(), F_OK), 0);
}

TEST_F(CliTest, InventoryFindAnswersWhereAContentWas) {
  tree_.write("one/evil.dll", "MZ trojan");
  tree_.write("two/renamed.bin", "MZ trojan");
  tree_.write("two/clean", "fine");
  ASSERT_EQ(catena({"scan", tree_ / "one", "--format", "json"}).exit_code, 0);
  ASSERT_EQ(catena({"scan", tree_ / "two", "--format", "json"}).exit_code, 0);
  const RunResult r =
      catena({"inventory", "find", "--sha256", test::sha256_hex("MZ trojan"), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json_of(r);
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0]["path"], tree_ / "one/evil.dll");
  EXPECT_EQ(doc[0]["scan_id"], 1);
  EXPECT_EQ(doc[1]["path"], tree_ / "two/renamed.bin");
  EXPECT_TRUE(doc[1].contains("host"));
  EXPECT_TRUE(doc[1].contains("scan_started"));
  const RunResult none =
      catena({"inventory", "find", "--sha256", std::string(64, '0'), "--format", "json"});
  EXPECT_EQ(json_of(none).size(), 0u);
  const RunResult scans = catena({"inventory", "scans", "--format", "json"});
  EXPECT_EQ(json_of(scans).size(), 2u);
}

TEST_F(CliTest, SarifValidatesAgainstTheOasisSchema) {
  tree_.write("bin/open\xff\n", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::chmod((tree_ / "bin/open\xff\n").c_str(), 0777), 0);
  tree_.mkdir("shared");
  ASSERT_EQ(::chmod((tree_ / "shared").c_str(), 0777), 0);
  const RunResult r = catena({"scan", tree_.path(), "--format", "sarif"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string sarif = work_ / "out.sarif";
  std::ofstream(sarif) << r.out;
  EXPECT_EQ(test::sarif_schema_errors(sarif), "");
  EXPECT_EQ(nlohmann::json::parse(r.out)["runs"][0]["results"].size(), 2u);
}

TEST_F(CliTest, NonUtf8AndControlCharacterPathsStayDistinctAndExact) {
  const std::vector<std::string> names = {"plain",    "new\nline", "bad\xff",
                                          "bad\\xff", "tab\there", "rtl\xe2\x80\xaetxt.exe"};
  for (const std::string& name : names) tree_.write(name, name);
  ASSERT_EQ(catena({"scan", tree_.path(), "--format", "json"}).exit_code, 0);
  const RunResult list = catena({"inventory", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0);
  ASSERT_TRUE(is_valid_utf8(list.out));
  const json doc = json_of(list);
  std::set<std::string> exact;
  std::set<std::string> shown;
  for (const auto& record : doc) {
    std::string bytes = record["path"];
    if (record.contains("path_b64")) bytes = *base64_decode(record["path_b64"].get<std::string>());
    exact.insert(bytes);
    shown.insert(record.dump());
  }
  for (const std::string& name : names) EXPECT_TRUE(exact.count(tree_ / name)) << name;
  EXPECT_EQ(shown.size(), names.size());
  const RunResult table = catena({"inventory", "list"});
  std::set<std::string> table_paths;
  std::istringstream lines(table.out);
  std::string line;
  std::getline(lines, line);  // header
  size_t rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    EXPECT_EQ(line.find('\t'), std::string::npos);
    table_paths.insert(line.substr(line.rfind("  ") + 2));
  }
  EXPECT_EQ(rows, names.size());
  EXPECT_EQ(table_paths.size(), names.size());
  EXPECT_EQ(table.out.find("\xe2\x80\xae"), std::string::npos);
}

TEST_F(CliTest, FourThousandBytePathRoundTripsThroughTheStore) {
  // 16 components of 250 bytes plus the name: just over 4,000 bytes, under PATH_MAX.
  std::string relative;
  for (int level = 0; level < 16; ++level) {
    relative += std::string(249, static_cast<char>('a' + level)) + std::to_string(level % 10) + "/";
  }
  relative += "tool\xff";
  tree_.write(relative, "long", 0755);
  const std::string full = tree_ / relative;
  ASSERT_GT(full.size(), 4000u);
  ASSERT_EQ(catena({"scan", tree_.path(), "--format", "json"}).exit_code, 0);
  const json records = json_of(catena({"inventory", "list", "--format", "json"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(*base64_decode(records[0]["path_b64"].get<std::string>()), full);
  EXPECT_EQ(records[0]["sha256"], test::sha256_hex("long"));
}

TEST_F(CliTest, AuditScansTheMachinesToolPlaces) {
  tree_.write("bin/mytool", "#!/bin/sh\n", 0755);
  tree_.write("home/.cargo/bin/cargo-evil",
              "\x7f"
              "ELF",
              0755);
  tree_.write("home/.local/bin/pytool", "#!/usr/bin/python3\n", 0755);
  tree_.write("home/.npmrc", "prefix = " + (tree_ / "npm-global") + "\n");
  tree_.write("npm-global/bin/npx-tool", "#!/usr/bin/env node\n", 0755);
  tree_.write("sys/lib/libx.so",
              "\x7f"
              "ELF",
              0644);
  // Default places are this machine's (PATH, passwd homes, /usr/lib...); here each is narrowed.
  const RunResult r = run_catena({"audit", "--db", db(), "--format", "json", "--no-dpkg", "--path",
                                  tree_ / "bin", "--home", tree_ / "home", "--system-dir",
                                  tree_ / "sys", "--system-dir", tree_ / "missing"});
  ASSERT_LE(r.exit_code, 1) << r.err;
  const json doc = json_of(r);
  std::set<std::string> roots;
  for (const auto& root : doc["roots"]) roots.insert(root["path"]);
  for (const char* expected : {"bin", "home/.cargo/bin", "home/.local", "npm-global/bin"}) {
    EXPECT_TRUE(roots.count(tree_ / expected)) << expected;
  }
  EXPECT_TRUE(roots.count(tree_ / "sys"));
  EXPECT_EQ(roots.size(), 5u);
  EXPECT_EQ(doc["command"], "audit");
  EXPECT_TRUE(doc["verdict"] == "pass" || doc["verdict"] == "fail");
  const RunResult found = catena({"inventory", "find", "--sha256",
                                  test::sha256_hex("\x7f"
                                                   "ELF"),
                                  "--format", "json"});
  EXPECT_EQ(json_of(found)[0]["path"], tree_ / "home/.cargo/bin/cargo-evil");
}

// The JSON and table forms of an audit against the one before: each finding's status, the
// resolved ones, what it was compared with; the table leads with what is new.
TEST_F(CliTest, AnAuditSaysWhatIsNewOpenAndResolved) {
  tree_.write("sys/bin/kept", "#!/bin/sh\n", 0777);
  tree_.write("sys/bin/gone", "#!/bin/sh\n", 0777);
  ASSERT_EQ(::chmod((tree_ / "sys/bin/kept").c_str(), 0777), 0);
  ASSERT_EQ(::chmod((tree_ / "sys/bin/gone").c_str(), 0777), 0);
  tree_.mkdir("home");
  const std::vector<std::string> audit = {"audit",        "--db",         db(),         "--no-dpkg",
                                          "--no-access",  "--path",       "",           "--home",
                                          tree_ / "home", "--system-dir", tree_ / "sys"};
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = audit;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_catena(args);
  };
  const RunResult first = with({"--format", "json"});
  ASSERT_LE(first.exit_code, 1) << first.err;
  const json first_doc = json_of(first);
  EXPECT_FALSE(first_doc.contains("compared_with"));
  ASSERT_EQ(::unlink((tree_ / "sys/bin/gone").c_str()), 0);
  tree_.write("sys/bin/new", "#!/bin/sh\n", 0777);
  ASSERT_EQ(::chmod((tree_ / "sys/bin/new").c_str(), 0777), 0);
  const RunResult second = with({"--format", "json"});
  ASSERT_LE(second.exit_code, 1) << second.err;
  const json doc = json_of(second);
  ASSERT_TRUE(doc.contains("compared_with")) << second.out;
  EXPECT_EQ(doc["compared_with"]["scan_id"], first_doc["scan_id"]);
  std::map<std::string, std::string> status;
  for (const json& f : doc["findings"]) {
    if (f["rule"] == "WORLD_WRITABLE_EXECUTABLE") status[f["path"]] = f["status"];
  }
  EXPECT_EQ(status[tree_ / "sys/bin/kept"], "open");
  EXPECT_EQ(status[tree_ / "sys/bin/new"], "new");
  bool resolved = false;
  for (const json& f : doc["resolved"]) {
    resolved |= f["path"] == tree_ / "sys/bin/gone" && f["status"] == "resolved";
  }
  EXPECT_TRUE(resolved) << doc["resolved"].dump();
  // The table, against the first audit: the new ones first.
  const RunResult table = with({"--since", std::to_string(first_doc["scan_id"].get<int64_t>())});
  ASSERT_LE(table.exit_code, 1) << table.err;
  const size_t since =
      table.out.find("Since audit " + std::to_string(first_doc["scan_id"].get<int64_t>()));
  const size_t fresh = table.out.find("New findings");
  const size_t open = table.out.find("Still open");
  const size_t gone = table.out.find("Resolved since audit");
  ASSERT_NE(since, std::string::npos) << table.out;
  ASSERT_NE(fresh, std::string::npos) << table.out;
  ASSERT_NE(open, std::string::npos) << table.out;
  ASSERT_NE(gone, std::string::npos) << table.out;
  EXPECT_LT(since, fresh);
  EXPECT_LT(fresh, open);
  EXPECT_LT(open, gone);
  EXPECT_LT(table.out.find(tree_ / "sys/bin/new"), open);
  EXPECT_GT(table.out.find(tree_ / "sys/bin/gone"), gone);
  // A --since that is no audit of this host.
  const RunResult wrong = with({"--since", "424242"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("--since"), std::string::npos);
}

}  // namespace
}  // namespace catena
