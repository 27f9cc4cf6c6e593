// MSI Authenticode on installers built by wixl and signed by osslsigncode with a test certificate,
// with and without MsiDigitalSignatureEx; the digest is compared with osslsigncode's, and
// tampering with a stream or with the entries' metadata is caught.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "catena/formats/ole.hpp"
#include "catena/trust/sig.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/msi.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::trust {
namespace {

using test::IsOk;
using test::read_file;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

bool has_rule(const SigReport& r, const std::string& rule) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.rule == rule; });
}

// osslsigncode's "Calculated DigitalSignature" line, lower-case.
std::string peer_digest(const std::string& out) {
  const std::string key = "Calculated DigitalSignature";
  const size_t at = out.find(key);
  if (at == std::string::npos) return {};
  const size_t colon = out.find(':', at);
  std::string digest;
  for (size_t idx = colon + 1; idx < out.size() && out[idx] != '\n'; ++idx) {
    if (std::isxdigit(static_cast<unsigned char>(out[idx])))
      digest += static_cast<char>(std::tolower(static_cast<unsigned char>(out[idx])));
  }
  return digest;
}

class MsiSignatures : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::build_test_msi(dir_, "plain", "catena test package") ||
        !test::make_test_signer(dir_)) {
      CATENA_MISSING() << "wixl or openssl unavailable";
    }
    for (const auto& [name, extra] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"signed", {}}, {"signed-ex", {"-add-msi-dse"}}}) {
      std::vector<std::string> argv = {
          "osslsigncode",      "sign", "-certs", dir_ / "signer.pem", "-key",
          dir_ / "signer.key", "-h",   "sha256"};
      argv.insert(argv.end(), extra.begin(), extra.end());
      argv.insert(argv.end(), {"-in", dir_ / "plain.msi", "-out", dir_ / (name + ".msi")});
      const test::RunResult r = test::run_command(argv);
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    auto store = TrustStore::load({dir_ / "signer.pem"});
    ASSERT_THAT(store, IsOk());
    store_ = *store;
  }
  SigReport check(const std::string& bytes) {
    return check_signatures("setup.msi", bytes_of(bytes), store_);
  }
  test::TempDir dir_;
  TrustStore store_;
};

TEST_F(MsiSignatures, SignedInstallersVerifyAndAgreeWithOsslsigncode) {
  EXPECT_EQ(check(read_file(dir_ / "plain.msi")).verdict, "unsigned");
  for (const std::string name : {"signed", "signed-ex"}) {
    const SigReport report = check(read_file(dir_ / (name + ".msi")));
    EXPECT_EQ(report.format, "msi");
    ASSERT_EQ(report.signatures.size(), 1u) << name;
    const Signature& s = report.signatures[0];
    EXPECT_EQ(s.kind, "msi");
    EXPECT_TRUE(s.digest_ok) << name;
    EXPECT_TRUE(s.signature_ok);
    EXPECT_EQ(s.chain, "trusted") << s.chain_detail;
    EXPECT_EQ(s.subject, "CN=Catena Test Signer");
    EXPECT_EQ(report.verdict, "valid") << name;
    EXPECT_EQ(report.properties.at("comments"), "catena test package");
    const test::RunResult peer = test::run_command(
        {"osslsigncode", "verify", "-CAfile", dir_ / "signer.pem", "-in", dir_ / (name + ".msi")});
    EXPECT_EQ(peer.exit_code, 0) << peer.out;
    EXPECT_EQ(s.file_digest, peer_digest(peer.out)) << peer.out;
  }
  // Without the test root the same signature is untrusted.
  auto system = TrustStore::load({});
  ASSERT_THAT(system, IsOk());
  EXPECT_EQ(check_signatures("s.msi", bytes_of(read_file(dir_ / "signed.msi")), *system).verdict,
            "untrusted");
}

TEST_F(MsiSignatures, ChangedStreamOrMetadataIsCaught) {
  for (const std::string name : {"signed", "signed-ex"}) {
    // A stream's content changed after signing: the SummaryInformation comments.
    std::string changed = read_file(dir_ / (name + ".msi"));
    const size_t at = changed.find("catena test package");
    ASSERT_NE(at, std::string::npos);
    changed[at] = 'C';
    const SigReport report = check(changed);
    EXPECT_EQ(report.verdict, "invalid") << name;
    EXPECT_TRUE(has_rule(report, "MSI_DIGEST_MISMATCH")) << name;
    const test::RunResult peer = test::run_command(
        {"osslsigncode", "verify", "-CAfile", dir_ / "signer.pem", "-in", dir_ / (name + ".msi")});
    EXPECT_EQ(peer.exit_code, 0);  // the unchanged file, for contrast
  }
  // Only metadata changed (a stream's modification time): covered by MsiDigitalSignatureEx alone.
  for (const std::string name : {"signed", "signed-ex"}) {
    std::string touched = read_file(dir_ / (name + ".msi"));
    auto ole = formats::parse_ole(bytes_of(touched));
    ASSERT_THAT(ole, IsOk());
    const long cab = formats::find_ole_child(*ole, 0, "data.cab");
    ASSERT_GE(cab, 0);
    const uint32_t directory =
        static_cast<uint8_t>(touched[0x30]) | (static_cast<uint8_t>(touched[0x31]) << 8);
    const size_t entry = (directory + 1) * 512 + 128 * static_cast<size_t>(cab);
    ASSERT_LT(entry + 128, touched.size());
    touched[entry + 0x6c + 3] = '\x42';
    const SigReport report = check(touched);
    EXPECT_EQ(report.verdict, name == "signed-ex" ? "invalid" : "valid") << name;
  }
}

TEST_F(MsiSignatures, BrokenSignatureStreamIsAFinding) {
  std::string broken = read_file(dir_ / "signed.msi");
  auto ole = formats::parse_ole(bytes_of(broken));
  ASSERT_THAT(ole, IsOk());
  const long sig = formats::find_ole_child(*ole, 0, "\\x05DigitalSignature");
  ASSERT_GE(sig, 0);
  auto blob = formats::read_ole_stream(*ole, bytes_of(broken), static_cast<size_t>(sig));
  ASSERT_THAT(blob, IsOk());
  const std::string der(reinterpret_cast<const char*>(blob->data()), 64);
  const size_t at = broken.find(der);
  ASSERT_NE(at, std::string::npos);
  broken[at] = '\x17';  // no longer a DER SEQUENCE
  const SigReport report = check(broken);
  EXPECT_EQ(report.verdict, "invalid");
  EXPECT_TRUE(has_rule(report, "MSI_STRUCTURE_MALFORMED"));
}

// wixl, like most MSI writers, puts the directory (and the CLSID that makes an OLE file an MSI)
// after the payload: an installer of any size is classified, verified and scanned as an MSI.
TEST(MsiSizes, SignedInstallersOfEverySizeAreVerified) {
  test::TempDir dir;
  if (!test::make_test_signer(dir)) CATENA_MISSING() << "openssl unavailable";
  for (const size_t payload : {size_t{600} << 10, size_t{8} << 20, size_t{100} << 20}) {
    const std::string name = "big" + std::to_string(payload >> 10);
    ASSERT_TRUE(test::build_test_msi(dir, name, "catena sized package", payload)) << "wixl";
    const test::RunResult signed_msi = test::run_command(
        {"osslsigncode", "sign", "-certs", dir / "signer.pem", "-key", dir / "signer.key", "-h",
         "sha256", "-in", dir / (name + ".msi"), "-out", dir / (name + "-signed.msi")});
    ASSERT_EQ(signed_msi.exit_code, 0) << signed_msi.err;
    ::unlink((dir / (name + ".msi")).c_str());
    const test::RunResult peer =
        test::run_command({"osslsigncode", "verify", "-CAfile", dir / "signer.pem", "-in",
                           dir / (name + "-signed.msi")});
    ASSERT_EQ(peer.exit_code, 0) << peer.out;
    const test::RunResult sig = test::run_catena(
        {"sig", "--trust", dir / "signer.pem", "--format", "json", dir / (name + "-signed.msi")});
    EXPECT_EQ(sig.exit_code, 0) << sig.err;
    const nlohmann::json doc = nlohmann::json::parse(sig.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << sig.out;
    const std::string text = doc.dump();
    EXPECT_NE(text.find("\"msi\""), std::string::npos) << name << " " << text.substr(0, 400);
    EXPECT_NE(text.find("\"valid\""), std::string::npos) << name << " " << text.substr(0, 400);
  }
  // The scan records each as an MSI with a signature that is not "unsigned".
  const test::RunResult scan = test::run_catena(
      {"scan", dir.path(), "--no-dpkg", "--db", dir / "scan.db", "--format", "json"});
  ASSERT_LE(scan.exit_code, 1) << scan.err;
  const test::RunResult listed =
      test::run_catena({"inventory", "list", "--db", dir / "scan.db", "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  size_t msis = 0;
  for (const nlohmann::json& record : nlohmann::json::parse(listed.out)) {
    const std::string path = record.value("path", "");
    if (!path.ends_with("-signed.msi")) continue;
    EXPECT_EQ(record.value("format", ""), "msi") << path;
    EXPECT_NE(record.value("signature", "unsigned"), "unsigned") << path;
    ++msis;
  }
  EXPECT_EQ(msis, 3u) << listed.out.substr(0, 2000);
}

}  // namespace
}  // namespace catena::trust
