// `catena access scan` and the audit's standard, verdict and HTML report, end to end; and the
// promise that no secret value reaches any output or the store.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "make_home.hpp"
#include "support/browser.hpp"
#include "support/cache.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;
using test::run_command;
using test::RunResult;
using test::TempDir;

using test::read_file;

class AccessCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    made_ = new RunResult(test::make_home(*dir_ / "dev", "a"));
    made_ok_ = ::mkdir((*dir_ / "empty").c_str(), 0755) == 0 &&
               ::mkdir((*dir_ / "plain").c_str(), 0755) == 0;
    std::ofstream(*dir_ / "plain/.bashrc") << "export PATH=$HOME/bin:$PATH\n";
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
    delete made_;
    made_ = nullptr;
  }
  // A fixture that could not be made fails every test (a failure in SetUpTestSuite would only
  // skip them, without a word).
  void SetUp() override {
    ASSERT_EQ(made_->exit_code, 0) << made_->err;
    ASSERT_TRUE(made_ok_);
    db_ = work_ / "catena.db";
  }

  static std::string home() { return *dir_ / "dev"; }
  static std::string empty() { return *dir_ / "empty"; }

  // An audit of only the fixture home: the tool places are an empty directory.
  RunResult audit(std::vector<std::string> extra, const std::string& home_dir = home()) {
    std::vector<std::string> args = {"audit",        "--home", home_dir,    "--path", empty(),
                                     "--system-dir", empty(),  "--no-dpkg", "--db",   db_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_catena(args);
  }

  static TempDir* dir_;
  static RunResult* made_;
  static bool made_ok_;
  TempDir work_;
  std::string db_;
};
TempDir* AccessCliTest::dir_ = nullptr;
RunResult* AccessCliTest::made_ = nullptr;
bool AccessCliTest::made_ok_ = false;

// Every secret of the fixture: the marked tokens and passwords, and the body lines of every
// private key it holds.
std::vector<std::string> fixture_secrets(const std::string& home) {
  std::vector<std::string> secrets = {"catenasecret"};
  const RunResult keys = run_command({"grep", "-rlZ", "PRIVATE KEY-----", home});
  std::string list = keys.out;
  size_t pos = 0;
  while (pos < list.size()) {
    const size_t end = list.find('\0', pos);
    const std::string path = list.substr(pos, end - pos);
    pos = end == std::string::npos ? list.size() : end + 1;
    std::istringstream lines(read_file(path));
    std::string line;
    bool inside = false;
    while (std::getline(lines, line)) {
      if (line.find("-----BEGIN") != std::string::npos)
        inside = true;
      else if (line.find("-----END") != std::string::npos)
        inside = false;
      else if (inside && line.size() >= 40)
        secrets.push_back(line);
    }
  }
  // A PuTTY key's private lines.
  for (const char* ppk : {"/putty/plain.ppk", "/putty/locked.ppk"}) {
    std::istringstream lines(read_file(home + ppk));
    std::string line;
    bool inside = false;
    while (std::getline(lines, line)) {
      if (line.starts_with("Private-Lines:")) {
        inside = true;
      } else if (line.starts_with("Private-MAC:")) {
        inside = false;
      } else if (inside && line.size() >= 16) {
        secrets.push_back(line);
      }
    }
  }
  // The Docker auth is base64 of "user:password".
  const std::string docker = read_file(home + "/.docker/config.json");
  const size_t auth = docker.find("\"auth\":\"");
  if (auth != std::string::npos) {
    secrets.push_back(docker.substr(auth + 8, docker.find('"', auth + 8) - auth - 8));
  }
  return secrets;
}

TEST_F(AccessCliTest, NoSecretReachesAnyOutputOrTheStore) {
  const std::vector<std::string> secrets = fixture_secrets(home());
  ASSERT_GT(secrets.size(), 5u);
  std::string everything;
  for (const char* format : {"table", "json", "jsonl", "sarif"}) {
    const RunResult r = run_catena(
        {"access", "scan", "--home", home(), "--no-system", "--db", db_, "--format", format});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    everything += r.out + r.err;
    const RunResult listed = run_catena({"access", "list", "--db", db_, "--format", format});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    everything += listed.out + listed.err;
    const RunResult audited = audit({"--format", format, "--html", work_ / "report.html"});
    EXPECT_EQ(audited.exit_code, 1) << audited.err;
    everything += audited.out + audited.err + read_file(work_ / "report.html");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) everything += read_file(db_ + suffix);
  const RunResult dump = run_command({"sqlite3", db_, ".dump"});
  everything += dump.out;
  ASSERT_NE(everything.find("ACCESS_SIGNING_KEY_UNPROTECTED"), std::string::npos);
  for (const std::string& secret : secrets) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << "leaked: " << secret;
  }
}

TEST_F(AccessCliTest, AccessScanReportsDiscoveriesAsJson) {
  const RunResult r = run_catena(
      {"access", "scan", "--home", home(), "--no-system", "--db", db_, "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_TRUE(doc["build_access"]["holds"].get<bool>());
  std::set<std::string> rules;
  for (const json& f : doc["findings"]) rules.insert(f["rule"].get<std::string>());
  for (const char* rule : {"ACCESS_SIGNING_KEY_UNPROTECTED", "ACCESS_SSH_KEY_UNPROTECTED",
                           "ACCESS_CREDENTIAL_WORLD_READABLE", "ACCESS_FILE_UNPARSED"}) {
    EXPECT_TRUE(rules.count(rule)) << rule;
  }
  EXPECT_FALSE(rules.count("ACCESS_SHARED_CREDENTIAL"));
  bool signing = false;
  for (const json& d : doc["build_access"]["discoveries"]) {
    if (d["kind"] == "signing-key") {
      signing = true;
      EXPECT_TRUE(d["build_critical"].get<bool>());
      EXPECT_EQ(d["protection"], "none");
      EXPECT_EQ(d["fingerprint"].get<std::string>().rfind("spki-sha256:", 0), 0u);
    }
  }
  EXPECT_TRUE(signing);
  // Recorded in the store, per host.
  const RunResult listed =
      run_catena({"access", "list", "--db", db_, "--host", "nosuchhost", "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(json::parse(listed.out)["build_access"]["discoveries"].empty());
}

TEST_F(AccessCliTest, TheSameCredentialOnTwoHostsIsShared) {
  TempDir other;
  ASSERT_EQ(test::make_home(other / "dev", "a").exit_code, 0);  // same secrets
  ASSERT_EQ(run_catena({"access", "scan", "--home", home(), "--no-system", "--db", db_, "--host",
                        "laptop-1", "--format", "json"})
                .exit_code,
            1);
  const RunResult second = run_catena({"access", "scan", "--home", other / "dev", "--no-system",
                                       "--db", db_, "--host", "buildbox", "--format", "json"});
  ASSERT_EQ(second.exit_code, 1) << second.err;
  const json doc = json::parse(second.out);
  std::set<std::string> shared_kinds;
  for (const json& f : doc["findings"]) {
    if (f["rule"] != "ACCESS_SHARED_CREDENTIAL") continue;
    EXPECT_EQ(f["evidence"]["other_hosts"], "laptop-1");
    shared_kinds.insert(f["evidence"]["kind"].get<std::string>());
  }
  // Tokens match by salted hash; keys made afresh by ssh-keygen do not match.
  EXPECT_TRUE(shared_kinds.count("npm-token"));
  EXPECT_TRUE(shared_kinds.count("aws-credential"));
  EXPECT_FALSE(shared_kinds.count("ssh-private-key"));
  // Scanning the first host again replaces its records, it does not duplicate them.
  ASSERT_EQ(run_catena({"access", "scan", "--home", home(), "--no-system", "--db", db_, "--host",
                        "laptop-1", "--format", "json"})
                .exit_code,
            1);
  const RunResult listed =
      run_catena({"access", "list", "--db", db_, "--host", "laptop-1", "--format", "json"});
  const RunResult once =
      run_catena({"access", "list", "--db", db_, "--host", "buildbox", "--format", "json"});
  EXPECT_EQ(json::parse(listed.out)["build_access"]["discoveries"].size(),
            json::parse(once.out)["build_access"]["discoveries"].size());
}

TEST_F(AccessCliTest, AuditJudgesABuildAccessHostAgainstTheStandard) {
  const RunResult r = audit({"--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["verdict"], "fail");
  EXPECT_EQ(doc["standard"]["name"], "build-server standard");
  EXPECT_EQ(doc["standard"]["verdict"], "fail");
  EXPECT_TRUE(doc["build_access"]["holds"].get<bool>());
  std::map<std::string, json> rules;
  for (const json& rule : doc["rules"]) rules[rule["id"].get<std::string>()] = rule;
  ASSERT_TRUE(rules.count("no-unprotected-signing-key"));
  EXPECT_EQ(rules["no-unprotected-signing-key"]["status"], "fail");
  EXPECT_EQ(rules["no-indicator-match"]["status"], "pass");
  // Each failing rule names the findings behind it by id.
  for (const json& id : rules["no-unprotected-signing-key"]["findings"]) {
    const json& finding = doc["findings"][id.get<size_t>() - 1];
    EXPECT_EQ(finding["id"], id);
    EXPECT_TRUE(finding["rule"] == "ACCESS_SIGNING_KEY_UNPROTECTED" ||
                finding["rule"] == "ACCESS_SIGNING_PASSWORD_IN_SCRIPT")
        << finding;
  }
  const RunResult table = audit({"--format", "table"});
  EXPECT_NE(table.out.find("holds build access via"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("FAIL    no-unprotected-signing-key"), std::string::npos) << table.out;
}

TEST_F(AccessCliTest, AHostWithoutBuildAccessGetsAdvice) {
  const RunResult r = audit({"--format", "json"}, *dir_ / "plain");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = json::parse(r.out);
  EXPECT_FALSE(doc["build_access"]["holds"].get<bool>());
  EXPECT_EQ(doc["standard"]["verdict"], "advice");
  EXPECT_EQ(doc["verdict"], "pass");
}

TEST_F(AccessCliTest, ACustomStandardReplacesTheDefault) {
  const std::string config = work_ / "catena.toml";
  std::ofstream(config) << "[build]\nhosts = [\"build*.corp.example\"]\n"
                           "[standard]\nname = \"acme\"\n"
                           "[[standard.rule]]\nid = \"no-ssh-key-without-passphrase\"\n"
                           "findings = [\"ACCESS_SSH_*\"]\n";
  const RunResult r = audit({"--format", "json", "--config", config});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["standard"]["name"], "acme");
  ASSERT_EQ(doc["rules"].size(), 1u);
  EXPECT_EQ(doc["rules"][0]["status"], "fail");
  // A misspelt key is an error, not a silently passing rule.
  std::ofstream(config) << "[[standard.rule]]\nid = \"x\"\nfinding = [\"A\"]\n";
  const RunResult bad = audit({"--config", config});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown key standard.rule[0].finding"), std::string::npos) << bad.err;
  std::ofstream(config) << "[bild]\nhosts = []\n";
  EXPECT_EQ(audit({"--config", config}).exit_code, 2);
  EXPECT_EQ(audit({"--config", work_ / "missing.toml"}).exit_code, 2);
}

TEST_F(AccessCliTest, AuditSarifValidatesAndCarriesTheVerdict) {
  const RunResult r = audit({"--format", "sarif"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const std::string sarif = work_ / "audit.sarif";
  std::ofstream(sarif) << r.out;
  EXPECT_EQ(test::sarif_schema_errors(sarif), "");
  const json properties = json::parse(r.out)["runs"][0]["properties"];
  EXPECT_EQ(properties["verdict"], "fail");
  EXPECT_TRUE(properties["build_access"].get<bool>());
  EXPECT_FALSE(properties["rules"].empty());
}

// The HTML report as a person sees it: rendered by Chromium, printed to PDF, read back as text.
TEST_F(AccessCliTest, HtmlReportRendersInABrowser) {
  const std::string page = work_ / "report.html";
  ASSERT_EQ(audit({"--format", "json", "--html", page}).exit_code, 1);
  const std::string html = read_file(page);
  // Self-contained: nothing to fetch, nothing to run.
  for (const char* forbidden : {"<script", "<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  }
  const test::RenderedPage shown = test::render_page(page, work_.path());
  ASSERT_TRUE(shown.rendered) << shown.error;
  for (const char* expected :
       {"Verdict: FAIL", "holds build access", "Standard: build-server standard",
        "no-unprotected-signing-key", "ACCESS_SIGNING_KEY_UNPROTECTED", "release.key",
        "Build access discoveries", "Inventory"}) {
    EXPECT_NE(shown.text.find(expected), std::string::npos) << expected << "\n" << shown.text;
  }
  EXPECT_EQ(shown.text.find("catenasecret"), std::string::npos);
}

TEST_F(AccessCliTest, HostileFilesAreUnparsedNotFatal) {
  TempDir hostile;
  hostile.write(".npmrc", std::string(2 << 20, 'x'));  // over the 1 MiB bound
  hostile.write(".docker/config.json", std::string("\x7f"
                                                   "ELF\x00\x01\xff",
                                                   7));
  hostile.write(".kube/config", "clusters: [\n");
  hostile.write(".aws/credentials", "[default\naws_secret_access_key = catenasecret\n");
  ASSERT_EQ(::mkfifo((hostile / ".pypirc").c_str(), 0600), 0);
  hostile.symlink(".git-credentials", "/nonexistent/file");
  hostile.symlink("loop", ".");
  const RunResult r =
      run_catena({"access", "scan", "--home", hostile.path(), "--home", hostile / "no-such-home",
                  "--no-system", "--db", db_, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json::parse(r.out);
  std::set<std::string> unparsed;
  for (const json& d : doc["build_access"]["discoveries"]) {
    EXPECT_EQ(d["kind"], "unparsed") << d;
    unparsed.insert(d["path"].get<std::string>());
  }
  for (const char* name :
       {".npmrc", ".docker/config.json", ".kube/config", ".aws/credentials", ".pypirc"}) {
    EXPECT_TRUE(unparsed.count(hostile / name)) << name;
  }
  EXPECT_TRUE(unparsed.count(hostile / "no-such-home"));
  EXPECT_EQ(r.out.find("catenasecret"), std::string::npos);
}

TEST_F(AccessCliTest, AnUnreadableHomeIsRecorded) {
  if (::geteuid() != 0)
    CATENA_SKIP_ENVIRONMENT() << "needs root to make a home another user cannot read";
  TempDir locked;
  locked.write(".npmrc", "//registry.npmjs.org/:_authToken=catenasecret\n", 0600);
  ASSERT_EQ(::chmod(locked.path().c_str(), 0700), 0);
  TempDir shared;
  ASSERT_EQ(::chmod(shared.path().c_str(), 0777), 0);
  const RunResult r =
      test::run_catena_unprivileged({"access", "scan", "--home", locked.path(), "--no-system",
                                     "--db", shared / "db", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json::parse(r.out);
  ASSERT_EQ(doc["build_access"]["discoveries"].size(), 1u) << r.out;
  EXPECT_EQ(doc["build_access"]["discoveries"][0]["kind"], "unparsed");
  EXPECT_NE(doc["build_access"]["discoveries"][0]["detail"].get<std::string>().find("ermission"),
            std::string::npos);
}

}  // namespace
}  // namespace catena

namespace catena {
namespace {

TEST(AccessSymlinks, FollowedOnlyToAFileOfTheLinksOwner) {
  if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "needs root to own a link as another user";
  TempDir home;
  TempDir db;
  home.write("dotfiles/npmrc", "//registry.npmjs.org/:_authToken=catenasecret_linked\n", 0600);
  home.symlink(".npmrc", "dotfiles/npmrc");
  home.symlink(".git-credentials", "/etc/passwd");
  // The user owns the link to /etc/passwd; root owns /etc/passwd.
  ASSERT_EQ(::lchown((home / ".git-credentials").c_str(), 65534, 65534), 0);
  const RunResult r = run_catena({"access", "scan", "--home", home.path(), "--no-system", "--db",
                                  db / "db", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json doc = json::parse(r.out);
  bool npm = false;
  bool refused = false;
  for (const json& d : doc["build_access"]["discoveries"]) {
    if (d["kind"] == "npm-token" && d["path"] == home / ".npmrc") npm = true;
    if (d["kind"] == "unparsed" && d["path"] == home / ".git-credentials") refused = true;
  }
  EXPECT_TRUE(npm) << r.out;
  EXPECT_TRUE(refused) << r.out;
  EXPECT_EQ(r.out.find("root:"), std::string::npos);
  EXPECT_EQ(r.out.find("/bin/bash"), std::string::npos);
}

}  // namespace
}  // namespace catena
