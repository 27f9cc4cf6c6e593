// No secret leaves a credential file: each leak found by attacking the readers, a property test
// that plants a secret in every secret-carrying field of every format, the race-free walk, the
// bounds on hostile files, and the kinds and protections a user expects judged right.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../../src/access/secrets.hpp"
#include "catena/access/access.hpp"
#include "catena/core/text.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;
using test::run_command;
using test::RunResult;
using test::TempDir;

// Every string of every discovery, joined: what could reach an output.
std::string shown(const std::vector<access::Discovery>& found) {
  std::string out;
  for (const access::Discovery& d : found) {
    out += d.kind + "|" + d.target + "|" + d.account + "|" + d.detail + "|" + d.fingerprint + "|" +
           d.protection + "\n";
  }
  return out;
}

std::vector<access::Discovery> of_kind(const std::vector<access::Discovery>& found,
                                       std::string_view kind) {
  std::vector<access::Discovery> out;
  for (const access::Discovery& d : found) {
    if (d.kind == kind) out.push_back(d);
  }
  return out;
}

TEST(AccessLeaks, ATokenAsTheUserNameOfAShortUrlIsNotShown) {
  const auto remote = access::examine(
      "/h/p/.git/config", "[remote \"origin\"]\n\turl = https://tk9Zq1@github.com/a/b.git\n", "k");
  ASSERT_EQ(remote.size(), 1u) << shown(remote);
  EXPECT_EQ(remote[0].target, "https://github.com/a/b.git");
  EXPECT_EQ(shown(remote).find("tk9Zq1"), std::string::npos) << shown(remote);
  const auto stored = access::examine("/h/.git-credentials", "https://tk9Zq1@github.com\n", "k");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].holds_secret);  // everything in the credential store is a credential
  EXPECT_EQ(stored[0].fingerprint, access::secret_fingerprint("k", "tk9Zq1"));
  EXPECT_EQ(shown(stored).find("tk9Zq1"), std::string::npos) << shown(stored);
  // A known token prefix is a token however short the rest.
  const auto github = access::examine(
      "/h/p/.git/config", "[remote \"o\"]\n\turl = https://ghp_Zq1@github.com/a/b\n", "k");
  ASSERT_EQ(github.size(), 1u);
  EXPECT_TRUE(github[0].holds_secret);
  // TOKEN:x-oauth-basic is GitHub's old form: the user name is the token.
  const auto oauth =
      access::examine("/h/p/.git/config",
                      "[remote \"o\"]\n\turl = https://Zq1tok:x-oauth-basic@github.com/a\n", "k");
  EXPECT_EQ(shown(oauth).find("Zq1tok"), std::string::npos) << shown(oauth);
}

TEST(AccessLeaks, PasswordsInUrlsAreStrippedEverywhere) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/h/.gitlab-runner/config.toml",
       "[[runners]]\n  url = \"https://u:Zq2pw@gitlab.corp.example/\"\n  token = \"x\"\n"},
      {"/h/.kube/config",
       "clusters:\n- cluster:\n    server: https://admin:Zq2pw@k8s.example:6443\n  name: c\n"
       "contexts:\n- context:\n    cluster: c\n    user: u\n  name: ctx\n"},
      {"/h/.gitconfig", "[http \"https://u:Zq2pw@git.example/\"]\n\tsslVerify = true\n"},
      {"/h/.gitconfig", "[credential \"https://u:Zq2pw@git.example\"]\n\thelper = store\n"},
      {"/h/.gitconfig", "[url \"https://u:Zq2pw@git.example/\"]\n\tinsteadOf = https://x/\n"},
      // A password holding '/' or '@' splits a naive parse.
      {"/h/p/.git/config", "[remote \"o\"]\n\turl = https://u:Zq2/pw@git.example/a/b\n"},
      {"/h/p/.git/config", "[remote \"o\"]\n\turl = https://u:Zq2@pw@git.example/a/b\n"},
      {"/h/.git-credentials", "https://u:Zq2/pw@git.example\n"},
      {"/h/.npmrc", "registry=https://u:Zq2pw@npm.corp.example/\n"},
      {"/h/.pypirc", "[corp]\nrepository = https://u:Zq2pw@pypi.corp.example/\n"},
      {"/h/.config/pip/pip.conf", "[global]\nindex-url = https://u:Zq2pw@pypi.corp.example/s\n"},
      {"/h/.nuget/NuGet/NuGet.Config",
       "<configuration><packageSources><add key=\"corp\" "
       "value=\"https://u:Zq2pw@nuget.corp.example/v3\"/></packageSources></configuration>"},
  };
  for (const auto& [path, content] : cases) {
    const auto found = access::examine(path, content, "k");
    EXPECT_EQ(shown(found).find("Zq2"), std::string::npos) << path << "\n" << shown(found);
    bool held = false;
    for (const auto& d : found) held = held || d.holds_secret;
    EXPECT_TRUE(held) << path << " records no secret:\n" << shown(found);
  }
}

TEST(AccessLeaks, DockerAuthWithoutAColonIsAToken) {
  const std::string auth = base64_encode("Zq3baretoken");
  const auto found = access::examine(
      "/h/.docker/config.json", "{\"auths\":{\"r.example\":{\"auth\":\"" + auth + "\"}}}", "k");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].account.empty());
  EXPECT_EQ(shown(found).find("Zq3"), std::string::npos) << shown(found);
  EXPECT_EQ(shown(found).find(auth), std::string::npos);
}

TEST(AccessLeaks, NugetValueBeforeKeyPairsWithItsOwnKey) {
  const auto found = access::examine("/h/.nuget/NuGet/NuGet.Config",
                                     "<configuration><packageSourceCredentials><corp>"
                                     "<add value=\"nugetuser\" key=\"Username\"/>"
                                     "<add value=\"Zq4password\" key=\"ClearTextPassword\"/>"
                                     "</corp></packageSourceCredentials></configuration>",
                                     "k");
  const auto creds = of_kind(found, "nuget-credential");
  ASSERT_EQ(creds.size(), 1u) << shown(found);
  EXPECT_EQ(creds[0].account, "nugetuser");
  EXPECT_EQ(creds[0].fingerprint, access::secret_fingerprint("k", "Zq4password"));
  EXPECT_EQ(shown(found).find("Zq4"), std::string::npos) << shown(found);
}

TEST(AccessLeaks, CredentialHelpersWithCommentsAndContinuationsAreNotShown) {
  for (const std::string helper : {"helper = \"!tok=Zq5secret; echo password=$tok\" ; a comment\n",
                                   "helper = !tok=Zq5secret; \\\n   echo password=$tok\n",
                                   "helper = \"!f() { echo password=Zq5secret; }; f\" # note\n"}) {
    const auto found = access::examine("/h/.gitconfig", "[credential]\n\t" + helper, "k");
    ASSERT_FALSE(found.empty()) << helper;
    EXPECT_EQ(shown(found).find("Zq5"), std::string::npos) << helper << shown(found);
    EXPECT_TRUE(of_kind(found, "git-credential-helper").at(0).holds_secret) << shown(found);
  }
  // A plain helper is named.
  const auto plain = access::examine("/h/.gitconfig", "[credential]\n\thelper = store\n", "k");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].detail, "helper store");
}

TEST(AccessLeaks, UrlCredentialsAreStrippedFromAnyText) {
  EXPECT_EQ(access::strip_url_credentials("see https://u:p@h.example/x and ssh://git@h/y"),
            "see https://h.example/x and ssh://h/y");
  EXPECT_EQ(access::strip_url_credentials("https://u:a/b@host/path"), "https://host/path");
  EXPECT_EQ(access::strip_url_credentials("https://TOKEN@host"), "https://host");
  // A port and a path with '@' in it are not credentials.
  EXPECT_EQ(access::strip_url_credentials("https://host.example:8443/a/@scope/pkg"),
            "https://host.example:8443/a/@scope/pkg");
}

// For every reader, a secret planted in every field of its format that can carry one never
// appears in what it finds, and each is recorded as a secret. `S` marks a secret position.
TEST(AccessLeaks, NoPlantedSecretAppearsInAnyReadersDiscoveries) {
  const std::vector<std::pair<std::string, std::string>> formats = {
      {"/h/.git-credentials", "https://user:S@github.com/a\nhttps://S@gitlab.com\n"},
      {"/h/.gitconfig",
       "[url \"https://u:S@x.example/\"]\n\tinsteadOf = https://x/\n"
       "[http]\n\textraheader = PRIVATE-TOKEN: S\n[credential]\n\thelper = !echo S\n"},
      {"/h/.config/gh/hosts.yml", "github.com:\n  oauth_token: S\n  user: u\n"},
      {"/h/.config/glab-cli/config.yml", "hosts:\n  gitlab.com:\n    token: S\n"},
      {"/h/.config/hub", "github.com:\n- user: u\n  oauth_token: S\n  protocol: https\n"},
      {"/h/.npmrc", "//registry.npmjs.org/:_authToken=S\n//r.example/:_password=S\n"},
      {"/h/.yarnrc.yml",
       "npmAuthToken: S\nnpmRegistries:\n  \"//r.example\":\n    npmAuthToken: S\n"
       "npmScopes:\n  acme:\n    npmAuthIdent: \"u:S\"\n"},
      {"/h/.pypirc", "[pypi]\nusername = __token__\npassword = S\n"},
      {"/h/.cargo/credentials.toml", "[registry]\ntoken = \"S\"\n"},
      {"/h/.docker/config.json",
       "{\"auths\":{\"r\":{\"identitytoken\":\"S\",\"password\":\"S\"}}}"},
      {"/h/.m2/settings.xml",
       "<settings><servers><server><id>a</id><password>S</password></server>"
       "<server><id>b</id><passphrase>S</passphrase></server></servers></settings>"},
      {"/h/.m2/settings-security.xml", "<settingsSecurity><master>S</master></settingsSecurity>"},
      {"/h/.gradle/gradle.properties",
       "signing.keyId=ABCD1234\nsigning.password=S\nossrhUsername=me\nossrhPassword=S\n"},
      {"/h/.gem/credentials", "---\n:rubygems_api_key: S\n"},
      {"/h/.nuget/NuGet/NuGet.Config",
       "<configuration><apikeys><add key=\"https://www.nuget.org/api/v2\" value=\"S\"/>"
       "</apikeys></configuration>"},
      {"/h/.netrc", "machine git.example login me password S\ndefault login x password S\n"},
      {"/h/.terraform.d/credentials.tfrc.json",
       "{\"credentials\":{\"app.terraform.io\":{\"token\":\"S\"}}}"},
      {"/h/.vault-token", "S\n"},
      {"/h/.aws/credentials", "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = S\n"},
      {"/h/.config/gcloud/application_default_credentials.json",
       "{\"type\":\"impersonated_service_account\",\"source_credentials\":{\"type\":"
       "\"authorized_user\",\"refresh_token\":\"S\",\"client_secret\":\"S\"}}"},
      {"/h/keys/sa.json", "{\"type\":\"service_account\",\"private_key\":\"S\"}"},
      {"/h/.azure/msal_token_cache.json", "{\"RefreshToken\":{\"x\":{\"secret\":\"S\"}}}"},
      {"/h/.kube/config",
       "clusters:\n- cluster:\n    server: https://k.example\n  name: c\ncontexts:\n"
       "- context:\n    cluster: c\n    user: u\n  name: x\nusers:\n- name: u\n  user:\n"
       "    auth-provider:\n      name: oidc\n      config:\n        client-secret: S\n"
       "        refresh-token: S\n    exec:\n      command: aws\n      args: [\"--token\", \"S\"]\n"
       "      env:\n      - name: TOKEN\n        value: S\n"},
      {"/h/.gitlab-runner/config.toml", "[[runners]]\n  url = \"https://g\"\n  token = \"S\"\n"},
      {"/h/b/buildkite-agent.cfg", "token=\"S\"\n"},
      {"/h/r/.credentials_rsaparams", "{\"d\":\"S\"}"},
      {"/var/lib/jenkins/secrets/master.key", "S"},
      {"/var/lib/jenkins/secrets/initialAdminPassword", "S\n"},
      {"/var/lib/jenkins/credentials.xml",
       "<com.cloudbees.plugins.credentials.SystemCredentialsProvider><domainCredentialsMap>"
       "<entry><list><c><id>deploy</id><username>ci</username><password>{S}</password></c>"
       "</list></entry></domainCredentialsMap></com.cloudbees.plugins.credentials."
       "SystemCredentialsProvider>"},
      {"/h/app/keystore.properties", "storePassword=S\nkeyPassword=S\nkeyAlias=upload\n"},
      {"/h/sign.sh", "#!/bin/sh\njarsigner -storepass S -keypass S app.jar upload\n"},
      {"/h/sign2.sh", "#!/bin/sh\napksigner sign --ks-pass pass:S --ks k.jks app.apk\n"},
      {"/h/sign3.sh", "COSIGN_PASSWORD=S cosign sign-blob x\n"},
      {"/h/sign4.sh", "xcrun notarytool submit a.zip --apple-id me --password S\n"},
      {"/h/sign5.sh", "gpg --batch --passphrase S --detach-sign a.tar\n"},
  };
  // Markers of several shapes: plain, with URL-splitting characters, short.
  for (const std::string marker : {"Zq7Secret1", "Zq7/Se@c:ret", "Zq7x"}) {
    for (const auto& [path, content] : formats) {
      std::string planted = content;
      for (size_t at = 0; (at = planted.find('S', at)) != std::string::npos;) {
        // Only the lone 'S' placeholders: the next and previous characters are not letters.
        const bool alone =
            (at == 0 || !std::isalpha(static_cast<unsigned char>(planted[at - 1]))) &&
            (at + 1 >= planted.size() ||
             !std::isalpha(static_cast<unsigned char>(planted[at + 1])));
        if (alone) {
          planted.replace(at, 1, marker);
          at += marker.size();
        } else {
          ++at;
        }
      }
      if (marker.find('/') != std::string::npos && path.ends_with(".json")) continue;
      const auto found = access::examine(path, planted, "k");
      const std::string text = shown(found);
      EXPECT_EQ(text.find(marker), std::string::npos) << path << " with " << marker << "\n" << text;
      EXPECT_EQ(text.find("Zq7"), std::string::npos) << path << " with " << marker << "\n" << text;
      bool held = false;
      for (const auto& d : found) held = held || d.holds_secret;
      EXPECT_TRUE(held) << path << " with " << marker << " records no secret\n" << text;
    }
  }
}

TEST(AccessProtection, GnupgKeyImportedWithoutAPassphraseIsUnprotected) {
  const std::string imported =
      "Created: 20261129T153639\nKey: (protected-private-key (ecc (curve Ed25519)(flags eddsa)(q\n"
      "  #40AB#)\n (protected openpgp-native (openpgp-private-key (version \"4\")(algo\n"
      "  EDDSA)(curve Ed25519)(skey _ #40AB# _ #50B6#)(csum \"4327\")(protection\n  none)))))\n";
  const auto found = access::examine("/h/.gnupg/private-keys-v1.d/AB.key", imported, "k");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].protection, "none");
  const auto findings = access::access_findings(found);
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].rule, "ACCESS_SIGNING_KEY_UNPROTECTED");
}

TEST(AccessProtection, MavenEncryptedPasswordsAreOnlyAsSafeAsTheMasterPassword) {
  const auto found = access::examine(
      "/h/.m2/settings.xml",
      "<settings><servers><server><id>rel</id><password>{COQLCE6DU6GtcS5P=}</password></server>"
      "</servers></settings>",
      "k");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].protection, "local-key");
  EXPECT_NE(found[0].detail.find("settings-security.xml"), std::string::npos);
}

TEST(AccessCoverage, KeysAreRecognisedByContentWhateverTheirName) {
  TempDir home;
  ASSERT_EQ(
      run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", home / "deploy-material"})
          .exit_code,
      0);
  home.write("notes/readme", "not a key\n");
  home.write("projects/gcloud/sign.sh", "#!/bin/sh\nosslsigncode sign -pass Zq8pw -in a\n");
  access::Options options{.homes = {home.path()}, .system_places = false, .key = "k"};
  const access::Report report = access::discover(options, {});
  bool key = false;
  bool script = false;
  for (const auto& d : report.discoveries) {
    if (d.kind == "ssh-private-key" && d.path == home / "deploy-material") key = true;
    if (d.kind == "signing-script" && d.path == home / "projects/gcloud/sign.sh") script = true;
  }
  EXPECT_TRUE(key) << shown(report.discoveries);
  EXPECT_TRUE(script) << shown(report.discoveries);  // a path merely containing /gcloud/
}

TEST(AccessCoverage, PuttyKeysFromPuttygen) {
  TempDir dir;
  ASSERT_EQ(run_command({"puttygen", "-t", "ed25519", "-o", dir / "plain.ppk", "-C", "me@box",
                         "--new-passphrase", "/dev/null"})
                .exit_code,
            0);
  dir.write("pw", "Zq9pass\n", 0600);
  ASSERT_EQ(run_command({"puttygen", "-t", "rsa", "-b", "2048", "-o", dir / "locked.ppk",
                         "--new-passphrase", dir / "pw"})
                .exit_code,
            0);
  access::Options options{.homes = {dir.path()}, .system_places = false, .key = "k"};
  const access::Report report = access::discover(options, {});
  std::map<std::string, access::Discovery> by_name;
  for (const auto& d : report.discoveries) by_name[d.path.substr(d.path.rfind('/') + 1)] = d;
  ASSERT_TRUE(by_name.count("plain.ppk")) << shown(report.discoveries);
  EXPECT_EQ(by_name["plain.ppk"].kind, "ssh-private-key");
  EXPECT_EQ(by_name["plain.ppk"].protection, "none");
  EXPECT_EQ(by_name["plain.ppk"].account, "me@box");
  ASSERT_TRUE(by_name.count("locked.ppk"));
  EXPECT_EQ(by_name["locked.ppk"].protection, "passphrase");
  // The fingerprint is the one ssh-keygen prints for the same public key.
  const RunResult pub = run_command({"puttygen", dir / "plain.ppk", "-O", "public-openssh"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  dir.write("plain.pub.txt", pub.out);
  const RunResult keygen = run_command({"ssh-keygen", "-lf", dir / "plain.pub.txt"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  EXPECT_NE(keygen.out.find(by_name["plain.ppk"].fingerprint), std::string::npos)
      << keygen.out << " vs " << by_name["plain.ppk"].fingerprint;
}

TEST(AccessCoverage, JavaKeystoresFromKeytool) {
  TempDir dir;
  const auto keytool = [&](const std::string& file, const std::string& type,
                           const std::string& password) {
    return run_command({"keytool",  "-genkeypair", "-keystore",      dir / file,  "-storetype",
                        type,       "-storepass",  password,         "-keypass",  password,
                        "-alias",   "upload",      "-keyalg",        "RSA",       "-keysize",
                        "2048",     "-dname",      "CN=Acme Upload", "-validity", "30",
                        "-noprompt"});
  };
  ASSERT_EQ(keytool("android.jks", "JKS", "android").exit_code, 0);
  ASSERT_EQ(keytool("locked.jks", "JKS", "Zq10secret").exit_code, 0);
  ASSERT_EQ(keytool("upload.keystore", "PKCS12", "android").exit_code, 0);
  ASSERT_EQ(keytool("locked.keystore", "PKCS12", "Zq10secret").exit_code, 0);
  access::Options options{.homes = {dir.path()}, .system_places = false, .key = "k"};
  const access::Report report = access::discover(options, {});
  std::map<std::string, access::Discovery> by_name;
  for (const auto& d : report.discoveries) by_name[d.path.substr(d.path.rfind('/') + 1)] = d;
  for (const char* open : {"android.jks", "upload.keystore"}) {
    ASSERT_TRUE(by_name.count(open)) << open << shown(report.discoveries);
    EXPECT_EQ(by_name[open].protection, "none") << open << " " << by_name[open].detail;
    EXPECT_TRUE(by_name[open].signing) << open;
    EXPECT_TRUE(by_name[open].holds_secret) << open;
  }
  for (const char* locked : {"locked.jks", "locked.keystore"}) {
    ASSERT_TRUE(by_name.count(locked)) << locked;
    EXPECT_EQ(by_name[locked].protection, "passphrase") << locked << " " << by_name[locked].detail;
  }
  EXPECT_NE(by_name["android.jks"].target.find("Acme Upload"), std::string::npos);
  bool critical = false;
  for (const Finding& f : report.findings) {
    critical =
        critical || (f.rule == "ACCESS_SIGNING_KEY_UNPROTECTED" && f.path == dir / "android.jks");
  }
  EXPECT_TRUE(critical);
}

TEST(AccessCoverage, BinaryOpenPgpExportsAreRead) {
  TempDir gnupg;
  ASSERT_EQ(::chmod(gnupg.path().c_str(), 0700), 0);
  const auto gpg = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"gpg", "--homedir", gnupg.path(), "--batch", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  ASSERT_EQ(
      gpg({"--passphrase", "", "--quick-gen-key", "o <o@example.com>", "ed25519", "sign", "1d"})
          .exit_code,
      0);
  const RunResult exported = gpg({"--export-secret-keys", "o@example.com"});
  run_command({"gpgconf", "--homedir", gnupg.path(), "--kill", "all"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto found = access::examine("/h/release-signing.gpg", exported.out, "k");
  ASSERT_EQ(found.size(), 1u) << shown(found);
  EXPECT_EQ(found[0].kind, "gpg-secret-key");
  EXPECT_EQ(found[0].protection, "none");
}

// A directory swapped for a symlink to another directory between the look and the open, at
// the hook the walker offers for exactly this test: the walk never enters the other directory.
TEST(AccessWalk, ADirectorySwappedForASymlinkIsNotFollowed) {
  TempDir home;
  TempDir other;
  other.write("config", "Host victim-only.example\n  HostName victim-only.example\n");
  other.write("known_hosts", "victim-only.example ssh-ed25519 AAAA\n");
  home.write(".ssh/config", "Host mine.example\n");
  bool swapped = false;
  access::Options options{.homes = {home.path()}, .system_places = false, .key = "k"};
  options.before_open = [&](const std::string& path) {
    if (path == home / ".ssh" && !swapped) {
      swapped = true;
      ASSERT_EQ(::rename((home / ".ssh").c_str(), (home / ".ssh-away").c_str()), 0);
      ASSERT_EQ(::symlink(other.path().c_str(), (home / ".ssh").c_str()), 0);
    }
  };
  const access::Report report = access::discover(options, {});
  ASSERT_TRUE(swapped);
  EXPECT_EQ(shown(report.discoveries).find("victim-only"), std::string::npos)
      << shown(report.discoveries);
  bool recorded = false;
  for (const auto& d : report.discoveries) {
    recorded = recorded || (d.path == home / ".ssh" && d.kind == "unparsed");
  }
  EXPECT_TRUE(recorded) << shown(report.discoveries);
}

TEST(AccessWalk, AFileSwappedForASymlinkIsNotRead) {
  TempDir home;
  TempDir other;
  other.write("secret.txt", "victim-only.example ssh-ed25519 AAAA\n");
  home.write(".ssh/known_hosts", "mine.example ssh-ed25519 AAAA\n");
  access::Options options{.homes = {home.path()}, .system_places = false, .key = "k"};
  options.before_open = [&](const std::string& path) {
    if (path == home / ".ssh/known_hosts") {
      ::unlink(path.c_str());
      ASSERT_EQ(::symlink((other / "secret.txt").c_str(), path.c_str()), 0);
    }
  };
  const access::Report report = access::discover(options, {});
  EXPECT_EQ(shown(report.discoveries).find("victim-only"), std::string::npos)
      << shown(report.discoveries);
}

// A root-owned link in root's own home to a system secret is not followed either.
TEST(AccessWalk, ALinkToASystemSecretIsNeverRead) {
  if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "needs root to own a link in a home as root";
  TempDir home;
  home.mkdir(".ssh", 0700);
  home.symlink(".ssh/known_hosts", "/etc/shadow");
  home.symlink(".git-credentials", "/etc/passwd");
  access::Options options{.homes = {home.path()}, .system_places = false, .key = "k"};
  const access::Report report = access::discover(options, {});
  const std::string text = shown(report.discoveries);
  EXPECT_EQ(text.find("root"), std::string::npos) << text;
  EXPECT_EQ(text.find("daemon"), std::string::npos) << text;
  size_t refused = 0;
  for (const auto& d : report.discoveries) refused += d.kind == "unparsed" ? 1 : 0;
  EXPECT_EQ(refused, 2u) << text;
}

// A 1 MB hostile credential file is bounded: identical entries count once, a file's entries
// are capped with ACCESS_LIMIT_REACHED, and the shared-credential check is one query.
TEST(AccessBounds, AMegabyteOfOneRepeatedLineIsBounded) {
  TempDir home;
  TempDir db;
  std::string credentials;
  while (credentials.size() < (1 << 20) - 64) credentials += "https://u:Zq11@github.com\n";
  home.write(".git-credentials", credentials, 0600);
  std::string host_line = "Host";
  while (host_line.size() < (1 << 20) - 64) {
    host_line += " h" + std::to_string(host_line.size()) + ".example";
  }
  home.write(".ssh/config", host_line + "\n", 0600);
  // A second host with the same credential makes the shared check run over every discovery.
  for (const char* host : {"one", "two"}) {
    const RunResult r = run_catena({"access", "scan", "--home", home.path(), "--no-system",
                                    "--host", host, "--db", db / "db", "--format", "json"});
    ASSERT_LE(r.exit_code, 1) << r.err;
    const json doc = json::parse(r.out);
    const auto& discoveries = doc["build_access"]["discoveries"];
    size_t git = 0;
    size_t ssh = 0;
    for (const json& d : discoveries) {
      git += d["kind"] == "git-credential" ? 1 : 0;
      ssh += d["kind"] == "ssh-host" ? 1 : 0;
    }
    EXPECT_EQ(git, 1u);  // one distinct line
    EXPECT_EQ(ssh, 2000u);
    bool limited = false;
    bool shared = false;
    for (const json& f : doc["findings"]) {
      limited =
          limited || (f["rule"] == "ACCESS_LIMIT_REACHED" && f["path"] == home / ".ssh/config");
      shared = shared || f["rule"] == "ACCESS_SHARED_CREDENTIAL";
    }
    EXPECT_TRUE(limited);
    EXPECT_EQ(shared, std::string(host) == "two");
    EXPECT_LT(r.out.size(), 2u << 20);
    EXPECT_EQ(r.out.find("Zq11"), std::string::npos);
  }
}

TEST(AccessStore, AStoreIsCreatedPrivateAndItsKeyKeptBesideIt) {
  TempDir home;
  TempDir dir;
  home.write(".npmrc", "//registry.npmjs.org/:_authToken=Zq12token\n", 0600);
  const std::string db = dir / "new/catena.db";
  const RunResult r =
      run_catena({"access", "scan", "--home", home.path(), "--no-system", "--db", db});
  ASSERT_LE(r.exit_code, 1) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((db + ".access-key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // An explicit key elsewhere works, and a store others can read is reported.
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  const RunResult again = run_catena(
      {"access", "scan", "--home", home.path(), "--no-system", "--db", db, "--format", "json"});
  ASSERT_LE(again.exit_code, 1) << again.err;
  EXPECT_NE(again.out.find("STORE_READABLE_BY_OTHERS"), std::string::npos);
  const RunResult moved =
      run_catena({"access", "scan", "--home", home.path(), "--no-system", "--db", dir / "other.db",
                  "--access-key", dir / "elsewhere.key"});
  ASSERT_LE(moved.exit_code, 1) << moved.err;
  ASSERT_EQ(::stat((dir / "elsewhere.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace catena
