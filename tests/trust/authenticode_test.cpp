// Authenticode on real Microsoft-signed DLLs (fetched by scripts/fetch-test-data.sh) and on
// files derived from them: hidden data in the signature block, a patched byte, data after the
// signature, a re-signing by a test CA. Compared with osslsigncode where it can judge.
#include "catena/trust/authenticode.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catena/core/bytes.hpp"
#include "catena/formats/image.hpp"
#include "catena/formats/pe.hpp"
#include "catena/scan/scanner.hpp"
#include "catena/store/store.hpp"
#include "catena/trust/sig.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::trust {
namespace {

using test::cache_dir;
using test::IsOk;
using test::read_file;

std::vector<std::string> signed_dlls() {
  std::vector<std::string> out;
  const std::string dir = cache_dir() + "/pe";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.ends_with(".dll")) out.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

void put_le32(std::string& s, uint64_t offset, uint32_t value) {
  for (int idx = 0; idx < 4; ++idx)
    s[offset + idx] = static_cast<char>((value >> (8 * idx)) & 0xff);
}

SigReport check(const std::string& content, const TrustStore& store) {
  return check_signatures("test.dll", bytes_of(content), store);
}

bool has_rule(const SigReport& r, const std::string& rule) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.rule == rule; });
}

class RealSignatures : public ::testing::Test {
 protected:
  void SetUp() override {
    dlls_ = signed_dlls();
    if (dlls_.empty()) CATENA_MISSING() << "no signed DLLs in " << cache_dir() << "/pe";
    auto loaded = TrustStore::load({});
    ASSERT_THAT(loaded, IsOk());
    store_ = *loaded;
  }
  std::vector<std::string> dlls_;
  TrustStore store_;
};

TEST_F(RealSignatures, DigestAndSignerAgreeWithOsslsigncode) {
  for (const std::string& path : dlls_) {
    const std::string content = read_file(path);
    auto pe = formats::parse_pe(bytes_of(content));
    ASSERT_THAT(pe, IsOk()) << path;
    EXPECT_TRUE(pe->problems.empty()) << path;
    const std::vector<Signature> sigs = verify_authenticode(bytes_of(content), *pe, store_);
    ASSERT_FALSE(sigs.empty()) << path;
    const Signature& s = sigs[0];
    EXPECT_TRUE(s.digest_ok) << path;
    EXPECT_TRUE(s.signature_ok) << path;
    EXPECT_TRUE(s.timestamp_ns.has_value()) << path;
    EXPECT_TRUE(s.timestamp_verified) << path;
    EXPECT_NE(s.subject.find("CN=Microsoft Corporation"), std::string::npos) << path;
    EXPECT_EQ(s.thumbprint_sha256.size(), 64u);
    const test::RunResult peer = test::run_command({"osslsigncode", "verify", "-in", path});
    std::string upper = s.file_digest;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_NE(peer.out.find("Calculated message digest : " + upper), std::string::npos)
        << path << "\n"
        << peer.out;
    // Microsoft's code-signing roots are not in Debian's TLS bundle.
    EXPECT_EQ(check(content, store_).verdict, "untrusted") << path;
  }
}

// npm's packages: VS Code's signing tool (Microsoft, RFC 3161 timestamp) and an unsigned 7-Zip.
TEST(NpmExecutables, SignedAndUnsignedAgreeWithOsslsigncode) {
  const std::string signed_exe = cache_dir() + "/npm/vsce-sign.exe";
  const std::string unsigned_exe = cache_dir() + "/npm/7za.exe";
  const std::string signed_bytes = read_file(signed_exe);
  const std::string unsigned_bytes = read_file(unsigned_exe);
  if (signed_bytes.empty() || unsigned_bytes.empty())
    CATENA_MISSING() << "npm test data not fetched";
  auto store = TrustStore::load({});
  ASSERT_THAT(store, IsOk());
  const SigReport report = check_signatures(signed_exe, bytes_of(signed_bytes), *store);
  ASSERT_EQ(report.signatures.size(), 1u);
  const Signature& s = report.signatures[0];
  EXPECT_TRUE(s.digest_ok);
  EXPECT_TRUE(s.signature_ok);
  EXPECT_TRUE(s.timestamp_verified);
  EXPECT_NE(s.timestamp_signer.find("Microsoft"), std::string::npos) << s.timestamp_signer;
  EXPECT_EQ(report.properties.at("CompanyName"), "Microsoft Corporation");
  EXPECT_EQ(std::count(report.file_version.begin(), report.file_version.end(), '.'), 3)
      << report.file_version;
  const test::RunResult peer = test::run_command({"osslsigncode", "verify", "-in", signed_exe});
  std::string upper = s.file_digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(peer.out.find("Calculated message digest : " + upper), std::string::npos) << peer.out;
  EXPECT_NE(peer.out.find("Serial : " +
                          [&] {
                            std::string serial = s.serial;
                            for (char& c : serial)
                              c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                            return serial;
                          }()),
            std::string::npos)
      << peer.out;

  const SigReport none = check_signatures(unsigned_exe, bytes_of(unsigned_bytes), *store);
  EXPECT_EQ(none.verdict, "unsigned");
  EXPECT_FALSE(none.is_signed);
  EXPECT_NE(test::run_command({"osslsigncode", "verify", "-in", unsigned_exe}).exit_code, 0);
}

// A file that carries a certificate table is never "unsigned", whatever the table holds.
TEST_F(RealSignatures, ACertificateTableThatCannotBeReadIsInvalidNotUnsigned) {
  const std::string original = read_file(dlls_[0]);
  auto pe = formats::parse_pe(bytes_of(original));
  ASSERT_THAT(pe, IsOk());
  ASSERT_FALSE(pe->certificates.empty());
  const size_t at = pe->certificates.front().offset;
  // WIN_CERTIFICATE: dwLength, wRevision, wCertificateType. A length below its own header,
  // then a type that is not PKCS#7, then a body that is not DER.
  for (int damage = 0; damage < 3; ++damage) {
    std::string content = original;
    if (damage == 0) put_le32(content, at, 4);
    if (damage == 1) content[at + 6] = '\x07';
    if (damage == 2) {
      for (size_t i = at + 8; i < at + 40; ++i) content[i] = '\x00';
    }
    const SigReport report = check(content, store_);
    EXPECT_EQ(report.verdict, "invalid") << "damage " << damage;
    EXPECT_TRUE(has_rule(report, "PE_CERT_TABLE_MALFORMED")) << "damage " << damage;
  }
}

TEST_F(RealSignatures, DataHiddenInTheSignatureBlockIsFlaggedThoughOsslsigncodeAcceptsIt) {
  std::string content = read_file(dlls_[0]);
  auto pe = formats::parse_pe(bytes_of(content));
  ASSERT_THAT(pe, IsOk());
  ASSERT_EQ(pe->cert_table_offset + uint64_t{pe->cert_table_size}, content.size());
  // The 3CX shape: grow the last WIN_CERTIFICATE and the directory entry, append the payload.
  std::string payload(4096, '\0');
  for (size_t idx = 0; idx < payload.size(); ++idx)
    payload[idx] = static_cast<char>((idx * 131 + 7) % 251);
  const formats::PeCertificate& last = pe->certificates.back();
  const uint32_t grown = ((last.length + 7) & ~7u) + static_cast<uint32_t>(payload.size());
  put_le32(content, last.offset, grown);
  put_le32(content, pe->security_entry_offset + 4,
           static_cast<uint32_t>(last.offset - pe->cert_table_offset) + grown);
  content.resize(last.offset + ((last.length + 7) & ~7u), '\0');
  content += payload;
  const SigReport report = check(content, store_);
  ASSERT_TRUE(has_rule(report, "PE_CERT_PADDING"));
  EXPECT_EQ(report.verdict, "anomalous");
  EXPECT_TRUE(report.signatures[0].digest_ok);  // the padding is outside the digest, as on Windows
  for (const Finding& f : report.findings) {
    if (f.rule != "PE_CERT_PADDING") continue;
    EXPECT_EQ(f.severity, Severity::High);
    bool length_ok = false;
    for (const auto& [k, v] : f.evidence)
      length_ok |= k == "length" && std::stoul(v) >= payload.size();
    EXPECT_TRUE(length_ok);
  }
  // The peer's blind spot: it judges the padded file exactly as the original (its digest check
  // passes; only its chain check, which lacks Microsoft's root, differs from "valid").
  test::TempDir dir;
  dir.write("padded.dll", content);
  const test::RunResult padded =
      test::run_command({"osslsigncode", "verify", "-in", dir / "padded.dll"});
  const test::RunResult original = test::run_command({"osslsigncode", "verify", "-in", dlls_[0]});
  EXPECT_EQ(padded.exit_code, original.exit_code);
  std::string upper = report.signatures[0].file_digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(padded.out.find("Current message digest    : " + upper), std::string::npos)
      << padded.out;
  EXPECT_NE(padded.out.find("Calculated message digest : " + upper), std::string::npos);
}

TEST_F(RealSignatures, APatchedByteBreaksTheDigest) {
  std::string content = read_file(dlls_[0]);
  auto pe = formats::parse_pe(bytes_of(content));
  ASSERT_THAT(pe, IsOk());
  const uint64_t code = pe->sections[0].raw_offset + 16;
  content[code] = static_cast<char>(content[code] ^ 0x01);
  const SigReport report = check(content, store_);
  EXPECT_EQ(report.verdict, "invalid");
  ASSERT_TRUE(has_rule(report, "PE_DIGEST_MISMATCH"));
  EXPECT_EQ(report.findings[0].severity, Severity::Critical);
  test::TempDir dir;
  dir.write("patched.dll", content);
  EXPECT_NE(test::run_command({"osslsigncode", "verify", "-in", dir / "patched.dll"}).exit_code, 0);
}

TEST_F(RealSignatures, DataAfterTheSignatureIsOutsideIt) {
  std::string content = read_file(dlls_[0]) + std::string(100, 'Z');
  const SigReport report = check(content, store_);
  EXPECT_TRUE(has_rule(report, "PE_OVERLAY_AFTER_SIGNATURE"));
  EXPECT_TRUE(report.signatures[0].digest_ok);
}

TEST_F(RealSignatures, ATestCaSigningIsTrustedOnlyWhenItsRootIsGiven) {
  test::TempDir dir;
  const auto run = [&](std::vector<std::string> argv) {
    const test::RunResult r = test::run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.err;
  };
  dir.write("ca.cnf",
            "[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\n"
            "keyUsage=critical,keyCertSign,cRLSign\n[leaf]\nbasicConstraints=CA:FALSE\n"
            "extendedKeyUsage=codeSigning\n[tls]\nbasicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n");
  run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir / "ca.key",
       "-out", dir / "ca.pem", "-subj", "/CN=catena test root", "-days", "30", "-config",
       dir / "ca.cnf", "-extensions", "ca"});
  for (const std::string name : {"leaf", "tls"}) {
    run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir / (name + ".key"),
         "-out", dir / (name + ".csr"), "-subj", "/CN=catena test " + name, "-config",
         dir / "ca.cnf"});
    run({"openssl", "x509", "-req", "-in", dir / (name + ".csr"), "-CA", dir / "ca.pem", "-CAkey",
         dir / "ca.key", "-CAcreateserial", "-out", dir / (name + ".pem"), "-days", "30",
         "-extfile", dir / "ca.cnf", "-extensions", name});
    run({"osslsigncode", "remove-signature", "-in", dlls_[0], "-out",
         dir / (name + "-unsigned.dll")});
    run({"osslsigncode", "sign", "-certs", dir / (name + ".pem"), "-key", dir / (name + ".key"),
         "-h", "sha256", "-in", dir / (name + "-unsigned.dll"), "-out", dir / (name + ".dll")});
  }
  const std::string leaf = read_file(dir / "leaf.dll");
  EXPECT_EQ(check(leaf, store_).verdict, "untrusted");
  auto with_root = TrustStore::load({dir / "ca.pem"});
  ASSERT_THAT(with_root, IsOk());
  const SigReport trusted = check(leaf, *with_root);
  EXPECT_EQ(trusted.verdict, "valid") << (trusted.findings.empty() ? "" : trusted.findings[0].rule);
  ASSERT_EQ(trusted.signatures.size(), 1u);
  EXPECT_EQ(trusted.signatures[0].chain, "trusted");
  EXPECT_EQ(trusted.signatures[0].subject, "CN=catena test leaf");
  const SigReport tls = check(read_file(dir / "tls.dll"), *with_root);
  ASSERT_EQ(tls.signatures.size(), 1u);
  EXPECT_EQ(tls.signatures[0].chain, "bad_eku");
  const SigReport unsigned_file = check(read_file(dir / "leaf-unsigned.dll"), *with_root);
  EXPECT_EQ(unsigned_file.verdict, "unsigned");
  EXPECT_FALSE(unsigned_file.is_signed);
}

TEST(PeParser, HostileHeadersAreErrorsOrFindingsNeverCrashes) {
  EXPECT_THAT(formats::parse_pe(bytes_of("MZ")), test::HasError(ErrorCode::Truncated));
  std::string pe(512, '\0');
  pe[0] = 'M';
  pe[1] = 'Z';
  put_le32(pe, 0x3c, 0x40);
  pe.replace(0x40, 4, std::string("PE\0\0", 4));
  pe[0x44 + 2] = static_cast<char>(0xff);  // 65535 sections
  pe[0x44 + 3] = static_cast<char>(0xff);
  pe[0x44 + 16] = static_cast<char>(0xf0);  // optional header size
  pe[0x58] = 0x0b;                          // PE32 magic
  pe[0x59] = 0x01;
  EXPECT_THAT(formats::parse_pe(bytes_of(pe)), test::HasError(ErrorCode::LimitExceeded));
  pe[0x44 + 2] = 1;
  pe[0x44 + 3] = 0;
  // A certificate table far past the end of the file.
  put_le32(pe, 0x58 + 92, 16);  // NumberOfRvaAndSizes
  put_le32(pe, 0x58 + 96 + 32, 0x7ffffff0);
  put_le32(pe, 0x58 + 96 + 36, 0x100);
  auto parsed = formats::parse_pe(bytes_of(pe));
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->problems.size(), 1u);
  EXPECT_NE(parsed->problems[0].find("past the end"), std::string::npos);
  auto store = TrustStore::load({}, false);
  ASSERT_THAT(store, IsOk());
  EXPECT_TRUE(has_rule(check(pe, *store), "PE_CERT_TABLE_MALFORMED"));
}

}  // namespace
}  // namespace catena::trust

namespace catena::trust {
namespace {

// Every input the PE fuzzer ever failed on, and its seeds, replayed through the whole check.
TEST(PeRegressions, EveryStoredInputIsCheckedWithoutACrash) {
  auto store = TrustStore::load({}, false);
  ASSERT_THAT(store, test::IsOk());
  size_t replayed = 0;
  for (const char* dir : {"/tests/data/regress/pe", "/fuzz/corpus/pe"}) {
    const std::string root = std::string(CATENA_SOURCE_DIR) + dir;
    DIR* d = ::opendir(root.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const std::string content = read_file(root + "/" + e->d_name);
      const SigReport report = check(content, *store);
      EXPECT_FALSE(report.verdict.empty()) << e->d_name;
      ++replayed;
    }
    ::closedir(d);
  }
  EXPECT_GE(replayed, 6u);
}

}  // namespace
}  // namespace catena::trust

namespace catena::trust {
namespace {

// The scan runs the same checks on every PE it reads: the verdict goes with the content in the
// store, the anomalies become findings.
TEST(ScanSignatures, TheScanStoresVerdictsAndReportsAnomalies) {
  const std::vector<std::string> dlls = signed_dlls();
  if (dlls.empty()) CATENA_MISSING() << "no signed DLLs in " << cache_dir() << "/pe";
  test::TempDir dir;
  std::string content = read_file(dlls[0]);
  dir.write("tree/clean.dll", content);
  content[content.size() - 1] = 0x55;  // a non-zero byte in the padding after the PKCS#7
  dir.write("tree/padded.dll", content);
  const test::RunResult scan = test::run_catena(
      {"scan", dir / "tree", "--db", dir / "c.db", "--no-dpkg", "--format", "json"});
  ASSERT_LE(scan.exit_code, 1) << scan.err;
  EXPECT_NE(scan.out.find("PE_CERT_PADDING"), std::string::npos) << scan.out;
  const test::RunResult list =
      test::run_catena({"inventory", "list", "--db", dir / "c.db", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("\"signature\":\"untrusted\""), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("\"signature\":\"anomalous\""), std::string::npos) << list.out;
}

// A content is analysed once, however many files carry it and however many scans see it: 2,000
// files holding 100 distinct signed DLLs run the signature analyser 100 times, and a second scan
// of the same store runs it no more.
TEST(ScanSignatures, TwoThousandCopiesOfAHundredSignedDllsAreVerifiedAHundredTimes) {
  std::vector<std::string> dlls = signed_dlls();
  if (dlls.empty()) CATENA_MISSING() << "no signed DLLs in " << cache_dir() << "/pe";
  std::string smallest;
  for (const std::string& path : dlls) {
    std::string content = read_file(path);
    if (smallest.empty() || content.size() < smallest.size()) smallest = std::move(content);
  }
  ASSERT_FALSE(smallest.empty());
  test::TempDir dir;
  // The variants differ in the last byte of the signature block: each a distinct content that
  // still carries its signature (the byte is in the block, outside the signed digest).
  for (int variant = 0; variant < 100; ++variant) {
    std::string content = smallest;
    content.back() = static_cast<char>(content.back() ^ variant);
    for (int copy = 0; copy < 20; ++copy) {
      dir.write("tree/" + std::to_string(copy) + "/v" + std::to_string(variant) + ".dll", content);
    }
  }
  const auto scan = [&] {
    const test::RunResult r = test::run_catena(
        {"scan", dir / "tree", "--db", dir / "c.db", "--no-dpkg", "--format", "json", "--full"});
    EXPECT_LE(r.exit_code, 1) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  const nlohmann::json first = scan();
  ASSERT_TRUE(first.is_object());
  EXPECT_EQ(first["files_read"], 2000);
  EXPECT_EQ(first["analyser_runs"]["signature"], 100) << first["analyser_runs"];
  EXPECT_EQ(first["analyser_runs"]["format"], 100) << first["analyser_runs"];
  // Read again in full (--full), the contents are known: no analyser runs.
  const nlohmann::json second = scan();
  ASSERT_TRUE(second.is_object());
  EXPECT_EQ(second["files_read"], 2000);
  EXPECT_EQ(second["analyser_runs"].value("signature", 0), 0) << second["analyser_runs"];
  // Every copy still has its content's verdict, and none is "unsigned".
  const test::RunResult list =
      test::run_catena({"inventory", "list", "--db", dir / "c.db", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.find("\"signature\":\"unsigned\""), std::string::npos);
  EXPECT_EQ(list.out.find("\"signature\":\"\""), std::string::npos);
}

TEST(ScanSignatures, EachContentIsParsedOnceForAllItsAnalysers) {
  std::vector<std::string> dlls = signed_dlls();
  if (dlls.size() < 3) CATENA_MISSING() << "no signed DLLs in " << cache_dir() << "/pe";
  test::TempDir dir;
  // Three signed DLLs and one ELF, two copies each: four contents, each read by the signature
  // and the structure analysers.
  for (int copy = 0; copy < 2; ++copy) {
    for (size_t i = 0; i < 3; ++i) {
      dir.write("tree/" + std::to_string(copy) + "/" + std::to_string(i) + ".dll",
                read_file(dlls[i]));
    }
    dir.write("tree/" + std::to_string(copy) + "/true", read_file("/bin/true"));
  }
  auto opened = store::Store::open(dir / "c.db", store::Store::Access::ReadWrite);
  ASSERT_THAT(opened, IsOk());
  scan::ScanOptions options;
  options.roots = {dir / "tree"};
  options.jobs = 2;
  const uint64_t before = formats::images_parsed();
  auto summary = scan::run_scan(**opened, options, scan::ScanMeta{});
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(formats::images_parsed() - before, 4u);
  std::map<std::string, uint64_t> runs(summary->analyser_runs.begin(),
                                       summary->analyser_runs.end());
  EXPECT_EQ(runs["signature"], 4u);
  EXPECT_EQ(runs["structure"], 4u);
  // And what they concluded from the one parse: every DLL's signature verified (its digest
  // matched), every image described.
  size_t signed_files = 0;
  size_t described = 0;
  ASSERT_THAT((*opened)->for_each_file(summary->scan_id,
                                       [&](const scan::FileRecord& r) {
                                         // No Microsoft root in the scan's store: verified,
                                         // untrusted.
                                         if (r.signature == "untrusted" || r.signature == "valid")
                                           ++signed_files;
                                         if (!r.details.empty()) ++described;
                                       }),
              IsOk());
  EXPECT_EQ(signed_files, 6u);
  EXPECT_EQ(described, 8u);
}

}  // namespace
}  // namespace catena::trust

namespace catena::trust {
namespace {

// Debian's shim carries two Microsoft signatures, which
// osslsigncode cannot even extract; grub is signed by Debian, whose Secure Boot CA shim embeds.
class EfiBinaries : public ::testing::Test {
 protected:
  void SetUp() override {
    shim_ = read_file(cache_dir() + "/efi/shimx64.efi.signed");
    grub_ = read_file(cache_dir() + "/efi/grubx64.efi.signed");
    if (shim_.empty() || grub_.empty()) CATENA_MISSING() << "no EFI binaries (fetch-test-data.sh)";
    auto loaded = TrustStore::load({});
    ASSERT_THAT(loaded, IsOk());
    store_ = *loaded;
  }
  std::string shim_;
  std::string grub_;
  TrustStore store_;
};

TEST_F(EfiBinaries, BothOfShimsSignaturesAreReported) {
  const SigReport report = check(shim_, store_);
  ASSERT_GE(report.signatures.size(), 2u);
  EXPECT_NE(report.signatures[0].thumbprint_sha256, report.signatures[1].thumbprint_sha256);
  for (const Signature& s : report.signatures) {
    EXPECT_TRUE(s.digest_ok) << s.subject;
    EXPECT_TRUE(s.signature_ok) << s.subject;
    EXPECT_NE(s.subject.find("Microsoft"), std::string::npos) << s.subject;
  }
  test::TempDir dir;
  dir.write("shim.efi", shim_);
  const test::RunResult peer =
      test::run_command({"osslsigncode", "verify", "-in", dir / "shim.efi"});
  EXPECT_NE(peer.exit_code, 0);  // the peer gives up on it
}

TEST_F(EfiBinaries, GrubChainsToTheDebianCaTakenFromShim) {
  auto pe = formats::parse_pe(bytes_of(shim_));
  ASSERT_THAT(pe, IsOk());
  const auto section =
      std::find_if(pe->sections.begin(), pe->sections.end(),
                   [](const formats::PeSection& s) { return s.name == ".vendor_cert"; });
  ASSERT_NE(section, pe->sections.end());
  // shim's cert table: authorized size, deauthorized size, authorized offset, deauthorized offset.
  const ByteReader reader(bytes_of(shim_));
  auto size = reader.read_le<uint32_t>(section->raw_offset);
  auto offset = reader.read_le<uint32_t>(section->raw_offset + 8);
  ASSERT_THAT(size, IsOk());
  ASSERT_THAT(offset, IsOk());
  test::TempDir dir;
  dir.write("ca.der", shim_.substr(section->raw_offset + *offset, *size));
  ASSERT_EQ(test::run_command({"openssl", "x509", "-inform", "DER", "-in", dir / "ca.der", "-out",
                               dir / "ca.pem"})
                .exit_code,
            0);
  EXPECT_EQ(check(grub_, store_).verdict, "untrusted");
  auto with_debian = TrustStore::load({dir / "ca.pem"});
  ASSERT_THAT(with_debian, IsOk());
  const SigReport report = check(grub_, *with_debian);
  EXPECT_EQ(report.verdict, "valid");
  ASSERT_FALSE(report.signatures.empty());
  EXPECT_EQ(report.signatures[0].chain, "trusted");
  EXPECT_NE(report.signatures[0].subject.find("Debian Secure Boot Signer"), std::string::npos);
}

}  // namespace
}  // namespace catena::trust

namespace catena::trust {
namespace {

// msvcp140.dll imports VCRUNTIME140.dll; Windows looks for it first in msvcp140's own folder.
TEST(Sideload, AnUnsignedOrForeignDllNextToASignedImageIsACandidate) {
  const std::string cache = cache_dir() + "/pe/";
  const std::string loader = read_file(cache + "amd64-msvcp140.dll");
  const std::string runtime = read_file(cache + "amd64-vcruntime140.dll");
  if (loader.empty() || runtime.empty()) CATENA_MISSING() << "no cached DLLs";
  auto store = TrustStore::load({});
  ASSERT_THAT(store, IsOk());
  test::TempDir dir;
  dir.write("msvcp140.dll", loader);
  const auto findings = [&] {
    const SigReport image = check_signatures(dir / "msvcp140.dll", bytes_of(loader), *store);
    EXPECT_TRUE(std::find(image.imports.begin(), image.imports.end(), "VCRUNTIME140.dll") !=
                image.imports.end());
    DirectoryListings listings;  // fresh: the folder changes between calls
    return sideload_findings(image, *store, listings);
  };
  const auto reason = [](const std::vector<Finding>& found) {
    for (const auto& [k, v] : found.at(0).evidence) {
      if (k == "reason") return v;
    }
    return std::string();
  };
  dir.write("vcruntime140.dll", runtime);  // the same signer, another case
  EXPECT_TRUE(findings().empty());

  ASSERT_EQ(test::run_command({"osslsigncode", "remove-signature", "-in",
                               cache + "amd64-vcruntime140.dll", "-out", dir / "unsigned.dll"})
                .exit_code,
            0);
  ASSERT_EQ(::rename((dir / "unsigned.dll").c_str(), (dir / "vcruntime140.dll").c_str()), 0);
  auto found = findings();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "SIDELOAD_CANDIDATE");
  EXPECT_EQ(found[0].path, dir / "vcruntime140.dll");
  EXPECT_EQ(reason(found), "unsigned");

  ASSERT_EQ(test::run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir / "k.pem",
                               "-out", dir / "c.pem", "-subj", "/CN=someone else", "-days", "30",
                               "-addext", "extendedKeyUsage=codeSigning"})
                .exit_code,
            0);
  ASSERT_EQ(test::run_command({"osslsigncode", "sign", "-certs", dir / "c.pem", "-key",
                               dir / "k.pem", "-h", "sha256", "-in", dir / "vcruntime140.dll",
                               "-out", dir / "resigned.dll"})
                .exit_code,
            0);
  ASSERT_EQ(::rename((dir / "resigned.dll").c_str(), (dir / "vcruntime140.dll").c_str()), 0);
  found = findings();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(reason(found), "signed by another signer");
}

}  // namespace
}  // namespace catena::trust

namespace catena::trust {
namespace {

// A signer whose certificate expired, with no timestamp to show it signed while it was valid.
TEST(ExpiredSigner, IsReportedWhenThereIsNoTimestamp) {
  test::TempDir dir;
  dir.mkdir("ca/newcerts");
  dir.write("ca/index.txt", "");
  dir.write("ca/serial", "01\n");
  dir.write("ca.cnf",
            "[ca]\ndefault_ca=my\n[my]\ndir=" + (dir / "ca") +
                "\ndatabase=$dir/index.txt\nnew_certs_dir=$dir/newcerts\nserial=$dir/serial\n"
                "default_md=sha256\npolicy=any\nx509_extensions=leaf\n[any]\ncommonName=supplied\n"
                "[leaf]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=codeSigning\n"
                "[req]\ndistinguished_name=dn\n[dn]\n[root]\nbasicConstraints=critical,CA:TRUE\n"
                "keyUsage=critical,keyCertSign,cRLSign\n");
  const auto run = [](const std::vector<std::string>& argv) {
    const test::RunResult r = test::run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.err;
  };
  run({"openssl",
       "req",
       "-x509",
       "-newkey",
       "ec",
       "-pkeyopt",
       "ec_paramgen_curve:P-256",
       "-nodes",
       "-keyout",
       dir / "root.key",
       "-out",
       dir / "root.pem",
       "-subj",
       "/CN=expiry root",
       "-days",
       "3650",
       "-config",
       dir / "ca.cnf",
       "-extensions",
       "root"});
  run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", dir / "leaf.key", "-out", dir / "leaf.csr", "-subj", "/CN=expired signer",
       "-config", dir / "ca.cnf"});
  run({"openssl", "ca", "-batch", "-config", dir / "ca.cnf", "-cert", dir / "root.pem", "-keyfile",
       dir / "root.key", "-in", dir / "leaf.csr", "-out", dir / "leaf.pem", "-startdate",
       "20200101000000Z", "-enddate", "20200102000000Z"});
  run({"osslsigncode", "sign", "-certs", dir / "leaf.pem", "-key", dir / "leaf.key", "-h", "sha256",
       "-in", std::string(CATENA_SOURCE_DIR) + "/fuzz/corpus/pe/unsigned", "-out",
       dir / "signed.exe"});
  auto store = TrustStore::load({dir / "root.pem"});
  ASSERT_THAT(store, IsOk());
  const SigReport report = check(read_file(dir / "signed.exe"), *store);
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_EQ(report.signatures[0].chain, "expired");
  EXPECT_FALSE(report.signatures[0].timestamp_ns.has_value());
  EXPECT_TRUE(has_rule(report, "SIG_SIGNER_EXPIRED_NO_TIMESTAMP"));
  EXPECT_EQ(report.verdict, "untrusted");
}

}  // namespace
}  // namespace catena::trust
