// `catena intel` end to end: import, list, remove, and scans that match what was imported.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;

std::string sha256_hex_of(const std::string& path) {
  const test::RunResult r = test::run_command({"sha256sum", path});
  return r.out.substr(0, 64);
}

std::string md5_hex_of(const std::string& path) {
  const test::RunResult r = test::run_command({"md5sum", path});
  return r.out.substr(0, 32);
}

TEST(IntelCli, ImportedHashesAreMatchedByTheScan) {
  test::TempDir dir;
  dir.write("tree/evil.bin", "evil payload\n");
  dir.write("tree/also-evil.bin", "md5-listed payload\n");
  dir.write("tree/benign.txt", "nothing to see\n");
  dir.write("feed.csv", "sha256,label,source\n" + sha256_hex_of(dir / "tree/evil.bin") +
                            ",evil payload,unit test\n");
  dir.write("feed.txt", md5_hex_of(dir / "tree/also-evil.bin") + "  also-evil.bin\n");
  const std::string db = dir / "c.db";
  test::RunResult r =
      test::run_catena({"intel", "import", dir / "feed.csv", "--feed", "csv", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 1 indicators"), std::string::npos) << r.out;
  r = test::run_catena({"intel", "import", dir / "feed.txt", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = test::run_catena({"intel", "list", "--db", db, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json feeds = json::parse(r.out);
  ASSERT_EQ(feeds.size(), 2u);
  EXPECT_EQ(feeds[0]["feed"], "csv");
  EXPECT_EQ(feeds[0]["format"], "csv");
  EXPECT_EQ(feeds[1]["feed"], "feed.txt");

  r = test::run_catena({"scan", dir / "tree", "--db", db, "--no-dpkg", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // critical findings
  const json scan = json::parse(r.out);
  std::map<std::string, json> matches;
  for (const json& f : scan["findings"]) {
    if (f["rule"] == "IOC_MATCH") matches[f["path"].get<std::string>()] = f;
  }
  ASSERT_EQ(matches.size(), 2u) << r.out;
  const json& evil = matches.at(dir / "tree/evil.bin");
  EXPECT_EQ(evil["severity"], "critical");
  EXPECT_EQ(evil["evidence"]["feed"], "csv");
  EXPECT_EQ(evil["evidence"]["label"], "evil payload");
  EXPECT_EQ(evil["evidence"]["source"], "unit test");
  // The MD5 was computed because a feed needs it, and stored with the inventory.
  EXPECT_EQ(matches.at(dir / "tree/also-evil.bin")["evidence"]["algorithm"], "md5");

  // Removing the feeds ends the matches.
  ASSERT_EQ(test::run_catena({"intel", "remove", "--feed", "csv", "--db", db}).exit_code, 0);
  ASSERT_EQ(test::run_catena({"intel", "remove", "--feed", "feed.txt", "--db", db}).exit_code, 0);
  EXPECT_EQ(test::run_catena({"intel", "remove", "--feed", "nope", "--db", db}).exit_code, 2);
  r = test::run_catena({"scan", dir / "tree", "--db", db, "--no-dpkg", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("IOC_MATCH"), std::string::npos);
}

// The audit matches the same way as the scan: indicators, and YARA over the tool places.
TEST(IntelCli, TheAuditMatchesIndicatorsAndYara) {
  test::TempDir dir;
  dir.write("tools/evil-tool", "#!/bin/sh\necho EVIL-MARKER\n", 0755);
  dir.write("home/.keep", "");
  dir.write("sys/.keep", "");
  dir.write("rules/r.yar", "rule marker { strings: $a = \"EVIL-MARKER\" condition: $a }\n");
  dir.write("feed.txt", sha256_hex_of(dir / "tools/evil-tool") + "  evil tool\n");
  const std::string db = dir / "c.db";
  ASSERT_EQ(test::run_catena({"intel", "import", dir / "feed.txt", "--db", db}).exit_code, 0);
  const test::RunResult r = test::run_catena(
      {"audit", "--db", db, "--format", "json", "--no-dpkg", "--path", dir / "tools", "--home",
       dir / "home", "--system-dir", dir / "sys", "--yara", dir / "rules"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  std::set<std::string> rules;
  for (const json& f : doc["findings"]) {
    if (f["path"] == dir / "tools/evil-tool") rules.insert(f["rule"].get<std::string>());
  }
  EXPECT_TRUE(rules.count("IOC_MATCH")) << r.out;
  EXPECT_TRUE(rules.count("YARA_MATCH")) << r.out;
}

TEST(IntelCli, DuplicatesFarApartInALongFeedAreStoredOnce) {
  test::TempDir dir;
  std::string text;
  for (int idx = 0; idx < 70000; ++idx) {  // more than one import batch
    char line[80];
    std::snprintf(line, sizeof(line), "%064x\n", idx);
    text += line;
  }
  text += text.substr(0, 65);  // the first line again, at the very end
  dir.write("long.txt", text);
  const test::RunResult r =
      test::run_catena({"intel", "import", dir / "long.txt", "--db", dir / "c.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 70000 indicators"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 duplicates"), std::string::npos) << r.out;
}

TEST(IntelCli, AMalformedFeedStoresNothingAndKeepsTheOldOne) {
  test::TempDir dir;
  const std::string db = dir / "c.db";
  const std::string good(64, 'a');
  dir.write("feed.txt", good + "\n");
  ASSERT_EQ(test::run_catena({"intel", "import", dir / "feed.txt", "--db", db}).exit_code, 0);
  dir.write("feed.txt", std::string(64, 'b') + "\n" + std::string(64, 'c') + "\nnot a hash\n");
  const test::RunResult bad = test::run_catena({"intel", "import", dir / "feed.txt", "--db", db});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("line 3"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("nothing imported"), std::string::npos) << bad.err;
  const test::RunResult list = test::run_catena({"intel", "list", "--db", db, "--format", "json"});
  const json feeds = json::parse(list.out);
  ASSERT_EQ(feeds.size(), 1u);
  EXPECT_EQ(feeds[0]["indicators"], 1);  // the earlier import, untouched
  EXPECT_EQ(test::run_catena({"intel", "import", dir / "missing.txt", "--db", db}).exit_code, 2);
}

// A MISP event as PyMISP saves it (no {"Event": ...} wrapper), in a file with no telling name:
// its hashes are imported, what was left out is said by reason, and a file whose every hash is
// left out fails.
TEST(IntelCli, APyMispEventImportsWhatItHoldsAndSaysWhatItLeftOut) {
  test::TempDir dir;
  const std::string db = dir / "c.db";
  dir.write("event.json", R"({"uuid": "e-9", "info": "trojanized installer",
    "Attribute": [
      {"type": "sha256", "value": ")" +
                              std::string(64, 'a') +
                              R"(", "to_ids": true},
      {"type": "md5", "value": ")" +
                              std::string(32, 'b') +
                              R"(", "to_ids": false},
      {"type": "sha1", "value": ")" +
                              std::string(40, 'c') +
                              R"(", "deleted": true},
      {"type": "ip-dst", "value": "192.0.2.1"}]})");
  for (const char* format : {"auto", "misp"}) {
    const test::RunResult r = test::run_catena(
        {"intel", "import", dir / "event.json", "--feed", "x", "--format", format, "--db", db});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("imported 2 indicators into feed x (misp: bare event;"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("2 skipped: deleted 1, not a file hash 1)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 of them not marked for detection"), std::string::npos) << r.out;
  }
  const test::RunResult ids = test::run_catena(
      {"intel", "import", dir / "event.json", "--feed", "x", "--to-ids-only", "--db", db});
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  EXPECT_NE(ids.out.find("imported 1 indicators"), std::string::npos) << ids.out;

  dir.write("gone.json", R"({"Event": {"Attribute": [{"type": "sha256", "value": ")" +
                             std::string(64, 'd') + R"(", "deleted": true}]}})");
  const test::RunResult gone =
      test::run_catena({"intel", "import", dir / "gone.json", "--feed", "x", "--db", db});
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_NE(gone.err.find("every file hash was left out (deleted: 1)"), std::string::npos)
      << gone.err;
  EXPECT_NE(gone.err.find("nothing imported"), std::string::npos) << gone.err;
  const json feeds =
      json::parse(test::run_catena({"intel", "list", "--db", db, "--format", "json"}).out);
  ASSERT_EQ(feeds.size(), 1u);
  EXPECT_EQ(feeds[0]["indicators"], 1);  // the --to-ids-only import, untouched

  // A STIX indicator past its valid_until is left out unless asked for.
  dir.write("old.json", R"({"type": "bundle", "id": "bundle--1", "objects": [
    {"type": "indicator", "id": "indicator--1", "pattern_type": "stix",
     "valid_until": "2020-01-01T00:00:00Z",
     "pattern": "[file:hashes.'SHA-256' = ')" +
                            std::string(64, 'e') + R"(']"}]})");
  const test::RunResult expired =
      test::run_catena({"intel", "import", dir / "old.json", "--feed", "old", "--db", db});
  EXPECT_EQ(expired.exit_code, 2);
  EXPECT_NE(expired.err.find("expired (valid_until): 1"), std::string::npos) << expired.err;
  const test::RunResult included = test::run_catena(
      {"intel", "import", dir / "old.json", "--feed", "old", "--include-expired", "--db", db});
  EXPECT_EQ(included.exit_code, 0) << included.err;
  EXPECT_NE(included.out.find("imported 1 indicators into feed old (stix: bundle;"),
            std::string::npos)
      << included.out;
}

// Retroactive matching: where and when each indicator was present, from the stored scans alone,
// and an honest account of what could not be checked.
TEST(IntelCli, MatchFindsPastPresenceWithoutReadingFiles) {
  test::TempDir dir;
  const std::string db = dir / "c.db";
  dir.write("tree/tool.exe", "a trojanized tool\n");
  dir.write("tree/lib.dll", "an md5-listed library\n");
  const std::string tool_sha = sha256_hex_of(dir / "tree/tool.exe");
  const std::string lib_md5 = md5_hex_of(dir / "tree/lib.dll");
  // Scan 1: SHA-256 only. Then the tool is removed and scan 2 records MD5 too.
  ASSERT_EQ(test::run_catena({"scan", dir / "tree", "--db", db, "--no-dpkg"}).exit_code, 0);
  ASSERT_EQ(std::remove((dir / "tree/tool.exe").c_str()), 0);
  ASSERT_EQ(
      test::run_catena({"scan", dir / "tree", "--db", db, "--no-dpkg", "--digests", "sha256,md5"})
          .exit_code,
      0);
  dir.write("feed.txt", tool_sha + "  tool.exe\n" + lib_md5 + "  lib.dll\n");
  ASSERT_EQ(test::run_catena({"intel", "import", dir / "feed.txt", "--db", db}).exit_code, 0);
  // The files are gone from disk: the answer comes from the store alone.
  ASSERT_EQ(std::remove((dir / "tree/lib.dll").c_str()), 0);
  const test::RunResult r = test::run_catena({"intel", "match", "--db", db, "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json out = json::parse(r.out);
  std::set<std::pair<std::string, int64_t>> seen;  // (path, scan)
  for (const json& m : out["matches"]) {
    seen.insert({m["path"].get<std::string>(), m["scan_id"].get<int64_t>()});
    EXPECT_EQ(m["feed"], "feed.txt");
    EXPECT_FALSE(m["host"].get<std::string>().empty());
  }
  // The tool was present in scan 1 only; the library in both scans: its MD5, recorded by scan
  // 2, identifies the same content scan 1 saw.
  const std::set<std::pair<std::string, int64_t>> expected = {
      {dir / "tree/tool.exe", 1}, {dir / "tree/lib.dll", 1}, {dir / "tree/lib.dll", 2}};
  EXPECT_EQ(seen, expected) << r.out;
  ASSERT_EQ(out["unchecked"].size(), 1u) << r.out;
  EXPECT_EQ(out["unchecked"][0]["algorithm"], "md5");
  ASSERT_EQ(out["unchecked"][0]["scans"].size(), 1u);
  EXPECT_EQ(out["unchecked"][0]["scans"][0]["scan_id"], 1);

  // import --match runs the same check; no indicator, no match.
  dir.write("other.txt", std::string(64, 'e') + "\n");
  const test::RunResult none = test::run_catena(
      {"intel", "import", dir / "other.txt", "--feed", "x", "--db", db, "--match"});
  EXPECT_EQ(none.exit_code, 1) << none.out;  // the earlier feed still matches
  EXPECT_NE(none.out.find("3 match(es)"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace catena
