// Build-access discovery: each kind of credential found in a home made with the real tools,
// fingerprints equal to ssh-keygen's, classification, findings, and the promise that no secret
// value ever reaches an output or the store.
#include "catena/access/access.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../../src/access/flatten.hpp"
#include "catena/core/text.hpp"
#include "make_home.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;
using test::run_command;
using test::RunResult;
using test::TempDir;

// One home with every kind of credential, made once for the suite (key generation is slow).
class AccessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    made_ = new RunResult(test::make_home(*dir_ / "dev", "a"));
  }
  // A fixture that could not be made fails every test (a failure in SetUpTestSuite would only
  // skip them, without a word).
  void SetUp() override { ASSERT_EQ(made_->exit_code, 0) << made_->err; }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
    delete made_;
    made_ = nullptr;
  }

  static std::string home() { return *dir_ / "dev"; }

  static access::Report discover(const access::Inventory& inventory = {}) {
    access::Options options{.homes = {home()}, .system_places = false, .key = "salt"};
    return access::discover(options, inventory);
  }

  static std::vector<const access::Discovery*> of_kind(const access::Report& report,
                                                       std::string_view kind) {
    std::vector<const access::Discovery*> out;
    for (const access::Discovery& d : report.discoveries) {
      if (d.kind == kind) out.push_back(&d);
    }
    return out;
  }

  static const access::Discovery* at(const access::Report& report,
                                     std::string_view relative,
                                     std::string_view kind) {
    for (const access::Discovery& d : report.discoveries) {
      if (d.kind == kind && d.path == home() + "/" + std::string(relative)) return &d;
    }
    return nullptr;
  }

  static bool has_finding(const access::Report& report,
                          std::string_view rule,
                          std::string_view relative) {
    for (const Finding& f : report.findings) {
      if (f.rule == rule && f.path == home() + "/" + std::string(relative)) return true;
    }
    return false;
  }

  static TempDir* dir_;
  static RunResult* made_;
};
TempDir* AccessTest::dir_ = nullptr;
RunResult* AccessTest::made_ = nullptr;

TEST_F(AccessTest, FindsEveryKindInAHome) {
  const access::Report report = discover();
  const std::set<std::string> expected = {"ssh-private-key",
                                          "ssh-host",
                                          "ssh-known-host",
                                          "ssh-agent",
                                          "git-remote",
                                          "git-credential",
                                          "git-credential-helper",
                                          "git-signing-config",
                                          "gh-token",
                                          "glab-token",
                                          "npm-token",
                                          "pypi-credential",
                                          "cargo-token",
                                          "docker-auth",
                                          "docker-credential-helper",
                                          "maven-server",
                                          "gem-credential",
                                          "nuget-credential",
                                          "aws-credential",
                                          "aws-profile",
                                          "gcloud-credential",
                                          "azure-credential",
                                          "kube-context",
                                          "github-runner",
                                          "github-runner-key",
                                          "gitlab-runner",
                                          "pkcs12",
                                          "signing-key",
                                          "private-key",
                                          "signing-script",
                                          "github-runner-registration",
                                          "buildkite-agent",
                                          "jenkins-master-key",
                                          "jenkins-agent-secret",
                                          "pkcs11-module",
                                          "gcloud-account",
                                          "cosign-key",
                                          "java-keystore",
                                          "android-signing-config",
                                          "gradle-signing-config",
                                          "gradle-credential",
                                          "netrc-credential",
                                          "terraform-token",
                                          "vault-token",
                                          "hub-token",
                                          "yarn-token",
                                          "pip-index-credential",
                                          "jenkins-admin-password",
                                          "jenkins-credential",
                                          "maven-master-password"};
  std::set<std::string> found;
  for (const access::Discovery& d : report.discoveries) found.insert(d.kind);
  for (const std::string& kind : expected) EXPECT_TRUE(found.count(kind)) << kind;
  // A key is recognised by its content whatever its name.
  bool by_content = false;
  for (const access::Discovery& d : report.discoveries) {
    by_content =
        by_content || (d.kind == "ssh-private-key" && d.path == home() + "/backup/deploy-material");
  }
  EXPECT_TRUE(by_content);
  // Skipped places stay skipped: the decoy key under .cache is never read.
  for (const access::Discovery& d : report.discoveries) {
    EXPECT_EQ(d.path.find("/.cache/"), std::string::npos) << d.path;
    EXPECT_EQ(d.path.find("/node_modules/"), std::string::npos) << d.path;
  }
}

TEST_F(AccessTest, SshFingerprintsAreThoseSshKeygenPrints) {
  const access::Report report = discover();
  for (const char* name : {"id_ed25519", "deploy_rsa"}) {
    const access::Discovery* key = at(report, std::string(".ssh/") + name, "ssh-private-key");
    ASSERT_NE(key, nullptr) << name;
    const RunResult keygen = run_command({"ssh-keygen", "-lf", home() + "/.ssh/" + name + ".pub"});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
    // "256 SHA256:... comment (ED25519)"
    std::istringstream fields(keygen.out);
    std::string bits, fingerprint;
    fields >> bits >> fingerprint;
    EXPECT_EQ(key->fingerprint, fingerprint) << name;
    EXPECT_NE(key->detail.find(bits), std::string::npos) << key->detail;
  }
  EXPECT_EQ(at(report, ".ssh/id_ed25519", "ssh-private-key")->protection, "none");
  EXPECT_EQ(at(report, ".ssh/id_ed25519", "ssh-private-key")->account, "dev@a-laptop");
  EXPECT_EQ(at(report, ".ssh/deploy_rsa", "ssh-private-key")->protection, "passphrase");
  EXPECT_TRUE(has_finding(report, "ACCESS_SSH_KEY_UNPROTECTED", ".ssh/id_ed25519"));
  EXPECT_FALSE(has_finding(report, "ACCESS_SSH_KEY_UNPROTECTED", ".ssh/deploy_rsa"));
}

TEST_F(AccessTest, SigningMaterialIsJudgedByItsCertificate) {
  const access::Report report = discover();
  const access::Discovery* pem = at(report, "signing/release.key", "signing-key");
  ASSERT_NE(pem, nullptr);
  EXPECT_TRUE(pem->signing);
  EXPECT_EQ(pem->protection, "none");
  EXPECT_NE(pem->target.find("Acme Code Signing a"), std::string::npos);
  const access::Discovery* pfx = at(report, "signing/release.pfx", "pkcs12");
  ASSERT_NE(pfx, nullptr);
  EXPECT_TRUE(pfx->signing);
  EXPECT_EQ(pfx->protection, "none");
  // The same key in two containers has one fingerprint.
  EXPECT_EQ(pfx->fingerprint, pem->fingerprint);
  const access::Discovery* protected_p12 = at(report, "signing/protected.p12", "pkcs12");
  ASSERT_NE(protected_p12, nullptr);
  EXPECT_EQ(protected_p12->protection, "passphrase");
  // A TLS server key is a private key, not signing material.
  const access::Discovery* tls = at(report, "tls.key", "private-key");
  ASSERT_NE(tls, nullptr);
  EXPECT_FALSE(tls->signing);
  EXPECT_TRUE(has_finding(report, "ACCESS_SIGNING_KEY_UNPROTECTED", "signing/release.key"));
  EXPECT_TRUE(has_finding(report, "ACCESS_SIGNING_KEY_UNPROTECTED", "signing/release.pfx"));
  EXPECT_FALSE(has_finding(report, "ACCESS_SIGNING_KEY_UNPROTECTED", "signing/protected.p12"));
  EXPECT_FALSE(has_finding(report, "ACCESS_SIGNING_KEY_UNPROTECTED", "tls.key"));
  EXPECT_TRUE(has_finding(report, "ACCESS_SIGNING_PASSWORD_IN_SCRIPT", "sign.sh"));
  EXPECT_TRUE(has_finding(report, "ACCESS_CREDENTIAL_WORLD_READABLE", "signing/release.key"));
  // 0600: not readable by others.
  EXPECT_FALSE(has_finding(report, "ACCESS_CREDENTIAL_WORLD_READABLE", ".git-credentials"));
}

TEST_F(AccessTest, TargetsAndAccountsAreNamedWithoutSecrets) {
  const access::Report report = discover();
  const auto remotes = of_kind(report, "git-remote");
  std::set<std::string> targets;
  for (const access::Discovery* d : remotes) targets.insert(d->target);
  EXPECT_TRUE(targets.count("https://github.com/acme/app.git"));
  EXPECT_TRUE(targets.count("git@github.com:acme/upstream.git"));
  const access::Discovery* npm = nullptr;
  for (const access::Discovery* d : of_kind(report, "npm-token")) {
    if (d->target == "registry.npmjs.org") npm = d;
  }
  ASSERT_NE(npm, nullptr);
  EXPECT_TRUE(npm->holds_secret);
  EXPECT_EQ(npm->fingerprint, access::secret_fingerprint("salt", "catenasecreta_npm"));
  // A token taken from the environment is not a secret in the file.
  for (const access::Discovery* d : of_kind(report, "npm-token")) {
    if (d->target == "npm.pkg.github.com") {
      EXPECT_FALSE(d->holds_secret);
    }
  }
  const auto aws = of_kind(report, "aws-credential");
  ASSERT_EQ(aws.size(), 1u);
  EXPECT_EQ(aws[0]->account, "AKIAEXAMPLEA");  // an access key id is an identifier
  const auto docker = of_kind(report, "docker-auth");
  ASSERT_EQ(docker.size(), 1u);
  EXPECT_EQ(docker[0]->target, "ghcr.io");
  EXPECT_EQ(docker[0]->account, "robot");
  const auto kube = of_kind(report, "kube-context");
  ASSERT_EQ(kube.size(), 1u);
  EXPECT_EQ(kube[0]->target, "https://k8s.build.corp.example:6443");
  EXPECT_EQ(kube[0]->account, "ci-admin");
  const auto runner = of_kind(report, "gitlab-runner");
  ASSERT_EQ(runner.size(), 1u);
  EXPECT_EQ(runner[0]->target, "https://gitlab.corp.example/");
  EXPECT_TRUE(runner[0]->holds_secret);
  const auto maven = of_kind(report, "maven-server");
  ASSERT_EQ(maven.size(), 2u);
  for (const access::Discovery& d : report.discoveries) {
    for (const std::string* field : {&d.target, &d.account, &d.detail, &d.fingerprint}) {
      EXPECT_EQ(field->find("catenasecret"), std::string::npos) << d.kind << ": " << *field;
    }
  }
}

TEST_F(AccessTest, DefaultClassificationCountsSigningRunnersAndPublishing) {
  const access::Report report = discover();
  EXPECT_TRUE(access::holds_build_access(report.discoveries));
  for (const access::Discovery& d : report.discoveries) {
    if (d.kind == "signing-key" || d.kind == "github-runner" || d.kind == "gitlab-runner" ||
        d.kind == "cargo-token") {
      EXPECT_TRUE(d.build_critical) << d.kind << " " << d.path;
    }
    if (d.kind == "ssh-private-key" || d.kind == "aws-credential" || d.kind == "git-remote") {
      EXPECT_FALSE(d.build_critical) << d.kind << " " << d.path;
    }
  }
}

TEST_F(AccessTest, AnInventoryMakesHostsBuildCriticalAndSshKeysReachThem) {
  auto inventory = access::parse_inventory(
      "[build]\nhosts = [\"build*.corp.example\", \"git.corp.example\"]\n"
      "repositories = [\"github.com/acme/app\"]\n");
  ASSERT_TRUE(inventory) << inventory.error().message;
  const access::Report report = discover(*inventory);
  const access::Discovery* deploy = at(report, ".ssh/deploy_rsa", "ssh-private-key");
  ASSERT_NE(deploy, nullptr);
  EXPECT_TRUE(deploy->build_critical);  // the IdentityFile of Host build
  EXPECT_EQ(deploy->target, "build1.corp.example");
  const access::Discovery* personal = at(report, ".ssh/id_ed25519", "ssh-private-key");
  ASSERT_NE(personal, nullptr);
  EXPECT_TRUE(personal->build_critical);  // default key: git.corp.example names no identity
  EXPECT_NE(personal->target.find("git.corp.example"), std::string::npos);
  bool high = false;
  for (const Finding& f : report.findings) {
    if (f.rule == "ACCESS_SSH_KEY_UNPROTECTED" && f.path == personal->path) {
      high = f.severity == Severity::High;
    }
  }
  EXPECT_TRUE(high);
  for (const access::Discovery* d : of_kind(report, "git-remote")) {
    EXPECT_EQ(d->build_critical, d->target == "https://github.com/acme/app.git") << d->target;
  }
  // With an inventory, a publishing token counts only for a listed registry.
  for (const access::Discovery* d : of_kind(report, "npm-token")) EXPECT_FALSE(d->build_critical);
}

TEST(AccessInventory, RejectsUnknownKeysAndWrongTypes) {
  EXPECT_FALSE(access::parse_inventory("[build]\nhost = [\"x\"]\n"));
  EXPECT_FALSE(access::parse_inventory("[build]\nhosts = \"x\"\n"));
  EXPECT_FALSE(access::parse_inventory("[build]\nhosts = [1]\n"));
  EXPECT_FALSE(access::parse_inventory("[build\n"));
  auto empty = access::parse_inventory("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->declared);
}

// Bad input: each file is recorded as unparsed with a reason, never a crash or a secret.
TEST(AccessBadInput, MalformedFilesAreUnparsedWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/h/.docker/config.json", "{\"auths\": {\"x\": {\"auth\": \"catenasecret"},
      {"/h/.docker/config.json", std::string("\x00\xff\xfe binary", 10)},
      {"/h/.kube/config", "clusters: [\n  - {name: a\n  catenasecret: :\n"},
      {"/h/.cargo/credentials.toml", "[registry\ntoken = \"catenasecret\"\n"},
      {"/h/.m2/settings.xml", "<settings><servers><server><password>catenasecret</pass"},
      {"/h/.gitconfig", "[credential\n\thelper = catenasecret\n"},
      {"/h/.ssh/id_weird",
       "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"},
      {"/h/.ssh/id_pem",
       "-----BEGIN RSA PRIVATE KEY-----\nY2F0ZW5hc2VjcmV0\n-----END RSA PRIVATE KEY-----\n"},
      {"/h/k/release.pfx", "catenasecret not a pkcs12"},
      {"/h/k/key.asc",
       "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n!!!!\n-----END PGP PRIVATE KEY BLOCK-----\n"},
      {"/h/k/minisign.key", "untrusted comment: minisign encrypted secret key\nY2F0ZW5h\n"},
      {"/h/.gnupg/private-keys-v1.d/ABC.key", "garbage catenasecret"},
  };
  for (const auto& [path, content] : cases) {
    const std::vector<access::Discovery> found = access::examine(path, content, "salt");
    ASSERT_FALSE(found.empty()) << path;
    EXPECT_EQ(found[0].kind, "unparsed") << path;
    EXPECT_FALSE(found[0].detail.empty()) << path;
    for (const access::Discovery& d : found) {
      EXPECT_EQ(d.detail.find("catenasecret"), std::string::npos) << path << ": " << d.detail;
      EXPECT_EQ(d.target.find("catenasecret"), std::string::npos) << path;
    }
  }
}

TEST(AccessBadInput, DeepNestingAndAliasBombsAreBounded) {
  const std::string deep_json = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(access::flatten_json(deep_json));
  const std::string deep_yaml = std::string(100000, '[');
  EXPECT_FALSE(access::flatten_yaml(deep_yaml));
  std::string bomb = "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [*" + static_cast<char>(c - 1) + ",*" +
            static_cast<char>(c - 1) + ",*" + static_cast<char>(c - 1) + ",*" +
            static_cast<char>(c - 1) + "]\n";
  }
  auto flat = access::flatten_yaml(bomb);
  ASSERT_TRUE(flat) << flat.error().message;
  EXPECT_LT(flat->size(), 100u);  // aliases are not expanded
  std::string deep_xml;
  for (int i = 0; i < 5000; ++i) deep_xml += "<a>";
  EXPECT_FALSE(access::flatten_xml(deep_xml));
  // An external entity is neither loaded nor substituted.
  auto xxe = access::flatten_xml(
      "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<settings><servers><server><id>&x;</id></server></servers></settings>");
  if (xxe) {
    for (const access::Entry& e : *xxe) EXPECT_EQ(e.value.find("root:"), std::string::npos);
  }
}

TEST(AccessFlatten, ReadsEachFormatIntoKeyPaths) {
  auto yaml = access::flatten_yaml("hosts:\n  github.com:\n    user: u\n    list: [a, b]\n");
  ASSERT_TRUE(yaml);
  EXPECT_EQ(access::value_at(*yaml, {"hosts", "github.com", "user"}), "u");
  EXPECT_EQ(access::value_at(*yaml, {"hosts", "github.com", "list", "1"}), "b");
  auto json_entries = access::flatten_json("{\"a\":[{\"b\":1},{\"b\":\"two\"}]}");
  ASSERT_TRUE(json_entries);
  EXPECT_EQ(access::value_at(*json_entries, {"a", "1", "b"}), "two");
  auto ini = access::flatten_ini("top = 1\n[remote \"origin\"]\n\turl = x\n[s]\nk: v\n");
  ASSERT_TRUE(ini);
  EXPECT_EQ(access::value_at(*ini, {"top"}), "1");
  EXPECT_EQ(access::value_at(*ini, {"remote", "origin", "url"}), "x");
  EXPECT_EQ(access::value_at(*ini, {"s", "k"}), "v");
  auto xml = access::flatten_xml("<c><add key=\"k\" value=\"v\"/><t>text</t></c>");
  ASSERT_TRUE(xml);
  EXPECT_EQ(access::value_at(*xml, {"c", "add", "@value"}), "v");
  EXPECT_EQ(access::value_at(*xml, {"c", "t"}), "text");
}

// minisign and signify secret keys laid out by their formats: unprotected when the KDF is off.
TEST(AccessKeys, MinisignAndSignifyProtection) {
  std::string minisign = "Ed";
  minisign += std::string("\0\0", 2) + "B2" + std::string(32 + 16, 'S');
  minisign += std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) + std::string(96, 'K');
  auto plain = access::examine(
      "/h/x.key",
      "untrusted comment: minisign encrypted secret key\n" + base64_encode(minisign) + "\n",
      "salt");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].kind, "minisign-secret-key");
  EXPECT_EQ(plain[0].protection, "none");
  EXPECT_EQ(plain[0].fingerprint, "minisign:0807060504030201");
  minisign.replace(2, 2, "Sc");
  auto encrypted = access::examine(
      "/h/x.key",
      "untrusted comment: minisign encrypted secret key\n" + base64_encode(minisign) + "\n",
      "salt");
  ASSERT_EQ(encrypted.size(), 1u);
  EXPECT_EQ(encrypted[0].protection, "passphrase");

  std::string signify =
      "EdBK" + std::string(4, '\0') + std::string(16 + 8, 'S') + "KEYNUM!!" + std::string(64, 'K');
  auto open = access::examine(
      "/h/x.sec", "untrusted comment: signify secret key\n" + base64_encode(signify) + "\n", "s");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].protection, "none");
  signify.replace(4, 4, std::string("\0\0\0\x2a", 4));
  auto closed = access::examine(
      "/h/x.sec", "untrusted comment: signify secret key\n" + base64_encode(signify) + "\n", "s");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].protection, "passphrase");
  EXPECT_EQ(closed[0].fingerprint, open[0].fingerprint);  // the key number is public
}

TEST(AccessKeys, GnupgKeysWithAndWithoutPassphrase) {
  TempDir gnupg;
  ASSERT_EQ(::chmod(gnupg.path().c_str(), 0700), 0);
  const auto gpg = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"gpg", "--homedir", gnupg.path(), "--batch", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  ASSERT_EQ(gpg({"--passphrase", "", "--quick-gen-key", "open <open@example.com>", "ed25519",
                 "sign", "1d"})
                .exit_code,
            0);
  ASSERT_EQ(gpg({"--pinentry-mode", "loopback", "--passphrase", "pw", "--quick-gen-key",
                 "closed <closed@example.com>", "ed25519", "sign", "1d"})
                .exit_code,
            0);
  access::Options options{.homes = {gnupg.path()}, .system_places = false, .key = "s"};
  // The walk sees private-keys-v1.d under the given directory as it would under ~/.gnupg.
  const access::Report report = access::discover(options, {});
  std::multiset<std::string> protections;
  for (const access::Discovery& d : report.discoveries) {
    if (d.kind == "gpg-secret-key") protections.insert(d.protection);
  }
  EXPECT_EQ(protections.count("none"), 1u);
  EXPECT_EQ(protections.count("passphrase"), 1u);
  // An armored export of the unprotected key is read as OpenPGP packets.
  const RunResult exported = gpg({"--armor", "--export-secret-keys", "open@example.com"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto found = access::examine("/h/open.asc", exported.out, "s");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, "gpg-secret-key");
  EXPECT_EQ(found[0].protection, "none");
  const RunResult listed = gpg({"--with-colons", "--fingerprint", "open@example.com"});
  EXPECT_NE(ascii_lower(listed.out).find(found[0].fingerprint.substr(8)), std::string::npos)
      << found[0].fingerprint << "\n"
      << listed.out;
  run_command({"gpgconf", "--homedir", gnupg.path(), "--kill", "all"});
}

}  // namespace
}  // namespace catena
