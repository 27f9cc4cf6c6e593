// `catena release diff` with what surrounds a release: the build's provenance (catena attest,
// traced for real) labelling each change, a vendor's SBOM vouching for vendored bytes, the diff
// signed as an in-toto Statement and checked by `catena provenance verify`, and the diff as an
// HTML page rendered by Chromium.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "catena/core/text.hpp"
#include "catena/trust/keys.hpp"
#include "pe_fixtures.hpp"
#include "support/browser.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::release {
namespace {

using nlohmann::json;
using test::IsOk;

test::RunResult run_in(const std::string& dir, std::vector<std::string> argv) {
  std::vector<std::string> wrapped = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return test::run_command(wrapped);
}

const json* change_at(const json& document, const std::string& path) {
  for (const json& change : document["changes"]) {
    const json& side = change["after"].is_null() ? change["before"] : change["after"];
    if (side["path"] == path) return &change;
  }
  return nullptr;
}

const json* finding_of(const json& document, const std::string& rule, const std::string& path) {
  for (const json& f : document["findings"]) {
    if (f["rule"] == rule && f["path"] == path) return &f;
  }
  return nullptr;
}

std::string evidence(const json& finding, const std::string& key) {
  return finding["evidence"].value(key, "");
}

class ReleaseDiffCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::cache_dir() + "/pe/amd64-vcruntime140.dll")) {
      CATENA_MISSING() << "no signed DLL in the test-data cache";
    }
    dll_ = real_dll();
    ASSERT_THAT(trust::generate_key_files(dir_ / "key", trust::KeyType::Ed25519), IsOk());
    ASSERT_THAT(trust::generate_key_files(dir_ / "other", trust::KeyType::EcdsaP256), IsOk());
    // An empty store of its own, so that the user's is not read.
    db_ = dir_ / "store.db";
    ASSERT_EQ(test::run_catena({"intel", "list", "--db", db_}).exit_code, 0);
    // Release 1: the app the build makes, Microsoft's runtime and a helper, both vendored.
    dir_.write("v1/bin/app", test::read_file("/bin/true"), 0755);
    dir_.write("v1/bin/vcruntime140.dll", dll_);
    dir_.write("v1/bin/helper", test::read_file("/bin/ls"), 0755);
    // Release 2: the build (traced) makes a new app from its source, and copies the vendored
    // files in from vendor/: the runtime carries a payload, the helper is a new version.
    dir_.write("src/app", test::read_file("/bin/false"), 0755);
    dir_.write("vendor/vcruntime140.dll", payload_in_certificate_table(dll_));
    dir_.write("vendor/helper", test::read_file("/bin/cat"), 0755);
    const test::RunResult built =
        run_in(dir_.path(), {CATENA_BINARY, "attest", "--step", "build", "--key", "key", "--db",
                             db_, "-m", "src", "-m", "vendor", "-p", "v2/bin/app", "--", "sh", "-c",
                             "mkdir -p v2/bin && cp src/app v2/bin/app && cp vendor/* v2/bin/"});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    envelope_ = dir_ / "build.intoto.json";
    ASSERT_TRUE(std::filesystem::exists(envelope_));
  }

  test::RunResult diff(std::vector<std::string> extra) {
    std::vector<std::string> argv = {"release", "diff", "--db", db_, "--format", "json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(dir_ / "v1");
    argv.push_back(dir_ / "v2");
    return test::run_catena(argv);
  }

  test::TempDir dir_;
  std::string dll_, db_, envelope_;
};

TEST_F(ReleaseDiffCli, ProvenanceLabelsWhatTheBuildMadeAndFlagsWhatItDidNot) {
  const test::RunResult run = diff({"--provenance", envelope_, "--key", dir_ / "key.pub"});
  ASSERT_EQ(run.exit_code, 1) << run.err << run.out;
  const json document = json::parse(run.out);
  ASSERT_EQ(document["provenance"].size(), 1u);
  // What the traced step wrote is labelled with it, and is no vendored change.
  const json* app = change_at(document, "bin/app");
  ASSERT_NE(app, nullptr) << document.dump(2);
  ASSERT_EQ((*app)["produced_by"].size(), 1u);
  EXPECT_EQ((*app)["produced_by"][0], "build (" + envelope_ + ")");
  EXPECT_EQ(finding_of(document, "RELEASE_VENDORED_CHANGED", "bin/app"), nullptr);
  // The runtime and the helper came in from outside the build: the step only read them.
  for (const char* path : {"bin/vcruntime140.dll", "bin/helper"}) {
    const json* change = change_at(document, path);
    ASSERT_NE(change, nullptr) << path;
    EXPECT_FALSE(change->contains("produced_by")) << path;
    ASSERT_TRUE(change->contains("read_by")) << path;
    const json* vendored = finding_of(document, "RELEASE_VENDORED_CHANGED", path);
    ASSERT_NE(vendored, nullptr) << path;
    EXPECT_EQ((*vendored)["severity"], "high") << path;
    EXPECT_EQ(evidence(*vendored, "read_by"), "build (" + envelope_ + ")");
    EXPECT_EQ(evidence(*vendored, "intel"), "no indicator, YARA rule or blocked signer");
  }
  EXPECT_NE(finding_of(document, "RELEASE_SIGNED_DIGEST_UNCHANGED", "bin/vcruntime140.dll"),
            nullptr);
  // Without provenance nothing is labelled and nothing is called vendored.
  const json plain = json::parse(diff({}).out);
  EXPECT_EQ(finding_of(plain, "RELEASE_VENDORED_CHANGED", "bin/helper"), nullptr);
  EXPECT_FALSE(change_at(plain, "bin/app")->contains("produced_by"));
}

TEST_F(ReleaseDiffCli, AVendorSbomVouchesForTheBytesItDeclares) {
  const std::string helper = test::sha256_hex(test::read_file(dir_ / "v2/bin/helper"));
  const json bom = {{"bomFormat", "CycloneDX"},
                    {"specVersion", "1.6"},
                    {"version", 1},
                    {"components",
                     {{{"type", "application"},
                       {"name", "coreutils-cat"},
                       {"version", "9.1"},
                       {"hashes", {{{"alg", "SHA-256"}, {"content", helper}}}}}}}};
  dir_.write("vendor.cdx.json", bom.dump());
  const test::RunResult run = diff({"--provenance", envelope_, "--key", dir_ / "key.pub",
                                    "--vendor-sbom", dir_ / "vendor.cdx.json"});
  ASSERT_EQ(run.exit_code, 1) << run.err;
  const json document = json::parse(run.out);
  const json* helper_finding = finding_of(document, "RELEASE_VENDORED_CHANGED", "bin/helper");
  ASSERT_NE(helper_finding, nullptr);
  EXPECT_EQ((*helper_finding)["severity"], "medium");
  EXPECT_EQ(evidence(*helper_finding, "vendor_sbom"),
            "declared as coreutils-cat 9.1 in " + dir_ / "vendor.cdx.json");
  const json* runtime = finding_of(document, "RELEASE_VENDORED_CHANGED", "bin/vcruntime140.dll");
  ASSERT_NE(runtime, nullptr);
  EXPECT_EQ((*runtime)["severity"], "high");
  EXPECT_EQ(evidence(*runtime, "vendor_sbom"), "no SBOM declares this SHA-256");
  // The same SBOM imported into the store vouches as well.
  ASSERT_EQ(test::run_catena({"sbom", "import", "--db", db_, dir_ / "vendor.cdx.json"}).exit_code,
            0);
  const json stored = json::parse(diff({"--provenance", envelope_, "--key", dir_ / "key.pub"}).out);
  const json* again = finding_of(stored, "RELEASE_VENDORED_CHANGED", "bin/helper");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ((*again)["severity"], "medium");
}

TEST_F(ReleaseDiffCli, ProvenanceMustBeSignedByTheGivenKey) {
  // No key: refused, since a forged envelope could claim the vendored file as built.
  const test::RunResult unkeyed = diff({"--provenance", envelope_});
  EXPECT_EQ(unkeyed.exit_code, 2);
  EXPECT_NE(unkeyed.err.find("--provenance needs --key"), std::string::npos) << unkeyed.err;
  // Another key: the envelope is a finding and labels nothing, so every change stays unlabelled
  // and the app is called vendored too.
  const test::RunResult wrong = diff({"--provenance", envelope_, "--key", dir_ / "other.pub"});
  ASSERT_EQ(wrong.exit_code, 1) << wrong.err;
  const json document = json::parse(wrong.out);
  EXPECT_NE(finding_of(document, "PROV_SIGNATURE_INVALID", envelope_), nullptr) << wrong.out;
  const json* app = finding_of(document, "RELEASE_VENDORED_CHANGED", "bin/app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(evidence(*app, "provenance"), "no envelope verified");
  EXPECT_FALSE(change_at(document, "bin/app")->contains("produced_by"));
}

TEST_F(ReleaseDiffCli, ASignedDiffIsVerifiedByProvenanceVerify) {
  // Zip releases (python's zipfile: Debian's zip is not installed): the subjects are the
  // release files themselves.
  for (const char* side : {"v1", "v2"}) {
    const test::RunResult zipped = run_in(
        dir_ / side, {"python3", "-m", "zipfile", "-c", "../" + std::string(side) + ".zip", "."});
    ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
  }
  const std::string attestation = dir_ / "diff.intoto.json";
  const test::RunResult run =
      test::run_catena({"release", "diff", "--db", db_, "--sign", dir_ / "key", "--attestation",
                        attestation, dir_ / "v1.zip", dir_ / "v2.zip"});
  ASSERT_EQ(run.exit_code, 1) << run.err;
  const json envelope = json::parse(test::read_file(attestation));
  EXPECT_EQ(envelope["payloadType"], "application/vnd.in-toto+json");
  const json statement = json::parse(*base64_decode(envelope["payload"].get<std::string>()));
  EXPECT_EQ(statement["predicateType"], "https://catena.dev/release-diff/v1");
  ASSERT_EQ(statement["subject"].size(), 1u);
  EXPECT_EQ(statement["subject"][0]["name"], "v2.zip");
  EXPECT_EQ(statement["subject"][0]["digest"]["sha256"],
            test::sha256_hex(test::read_file(dir_ / "v2.zip")));
  const json& predicate = statement["predicate"];
  EXPECT_EQ(predicate["old_release"][0]["digest"]["sha256"],
            test::sha256_hex(test::read_file(dir_ / "v1.zip")));
  EXPECT_EQ(predicate["changed"], 3);
  bool critical = false;
  for (const json& f : predicate["findings"]) {
    critical |= f["rule"] == "RELEASE_SIGNED_DIGEST_UNCHANGED";
  }
  EXPECT_TRUE(critical);

  const test::RunResult verified =
      test::run_catena({"provenance", "verify", "--key", dir_ / "key.pub", attestation,
                        "--artifact", dir_ / "v2.zip"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("https://catena.dev/release-diff/v1"), std::string::npos)
      << verified.out;
  // The old release is not what the diff vouches for; another key did not sign it; a policy
  // speaks of builds, which a diff is not.
  const test::RunResult other_artifact =
      test::run_catena({"provenance", "verify", "--key", dir_ / "key.pub", attestation,
                        "--artifact", dir_ / "v1.zip"});
  EXPECT_EQ(other_artifact.exit_code, 1);
  EXPECT_NE(other_artifact.out.find("PROV_SUBJECT_MISMATCH"), std::string::npos)
      << other_artifact.out;
  const test::RunResult other_key =
      test::run_catena({"provenance", "verify", "--key", dir_ / "other.pub", attestation});
  EXPECT_EQ(other_key.exit_code, 1);
  EXPECT_NE(other_key.out.find("PROV_SIGNATURE_INVALID"), std::string::npos) << other_key.out;
  dir_.write("policy.toml", "[tools]\ntraced = true\n");
  const test::RunResult policy =
      test::run_catena({"provenance", "verify", "--key", dir_ / "key.pub", attestation, "--policy",
                        dir_ / "policy.toml"});
  EXPECT_EQ(policy.exit_code, 1);
  EXPECT_NE(policy.out.find("PROV_POLICY_VIOLATION"), std::string::npos) << policy.out;
  // A changed byte of the payload breaks the signature.
  json tampered = envelope;
  std::string payload = *base64_decode(envelope["payload"].get<std::string>());
  payload.replace(payload.find("\"changed\": 3"), 12, "\"changed\": 0");
  tampered["payload"] = base64_encode(payload);
  dir_.write("tampered.json", tampered.dump());
  const test::RunResult broken =
      test::run_catena({"provenance", "verify", "--key", dir_ / "key.pub", dir_ / "tampered.json"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.out.find("PROV_SIGNATURE_INVALID"), std::string::npos) << broken.out;
}

// The page as a person sees it: rendered by Chromium, printed to PDF and read back as text, and
// a screenshot kept in the build tree (test-screenshots/) to look at.
TEST_F(ReleaseDiffCli, TheHtmlPageReadsInABrowser) {
  const std::string page = dir_ / "diff.html";
  const test::RunResult run =
      diff({"--provenance", envelope_, "--key", dir_ / "key.pub", "--html", page});
  ASSERT_EQ(run.exit_code, 1) << run.err;
  const std::string html = test::read_file(page);
  for (const char* forbidden : {"<script", "<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
  }
  const test::RenderedPage shown = test::render_page(page, dir_.path(), "release-diff.png", 1400);
  if (!shown.rendered) CATENA_MISSING() << shown.error;
  for (const char* expected :
       {"Verdict: FAIL", "Findings by severity", "Findings by rule", "RELEASE_VENDORED_CHANGED",
        "RELEASE_SIGNED_DIGEST_UNCHANGED", "bin/vcruntime140.dll", "built by build",
        "read by build", "Changes (3)"}) {
    EXPECT_NE(shown.text.find(expected), std::string::npos) << expected << "\n" << shown.text;
  }
  EXPECT_EQ(shown.error, "");
}

}  // namespace
}  // namespace catena::release
