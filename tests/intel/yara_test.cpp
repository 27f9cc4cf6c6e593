// YARA in the scan pass: the same matches as the yara CLI on the same rules and tree, compile
// errors that name the file and line, and files skipped (too large, timed out) reported.
#include "catena/intel/yara.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::intel {
namespace {

using nlohmann::json;
using test::IsOk;

constexpr const char* kRules = R"(
rule mz_header : pe windows {
  meta:
    description = "starts like a DOS/PE executable"
  condition:
    uint16(0) == 0x5A4D
}
rule marker_string {
  meta:
    severity = "critical"
    author = "catena tests"
  strings:
    $a = "EVIL-MARKER" nocase
  condition:
    $a
}
rule feedface_hex {
  strings:
    $h = { FE ED FA CE }
  condition:
    #h >= 2
}
rule empty_file {
  condition:
    filesize == 0
}
)";

std::set<std::pair<std::string, std::string>> yara_cli(const std::string& rules,
                                                       const std::string& tree) {
  const test::RunResult r = test::run_command({"yara", "-r", rules, tree});
  std::set<std::pair<std::string, std::string>> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.find(' ');
    if (space != std::string::npos) out.insert({line.substr(0, space), line.substr(space + 1)});
  }
  return out;
}

class YaraScan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("rules/test.yar", kRules);
    dir_.write("tree/tool.exe", std::string("MZ\x90\x00", 4) + std::string(300, 'x'));
    dir_.write("tree/notes.txt", "harmless, but mentions evil-marker once\n");
    dir_.write("tree/sub/marker.bin",
               std::string("\xfe\xed\xfa\xce", 4) + "...." + std::string("\xfe\xed\xfa\xce", 4));
    dir_.write("tree/sub/one-marker.bin", std::string("\xfe\xed\xfa\xce", 4));
    dir_.write("tree/empty", "");
    dir_.write("tree/big.bin", std::string(400 * 1024, 'z') + "EVIL-MARKER");  // mapped
  }
  test::TempDir dir_;
};

TEST_F(YaraScan, MatchesAgreeWithTheYaraCli) {
  const test::RunResult scan =
      test::run_catena({"scan", dir_ / "tree", "--db", dir_ / "c.db", "--no-dpkg", "--yara",
                        dir_ / "rules", "--format", "json"});
  ASSERT_LE(scan.exit_code, 1) << scan.err;
  const json report = json::parse(scan.out);
  std::set<std::pair<std::string, std::string>> ours;
  for (const json& f : report["findings"]) {
    if (f["rule"] != "YARA_MATCH") continue;
    ours.insert({f["evidence"]["rule"].get<std::string>(), f["path"].get<std::string>()});
    if (f["evidence"]["rule"] == "marker_string") {
      EXPECT_EQ(f["severity"], "critical");
      EXPECT_EQ(f["evidence"]["meta.author"], "catena tests");
    }
    if (f["evidence"]["rule"] == "mz_header") {
      EXPECT_EQ(f["severity"], "high");
      EXPECT_EQ(f["evidence"]["tags"], "pe windows");
    }
  }
  const auto theirs = yara_cli(dir_ / "rules/test.yar", dir_ / "tree");
  if (theirs.empty()) CATENA_MISSING() << "the yara CLI is not installed";
  EXPECT_EQ(ours, theirs);
  EXPECT_EQ(ours.size(), 5u);  // mz, marker x2, feedface, empty

  // Compiled rules (yarac) give the same matches.
  ASSERT_EQ(test::run_command({"yarac", dir_ / "rules/test.yar", dir_ / "compiled.yarc"}).exit_code,
            0);
  auto compiled = YaraRules::load({dir_ / "compiled.yarc"});
  ASSERT_THAT(compiled, IsOk());
  EXPECT_EQ(compiled->rule_count(), 4u);
  const std::string text = "xx EVIL-MARKER xx";
  auto hits = compiled->scan(std::as_bytes(std::span(text.data(), text.size())), 5);
  ASSERT_THAT(hits, IsOk());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->at(0).rule, "marker_string");
}

TEST_F(YaraScan, BadRulesStopTheScanNamingFileAndLine) {
  dir_.write("rules/broken.yar",
             "rule ok { condition: true }\nrule broken {\n  condition:\n    $missing\n}\n");
  const test::RunResult scan = test::run_catena(
      {"scan", dir_ / "tree", "--db", dir_ / "c.db", "--no-dpkg", "--yara", dir_ / "rules"});
  EXPECT_EQ(scan.exit_code, 2);
  // The file and line as the yara CLI reports them, and the reason.
  EXPECT_NE(scan.err.find("broken.yar:5: undefined string"), std::string::npos) << scan.err;
  EXPECT_EQ(test::run_catena({"scan", dir_ / "tree", "--db", dir_ / "c.db", "--no-dpkg", "--yara",
                              dir_ / "no-such-rules"})
                .exit_code,
            2);
}

TEST_F(YaraScan, OversizedAndSlowFilesAreReportedSkipped) {
  dir_.write("slow/slow.yar",
             "rule slow { condition: for all i in (0..filesize) : "
             "(for all j in (0..filesize) : (uint8(i) != uint8(j) or i >= 0)) }\n");
  dir_.write("slowtree/data.bin", std::string(200000, 'q'));
  const test::RunResult slow =
      test::run_catena({"scan", dir_ / "slowtree", "--db", dir_ / "s.db", "--no-dpkg", "--yara",
                        dir_ / "slow", "--yara-timeout", "1", "--format", "json"});
  ASSERT_EQ(slow.exit_code, 0) << slow.err;  // skipped is low, below --fail-on high
  EXPECT_NE(slow.out.find("timed out after 1 s"), std::string::npos) << slow.out;

  const test::RunResult capped =
      test::run_catena({"scan", dir_ / "tree", "--db", dir_ / "c.db", "--no-dpkg", "--yara",
                        dir_ / "rules", "--yara-max-size", "100", "--format", "json"});
  const json report = json::parse(capped.out);
  size_t skipped = 0;
  for (const json& f : report["findings"]) skipped += f["rule"] == "YARA_SKIPPED" ? 1 : 0;
  EXPECT_EQ(skipped, 2u) << capped.out;  // tool.exe (304 bytes) and big.bin
}

}  // namespace
}  // namespace catena::intel
