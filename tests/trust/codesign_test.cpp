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
#include "support/byte_builder.hpp"
#include "support/cache.hpp"
#include "support/dmg_builder.hpp"
#include "support/macho_builder.hpp"
#include "support/matchers.hpp"
#include "support/msi.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::trust {
namespace {

using test::cache_dir;
using test::IsOk;
using test::read_file;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string cache_file(const std::string& name) {
  return test::read_file(test::cache_dir() + "/npm/" + name);
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
    CATENA_MISSING() << "npm test data not fetched";
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
  if (sentry.empty()) CATENA_MISSING() << "npm test data not fetched";
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

// The scan stores the Mach-O and MSI verdicts with each content and reports their anomalies.
TEST(ScanMachoAndMsi, VerdictsAreStoredAndAnomaliesReported) {
  test::TempDir dir;
  test::MachoSpec spec;
  const std::string good = test::build_macho(spec);
  std::string patched = good;
  patched[0x1000 + 5] ^= 0x10;
  dir.write("tree/good", good);
  dir.write("tree/patched", patched);
  const bool have_msi = test::build_test_msi(dir, "setup", "scan test");
  if (have_msi) {
    std::ifstream in(dir / "setup.msi", std::ios::binary);
    dir.write("tree/setup.msi",
              std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
  const test::RunResult scan = test::run_catena(
      {"scan", dir / "tree", "--db", dir / "c.db", "--no-dpkg", "--format", "json"});
  ASSERT_LE(scan.exit_code, 1) << scan.err;
  EXPECT_NE(scan.out.find("MACHO_CODE_HASH_MISMATCH"), std::string::npos) << scan.out;
  const test::RunResult list =
      test::run_catena({"inventory", "list", "--db", dir / "c.db", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("\"signature\":\"untrusted\""), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("\"signature\":\"invalid\""), std::string::npos) << list.out;
  if (have_msi) {
    EXPECT_NE(list.out.find("\"format\":\"msi\""), std::string::npos) << list.out;
  }
  // --no-analysis: formats are still recorded, signatures are not checked.
  const test::RunResult bare = test::run_catena({"scan", dir / "tree", "--db", dir / "bare.db",
                                                 "--no-dpkg", "--no-analysis", "--format", "json"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_EQ(bare.out.find("MACHO_CODE_HASH_MISMATCH"), std::string::npos) << bare.out;
  const test::RunResult bare_list =
      test::run_catena({"inventory", "list", "--db", dir / "bare.db", "--format", "json"});
  EXPECT_NE(bare_list.out.find("\"format\":\"macho\""), std::string::npos) << bare_list.out;
  EXPECT_EQ(bare_list.out.find("\"signature\":\"invalid\""), std::string::npos);
}

// A kernel module signed as scripts/sign-file signs one: detached PKCS#7 without attributes or
// certificates, then struct module_signature and the magic.
TEST(ModuleSignature, VerifiedAgainstTheSigningCertificate) {
  test::TempDir dir;
  test::ByteBuilder elf;
  elf.put(0,
          "\x7f"
          "ELF")
      .put_le<uint8_t>(4, 2)
      .put_le<uint8_t>(5, 1)
      .put_le<uint8_t>(6, 1);
  elf.put_le<uint16_t>(16, 1).put_le<uint16_t>(18, 62).put_le<uint32_t>(20, 1);
  elf.put_le<uint16_t>(52, 64).put_le<uint16_t>(58, 64);
  elf.put(64, std::string(2000, 'm'));
  dir.write("module.ko", elf.str());
  ASSERT_TRUE(test::make_test_signer(dir));
  const test::RunResult signing = test::run_command(
      {"openssl", "cms", "-sign", "-binary", "-noattr", "-nocerts", "-nosmimecap", "-outform",
       "DER", "-md", "sha256", "-signer", dir / "signer.pem", "-inkey", dir / "signer.key", "-in",
       dir / "module.ko", "-out", dir / "module.p7s"});
  ASSERT_EQ(signing.exit_code, 0) << signing.err;
  std::ifstream in(dir / "module.p7s", std::ios::binary);
  const std::string p7((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  test::ByteBuilder trailer;
  trailer.put_le<uint8_t>(2, 2).put_be<uint32_t>(8, static_cast<uint32_t>(p7.size()));
  trailer.put(12, "~Module signature appended~\n");
  const std::string module = elf.str() + p7 + trailer.str();

  auto trusting = TrustStore::load({dir / "signer.pem"});
  ASSERT_THAT(trusting, IsOk());
  SigReport report = check_signatures("module.ko", bytes_of(module), *trusting);
  EXPECT_EQ(report.format, "elf");
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_EQ(report.signatures[0].kind, "kernel-module");
  EXPECT_TRUE(report.signatures[0].signature_ok);
  EXPECT_EQ(report.signatures[0].subject, "CN=Catena Test Signer");
  EXPECT_EQ(report.signatures[0].digest_algorithm, "sha256");
  EXPECT_EQ(report.verdict, "valid");

  // Without the certificate the signature cannot be checked, and is not called valid.
  auto system = TrustStore::load({});
  ASSERT_THAT(system, IsOk());
  report = check_signatures("module.ko", bytes_of(module), *system);
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_FALSE(report.signatures[0].verifiable);
  EXPECT_EQ(report.signatures[0].issuer, "CN=Catena Test Signer");
  EXPECT_EQ(report.verdict, "untrusted");
  EXPECT_TRUE(has_rule(report, "SIG_UNTRUSTED"));

  // One byte of the module changed after signing.
  std::string patched = module;
  patched[100] = 'M';
  report = check_signatures("module.ko", bytes_of(patched), *trusting);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(has_rule(report, "SIG_SIGNATURE_INVALID"));

  // A signature of another id type, and one whose length overruns the file.
  std::string other = module;
  other[module.size() - 40 + 2] = 1;
  EXPECT_TRUE(
      has_rule(check_signatures("m.ko", bytes_of(other), *trusting), "MODULE_SIGNATURE_MALFORMED"));
  std::string garbage = elf.str() + std::string(p7.size(), '\x30') + trailer.str();
  EXPECT_TRUE(has_rule(check_signatures("m.ko", bytes_of(garbage), *trusting),
                       "MODULE_SIGNATURE_MALFORMED"));
}

// Disk images, built as codesign lays them out (support/dmg_builder.hpp): ad hoc, and signed
// with a CMS made by the openssl command over the CodeDirectory. No signed disk image can be
// fetched here (neither Debian nor npm ships one), so the layout follows Apple's and rcodesign's
// descriptions; the CMS and its verification are the real OpenSSL's.
TEST_F(CodeSign, DiskImageSignatures) {
  test::DmgSpec spec;
  const std::string good = test::build_dmg(spec);
  SigReport report = check(good);
  EXPECT_EQ(report.format, "dmg");
  ASSERT_EQ(report.signatures.size(), 1u);
  const Signature& s = report.signatures[0];
  EXPECT_EQ(s.kind, "dmg");
  EXPECT_TRUE(s.adhoc);
  EXPECT_TRUE(s.digest_ok) << (s.mismatches.empty() ? "" : s.mismatches[0]);
  EXPECT_EQ(s.pages_checked, 1u);
  EXPECT_EQ(s.identifier, "com.example.installer");
  EXPECT_EQ(report.verdict, "untrusted");
  EXPECT_TRUE(report.findings.size() == 1 && report.findings[0].rule == "SIG_UNTRUSTED");

  // A byte of the image changed after signing.
  std::string patched = good;
  patched[1234] ^= 0x01;
  report = check(patched);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(has_rule(report, "DMG_CODE_HASH_MISMATCH"));
  EXPECT_TRUE(mentions(report.signatures[0], "code page 0"));

  // The trailer changed (its sector count): the image's map is what slot 6 protects.
  std::string moved = good;
  moved[moved.size() - 512 + 0x1ec + 7] ^= 0x01;
  report = check(moved);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(mentions(report.signatures[0], "trailer"));

  // Bytes hidden between the signature and the trailer: outside everything signed.
  spec.after_signature = std::string(100, '\x5a');
  report = check(test::build_dmg(spec));
  EXPECT_EQ(report.verdict, "anomalous");
  EXPECT_TRUE(report.signatures[0].digest_ok);
  EXPECT_TRUE(has_rule(report, "DMG_UNCOVERED_DATA"));
  spec.after_signature = std::string(100, '\0');
  EXPECT_FALSE(has_rule(check(test::build_dmg(spec)), "DMG_UNCOVERED_DATA"));

  spec.after_signature.clear();
  spec.sign = false;
  report = check(test::build_dmg(spec));
  EXPECT_EQ(report.format, "dmg");
  EXPECT_EQ(report.verdict, "unsigned");
  EXPECT_TRUE(report.findings.empty());
}

TEST_F(CodeSign, DiskImageWithACmsSignature) {
  test::TempDir dir;
  if (!test::make_test_signer(dir)) CATENA_MISSING() << "openssl unavailable";
  test::DmgSpec spec;
  spec.cms = [&](const std::string& cd) {
    dir.write("cd.bin", cd);
    const test::RunResult r =
        test::run_command({"openssl", "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER",
                           "-signer", dir / "signer.pem", "-inkey", dir / "signer.key", "-in",
                           dir / "cd.bin", "-out", dir / "cd.p7s"});
    return r.exit_code == 0 ? read_file(dir / "cd.p7s") : std::string();
  };
  const std::string image = test::build_dmg(spec);
  SigReport report = check(image);
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_FALSE(report.signatures[0].adhoc);
  EXPECT_TRUE(report.signatures[0].digest_ok);
  EXPECT_TRUE(report.signatures[0].signature_ok) << report.signatures[0].error;
  EXPECT_EQ(report.signatures[0].subject, "CN=Catena Test Signer");
  EXPECT_EQ(report.verdict, "untrusted");

  auto trusting = TrustStore::load({dir / "signer.pem"});
  ASSERT_THAT(trusting, IsOk());
  report = check_signatures("installer.dmg", bytes_of(image), *trusting);
  EXPECT_EQ(report.signatures[0].chain, "trusted") << report.signatures[0].chain_detail;
  EXPECT_EQ(report.verdict, "valid");

  // The CodeDirectory's identifier changed: its hashes still match, the CMS over it does not.
  std::string forged = image;
  const size_t at = forged.find("com.example.installer");
  ASSERT_NE(at, std::string::npos);
  forged[at] = 'C';
  report = check_signatures("installer.dmg", bytes_of(forged), *trusting);
  EXPECT_TRUE(report.signatures[0].digest_ok);
  EXPECT_FALSE(report.signatures[0].signature_ok);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(has_rule(report, "SIG_SIGNATURE_INVALID"));
}

// Trailers that lie: each is a finding and a verdict, never a read outside the file.
TEST_F(CodeSign, HostileDiskImageTrailersAreFindings) {
  const std::string good = test::build_dmg({});
  const size_t trailer = good.size() - 512;
  const auto with_u64 = [&](size_t field, uint64_t value) {
    std::string out = good;
    for (size_t idx = 0; idx < 8; ++idx) {
      out[trailer + field + idx] = static_cast<char>((value >> (8 * (7 - idx))) & 0xff);
    }
    return out;
  };
  const struct {
    const char* what;
    std::string bytes;
  } cases[] = {
      {"signature past the end", with_u64(0x128, uint64_t{1} << 62)},
      {"size wraps the offset", with_u64(0x130, ~uint64_t{0} - 16)},
      {"offset without a size", with_u64(0x130, 0)},
      {"signature over the plist", with_u64(0x128, 5000)},
      {"plist outside the image", with_u64(0xe0, uint64_t{1} << 40)},
  };
  for (const auto& c : cases) {
    const SigReport report = check(c.bytes);
    EXPECT_EQ(report.format, "dmg") << c.what;
    EXPECT_TRUE(has_rule(report, "DMG_SIGNATURE_MALFORMED")) << c.what;
    EXPECT_NE(report.verdict, "valid") << c.what;
  }
  // Not a superblob where the trailer points.
  std::string garbage = good;
  const size_t super = garbage.find("\xfa\xde\x0c\xc0");
  ASSERT_NE(super, std::string::npos);
  garbage[super] = 'X';
  const SigReport report = check(garbage);
  EXPECT_TRUE(has_rule(report, "DMG_SIGNATURE_MALFORMED"));
  EXPECT_EQ(report.verdict, "invalid");
}

}  // namespace
}  // namespace catena::trust
