// The audit report a person reads, end to end: findings grouped with what explains them, the
// table fitted to the terminal, `catena report` printing a stored audit again, and the HTML
// page as Chromium renders it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/browser.hpp"
#include "support/cache.hpp"
#include "support/dpkg_root.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;
using test::RunResult;

// A system at a fake root: Debian's nodejs whose bundled npm was rewritten by `npm install -g
// npm`, a tool dpkg never installed in two directories, a package no repository offers.
class ReportCli : public ::testing::Test {
 protected:
  ReportCli() {
    root_.install({.name = "nodejs",
                   .version = "18.19.0",
                   .files = {{"/usr/bin/node", "node"},
                             {"/usr/lib/node_modules/npm/package.json", R"({"version":"9.2.0"})"},
                             {"/usr/lib/node_modules/npm/lib/cli.js", "cli 9"},
                             {"/usr/lib/node_modules/npm/lib/npm.js", "npm 9"},
                             {"/usr/lib/node_modules/npm/lib/utils/a.js", "a 9"},
                             {"/usr/lib/node_modules/npm/lib/old.js", "old 9"},
                             {"/usr/lib/node_modules/npm/node_modules/abbrev/package.json",
                              R"({"version":"1.0.0"})"}}});
    root_.install({.name = "xtrader",
                   .version = "7.17",
                   .installed_size = "3180",
                   .files = {{"/opt/xtrader/readme.txt", "x"}}});
    for (const auto& [path, content] : std::vector<std::pair<std::string, std::string>>{
             {"usr/lib/node_modules/npm/package.json", R"({"name":"npm","version":"10.9.0"})"},
             {"usr/lib/node_modules/npm/lib/cli.js", "cli 10"},
             {"usr/lib/node_modules/npm/lib/npm.js", "npm 10"},
             {"usr/lib/node_modules/npm/lib/utils/a.js", "a 10"},
             {"usr/lib/node_modules/npm/node_modules/abbrev/package.json",
              R"({"version":"2.0.0"})"}}) {
      root_.dir().write(path, content, 0644);
    }
    ::unlink((root_ / "usr/lib/node_modules/npm/lib/old.js").c_str());  // npm 10 has none
    root_.dir().write("usr/bin/dropper", "#!/bin/sh\necho one\n", 0755);
    root_.dir().write("usr/bin/dropper2", "#!/bin/sh\necho two\n", 0755);
    root_.dir().write("usr/lib/evil/helper", "#!/bin/sh\necho three\n", 0755);
    // The repository offers nodejs, not xtrader.
    root_.dir().write(
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_"
        "Packages",
        "Package: nodejs\nVersion: 18.19.0\nArchitecture: amd64\n\n");
    work_.mkdir("bin");
    work_.mkdir("home");
  }

  std::vector<std::string> audit_args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"audit",           "--db",         db_,
                                     "--path",          work_ / "bin",  "--home",
                                     work_ / "home",    "--system-dir", work_ / "bin",
                                     "--packages-root", root_.path(),   "--no-access"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  test::FakeDpkgRoot root_;
  test::TempDir work_;
  std::string db_ = work_ / "c.db";
};

TEST_F(ReportCli, FindingsAreGroupedWithWhatExplainsThem) {
  const RunResult r = run_catena(audit_args({"--format", "json"}));
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  const json* npm = nullptr;
  const json* orphan = nullptr;
  std::set<std::string> unowned_dirs;
  for (const json& g : doc["groups"]) {
    if (g["rule"] == "PKG_FILE_MODIFIED") npm = &g;
    if (g["rule"] == "PKG_NOT_FROM_REPOSITORY") orphan = &g;
    if (g["rule"] == "UNOWNED_EXECUTABLE") unowned_dirs.insert(g["key"].get<std::string>());
  }
  ASSERT_NE(npm, nullptr) << doc["groups"];
  EXPECT_EQ((*npm)["by"], "package");
  EXPECT_EQ((*npm)["key"], "nodejs");
  EXPECT_EQ((*npm)["within"], "/usr/lib/node_modules/npm");
  EXPECT_EQ((*npm)["count"], 5);  // node itself is untouched
  const std::string why = (*npm)["explanation"].get<std::string>();
  EXPECT_NE(why.find("(npm) rewrote"), std::string::npos) << why;
  EXPECT_NE(why.find("names version 10.9.0"), std::string::npos) << why;
  EXPECT_NE(why.find("and 1 more is gone"), std::string::npos) << why;
  // The file the rewrite removed is explained the same way.
  bool missing_explained = false;
  for (const json& f : doc["findings"]) {
    if (f["rule"] == "PKG_FILE_MISSING") {
      missing_explained = f["evidence"].value("explanation", "") == why &&
                          f["evidence"]["group_root"] == "/usr/lib/node_modules/npm";
    }
  }
  EXPECT_TRUE(missing_explained) << r.out;
  EXPECT_EQ(unowned_dirs, (std::set<std::string>{"/usr/bin", "/usr/lib/evil"}));
  ASSERT_NE(orphan, nullptr);
  const json& xtrader = doc["findings"][(*orphan)["findings"][0].get<size_t>() - 1];
  EXPECT_EQ(xtrader["evidence"]["package"], "xtrader");
  EXPECT_EQ(xtrader["evidence"]["installed_size"], "3.3 MB");  // 3180 KiB

  // The table says the same in a line per group, and names the package the path cannot.
  const RunResult table = run_catena(audit_args({}));
  EXPECT_NE(table.out.find("PKG_FILE_MODIFIED  5 files of package nodejs under "
                           "/usr/lib/node_modules/npm\n"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find(why), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("... and 2 more (--all lists every finding)"), std::string::npos);
  EXPECT_NE(table.out.find("PKG_NOT_FROM_REPOSITORY  xtrader 7.17 (3.3 MB installed)"),
            std::string::npos)
      << table.out;
  // --all: every finding in full, one of them each npm file.
  const RunResult all = run_catena(audit_args({"--all"}));
  EXPECT_NE(all.out.find("PKG_FILE_MODIFIED  /usr/lib/node_modules/npm/lib/utils/a.js"),
            std::string::npos)
      << all.out;
}

// A package with one file rewritten is not a rewritten directory, and neither is a manifest
// that changed alone: no explanation is made up.
TEST_F(ReportCli, NoExplanationWithoutARewrittenDirectory) {
  root_.dir().write("usr/lib/node_modules/npm/lib/cli.js", "cli 9");
  root_.dir().write("usr/lib/node_modules/npm/lib/npm.js", "npm 9");
  root_.dir().write("usr/lib/node_modules/npm/lib/utils/a.js", "a 9");
  root_.dir().write("usr/lib/node_modules/npm/lib/old.js", "old 9");
  root_.dir().write("usr/lib/node_modules/npm/node_modules/abbrev/package.json",
                    R"({"version":"1.0.0"})");
  const RunResult r = run_catena(audit_args({"--format", "json"}));
  const json doc = json::parse(r.out);
  for (const json& f : doc["findings"]) {
    EXPECT_FALSE(f["evidence"].contains("explanation")) << f;
  }
}

TEST_F(ReportCli, ReportPrintsTheStoredAuditAgain) {
  const RunResult first = run_catena(audit_args({}));
  ASSERT_EQ(first.exit_code, 1) << first.err;
  // Reprinted as printed: every format, the exit code too.
  const RunResult again = run_catena({"report", "--db", db_});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_EQ(again.out, first.out);
  // Changes between audits: one file put back, one tool dropped in.
  root_.dir().write("usr/bin/dropper2", "", 0644);
  ::unlink((root_ / "usr/bin/dropper2").c_str());
  root_.dir().write("usr/bin/newtool", "#!/bin/sh\necho new\n", 0755);
  const RunResult second_json = run_catena(audit_args({"--format", "json"}));
  ASSERT_EQ(second_json.exit_code, 1) << second_json.err;
  const json second = json::parse(second_json.out);
  const int64_t first_id = second["compared_with"]["scan_id"].get<int64_t>();
  const int64_t second_id = second["scan_id"].get<int64_t>();
  EXPECT_EQ(second["compared_with"]["new"], 1);
  EXPECT_EQ(second["compared_with"]["resolved"], 1);
  for (const char* format : {"json", "jsonl", "sarif", "table"}) {
    const RunResult reprinted =
        run_catena({"report", std::to_string(second_id), "--db", db_, "--format", format});
    EXPECT_EQ(reprinted.exit_code, 1) << reprinted.err;
    if (std::string(format) == "json") {
      EXPECT_EQ(reprinted.out, second_json.out);
    }
  }
  const RunResult first_again = run_catena({"report", std::to_string(first_id), "--db", db_});
  EXPECT_EQ(first_again.out, first.out);
  // A third audit, nothing changed: nothing new since the second; against the first (--since),
  // the dropped-in tool is new and the removed one resolved.
  const json third = json::parse(run_catena(audit_args({"--format", "json"})).out);
  EXPECT_EQ(third["compared_with"]["scan_id"], second_id);
  EXPECT_EQ(third["compared_with"]["new"], 0);
  const RunResult since =
      run_catena({"report", std::to_string(third["scan_id"].get<int64_t>()), "--since",
                  std::to_string(first_id), "--db", db_, "--format", "json"});
  ASSERT_EQ(since.exit_code, 1) << since.err;
  EXPECT_EQ(json::parse(since.out)["compared_with"]["new"], 1);
  EXPECT_EQ(json::parse(since.out)["compared_with"]["resolved"], 1);
  // An audit is not compared with itself; an id that is no scan is an error.
  EXPECT_EQ(run_catena({"report", std::to_string(first_id), "--since", std::to_string(first_id),
                        "--db", db_})
                .exit_code,
            2);
  EXPECT_EQ(run_catena({"report", "999", "--db", db_}).exit_code, 2);
}

// Paths are shortened in the middle to the terminal's width; JSON keeps them whole.
TEST_F(ReportCli, TheTableFitsTheTerminal) {
  const std::string deep = "usr/bin/" + std::string(60, 'd') + "-tool";
  root_.dir().write(deep, "#!/bin/sh\n", 0755);
  const auto table = [&](const std::string& columns) {
    return run_catena(audit_args({"--all"}), {.env = {{"COLUMNS", columns}}}).out;
  };
  const std::string narrow = table("60");
  const std::string wide = table("200");
  EXPECT_EQ(narrow.find(std::string(60, 'd')), std::string::npos);
  EXPECT_NE(narrow.find("-tool\n"), std::string::npos);
  EXPECT_NE(wide.find("/" + deep + "\n"), std::string::npos) << wide;
  std::istringstream lines(narrow);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("UNOWNED_EXECUTABLE  /") != std::string::npos) {
      EXPECT_LE(line.size(), 60u) << line;
    }
  }
  EXPECT_EQ(narrow.find('\x1b'), std::string::npos);  // not a terminal: no colour
}

// The page as a person sees it: rendered by Chromium, printed to PDF and read back as text, and
// a screenshot kept in the build tree (test-screenshots/) to look at.
TEST_F(ReportCli, HtmlPageReadsInABrowser) {
  ASSERT_EQ(run_catena(audit_args({"--format", "json"})).exit_code, 1);
  root_.dir().write("usr/bin/newtool", "#!/bin/sh\necho new\n", 0755);
  const std::string page = work_ / "report.html";
  ASSERT_EQ(run_catena(audit_args({"--format", "json", "--html", page})).exit_code, 1);
  const std::string html = test::read_file(page);
  for (const char* forbidden : {"<script", "<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  }
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // `report --html` writes the same page from the store.
  const std::string again = work_ / "again.html";
  ASSERT_EQ(run_catena({"report", "--db", db_, "--format", "json", "--html", again}).exit_code, 1);
  EXPECT_EQ(test::read_file(again), html);

  const test::RenderedPage shown = test::render_page(page, work_.path(), "audit-report.png");
  if (!shown.rendered) CATENA_MISSING() << shown.error;
  for (const char* expected :
       {"Verdict: FAIL", "Standard: build-server standard", "Findings by severity",
        "Findings by rule", "over its last 2 audits", "New since audit 1 (1)", "/usr/bin/newtool",
        "5 files of package nodejs under /usr/lib/node_modules/npm", "(npm) rewrote",
        "in /usr/lib/evil", "PKG_NOT_FROM_REPOSITORY", "xtrader 7.17 (3.3 MB"}) {
    EXPECT_NE(shown.text.find(expected), std::string::npos) << expected << "\n" << shown.text;
  }
  EXPECT_EQ(shown.error, "");
}

}  // namespace
}  // namespace catena
