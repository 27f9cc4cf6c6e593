// GPG keys and signatures as in-toto carries them: keys made and signatures made by gpg, exported
// by securesystemslib (the reference's own code), verified by catena; and each way a key or a
// signature can lie.
#include "catena/trust/openpgp.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catena/core/digest.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::trust {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kContent = "{\"_type\":\"link\",\"name\":\"build\"}";

// One gpg key of `algorithm` (with a signing subkey of the same kind when `subkey`), exported by
// securesystemslib, and securesystemslib's gpg signature of kContent.
struct Made {
  json key;
  json signature;
};

Made make_key(const test::TempDir& home, const std::string& algorithm, bool subkey) {
  const std::vector<std::string> gpg = {"gpg",     "--homedir",    home.path(), "--batch",
                                        "--quiet", "--passphrase", ""};
  auto generate = gpg;
  for (const char* arg : {"--quick-gen-key", "user@example.org", "", "sign", "never"}) {
    generate.emplace_back(arg);
  }
  generate[generate.size() - 3] = algorithm;
  const auto made = test::run_command(generate);
  if (made.exit_code != 0) return {};
  const std::string script =
      "import json, subprocess, sys\n"
      "import securesystemslib.gpg.functions as f\n"
      "home, subkey, algorithm, content = sys.argv[1:5]\n"
      "out = subprocess.run(['gpg', '--homedir', home, '--with-colons', '--list-keys'],\n"
      "                     capture_output=True, text=True, check=True).stdout\n"
      "fpr = [l.split(':')[9] for l in out.splitlines() if l.startswith('fpr')][0]\n"
      "if subkey == '1':\n"
      "    subprocess.run(['gpg', '--homedir', home, '--batch', '--quiet', '--passphrase', '',\n"
      "                    '--quick-add-key', fpr, algorithm, 'sign', 'never'], check=True)\n"
      "print(json.dumps({'key': f.export_pubkey(fpr, home),\n"
      "                  'signature': f.create_signature(content.encode(), fpr, home)}))\n";
  const auto exported = test::run_command(
      {"/usr/bin/python3", "-c", script, home.path(), subkey ? "1" : "0", algorithm, kContent});
  if (exported.exit_code != 0) return {};
  const json both = json::parse(exported.out);
  return {both["key"], both["signature"]};
}

GpgSignature signature_of(const json& sig) {
  return {sig["keyid"].get<std::string>(), *hex_decode(sig["other_headers"].get<std::string>()),
          *hex_decode(sig["signature"].get<std::string>())};
}

constexpr int64_t kNow = 1'800'000'000;

class OpenPgp : public ::testing::TestWithParam<std::pair<const char*, bool>> {};

// RSA with a signing subkey, Ed25519 and DSA: what gpg signs verifies, and only that.
TEST_P(OpenPgp, WhatGpgSignedVerifiesAndNothingElse) {
  test::TempDir home;
  const auto [algorithm, subkey] = GetParam();
  const Made made = make_key(home, algorithm, subkey);
  if (made.key.is_null()) CATENA_MISSING() << "gpg and python3-securesystemslib";
  auto key = GpgKey::from_json(made.key.dump());
  ASSERT_TRUE(key.has_value()) << key.error().message;
  const GpgSignature sig = signature_of(made.signature);
  EXPECT_TRUE(key->covers(sig.keyid));
  EXPECT_EQ(subkey, sig.keyid != key->keyid()) << "a subkey signs when there is one";
  EXPECT_EQ(key->verify(kContent, sig, kNow), std::nullopt);
  const auto problem = key->verify(std::string(kContent) + " ", sig, kNow);
  ASSERT_TRUE(problem.has_value());
  EXPECT_THAT(*problem, HasSubstr("invalid signature"));

  // The hashed header is signed too: a signature claiming another hash or another signature
  // type (here a certification) is refused before any arithmetic.
  GpgSignature other_hash = sig;
  other_hash.other_headers[3] = 10;  // SHA-512
  EXPECT_THAT(key->verify(kContent, other_hash, kNow).value_or(""), HasSubstr("hash algorithm"));
  GpgSignature certification = sig;
  certification.other_headers[1] = 0x13;
  EXPECT_THAT(key->verify(kContent, certification, kNow).value_or(""),
              HasSubstr("binary-document"));
  GpgSignature cut = sig;
  cut.other_headers.pop_back();
  EXPECT_THAT(key->verify(kContent, cut, kNow).value_or(""), HasSubstr("malformed"));
  GpgSignature stranger = sig;
  stranger.keyid = std::string(40, 'a');
  EXPECT_THAT(key->verify(kContent, stranger, kNow).value_or(""), HasSubstr("no signature"));

  // A validity period (not part of the fingerprint) that ended before now: expired.
  json expiring = made.key;
  json& part = sig.keyid == key->keyid() ? expiring : expiring["subkeys"][sig.keyid];
  part["validity_period"] = 1;
  auto expired = GpgKey::from_json(expiring.dump());
  ASSERT_TRUE(expired.has_value()) << expired.error().message;
  EXPECT_THAT(expired->verify(kContent, sig, kNow).value_or(""), HasSubstr("expired"));
}

INSTANTIATE_TEST_SUITE_P(Algorithms,
                         OpenPgp,
                         ::testing::Values(std::pair{"rsa2048", true},
                                           std::pair{"ed25519", false},
                                           std::pair{"dsa2048", false}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.first);
                         });

// A key that is not what it says: each refused with the reason, never loaded.
TEST(OpenPgpKeys, AKeyThatIsNotWhatItSaysIsRefused) {
  test::TempDir home;
  const Made made = make_key(home, "ed25519", false);
  if (made.key.is_null()) CATENA_MISSING() << "gpg and python3-securesystemslib";
  const auto refused = [](json key) {
    auto loaded = GpgKey::from_json(key.dump());
    return loaded ? std::string("loaded") : loaded.error().message;
  };
  json other_id = made.key;
  std::string& keyid = other_id["keyid"].get_ref<std::string&>();
  keyid.back() = keyid.back() == '0' ? '1' : '0';
  EXPECT_THAT(refused(other_id), HasSubstr("not the fingerprint"));
  json other_point = made.key;
  std::string& q = other_point["keyval"]["public"]["q"].get_ref<std::string&>();
  q[0] = q[0] == '0' ? '1' : '0';
  EXPECT_THAT(refused(other_point), HasSubstr("not the fingerprint"));
  json confused = made.key;
  confused["method"] = "pgp+rsa-pkcsv1.5";
  EXPECT_THAT(refused(confused), HasSubstr("states method"));
  json secret = made.key;
  secret["keyval"]["private"] = "00";
  EXPECT_THAT(refused(secret), HasSubstr("private key"));
  json undated = made.key;
  undated.erase("creation_time");
  EXPECT_THAT(refused(undated), HasSubstr("creation_time"));
  json unknown = made.key;
  unknown["type"] = "elgamal";
  EXPECT_THAT(refused(unknown), HasSubstr("elgamal"));
  EXPECT_THAT(refused(json::array()), HasSubstr("not an object"));
  EXPECT_TRUE(GpgKey::looks_like_gpg_key(made.key.dump()));
  EXPECT_FALSE(GpgKey::looks_like_gpg_key("{\"keytype\": \"ed25519\"}"));
}

}  // namespace
}  // namespace catena::trust
