// Mach-O code signatures: crafted ad-hoc images, and real binaries from npm (an ad-hoc-signed
// esbuild, a fat fsevents.node with one unsigned slice, a Developer ID-signed fat sentry-cli),
// with the tampering a trojanized binary shows: a patched code page, changed entitlements, bytes
// hidden outside the signed range, a CodeDirectory that no longer matches its CMS signature.
#include "catena/trust/codesign.hpp"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "catena/trust/sig.hpp"
#include "support/macho_builder.hpp"
#include "support/matchers.hpp"
#include "support/tree.hpp"

namespace catena::trust {
namespace {

using test::IsOk;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string cache_file(const std::string& name) {
  const char* env = std::getenv("CATENA_TEST_CACHE");
  const std::string dir = env != nullptr && *env != '\0'
                              ? env
                              : std::string(std::getenv("HOME")) + "/.cache/catena-test-data";
  std::ifstream in(dir + "/npm/" + name, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::string out(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

bool has_rule(const SigReport& r, const std::string& rule) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.rule == rule; });
}

bool mentions(const Signature& s, const std::string& text) {
  return std::any_of(s.mismatches.begin(), s.mismatches.end(),
                     [&](const std::string& m) { return m.find(text) != std::string::npos; });
}

class CodeSign : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = TrustStore::load({});
    ASSERT_THAT(loaded, IsOk());
    store_ = *loaded;
  }
  SigReport check(const std::string& bytes) {
    return check_signatures("tool", bytes_of(bytes), store_);
  }
  TrustStore store_;
};

TEST_F(CodeSign, CraftedAdhocImageVerifies) {
  test::MachoSpec spec;
  spec.entitlements =
      "<plist><dict><key>com.apple.security.get-task-allow</key><true/></dict></plist>";
  const SigReport report = check(test::build_macho(spec));
  ASSERT_EQ(report.signatures.size(), 1u);
  const Signature& s = report.signatures[0];
  EXPECT_EQ(s.kind, "macho");
  EXPECT_TRUE(s.adhoc);
  EXPECT_TRUE(s.digest_ok) << (s.mismatches.empty() ? "" : s.mismatches[0]);
  EXPECT_EQ(s.pages_checked, 3u);
  EXPECT_EQ(s.identifier, "com.example.tool");
  EXPECT_EQ(s.cdhash.size(), 40u);
  EXPECT_EQ(report.verdict, "untrusted");
  EXPECT_FALSE(has_rule(report, "MACHO_CODE_HASH_MISMATCH"));
  EXPECT_FALSE(has_rule(report, "MACHO_UNCOVERED_DATA"));
}

TEST_F(CodeSign, CraftedTamperingIsCaught) {
  test::MachoSpec spec;
  spec.entitlements = "<plist><dict/></plist>";
  const std::string good = test::build_macho(spec);

  std::string patched = good;
  patched[0x2000 + 100] ^= 0x01;  // a byte of page 2
  SigReport report = check(patched);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(has_rule(report, "MACHO_CODE_HASH_MISMATCH"));
  EXPECT_TRUE(mentions(report.signatures[0], "code page 2"));
  EXPECT_FALSE(mentions(report.signatures[0], "code page 1 "));

  // Entitlements changed after signing (the blob is the superblob's last bytes).
  std::string entitled = good;
  entitled[entitled.size() - 3] = 'X';
  report = check(entitled);
  EXPECT_TRUE(has_rule(report, "MACHO_CODE_HASH_MISMATCH"));
  EXPECT_TRUE(mentions(report.signatures[0], "entitlements"));

  // Bytes appended after the signature: outside everything the signature covers.
  report = check(good + std::string(64, '\xcc'));
  EXPECT_EQ(report.verdict, "anomalous");
  ASSERT_TRUE(has_rule(report, "MACHO_UNCOVERED_DATA"));
  EXPECT_TRUE(report.signatures[0].digest_ok);
  // Zero padding there is what codesign leaves, and is no finding.
  EXPECT_FALSE(has_rule(check(good + std::string(64, '\0')), "MACHO_UNCOVERED_DATA"));
}

TEST_F(CodeSign, UnsignedImageIsUnsigned) {
  test::MachoSpec spec;
  spec.sign = false;
  const SigReport report = check(test::build_macho(spec));
  EXPECT_EQ(report.format, "macho");
  EXPECT_EQ(report.verdict, "unsigned");
  EXPECT_TRUE(report.signatures.empty());
}

TEST_F(CodeSign, RealAdhocBinaries) {
  const std::string esbuild = cache_file("esbuild-darwin-arm64");
  const std::string fsevents = cache_file("fsevents.node");
  const std::string unsigned_7za = cache_file("7za-macos-x64");
  if (esbuild.empty() || fsevents.empty() || unsigned_7za.empty()) {
    GTEST_SKIP() << "npm test data not fetched";
  }
  SigReport report = check(esbuild);
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_TRUE(report.signatures[0].adhoc);
  EXPECT_TRUE(report.signatures[0].digest_ok);
  EXPECT_EQ(report.signatures[0].pages_checked, 2566u);
  EXPECT_EQ(report.signatures[0].arch, "arm64");
  EXPECT_EQ(report.verdict, "untrusted");

  std::string patched = esbuild;
  patched[4096 * 100 + 17] ^= 0x40;
  report = check(patched);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(has_rule(report, "MACHO_CODE_HASH_MISMATCH"));
  EXPECT_TRUE(mentions(report.signatures[0], "code page 100 "));

  report = check(fsevents);
  EXPECT_EQ(report.format, "macho_fat");
  ASSERT_EQ(report.signatures.size(), 1u);  // the x86_64 slice is not signed
  EXPECT_EQ(report.signatures[0].arch, "arm64");
  EXPECT_TRUE(report.signatures[0].digest_ok);

  EXPECT_EQ(check(unsigned_7za).verdict, "unsigned");
}

// The self-signed root among the certificates a CMS signature carries, as PEM in `path`.
bool write_root_of(const std::string& binary, const std::string& path) {
  auto macho = formats::parse_macho(bytes_of(binary));
  if (!macho || !macho->slices[0].signature) return false;
  const auto cms_der = macho->slices[0].signature->cms;
  const auto* cursor = reinterpret_cast<const unsigned char*>(cms_der.data());
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(cms_der.size()));
  if (cms == nullptr) return false;
  STACK_OF(X509)* certs = CMS_get1_certs(cms);
  bool written = false;
  for (int idx = 0; idx < sk_X509_num(certs); ++idx) {
    X509* cert = sk_X509_value(certs, idx);
    if (X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) != 0) continue;
    FILE* out = std::fopen(path.c_str(), "w");
    written = out != nullptr && PEM_write_X509(out, cert) == 1;
    if (out != nullptr) std::fclose(out);
  }
  sk_X509_pop_free(certs, X509_free);
  CMS_ContentInfo_free(cms);
  return written;
}

TEST_F(CodeSign, RealDeveloperIdSignature) {
  const std::string sentry = cache_file("sentry-cli-darwin");
  if (sentry.empty()) GTEST_SKIP() << "npm test data not fetched";
  SigReport report = check(sentry);
  ASSERT_EQ(report.signatures.size(), 2u);
  for (const Signature& s : report.signatures) {
    EXPECT_FALSE(s.adhoc);
    EXPECT_TRUE(s.digest_ok);
    EXPECT_TRUE(s.signature_ok);
    EXPECT_EQ(s.team_id, "97JCY7859U");
    EXPECT_NE(s.subject.find("Developer ID Application: GetSentry LLC"), std::string::npos);
    EXPECT_TRUE(s.timestamp_verified);
    EXPECT_EQ(s.chain, "untrusted");  // Apple's roots are not in Debian's bundle
  }
  EXPECT_EQ(report.signatures[0].arch, "x86_64");
  EXPECT_EQ(report.signatures[1].arch, "arm64");
  EXPECT_EQ(report.verdict, "untrusted");

  // Trusting the root the signature carries makes the chain hold (judged at the timestamp).
  test::TempDir dir;
  const std::string root = dir.path() + "/apple-root.pem";
  ASSERT_TRUE(write_root_of(sentry.substr(16384), root));
  auto trusting = TrustStore::load({root});
  ASSERT_THAT(trusting, IsOk());
  report = check_signatures("sentry-cli", bytes_of(sentry), *trusting);
  for (const Signature& s : report.signatures) EXPECT_EQ(s.chain, "trusted") << s.chain_detail;
  EXPECT_EQ(report.verdict, "valid");

  // A CodeDirectory changed after signing (one byte of the identifier): its page hashes still
  // match, but the CMS signature over it no longer holds.
  auto macho = formats::parse_macho(bytes_of(sentry));
  ASSERT_THAT(macho, IsOk());
  const auto& cd = macho->slices[0].signature->code_directories[0];
  const size_t ident = (static_cast<size_t>(cd.bytes[20]) << 24) |
                       (static_cast<size_t>(cd.bytes[21]) << 16) |
                       (static_cast<size_t>(cd.bytes[22]) << 8) | static_cast<size_t>(cd.bytes[23]);
  const size_t at = static_cast<size_t>(cd.bytes.data() - bytes_of(sentry).data()) + ident + 3;
  std::string forged = sentry;
  forged[at] ^= 0x01;
  report = check_signatures("sentry-cli", bytes_of(forged), *trusting);
  EXPECT_FALSE(report.signatures[0].signature_ok);
  EXPECT_TRUE(report.signatures[1].signature_ok);
  EXPECT_EQ(report.verdict, "invalid");
}

}  // namespace
}  // namespace catena::trust
