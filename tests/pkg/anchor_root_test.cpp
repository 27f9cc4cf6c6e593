// `catena packages verify --anchor archive` against the attacker it exists for, end to end: a
// root built here by the real `dpkg --root` from Debian's own .deb of make (the one this
// machine runs, fetched by scripts/fetch-test-data.sh) and this machine's apt lists, signed by
// Debian; and a package of the test's own from a repository signed by a key the test makes.
// Each case is the attacker's move and the exit code catena must give.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "catena/core/time.hpp"
#include "support/cache.hpp"
#include "support/gpg_key.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kDebianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

test::RunResult sh(const std::string& command) { return test::run_command({"sh", "-c", command}); }

// An OpenPGP key made by gpg in its own home, exported as a keyring; made once per suite.
const test::GpgKey& test_archive_key() {
  static const test::GpgKey key("catena test archive <archive@example.org>");
  return key;
}
const test::GpgKey& attacker_key() {
  static const test::GpgKey key("Trading Tools archive <archive@attacker.example>");
  return key;
}

std::string rfc2822(int64_t unix_seconds) {
  char text[64];
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  return text;
}

class AnchorRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "dpkg --root installs as root";
    if (!test_archive_key().ok() || !attacker_key().ok()) {
      CATENA_MISSING() << "gpg cannot make a test key here";
    }
    const std::string cache = test::cache_dir();
    const test::RunResult version =
        test::run_command({"dpkg-query", "-W", "-f=${Version}", "make"});
    make_deb_ = cache + "/debs/make_" + version.out + "_amd64.deb";
    if (version.exit_code != 0 || ::access(make_deb_.c_str(), R_OK) != 0) {
      CATENA_MISSING() << "no " << make_deb_ << " (run scripts/fetch-test-data.sh)";
    }
    bool lists = false;
    for (const auto& entry : fs::directory_iterator("/var/lib/apt/lists")) {
      lists |= entry.path().filename().string().ends_with("_dists_bookworm_InRelease");
    }
    if (!lists) CATENA_MISSING() << "this machine has no apt lists for bookworm";
    for (const char* dir : {"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers",
                            "var/cache/apt/archives", "var/lib/apt/lists", "etc/apt"}) {
      fs::create_directories(root_ / dir);
    }
    write_text(root_ / "var/lib/dpkg/status", "");
    write_text(root_ / "var/lib/dpkg/available", "");
    // The lists apt has here for Debian's main archive (signed by Debian; no Valid-Until, so
    // lists not refreshed for a while still hold): its InRelease and indexes.
    ASSERT_EQ(sh("cp /var/lib/apt/lists/*_dists_bookworm_InRelease "
                 "/var/lib/apt/lists/*_dists_bookworm_main_binary-*_Packages* '" +
                 root_ / "var/lib/apt/lists" + "'")
                  .exit_code,
              0);
    for (const auto& entry : fs::directory_iterator(root_ / "var/lib/apt/lists")) {
      const std::string name = entry.path().filename();
      if (name.ends_with("_dists_bookworm_InRelease")) {
        debian_ = name.substr(0, name.size() - std::string_view("InRelease").size());
      }
    }
    install(make_deb_);
    fs::copy_file(make_deb_, root_ / "var/cache/apt/archives" / fs::path(make_deb_).filename());
    // The test's own package, from its own signed repository.
    build_.write("tool/DEBIAN/control",
                 "Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\n"
                 "Description: test\n");
    build_.write("tool/usr/bin/tool", "#!/bin/sh\necho tool\n", 0755);
    tool_deb_ = build_ / "tool_1.0_amd64.deb";
    ASSERT_EQ(test::run_command({"dpkg-deb", "--root-owner-group", "-Zgzip", "--build",
                                 build_ / "tool", tool_deb_})
                  .exit_code,
              0);
    install(tool_deb_);
    fs::copy_file(tool_deb_, root_ / "var/cache/apt/archives/tool_1.0_amd64.deb");
    write_tool_repository(test_archive_key(), "");
  }

  void install(const std::string& deb) {
    const test::RunResult r =
        test::run_command({"dpkg", "--root=" + root_.path(), "--log=/dev/null", "--force-depends",
                           "--force-not-root", "-i", deb});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // The repository example.org/debian, suite "test", offering the tool's .deb: its Packages and
  // an InRelease with `fields` (Date, Valid-Until), signed by `key`.
  void write_tool_repository(const test::GpgKey& key, const std::string& fields) {
    const std::string deb = test::read_file(tool_deb_);
    const std::string packages =
        "Package: tool\nVersion: 1.0\nArchitecture: amd64\n"
        "Filename: pool/main/t/tool/tool_1.0_amd64.deb\nSize: " +
        std::to_string(deb.size()) + "\nSHA256: " + test::sha256_hex(deb) + "\n\n";
    const std::string lists = root_ / "var/lib/apt/lists/";
    write_text(lists + "example.org_debian_dists_test_main_binary-amd64_Packages", packages);
    ASSERT_EQ(key.sign_text("Origin: test\nSuite: test\nCodename: test\n" + fields + "SHA256:\n " +
                                test::sha256_hex(packages) + " " + std::to_string(packages.size()) +
                                " main/binary-amd64/Packages\n",
                            lists + "example.org_debian_dists_test_InRelease"),
              "");
  }

  // The trusted keyrings: Debian's, and the test archive's (never the attacker's).
  test::RunResult verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"packages",
                                     "verify",
                                     "--anchor",
                                     "archive",
                                     "--root",
                                     root_.path(),
                                     "--keyring",
                                     kDebianKeyring,
                                     "--keyring",
                                     test_archive_key().keyring(),
                                     "--no-download",
                                     "--db",
                                     store_ / "store.db",
                                     "--format",
                                     "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_catena(args);
  }

  // The findings of a JSON report: "RULE path" each, or "RULE package" for one about a package.
  static std::set<std::string> findings(const test::RunResult& run) {
    std::set<std::string> out;
    const json doc = json::parse(run.out, nullptr, false);
    if (doc.is_discarded()) return {"unreadable report: " + run.out + run.err};
    for (const json& f : doc["findings"]) {
      std::string subject = f["path"].get<std::string>();
      if (subject.empty()) subject = f["evidence"].value("package", "");
      out.insert(f["rule"].get<std::string>() + " " + subject);
    }
    return out;
  }

  // Bytes appended to the installed make: a trojaned build of it.
  void trojan_make() const {
    std::ofstream(root_ / "usr/bin/make", std::ios::binary | std::ios::app) << "payload";
  }

  test::TempDir root_;
  test::TempDir build_;
  test::TempDir store_;
  std::string make_deb_;
  std::string tool_deb_;
  // The list name prefix of Debian's main archive as this machine's apt names it
  // ("deb.debian.org_debian_dists_bookworm_"), and its URI.
  std::string debian_;
  std::string debian_uri() const {
    std::string uri = debian_.substr(0, debian_.find("_dists_"));
    std::replace(uri.begin(), uri.end(), '_', '/');
    return "http://" + uri;
  }
};

TEST_F(AnchorRoot, AnUntouchedRootPasses) {
  const test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(findings(r), std::set<std::string>{});
}

// The attacker's key in the root's trusted.gpg.d and their repository in its lists, offering
// a trojaned make whose md5sums match: the key is no trust root.
TEST_F(AnchorRoot, TheRootsOwnKeyringIsNotTrusted) {
  build_.mkdir("evil");
  ASSERT_EQ(
      sh("dpkg-deb -R '" + make_deb_ + "' '" + build_ / "evil/make" + "' && printf payload >> '" +
         build_ / "evil/make/usr/bin/make" + "' && cd '" + build_ / "evil/make" +
         "' && find usr -type f -exec md5sum {} + > DEBIAN/md5sums && dpkg-deb "
         "--root-owner-group -Zgzip --build '" +
         build_ / "evil/make" + "' '" + build_ / "evil/make.deb" + "' >/dev/null")
          .exit_code,
      0);
  install(build_ / "evil/make.deb");
  const std::string cached = root_ / "var/cache/apt/archives" / fs::path(make_deb_).filename();
  fs::copy_file(build_ / "evil/make.deb", cached, fs::copy_options::overwrite_existing);
  const std::string deb = test::read_file(cached);
  const std::string version = test::run_command({"dpkg-query", "-W", "-f=${Version}", "make"}).out;
  const std::string packages =
      "Package: make\nVersion: " + version +
      "\nArchitecture: amd64\nFilename: pool/main/m/make/make.deb\nSize: " +
      std::to_string(deb.size()) + "\nSHA256: " + test::sha256_hex(deb) + "\n\n";
  const std::string lists = root_ / "var/lib/apt/lists/";
  ASSERT_EQ(sh("rm -f '" + lists + debian_ + "'*").exit_code, 0);
  write_text(lists + debian_ + "main_binary-amd64_Packages", packages);
  ASSERT_EQ(attacker_key().sign_text(
                "Origin: Debian\nSuite: stable\nCodename: bookworm\nSHA256:\n " +
                    test::sha256_hex(packages) + " " + std::to_string(packages.size()) +
                    " main/binary-amd64/Packages\n",
                lists + debian_ + "InRelease"),
            "");
  fs::create_directories(root_ / "etc/apt/trusted.gpg.d");
  fs::copy_file(attacker_key().keyring(), root_ / "etc/apt/trusted.gpg.d/evil.gpg");

  const test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::set<std::string> got = findings(r);
  EXPECT_TRUE(got.contains("PKG_APT_FOREIGN_KEY /etc/apt/trusted.gpg.d/evil.gpg")) << r.out;
  EXPECT_TRUE(got.contains("ARCHIVE_SIGNATURE_INVALID " + lists + debian_ + "InRelease")) << r.out;
  EXPECT_TRUE(got.contains("PKG_NOT_ANCHORED make")) << r.out;
  EXPECT_NE(r.out.find(attacker_key().fingerprint()), std::string::npos);
}

// make trojaned with its md5sums untouched and its .deb gone: not anchored, and still checked
// against the local database, which catches it.
TEST_F(AnchorRoot, AnUnanchoredPackageIsStillChecked) {
  trojan_make();
  fs::remove(root_ / "var/cache/apt/archives" / fs::path(make_deb_).filename());
  const test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::set<std::string> got = findings(r);
  EXPECT_TRUE(got.contains("PKG_NOT_ANCHORED make")) << r.out;
  EXPECT_TRUE(got.contains("PKG_FILE_MODIFIED /usr/bin/make")) << r.out;
  EXPECT_NE(r.out.find("the local dpkg database"), std::string::npos);
}

// The same root anchored offline from .debs brought along (--download-dir with --root and
// --no-download): anchored, and the trojan is measured against Debian's bytes.
TEST_F(AnchorRoot, AnImageIsAnchoredOfflineFromDebsBroughtAlong) {
  trojan_make();
  ASSERT_EQ(sh("md5sum '" + root_ / "usr/bin/make" + "' | sed 's|  .*|  usr/bin/make|' > '" +
               build_ / "line" + "' && grep -v ' usr/bin/make$' '" +
               root_ / "var/lib/dpkg/info/make.md5sums" + "' >> '" + build_ / "line" + "' && cp '" +
               build_ / "line" + "' '" + root_ / "var/lib/dpkg/info/make.md5sums" + "'")
                .exit_code,
            0);
  fs::remove(root_ / "var/cache/apt/archives" / fs::path(make_deb_).filename());
  build_.mkdir("brought");
  fs::copy_file(make_deb_, build_ / "brought" / fs::path(make_deb_).filename());
  // md5sums rewritten to match: the local check passes it ...
  const test::RunResult local = test::run_catena(
      {"packages", "verify", "--root", root_.path(), "--no-repository", "--format", "json"});
  EXPECT_EQ(local.exit_code, 0) << local.out;
  // ... and the anchor does not.
  const test::RunResult r = verify({"--download-dir", build_ / "brought"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::set<std::string> got = findings(r);
  EXPECT_FALSE(got.contains("PKG_NOT_ANCHORED make")) << r.out;
  EXPECT_TRUE(got.contains("PKG_FILE_MODIFIED /usr/bin/make")) << r.out;
}

// A trojaned file whose lines were cut from make.list and make.md5sums: found through the .deb.
TEST_F(AnchorRoot, AFileDroppedFromTheListIsFound) {
  trojan_make();
  for (const char* file : {"make.list", "make.md5sums"}) {
    const std::string path = root_ / ("var/lib/dpkg/info/" + std::string(file));
    ASSERT_EQ(sh("grep -v 'usr/bin/make$' '" + path + "' > '" + path + ".new' && mv '" + path +
                 ".new' '" + path + "'")
                  .exit_code,
              0);
  }
  // The local check no longer sees the file ...
  const test::RunResult local =
      test::run_catena({"packages", "verify", "--root", root_.path(), "--no-repository",
                        "--no-unowned", "--format", "json"});
  EXPECT_EQ(local.exit_code, 0) << local.out;
  // ... the anchor does.
  const test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::set<std::string> got = findings(r);
  EXPECT_TRUE(got.contains("PKG_DATABASE_TAMPERED /usr/bin/make")) << r.out;
  EXPECT_TRUE(got.contains("PKG_FILE_MODIFIED /usr/bin/make")) << r.out;
}

// An InRelease past its Valid-Until is not believed; judged at a time before it (an image
// taken then), it is.
TEST_F(AnchorRoot, AnExpiredReleaseIsNotBelieved) {
  const int64_t now = now_ns() / 1'000'000'000;
  write_tool_repository(
      test_archive_key(),
      "Date: " + rfc2822(now - 30 * 86400) + "\nValid-Until: " + rfc2822(now - 20 * 86400) + "\n");
  const std::string release = root_ / "var/lib/apt/lists/example.org_debian_dists_test_InRelease";
  const test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(findings(r).contains("ARCHIVE_RELEASE_EXPIRED " + release)) << r.out;
  EXPECT_TRUE(findings(r).contains("PKG_NOT_ANCHORED tool")) << r.out;
  char day[16];
  const time_t then = static_cast<time_t>(now - 25 * 86400);
  struct tm tm {};
  ::gmtime_r(&then, &tm);
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  const test::RunResult snapshot = verify({"--archive-snapshot", day});
  EXPECT_EQ(snapshot.exit_code, 0) << snapshot.out;
}

// A validly signed InRelease older than one believed before for this root is a replay.
TEST_F(AnchorRoot, AReplayedReleaseIsRefused) {
  const int64_t now = now_ns() / 1'000'000'000;
  const std::string release = root_ / "var/lib/apt/lists/example.org_debian_dists_test_InRelease";
  write_tool_repository(test_archive_key(), "Date: " + rfc2822(now - 86400) + "\n");
  EXPECT_EQ(verify().exit_code, 0);
  write_tool_repository(test_archive_key(), "Date: " + rfc2822(now - 10 * 86400) + "\n");
  const test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(findings(r).contains("ARCHIVE_RELEASE_REPLAYED " + release)) << r.out;
  EXPECT_TRUE(findings(r).contains("PKG_NOT_ANCHORED tool")) << r.out;
  // A newer one is believed again, and remembered.
  write_tool_repository(test_archive_key(), "Date: " + rfc2822(now) + "\n");
  EXPECT_EQ(verify().exit_code, 0);
  write_tool_repository(test_archive_key(), "Date: " + rfc2822(now - 86400) + "\n");
  EXPECT_EQ(verify().exit_code, 1);
}

// Signed-By narrows which trust root may sign a repository: Debian's lists pinned to the test
// archive's key are refused; the test repository pinned to its own key (by fingerprint, and by
// a keyring file in the root) is believed.
TEST_F(AnchorRoot, SignedByIsHonoured) {
  const std::string fpr = test_archive_key().fingerprint();
  write_text(root_ / "etc/apt/sources.list", "deb [signed-by=" + fpr + "] " + debian_uri() +
                                                 " bookworm main\n"
                                                 "deb [arch=amd64 signed-by=" +
                                                 fpr + "] http://example.org/debian test main\n");
  test::RunResult r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string lists = root_ / "var/lib/apt/lists/";
  EXPECT_TRUE(findings(r).contains("ARCHIVE_SIGNER_NOT_ALLOWED " + lists + debian_ + "InRelease"))
      << r.out;
  EXPECT_TRUE(findings(r).contains("PKG_NOT_ANCHORED make")) << r.out;
  EXPECT_FALSE(findings(r).contains("PKG_NOT_ANCHORED tool")) << r.out;
  // deb822, Signed-By a keyring file in the root holding the test key: believed, and that key
  // (a trust root here) is not reported as foreign.
  fs::remove(root_ / "etc/apt/sources.list");
  fs::create_directories(root_ / "usr/share/keyrings");
  fs::copy_file(test_archive_key().keyring(), root_ / "usr/share/keyrings/test.gpg");
  write_text(root_ / "etc/apt/sources.list.d/test.sources",
             "Types: deb\nURIs: http://example.org/debian\nSuites: test\nComponents: main\n"
             "Signed-By: /usr/share/keyrings/test.gpg\n");
  r = verify();
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(findings(r), std::set<std::string>{});
  // The same repository pinned to the attacker's key (which is no trust root): refused.
  fs::copy_file(attacker_key().keyring(), root_ / "usr/share/keyrings/test.gpg",
                fs::copy_options::overwrite_existing);
  r = verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(findings(r).contains("ARCHIVE_SIGNER_NOT_ALLOWED " + lists +
                                   "example.org_debian_dists_test_InRelease"))
      << r.out;
  EXPECT_TRUE(findings(r).contains("PKG_APT_FOREIGN_KEY /usr/share/keyrings/test.gpg")) << r.out;
}

}  // namespace
}  // namespace catena
