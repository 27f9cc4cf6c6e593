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

TEST(ParseFormat, RejectsUnknownNames) {
  EXPECT_THAT(parse_format("xml"), test::HasError(ErrorCode::Usage));
  EXPECT_THAT(parse_format("sarif"), test::IsOkAndHolds(Format::Sarif));
}

}  // namespace
}  // namespace catena::report
