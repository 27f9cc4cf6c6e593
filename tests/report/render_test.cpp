#include "catena/report/render.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "catena/core/text.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

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

// Findings grouped by rule, then by package, signer or directory (else the rule alone): the groups'
// members are the findings' numbers, an explanation every member shares is the group's, and the
// JSON report carries the groups beside its findings.
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
  EXPECT_EQ(groups[3].by, "rule");  // about a package as a whole: one group for the rule
  EXPECT_EQ(groups[3].key, "");
  EXPECT_EQ(groups[4].key, "/opt/z/bin");
  EXPECT_EQ(groups[5].by, "signer");
  EXPECT_EQ(groups[5].key, "CN=Evil");
  EXPECT_EQ(groups[5].members, (std::vector<uint64_t>{7, 8}));
  EXPECT_EQ(groups[6].by, "rule");
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

// What `catena report` needs to print an audit again survives the store, bytes exactly; a
// context that is not one is an error.
TEST(ReportContext, RoundTripsAndRefusesWhatIsNotOne) {
  ScanReport report = sample();
  report.command = "audit";
  report.fail_on = Severity::Medium;
  report.summary = {{"packages", "3 verified"}, {"access", std::string("\xff\x01", 2)}};
  report.totals.files_read = 4;
  report.totals.files_reused = 5;
  report.scan_counts = ScanCounts{.full_pass = false, .analyser_runs = {{"elf", 9}}};
  AccessSection access{
      .build_access = true, .files_examined = 12, .standard = "std", .verdict = "fail"};
  access.discoveries.push_back({.kind = "ssh-private-key",
                                .path = "/home/\xfe/.ssh/id",
                                .mode = 0600,
                                .holds_secret = true,
                                .build_critical = true});
  access.rules.push_back({.id = "r",
                          .title = "t",
                          .status = "fail",
                          .count = 2,
                          .examples = {{.id = 1, .rule = "X", .path = "/p"}}});
  report.access = access;
  report.comparison = FindingComparison{.scan_id = 3};
  const std::string context = report_context_json(report);

  ScanReport back = sample();  // the scan's record and findings come from the store
  auto compared = apply_report_context(back, context);
  ASSERT_TRUE(compared) << compared.error().describe();
  EXPECT_EQ(*compared, std::optional<int64_t>(3));
  EXPECT_EQ(back.command, "audit");
  EXPECT_EQ(back.fail_on, Severity::Medium);
  EXPECT_EQ(back.summary, report.summary);
  EXPECT_EQ(back.totals.files_reused, 5u);
  ASSERT_TRUE(back.scan_counts);
  EXPECT_FALSE(back.scan_counts->full_pass);
  ASSERT_TRUE(back.access);
  EXPECT_EQ(back.access->discoveries[0].path, "/home/\xfe/.ssh/id");
  EXPECT_TRUE(back.access->discoveries[0].build_critical);
  EXPECT_EQ(back.access->rules[0].examples[0].path, "/p");
  EXPECT_EQ(render(back, Format::Table), render(
                                             [&] {
                                               ScanReport r = std::move(report);
                                               r.comparison.reset();
                                               return r;
                                             }(),
                                             Format::Table));

  for (const char* hostile : {"", "[]", "{\"version\":2}", "{\"version\":1}",
                              R"({"version":1,"command":"audit","fail_on":"worst"})",
                              R"({"version":1,"command":{"b64":"!!"},"fail_on":"high"})"}) {
    ScanReport r;
    EXPECT_THAT(apply_report_context(r, hostile), test::HasError(ErrorCode::Parse)) << hostile;
  }
  // Every member cut away in turn is refused, never read as a default.
  const nlohmann::json whole = nlohmann::json::parse(context);
  for (const auto& [key, value] : whole.items()) {
    if (key == "compared_with" || key == "scan_counts" || key == "access") continue;
    nlohmann::json cut = whole;
    cut.erase(key);
    ScanReport r;
    EXPECT_FALSE(apply_report_context(r, cut.dump())) << key;
  }
}

// Findings stream past the grouper: it holds each group's count and first members only.
TEST(FindingGrouper, HoldsTheFirstMembersAndCountsTheRest) {
  FindingGrouper grouper(2, false);
  for (uint64_t n = 1; n <= 5; ++n) {
    grouper.add(n, Finding{.rule = "UNOWNED_EXECUTABLE",
                           .severity = Severity::High,
                           .path = "/usr/local/bin/t" + std::to_string(n)});
  }
  grouper.add(6, Finding{.rule = "PKG_NOT_FROM_REPOSITORY", .severity = Severity::Medium});
  const std::vector<FindingGroup> groups = std::move(grouper).finish();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].count, 5u);
  EXPECT_EQ(groups[0].members, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(groups[0].first.size(), 2u);
  EXPECT_EQ(groups[1].by, "rule");
}

// A page of 10,000 findings stays small enough to open, and Chromium reads every row of it.
TEST(HtmlReport, TenThousandFindingsStayUnderFiveMegabytes) {
  ScanReport report{
      .command = "audit", .scan_id = 9, .host = "build-01", .started_ns = 1, .finished_ns = 2};
  std::vector<Finding> findings;
  for (int n = 0; n < 10000; ++n) {
    Finding f{.rule = n % 3 == 0 ? "PKG_FILE_MODIFIED" : "UNOWNED_EXECUTABLE",
              .severity = n % 7 == 0 ? Severity::High : Severity::Medium,
              .path = "/usr/lib/node_modules/pkg" + std::to_string(n % 40) + "/lib/file" +
                      std::to_string(n) + ".js",
              .message = "A packaged file differs from what its package installed."};
    if (n % 3 == 0) {
      f.add_evidence("package", "nodejs");
      f.add_evidence("expected_md5", std::string(32, 'a'));
      f.add_evidence("actual_md5", std::string(32, 'b'));
      f.add_evidence("sha256", std::string(64, 'c'));
      f.add_evidence("mode", "0644");
      f.add_evidence("size", "12345");
    }
    findings.push_back(std::move(f));
  }
  sort_findings(findings);
  report.findings = std::move(findings);
  for (int n = 1; n <= 9; ++n) {
    FindingCounts counts;
    for (int i = 0; i < 1000 * n; ++i) counts.add(i % 5 == 0 ? Severity::High : Severity::Low);
    report.history.push_back(
        {.scan_id = n, .started_ns = n * 86400LL * 1000000000LL, .counts = counts});
  }
  const test::TempDir dir;
  const std::string page = dir / "report.html";
  std::FILE* out = std::fopen(page.c_str(), "w");
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(write_html_report(out, report));
  std::fclose(out);
  const auto size = std::filesystem::file_size(page);
  EXPECT_LT(size, 5u << 20) << size;
  const test::RunResult dom =
      test::run_command({"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                         "--user-data-dir=" + (dir / "profile"), "--dump-dom", "file://" + page});
  if (dom.exit_code != 0 && dom.out.empty()) {
    CATENA_MISSING() << "chromium: " << dom.err;
  }
  size_t rows = 0;
  for (size_t at = dom.out.find("<tr id=\"f"); at != std::string::npos;
       at = dom.out.find("<tr id=\"f", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 10000u);
  EXPECT_NE(dom.out.find("over its last 9 audits"), std::string::npos);
}

TEST(ParseFormat, RejectsUnknownNames) {
  EXPECT_THAT(parse_format("xml"), test::HasError(ErrorCode::Usage));
  EXPECT_THAT(parse_format("sarif"), test::IsOkAndHolds(Format::Sarif));
}

}  // namespace
}  // namespace catena::report
