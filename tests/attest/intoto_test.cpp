// in-toto verification: verdict parity with the reference in-toto-verify on chains the
// reference builds, canonical JSON and pattern matching against Python's, and hostile input.
#include "catena/attest/intoto.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "catena/attest/artifacts.hpp"
#include "catena/core/text.hpp"
#include "catena/trust/dsse.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::attest {
namespace {

using test::IsOk;
using ::testing::HasSubstr;

const std::string kChainScript = std::string(CATENA_SOURCE_DIR) + "/tests/attest/intoto_chain.py";

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

struct Verdicts {
  test::RunResult reference;
  test::RunResult catena;
};

// Both run in `dir`, where inspections find the files they look at. The layout keys are
// the chain's verify.json when it names them (GPG keys), an Ed25519 key file otherwise.
// Without `reference`, only catena runs (in-toto 1.3.1 reads no DSSE envelope).
Verdicts verify_both(const std::string& dir,
                     const std::vector<std::string>& extra = {},
                     bool reference_too = true) {
  const std::vector<std::string> in_dir = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir};
  std::vector<std::string> reference_keys = {"-k", "layout-key.pub", "-t", "ed25519"};
  std::vector<std::string> catena_keys = {"layout-key.pub"};
  if (std::filesystem::exists(dir + "/verify.json")) {
    const auto named = nlohmann::json::parse(test::read_file(dir + "/verify.json"));
    reference_keys = named.at("reference").get<std::vector<std::string>>();
    catena_keys = named.at("catena").get<std::vector<std::string>>();
  }
  Verdicts out;
  if (reference_too) {
    std::vector<std::string> reference = in_dir;
    for (const char* arg : {"in-toto-verify", "-l", "root.layout"}) reference.emplace_back(arg);
    reference.insert(reference.end(), reference_keys.begin(), reference_keys.end());
    out.reference = test::run_command(reference);
  }
  std::vector<std::string> ours = in_dir;
  for (const char* arg :
       {CATENA_BINARY, "intoto", "verify", "--layout", "root.layout", "--layout-key"}) {
    ours.emplace_back(arg);
  }
  ours.insert(ours.end(), catena_keys.begin(), catena_keys.end());
  ours.insert(ours.end(), extra.begin(), extra.end());
  out.catena = test::run_command(ours);
  return out;
}

class IntotoParity : public ::testing::TestWithParam<const char*> {};

// Each scenario: the chain built by the reference implementation, the verdicts compared, and
// for a failure the reason must name what failed.
TEST_P(IntotoParity, SameVerdictAsInTotoVerify) {
  test::TempDir dir;
  const std::string scenario = GetParam();
  const auto made = test::run_command({"/usr/bin/python3", kChainScript, scenario, dir.path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const bool inspections = scenario == "inspection";
  const bool dsse = scenario.starts_with("dsse");
  const Verdicts v = verify_both(
      dir.path(),
      inspections ? std::vector<std::string>{"--run-inspections"} : std::vector<std::string>{},
      !dsse);
  if (dsse) {
    // The reference cannot read envelopes: the verdict is the one the chain was built for.
    EXPECT_EQ(v.catena.exit_code, scenario == "dsse" ? 0 : 1) << v.catena.out << v.catena.err;
  } else if (scenario == "extra-field" || scenario == "renamed-link") {
    // The differences docs/provenance.md documents: the reference drops unknown fields before
    // checking a signature (and so fails a correctly signed link), and counts a link named
    // for another step.
    EXPECT_EQ(v.reference.exit_code, scenario == "extra-field" ? 1 : 0) << v.reference.err;
    EXPECT_EQ(v.catena.exit_code, scenario == "extra-field" ? 0 : 1) << v.catena.out;
  } else {
    EXPECT_EQ(v.catena.exit_code, v.reference.exit_code)
        << "catena: " << v.catena.out << v.catena.err << "\nreference: " << v.reference.err;
  }
  ASSERT_TRUE(v.catena.exit_code == 0 || v.catena.exit_code == 1) << v.catena.err;
  const std::map<std::string, std::vector<std::string>> expected_reason = {
      {"valid", {"PASS"}},
      {"inspection", {"PASS"}},
      {"tampered", {"step 'build'", "material rule 'DISALLOW *'", "src/foo.py"}},
      {"extra-product", {"step 'build'", "product rule 'DISALLOW *'", "evil.so"}},
      {"unauthorised", {"step 'build'", "validly signed"}},
      {"expired", {"expired"}},
      {"missing-link", {"step 'cleanup'", "link metadata"}},
      {"threshold", {"step 'build'", "requires 2"}},
      {"threshold-forged", {"step 'build'", "at least 2"}},
      {"wrong-layout-key", {"layout", "no signature by key"}},
      {"private-key", {"layout", "holds a private key"}},
      {"gpg", {"PASS"}},
      {"gpg-tampered", {"step 'build'", "material rule 'DISALLOW *'", "src/foo.py"}},
      {"sublayout", {"PASS"}},
      {"sublayout-tampered",
       {"sublayout of step 'build'", "step 'pack'", "product rule 'DISALLOW *'", "evil.so"}},
      {"dsse", {"PASS"}},
      {"dsse-tampered", {"step 'build'", "material rule 'DISALLOW *'", "src/foo.py"}},
      {"extra-field", {"PASS"}},
      {"renamed-link", {"step 'cleanup'", "validly signed"}},
  };
  for (const std::string& part : expected_reason.at(scenario)) {
    EXPECT_THAT(v.catena.out, HasSubstr(part)) << scenario;
  }
  const std::string cleanup_link = [&] {
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().filename().string().starts_with("cleanup.")) return entry.path().string();
    }
    return std::string();
  }();
  if (scenario == "valid" || scenario == "gpg" || scenario == "sublayout") {
    // Any change to a signed link's content breaks its signature: the chain fails.
    ASSERT_FALSE(cleanup_link.empty());
    std::string text = test::read_file(cleanup_link);
    const size_t at = text.find("\"sha256\": \"");
    ASSERT_NE(at, std::string::npos);
    text[at + 11] = text[at + 11] == '0' ? '1' : '0';
    write_text(cleanup_link, text);
    const Verdicts tampered = verify_both(dir.path());
    EXPECT_EQ(tampered.reference.exit_code, 1);
    EXPECT_EQ(tampered.catena.exit_code, 1);
    EXPECT_THAT(tampered.catena.out, HasSubstr("step 'cleanup'"));
  }
  if (scenario == "dsse") {
    // The envelope's payload re-encoded with one artifact's digest changed: its signature
    // no longer holds, and the step's link is not counted.
    ASSERT_FALSE(cleanup_link.empty());
    auto envelope = nlohmann::json::parse(test::read_file(cleanup_link));
    auto payload = nlohmann::json::parse(*base64_decode(envelope["payload"].get<std::string>()));
    auto& products = payload["products"];
    ASSERT_FALSE(products.empty());
    std::string& digest = products.begin().value()["sha256"].get_ref<std::string&>();
    digest[0] = digest[0] == '0' ? '1' : '0';
    envelope["payload"] = base64_encode(payload.dump());
    write_text(cleanup_link, envelope.dump());
    const Verdicts tampered = verify_both(dir.path(), {}, false);
    EXPECT_EQ(tampered.catena.exit_code, 1);
    EXPECT_THAT(tampered.catena.out, HasSubstr("step 'cleanup'"));
  }
  if (inspections) {
    // Without --run-inspections the chain is not called verified.
    const Verdicts unrun = verify_both(dir.path());
    EXPECT_EQ(unrun.catena.exit_code, 1);
    EXPECT_THAT(unrun.catena.out, HasSubstr("not run"));
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios,
                         IntotoParity,
                         ::testing::Values("valid",
                                           "tampered",
                                           "unauthorised",
                                           "expired",
                                           "missing-link",
                                           "extra-product",
                                           "threshold",
                                           "threshold-forged",
                                           "inspection",
                                           "wrong-layout-key",
                                           "private-key",
                                           "gpg",
                                           "gpg-tampered",
                                           "sublayout",
                                           "sublayout-tampered",
                                           "dsse",
                                           "dsse-tampered",
                                           "extra-field",
                                           "renamed-link"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// fnmatch_python and normpath against Python itself, over patterns that probe the corners.
TEST(IntotoPatterns, MatchPythonFnmatchAndNormpath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*", "a/b/c"},
      {"*.py", "src/x.py"},
      {"src/*", "src/a/b"},
      {"?", "é"},
      {"[a-c]x", "bx"},
      {"[!a-c]x", "bx"},
      {"[]]", "]"},
      {"[!]]", "a"},
      {"[", "["},
      {"[a", "[a"},
      {"a\\*", "a\\b"},
      {"a\\*", "a*"},
      {"[z-a]", "z"},
      {"*.[ch]", "m.h"},
      {"**/x", "a/b/x"},
      {"a?c", "a/c"},
      {"", ""},
      {"*", ""},
      {"[^a]", "^"},
      {"[^a]", "b"},
      {"foo", "Foo"},
      {"*.tar.gz", "a.tar.gz"},
      {"[a-]", "-"},
      {"[-a]", "-"},
      {"x*y*z", "xaaybbz"},
      {"x*y*z", "xaayb"},
      {"[[:alpha:]]", "a]"},
      {"[!!]", "!"},
  };
  nlohmann::json input = nlohmann::json::array();
  for (const auto& [pattern, name] : cases) input.push_back({pattern, name});
  const std::vector<std::string> paths = {
      "",        ".",     "./a", "a//b", "a/./b/",         "../a",
      "a/../..", "/../a", "//a", "///a", "a/b/../../../c", "./"};
  test::TempDir dir;
  write_text(dir / "cases.json", nlohmann::json({{"match", input}, {"paths", paths}}).dump());
  const auto python = test::run_command(
      {"/usr/bin/python3", "-c",
       "import fnmatch, json, os.path, sys\n"
       "d = json.load(open(sys.argv[1]))\n"
       "print(json.dumps({'match': [fnmatch.fnmatchcase(n, p) for p, n in d['match']],\n"
       "                  'paths': [os.path.normpath(p) if p else '.' for p in d['paths']]}))\n",
       dir / "cases.json"});
  ASSERT_EQ(python.exit_code, 0) << python.err;
  const auto expected = nlohmann::json::parse(python.out);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(fnmatch_python(cases[i].first, cases[i].second), expected["match"][i].get<bool>())
        << "pattern " << cases[i].first << " name " << cases[i].second;
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(normpath(paths[i]), expected["paths"][i].get<std::string>()) << paths[i];
  }
}

// A layout with one step whose link is written by catena and signed with a key of each type.
class IntotoHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(trust::generate_key_files(dir_ / "owner", trust::KeyType::Ed25519), IsOk());
    ASSERT_THAT(trust::generate_key_files(dir_ / "func", trust::KeyType::EcdsaP256), IsOk());
  }
  // The layout as the reference would write it, signed by the owner key through Python.
  nlohmann::json layout_signed(const std::string& func_keyid_override = "") {
    auto func = trust::VerifyingKey::load(dir_ / "func.pub");
    const auto& s = func->sslib();
    const std::string keyid = func_keyid_override.empty() ? s.keyid : func_keyid_override;
    nlohmann::json key = {{"keytype", s.keytype},
                          {"scheme", s.scheme},
                          {"keyid", keyid},
                          {"keyid_hash_algorithms", {"sha256", "sha512"}},
                          {"keyval", {{"public", s.public_value}}}};
    return {{"_type", "layout"},
            {"expires", "2099-01-01T00:00:00Z"},
            {"readme", ""},
            {"keys", {{keyid, key}}},
            {"inspect", nlohmann::json::array()},
            {"steps",
             {{{"_type", "step"},
               {"name", "build"},
               {"threshold", 1},
               {"pubkeys", {keyid}},
               {"expected_command", nlohmann::json::array()},
               {"expected_materials", nlohmann::json::array()},
               {"expected_products",
                nlohmann::json::array({nlohmann::json::array({"CREATE", "out.bin"}),
                                       nlohmann::json::array({"DISALLOW", "*"})})}}}}};
  }
  void write_layout(const nlohmann::json& signed_part,
                    const std::string& path = "",
                    const std::string& key_name = "owner") {
    write_text(dir_ / "signed.json", signed_part.dump());
    // The canonical bytes come from securesystemslib, not from the code under test.
    const auto signed_layout =
        test::run_command({"/usr/bin/python3", "-c",
                           "import json, sys\n"
                           "from securesystemslib.formats import encode_canonical\n"
                           "signed = json.load(open(sys.argv[1]))\n"
                           "print(encode_canonical(signed))\n",
                           dir_ / "signed.json"});
    ASSERT_EQ(signed_layout.exit_code, 0) << signed_layout.err;
    std::string canonical = signed_layout.out;
    canonical.pop_back();
    auto owner = trust::SigningKey::load(dir_ / key_name);
    ASSERT_TRUE(owner.has_value());
    auto sig = owner->sign(canonical);
    ASSERT_TRUE(sig.has_value());
    std::string hex;
    for (const char c : *sig) {
      static const char* digits = "0123456789abcdef";
      hex += digits[static_cast<uint8_t>(c) >> 4];
      hex += digits[static_cast<uint8_t>(c) & 15];
    }
    nlohmann::json doc = {{"signed", signed_part},
                          {"signatures", {{{"keyid", owner->sslib().keyid}, {"sig", hex}}}}};
    write_text(path.empty() ? dir_ / "root.layout" : path, doc.dump(2));
  }
  void write_link(const Artifacts& products, const std::string& key_name = "func") {
    auto key = trust::SigningKey::load(dir_ / key_name);
    ASSERT_TRUE(key.has_value());
    auto text =
        write_intoto_link({.name = "build", .command = {"make"}, .products = products}, *key);
    ASSERT_TRUE(text.has_value());
    write_text(dir_ / intoto_link_filename("build", key->sslib().keyid), *text);
  }
  test::RunResult verify() {
    return test::run_catena({"intoto", "verify", "--layout", dir_ / "root.layout", "--layout-key",
                             dir_ / "owner.pub", "--link-dir", dir_.path()});
  }
  test::TempDir dir_;
};

TEST_F(IntotoHostile, CatenaLinksVerifyAndTheirBytesAreBound) {
  write_layout(layout_signed());
  write_link({{"out.bin", {{"sha256", std::string(64, 'a')}}}});
  EXPECT_EQ(verify().exit_code, 0) << verify().out;
  // An extra product is refused by DISALLOW *.
  write_link({{"out.bin", {{"sha256", std::string(64, 'a')}}},
              {"x.so", {{"sha256", std::string(64, 'b')}}}});
  const auto extra = verify();
  EXPECT_EQ(extra.exit_code, 1);
  EXPECT_THAT(extra.out, HasSubstr("x.so"));
}

// Signing and verifying share one canonical encoder: a link whose strings need every escape and
// whose text is not in canonical order still verifies, byte for byte.
TEST_F(IntotoHostile, WhatIsSignedIsWhatIsVerified) {
  write_layout(layout_signed());
  auto key = trust::SigningKey::load(dir_ / "func");
  ASSERT_TRUE(key.has_value());
  const std::vector<std::string> command = {
      "sh", "-c", "printf '\"a\\\\b\"' \x01\x1f \t caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac /"};
  auto text = write_intoto_link({.name = "build",
                                 .command = command,
                                 .products = {{"out.bin", {{"sha256", std::string(64, 'a')}}}}},
                                *key);
  ASSERT_TRUE(text.has_value());
  // Written indented (not canonical); the verifier re-encodes what it reads.
  write_text(dir_ / intoto_link_filename("build", key->sslib().keyid), *text);
  const auto verdict = verify();
  EXPECT_EQ(verdict.exit_code, 0) << verdict.out << verdict.err;
  // One byte of a signed string changed: the signature no longer holds.
  std::string tampered = *text;
  const size_t at = tampered.find("caf");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'C';
  write_text(dir_ / intoto_link_filename("build", key->sslib().keyid), tampered);
  EXPECT_EQ(verify().exit_code, 1);
}

TEST_F(IntotoHostile, MalformedAndAmbiguousMetadataFails) {
  write_layout(layout_signed());
  write_link({{"out.bin", {{"sha256", std::string(64, 'a')}}}});
  auto func = trust::VerifyingKey::load(dir_ / "func.pub");
  const std::string link_path = dir_ / intoto_link_filename("build", func->sslib().keyid);
  const std::string good = test::read_file(link_path);
  const std::vector<std::pair<std::string, std::string>> breakages = {
      {"truncated", good.substr(0, good.size() / 2)},
      {"duplicate key",
       [&] {
         std::string t = good;
         t.insert(t.find('{') + 1, "\"signatures\": [], ");
         return t;
       }()},
      {"float",
       [&] {
         auto doc = nlohmann::json::parse(good);
         doc["signed"]["byproducts"]["return-value"] = 0.5;
         return doc.dump();
       }()},
      {"two signatures by one key",
       [&] {
         auto doc = nlohmann::json::parse(good);
         doc["signatures"].push_back(doc["signatures"][0]);
         return doc.dump();
       }()},
      {"signature not hex",
       [&] {
         auto doc = nlohmann::json::parse(good);
         doc["signatures"][0]["sig"] = "zz";
         return doc.dump();
       }()},
      {"deep nesting", std::string(100000, '[')},
  };
  for (const auto& [what, text] : breakages) {
    write_text(link_path, text);
    const auto result = verify();
    EXPECT_EQ(result.exit_code, 1) << what << ": " << result.out << result.err;
    EXPECT_THAT(result.out, HasSubstr("FAIL")) << what;
  }
  // Reformatting the JSON keeps the canonical form, so the signature still holds.
  write_text(link_path, nlohmann::json::parse(good).dump(8));
  EXPECT_EQ(verify().exit_code, 0);
}

// A sublayout that delegates its step to its own signer again, file after file: verified
// level by level, and refused past the nesting limit instead of recursing without end.
TEST_F(IntotoHostile, SublayoutsNestOnlySoDeep) {
  write_layout(layout_signed());
  auto func = trust::VerifyingKey::load(dir_ / "func.pub");
  const std::string name = intoto_link_filename("build", func->sslib().keyid);
  const std::string sub_dir = "build." + func->sslib().keyid.substr(0, 8);
  std::string dir = dir_.path();
  for (int level = 0; level < 12; ++level) {
    std::filesystem::create_directories(dir);
    write_layout(layout_signed(), dir + "/" + name, "func");
    dir += "/" + sub_dir;
  }
  const auto deep = verify();
  EXPECT_EQ(deep.exit_code, 1) << deep.out << deep.err;
  EXPECT_THAT(deep.out, HasSubstr("nested deeper than 8"));
  // Two levels, the innermost a link: the chain passes, its summary standing for each level.
  std::filesystem::remove_all(dir_ / (sub_dir + "/" + sub_dir));
  auto key = trust::SigningKey::load(dir_ / "func");
  auto link = write_intoto_link({.name = "build",
                                 .command = {"make"},
                                 .products = {{"out.bin", {{"sha256", std::string(64, 'a')}}}}},
                                *key);
  ASSERT_TRUE(link.has_value());
  write_text(dir_ / (sub_dir + "/" + name), *link);
  const auto two = verify();
  EXPECT_EQ(two.exit_code, 0) << two.out << two.err;
  // The innermost link's product breaks the outer layout's DISALLOW: named with its level.
  link = write_intoto_link({.name = "build",
                            .command = {"make"},
                            .products = {{"out.bin", {{"sha256", std::string(64, 'a')}}},
                                         {"x.so", {{"sha256", std::string(64, 'b')}}}}},
                           *key);
  write_text(dir_ / (sub_dir + "/" + name), *link);
  const auto extra = verify();
  EXPECT_EQ(extra.exit_code, 1);
  EXPECT_THAT(extra.out, HasSubstr("sublayout of step 'build'"));
  EXPECT_THAT(extra.out, HasSubstr("x.so"));
}

// Envelopes are read as strictly as metablocks: the payload's type is bound, its JSON must be
// unambiguous, and a signature must verify over the pre-authentication encoding.
TEST_F(IntotoHostile, EnvelopesAreReadStrictly) {
  write_layout(layout_signed());
  auto key = trust::SigningKey::load(dir_ / "func");
  auto func = trust::VerifyingKey::load(dir_ / "func.pub");
  const std::string link_path = dir_ / intoto_link_filename("build", func->sslib().keyid);
  const auto envelope_of = [&](const std::string& payload, const std::string& type,
                               const std::string& signed_type) {
    auto sig = key->sign(trust::dsse_pae(signed_type, payload));
    return nlohmann::json{
        {"payloadType", type},
        {"payload", base64_encode(payload)},
        {"signatures", {{{"keyid", func->sslib().keyid}, {"sig", base64_encode(*sig)}}}}}
        .dump();
  };
  const std::string good = R"({"_type":"link","name":"build","command":[],"materials":{},)"
                           R"("products":{"out.bin":{"sha256":")" +
                           std::string(64, 'a') + R"("}},"byproducts":{},"environment":{}})";
  const std::string type = "application/vnd.in-toto+json";
  write_text(link_path, envelope_of(good, type, type));
  EXPECT_EQ(verify().exit_code, 0) << verify().out;
  const std::vector<std::pair<std::string, std::string>> breakages = {
      {"another payload type", envelope_of(good, "application/json", "application/json")},
      {"signed as another type", envelope_of(good, type, "application/json")},
      {"duplicate key inside",
       envelope_of(
           R"({"_type":"link","name":"build","products":{"x":{"sha256":"a","sha256":"b"}}})", type,
           type)},
      {"payload not JSON", envelope_of("not json", type, type)},
      {"payload not base64",
       [&] {
         auto doc = nlohmann::json::parse(envelope_of(good, type, type));
         doc["payload"] = "%%%";
         return doc.dump();
       }()},
  };
  for (const auto& [what, text] : breakages) {
    write_text(link_path, text);
    const auto result = verify();
    EXPECT_EQ(result.exit_code, 1) << what << ": " << result.out << result.err;
    EXPECT_THAT(result.out, HasSubstr("FAIL")) << what;
  }
}

// Every key given must have signed the layout; several follow one --layout-key.
TEST_F(IntotoHostile, EveryLayoutKeyMustHaveSigned) {
  write_layout(layout_signed());
  write_link({{"out.bin", {{"sha256", std::string(64, 'a')}}}});
  const auto run = [&](std::vector<std::string> keys) {
    std::vector<std::string> args = {"intoto",     "verify",    "--layout",    dir_ / "root.layout",
                                     "--link-dir", dir_.path(), "--layout-key"};
    args.insert(args.end(), keys.begin(), keys.end());
    return test::run_catena(args);
  };
  EXPECT_EQ(run({dir_ / "owner.pub", dir_ / "owner.pub"}).exit_code, 0);
  const auto second = run({dir_ / "owner.pub", dir_ / "func.pub"});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_THAT(second.out, HasSubstr("no signature by key"));
}

TEST_F(IntotoHostile, KeysMustBeWhatTheyClaim) {
  // A keyid that is not the id of its key: the link cannot be counted.
  write_layout(layout_signed(std::string(64, 'c')));
  write_link({{"out.bin", {{"sha256", std::string(64, 'a')}}}});
  const auto result = verify();
  EXPECT_EQ(result.exit_code, 1);
  // Algorithm confusion: an ECDSA key's PEM declared as an Ed25519 or RSA key is refused.
  auto func = trust::VerifyingKey::load(dir_ / "func.pub");
  EXPECT_FALSE(trust::VerifyingKey::from_sslib("ed25519", "ed25519", func->sslib().public_value));
  EXPECT_FALSE(
      trust::VerifyingKey::from_sslib("rsa", "rsassa-pss-sha256", func->sslib().public_value));
  EXPECT_FALSE(trust::VerifyingKey::from_sslib("ecdsa", "ed25519", func->sslib().public_value));
  EXPECT_TRUE(
      trust::VerifyingKey::from_sslib("ecdsa", "ecdsa-sha2-nistp256", func->sslib().public_value));
}

// A build tree deeper than any build makes: what lies below the limit is an error of the
// record (named, so the provenance lists it unrecorded), never silently left out.
TEST(IntotoArtifacts, ATreeDeeperThanTheLimitIsAnErrorNotAGap) {
  test::TempDir tree;
  std::string deep = "top";
  for (int i = 0; i < 300; ++i) deep += "/d";
  tree.write(deep + "/tool", "x");
  tree.write("top/near", "y");
  auto set = record_artifacts({tree / "top"}, {});
  ASSERT_THAT(set, IsOk());
  EXPECT_EQ(set->artifacts.size(), 1u);
  EXPECT_TRUE(set->artifacts.contains(tree / "top/near"));
  ASSERT_EQ(set->errors.size(), 1u);
  EXPECT_THAT(set->errors[0], HasSubstr("deeper than"));
}

TEST(IntotoKeys, KeyIdsMatchSecuresystemslibForEveryKeyType) {
  test::TempDir dir;
  for (const char* type : {"rsa", "ed25519", "ecdsa"}) {
    const std::string name = dir / type;
    ASSERT_EQ(test::run_command({"in-toto-keygen", "-t", type, name}).exit_code, 0);
    const auto reference = test::run_command(
        {"/usr/bin/python3", "-c",
         "import sys\nfrom securesystemslib.interface import import_publickeys_from_file\n"
         "print(list(import_publickeys_from_file([sys.argv[1]], [sys.argv[2]]))[0])\n",
         name + ".pub", type});
    ASSERT_EQ(reference.exit_code, 0) << reference.err;
    const auto ours = test::run_catena({"key", "id", "--intoto", name + ".pub"});
    EXPECT_EQ(ours.out, reference.out) << type;
    // The private key files are read too, and sign what the public key verifies.
    auto signing = trust::SigningKey::load(name);
    ASSERT_TRUE(signing.has_value()) << type << ": " << signing.error().message;
    auto verifying = trust::VerifyingKey::load(name + ".pub");
    ASSERT_TRUE(verifying.has_value());
    auto sig = signing->sign("message");
    ASSERT_TRUE(sig.has_value());
    EXPECT_TRUE(verifying->verify("message", *sig)) << type;
    EXPECT_FALSE(verifying->verify("messagf", *sig)) << type;
  }
}

}  // namespace
}  // namespace catena::attest
