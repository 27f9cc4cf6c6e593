#include "catena/trust/keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::trust {
namespace {

using test::HasError;
using test::IsOk;

TEST(Keys, GenerateWritesAPrivateKeyOnlyItsOwnerCanRead) {
  test::TempDir dir;
  ASSERT_THAT(generate_key_files(dir / "k", KeyType::Ed25519), IsOk());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(generate_key_files(dir / "k", KeyType::Ed25519), HasError(ErrorCode::Usage));
}

TEST(Keys, SignAndVerifyBothKinds) {
  for (const KeyType type : {KeyType::Ed25519, KeyType::EcdsaP256}) {
    test::TempDir dir;
    ASSERT_THAT(generate_key_files(dir / "k", type), IsOk());
    auto signing = SigningKey::load(dir / "k");
    auto verifying = VerifyingKey::load(dir / "k.pub");
    ASSERT_THAT(signing, IsOk());
    ASSERT_THAT(verifying, IsOk());
    EXPECT_EQ(signing->key_id(), verifying->key_id());
    EXPECT_EQ(signing->key_id().size(), 64u);
    auto signature = signing->sign("message");
    ASSERT_THAT(signature, IsOk());
    EXPECT_TRUE(verifying->verify("message", *signature));
    EXPECT_FALSE(verifying->verify("messagf", *signature));
    std::string broken = *signature;
    broken[broken.size() / 2] = static_cast<char>(broken[broken.size() / 2] ^ 1);
    EXPECT_FALSE(verifying->verify("message", broken));
  }
}

// An Ed25519 signature over DSSE's encoding that OpenSSL's own command line accepts.
TEST(Keys, SignaturesVerifyWithTheOpensslTool) {
  test::TempDir dir;
  ASSERT_THAT(generate_key_files(dir / "k", KeyType::Ed25519), IsOk());
  auto key = SigningKey::load(dir / "k");
  ASSERT_THAT(key, IsOk());
  const std::string pae = dsse_pae("application/vnd.test+json", "{\"a\":1}");
  EXPECT_EQ(pae, "DSSEv1 25 application/vnd.test+json 7 {\"a\":1}");
  auto signature = key->sign(pae);
  ASSERT_THAT(signature, IsOk());
  dir.write("pae", pae);
  dir.write("sig", *signature);
  const test::RunResult r =
      test::run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir / "k.pub",
                         "-rawin", "-in", dir / "pae", "-sigfile", dir / "sig"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(Keys, RejectsWhatIsNotAKey) {
  test::TempDir dir;
  dir.write("junk", "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n");
  EXPECT_THAT(VerifyingKey::load(dir / "junk"), HasError(ErrorCode::Parse));
  EXPECT_THAT(SigningKey::load(dir / "junk"), HasError(ErrorCode::Parse));
  EXPECT_THAT(SigningKey::load(dir / "missing"), HasError(ErrorCode::NotFound));
}

// A public-key file is one key and nothing else: junk around it, or a second key after it (which
// OpenSSL would silently ignore), is refused.
TEST(Keys, APublicKeyFileHoldsOneKeyAndNothingElse) {
  test::TempDir dir;
  ASSERT_THAT(generate_key_files(dir / "a", KeyType::Ed25519), IsOk());
  ASSERT_THAT(generate_key_files(dir / "b", KeyType::EcdsaP256), IsOk());
  const auto text = [&](const std::string& name) {
    std::ifstream in(dir / name);
    return std::string{std::istreambuf_iterator<char>(in), {}};
  };
  const std::string a = text("a.pub"), b = text("b.pub");
  dir.write("spaced.pub", "\n  " + a + "\n\n");
  EXPECT_THAT(VerifyingKey::load(dir / "spaced.pub"), IsOk());
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"before", "comment: mine\n" + a},
      {"after", a + "trailing words\n"},
      {"two keys", a + b},
      {"empty", "\n"},
  };
  for (const auto& [what, content] : refused) {
    dir.write(what + ".pub", content);
    EXPECT_THAT(VerifyingKey::load(dir / (what + ".pub")), HasError(ErrorCode::Parse)) << what;
  }
}

}  // namespace
}  // namespace catena::trust

#include "catena/trust/dsse.hpp"

namespace catena::trust {
namespace {

// An envelope another parser could read differently (last "payload" wins in one, first in
// another) is refused, not verified.
TEST(Dsse, EnvelopeWithDuplicateKeysIsRefused) {
  test::TempDir dir;
  ASSERT_TRUE(generate_key_files(dir / "k", KeyType::Ed25519));
  auto key = SigningKey::load(dir / "k");
  auto pub = VerifyingKey::load(dir / "k.pub");
  ASSERT_TRUE(key && pub);
  auto envelope = dsse_sign("application/vnd.in-toto+json", "{\"a\":1}", *key);
  ASSERT_TRUE(envelope);
  auto opened = dsse_open(*envelope, "application/vnd.in-toto+json", {*pub});
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->verified_by.size(), 1u);
  std::string doubled = *envelope;
  const size_t brace = doubled.find('{');
  doubled.insert(brace + 1, "\"payload\": \"eyJhIjoyfQ==\",");
  auto refused = dsse_open(doubled, "application/vnd.in-toto+json", {*pub});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("duplicate JSON key \"payload\""), std::string::npos)
      << refused.error().message;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(dsse_open(deep, "application/vnd.in-toto+json", {*pub}));
}

}  // namespace
}  // namespace catena::trust
