#include "catena/report/render.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catena/core/text.hpp"
#include "support/matchers.hpp"

namespace catena::report {
namespace {

std::string render(const ScanReport& report, Format format, Style style = {}) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  EXPECT_TRUE(write_scan_report(out, report, format, style));
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

ScanReport sample() {
  ScanReport report{
      .command = "scan", .scan_id = 7, .host = "h", .started_ns = 1, .finished_ns = 2};
  report.roots = {"/t"};
  Finding f{.rule = "WORLD_WRITABLE_EXECUTABLE",
            .severity = Severity::High,
            .path =
                "/t/\xff\n\xe2\x80\xae"
                "exe",
            .sha256 = Sha256{},
            .message = "m"};
  f.add_evidence("mode", "0777");
  report.findings = std::vector<Finding>{
      f,
      Finding{
          .rule = "FILE_VANISHED", .severity = Severity::Info, .path = "/t/a", .message = "gone"}};
  return report;
}

TEST(Verdict, FollowsFailOnAndCompleteness) {
  ScanReport report = sample();
  EXPECT_EQ(verdict(report), "fail");
  report.fail_on = Severity::Critical;
  EXPECT_EQ(verdict(report), "pass");
  report.status = scan::ScanStatus::Interrupted;
  EXPECT_EQ(verdict(report), "incomplete");
}

TEST(WriteScanReport, FindingsThatCannotBeReadAreAnErrorInEveryForm) {
  ScanReport report = sample();
  FindingCounts counts;
  counts.add(Severity::High);
  counts.add(Severity::High);
  // A store that fails after the first finding: the output is cut short and says so.
  report.findings = FindingStream(counts, [](const FindingStream::Visitor& visit) -> Status {
    visit(Finding{.rule = "WORLD_WRITABLE_EXECUTABLE", .severity = Severity::High, .path = "/a"});
    return make_error(ErrorCode::Io, "disk I/O error");
  });
  for (Format format : {Format::Table, Format::Json, Format::Jsonl, Format::Sarif}) {
    std::FILE* out = std::fopen("/dev/null", "w");
    ASSERT_NE(out, nullptr);
    EXPECT_THAT(write_scan_report(out, report, format, {}), test::HasError(ErrorCode::Io));
    std::fclose(out);
  }
  std::FILE* out = std::fopen("/dev/null", "w");
  EXPECT_THAT(write_html_report(out, report), test::HasError(ErrorCode::Io));
  std::fclose(out);
}

TEST(WriteScanReport, JsonKeepsExactPathBytes) {
  const auto doc = nlohmann::json::parse(render(sample(), Format::Json));
  EXPECT_EQ(doc["scan_id"], 7);
  EXPECT_EQ(doc["verdict"], "fail");
  const auto& finding = doc["findings"][0];
  EXPECT_EQ(finding["rule"], "WORLD_WRITABLE_EXECUTABLE");
  EXPECT_EQ(finding["severity"], "high");
  EXPECT_EQ(finding["evidence"]["mode"], "0777");
  ASSERT_TRUE(finding.contains("path_b64"));
  EXPECT_EQ(*base64_decode(finding["path_b64"].get<std::string>()),
            "/t/\xff\n\xe2\x80\xae"
            "exe");
  EXPECT_FALSE(doc["findings"][1].contains("path_b64"));
  EXPECT_TRUE(doc["findings"][1]["sha256"].is_null());
}

TEST(WriteScanReport, JsonlIsOneFindingPerLineThenASummary) {
  const std::string text = render(sample(), Format::Jsonl);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  const auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(first["scan_id"], 7);
  EXPECT_EQ(first["record"], "finding");
  const std::string last_line = text.substr(text.rfind('\n', text.size() - 2) + 1);
  const auto last = nlohmann::json::parse(last_line);
  EXPECT_EQ(last["record"], "summary");
  EXPECT_EQ(last["findings"], 2);
  EXPECT_EQ(last["verdict"], "fail");
  EXPECT_EQ(last["scan_id"], 7);
}

TEST(WriteScanReport, TableEscapesHostileBytesAndColoursOnlyWhenAsked) {
  const std::string plain = render(sample(), Format::Table);
  EXPECT_NE(plain.find("/t/\\xff\\n\\u{202e}exe"), std::string::npos);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(plain.find("Verdict: FAIL"), std::string::npos);
  EXPECT_NE(render(sample(), Format::Table, Style{.color = true}).find('\x1b'), std::string::npos);
}

TEST(WriteScanReport, SarifMapsSeveritiesAndEncodesUris) {
  const auto doc = nlohmann::json::parse(render(sample(), Format::Sarif));
  EXPECT_EQ(doc["version"], "2.1.0");
  const auto& run = doc["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 2u);
  const auto& result = run["results"][0];
  EXPECT_EQ(result["level"], "error");
  EXPECT_EQ(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///t/%FF%0A%E2%80%AEexe");
  EXPECT_EQ(run["results"][1]["level"], "note");
  EXPECT_EQ(run["results"][1]["ruleIndex"], 1);
}

// Findings grouped by rule, then by package, signer or directory: the groups' members are the
// findings' numbers, an explanation every member shares is the group's, and the JSON report
// carries the groups beside its findings.
TEST(GroupFindings, ByRuleThenPackageSignerOrDirectory) {
  const auto finding = [](std::string rule, Severity severity, std::string path,
                          std::vector<std::pair<std::string, std::string>> evidence) {
    Finding f{.rule = std::move(rule), .severity = severity, .path = std::move(path)};
    f.evidence = std::move(evidence);
    return f;
  };
  const std::string why = "rewritten by npm: package.json says 10.9.0, the package shipped 9.2.0";
  const std::vector<Finding> findings = {
      finding("PKG_FILE_MODIFIED", Severity::High, "/usr/share/nodejs/npm/a.js",
              {{"package", "npm"}, {"explanation", why}}),
      finding("PKG_FILE_MODIFIED", Severity::Medium, "/usr/share/nodejs/npm/lib/b.js",
              {{"package", "npm"}, {"explanation", why}}),
      finding("PKG_FILE_MODIFIED", Severity::High, "/usr/bin/make", {{"package", "make"}}),
      finding("UNOWNED_EXECUTABLE", Severity::Medium, "/usr/local/bin/x", {}),
      finding("UNOWNED_EXECUTABLE", Severity::Medium, "/usr/local/bin/y", {}),
      finding("UNOWNED_EXECUTABLE", Severity::Medium, "/opt/z/bin/z", {}),
      finding("SIG_UNTRUSTED_SIGNER", Severity::Low, "/w/a.exe", {{"signer", "CN=Evil"}}),
      finding("SIG_UNTRUSTED_SIGNER", Severity::Low, "/x/b.exe", {{"signer", "CN=Evil"}}),
      finding("PKG_NOT_FROM_REPOSITORY", Severity::Medium, "",
              {{"package", "xtrader"}, {"version", "7.17"}}),
      finding("HOST_THING", Severity::Info, "", {}),
  };
  const std::vector<FindingGroup> groups = group_findings(findings);
  ASSERT_EQ(groups.size(), 7u);
  // Most severe first, then the largest.
  EXPECT_EQ(groups[0].rule, "PKG_FILE_MODIFIED");
  EXPECT_EQ(groups[0].by, "package");
  EXPECT_EQ(groups[0].key, "npm");
  EXPECT_EQ(groups[0].severity, Severity::High);
  EXPECT_EQ(groups[0].members, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(groups[0].explanation, why);
  EXPECT_EQ(groups[1].key, "make");
  EXPECT_EQ(groups[1].explanation, "");
  EXPECT_EQ(groups[2].rule, "UNOWNED_EXECUTABLE");
  EXPECT_EQ(groups[2].by, "directory");
  EXPECT_EQ(groups[2].key, "/usr/local/bin");
  EXPECT_EQ(groups[2].members, (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(groups[3].rule, "PKG_NOT_FROM_REPOSITORY");
  EXPECT_EQ(groups[3].key, "xtrader");
  EXPECT_EQ(groups[4].key, "/opt/z/bin");
  EXPECT_EQ(groups[5].by, "signer");
  EXPECT_EQ(groups[5].key, "CN=Evil");
  EXPECT_EQ(groups[5].members, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(groups[6].by, "host");
  // A member with another explanation takes it away from the group.
  std::vector<Finding> mixed = {findings[0], findings[1]};
  mixed[1].evidence[1].second = "something else";
  EXPECT_EQ(group_findings(mixed)[0].explanation, "");

  ScanReport report = sample();
  std::vector<Finding> sorted = findings;
  sort_findings(sorted);
  report.findings = sorted;
  const auto doc = nlohmann::json::parse(render(report, Format::Json));
  ASSERT_EQ(doc["groups"].size(), 7u);
  for (const auto& group : doc["groups"]) {
    EXPECT_EQ(group["count"], group["findings"].size());
    for (const auto& id : group["findings"]) {
      EXPECT_EQ(doc["findings"][id.get<size_t>() - 1]["rule"], group["rule"]);
    }
  }
  EXPECT_EQ(doc["groups"][0]["explanation"], why);
}

TEST(ParseFormat, RejectsUnknownNames) {
  EXPECT_THAT(parse_format("xml"), test::HasError(ErrorCode::Usage));
  EXPECT_THAT(parse_format("sarif"), test::IsOkAndHolds(Format::Sarif));
}

}  // namespace
}  // namespace catena::report
