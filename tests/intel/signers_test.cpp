// The signer blocklist: its list format, and a blocked certificate found wherever it appears in a
// signature — the signer of a file signed by a test certificate, and the timestamp authority of
// a real Microsoft-signed DLL.
#include "catena/intel/signers.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/msi.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::intel {
namespace {

using nlohmann::json;
using test::cache_dir;
using test::IsOk;
using test::read_file;

const std::string kThumb = "3f:A1:" + std::string(60, 'b');

TEST(SignerList, ThumbprintsAndIssuerSerialPairs) {
  auto list = parse_signer_list(
      "\xef\xbb\xbf# stolen certificates\r\n" + kThumb + "  Trading Technologies (expired)\r\n" +
      "serial=00AB01; issuer=CN=Go Daddy Secure Certificate Authority - G2,O=GoDaddy.com\\, "
      "Inc.,C=US; label=X_TRADER signer\n"
      "thumbprint=" +
      std::string(64, 'C') + "\n");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].thumbprint, "3fa1" + std::string(60, 'b'));
  EXPECT_EQ((*list)[0].label, "Trading Technologies (expired)");
  EXPECT_EQ((*list)[1].serial, "ab01");
  EXPECT_EQ((*list)[1].issuer,
            "CN=Go Daddy Secure Certificate Authority - G2,O=GoDaddy.com\\, Inc.,C=US");
  EXPECT_EQ((*list)[1].label, "X_TRADER signer");
  EXPECT_EQ((*list)[2].thumbprint, std::string(64, 'c'));

  for (const auto& [text, line] :
       std::vector<std::pair<std::string, std::string>>{{"abc\n", "line 1"},
                                                        {"# ok\nserial=01\n", "line 2"},
                                                        {"serial=zz; issuer=CN=x\n", "line 1"},
                                                        {"color=blue\n", "line 1"}}) {
    auto bad = parse_signer_list(text);
    ASSERT_FALSE(bad.has_value()) << text;
    EXPECT_NE(bad.error().message.find(line), std::string::npos) << bad.error().message;
  }
}

std::string field(const std::string& out, const std::string& key) {
  const size_t at = out.find(key + "=");
  if (at == std::string::npos) return {};
  const size_t end = out.find('\n', at);
  return out.substr(at + key.size() + 1, end - at - key.size() - 1);
}

TEST(SignerBlocklist, ABlockedSignerIsFoundByScanAndSig) {
  const std::string unsigned_exe = cache_dir() + "/npm/7za.exe";
  if (!std::ifstream(unsigned_exe).good()) CATENA_MISSING() << "npm test data not fetched";
  test::TempDir dir;
  ASSERT_TRUE(test::make_test_signer(dir));
  dir.write("tree/README", "a signed tool lives here\n");
  ASSERT_EQ(
      test::run_command({"osslsigncode", "sign", "-certs", dir / "signer.pem", "-key",
                         dir / "signer.key", "-in", unsigned_exe, "-out", dir / "tree/tool.exe"})
          .exit_code,
      0);
  const test::RunResult x509 =
      test::run_command({"openssl", "x509", "-in", dir / "signer.pem", "-noout", "-fingerprint",
                         "-sha256", "-serial", "-issuer", "-nameopt", "RFC2253"});
  ASSERT_EQ(x509.exit_code, 0) << x509.err;
  const std::string thumbprint = field(x509.out, "sha256 Fingerprint");
  ASSERT_FALSE(thumbprint.empty()) << x509.out;
  const std::string db = dir / "c.db";

  // By thumbprint: the scan flags the file and marks its verdict.
  dir.write("blocked.txt", thumbprint + "  our test signer, stolen\n");
  test::RunResult r = test::run_catena(
      {"intel", "import", "--signers", dir / "blocked.txt", "--feed", "stolen", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_catena({"scan", dir / "tree", "--db", db, "--no-dpkg", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json scan = json::parse(r.out);
  bool found = false;
  for (const json& f : scan["findings"]) {
    if (f["rule"] != "SIG_SIGNER_BLOCKED") continue;
    found = true;
    EXPECT_EQ(f["severity"], "critical");
    EXPECT_EQ(f["evidence"]["role"], "signer");
    EXPECT_EQ(f["evidence"]["feed"], "stolen");
    EXPECT_EQ(f["evidence"]["label"], "our test signer, stolen");
  }
  EXPECT_TRUE(found) << r.out;
  const test::RunResult listed =
      test::run_catena({"inventory", "list", "--db", db, "--format", "json"});
  EXPECT_NE(listed.out.find("\"signature\":\"anomalous\""), std::string::npos) << listed.out;

  // By issuer and serial, through catena sig with the same store.
  dir.write("blocked.txt",
            "serial=" + field(x509.out, "serial") + "; issuer=" + field(x509.out, "issuer") + "\n");
  ASSERT_EQ(test::run_catena({"intel", "import", "--signers", dir / "blocked.txt", "--feed",
                              "stolen", "--db", db})
                .exit_code,
            0);
  r = test::run_catena({"sig", dir / "tree/tool.exe", "--db", db, "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json sig = json::parse(r.out);
  EXPECT_EQ(sig[0]["verdict"], "anomalous");
  EXPECT_NE(r.out.find("SIG_SIGNER_BLOCKED"), std::string::npos) << r.out;

  // Removing the feed clears it.
  ASSERT_EQ(test::run_catena({"intel", "remove", "--feed", "stolen", "--db", db}).exit_code, 0);
  r = test::run_catena({"sig", dir / "tree/tool.exe", "--db", db, "--format", "json"});
  EXPECT_EQ(r.out.find("SIG_SIGNER_BLOCKED"), std::string::npos) << r.out;
}

TEST(SignerBlocklist, ATimestampAuthorityIsFoundToo) {
  const std::string dll = cache_dir() + "/pe/amd64-vcruntime140.dll";
  if (!std::ifstream(dll).good()) CATENA_MISSING() << "no cached DLLs";
  test::TempDir dir;
  const std::string db = dir / "c.db";
  test::RunResult r = test::run_catena({"sig", dll, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string tsa;
  const json first = json::parse(r.out);  // named: a temporary's member dies before the loop
  for (const json& c : first[0]["signatures"][0]["certificates"]) {
    if (c["role"] == "timestamp" &&
        c["subject"].get<std::string>().find("Time-Stamp") != std::string::npos) {
      tsa = c["thumbprint_sha256"];
    }
  }
  ASSERT_FALSE(tsa.empty()) << r.out;
  dir.write("tsa.txt", tsa + "\n");
  ASSERT_EQ(
      test::run_catena({"intel", "import", "--signers", dir / "tsa.txt", "--db", db}).exit_code, 0);
  r = test::run_catena({"sig", dll, "--db", db, "--format", "json"});
  const json out = json::parse(r.out);
  bool found = false;
  for (const json& f : out[0]["findings"]) {
    if (f["rule"] == "SIG_SIGNER_BLOCKED") found = f["evidence"]["role"] == "timestamp";
  }
  EXPECT_TRUE(found) << r.out;
}

}  // namespace
}  // namespace catena::intel
