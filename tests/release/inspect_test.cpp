// A release opened to its last file, on archives made by the real tools (python's zipfile and
// tarfile, dpkg-deb) and by hand where a tool would refuse to make them (asar, hostile names).
#include "catena/release/inspect.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/cache.hpp"
#include "support/dmg_builder.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::release {
namespace {

// Runs a python script with the test directory as argv[1].
void python(const test::TempDir& dir, const std::string& script) {
  const test::RunResult r = test::run_command({"python3", "-c", script, dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// An asar of {"main.js": body, "lib/x.node": node}, laid out as Electron's asar module does.
std::string asar(const std::string& header_json, const std::string& data) {
  std::string pickle;
  const auto u32 = [](std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  std::string payload;
  u32(payload, static_cast<uint32_t>(header_json.size()));
  payload += header_json;
  while (payload.size() % 4 != 0) payload.push_back('\0');
  u32(pickle, static_cast<uint32_t>(payload.size()));
  pickle += payload;
  std::string out;
  u32(out, 4);
  u32(out, static_cast<uint32_t>(pickle.size()));
  return out + pickle + data;
}

std::map<std::string, const ReleaseFile*> by_path(const Inspection& seen) {
  std::map<std::string, const ReleaseFile*> out;
  for (const ReleaseFile& f : seen.files) out[f.path] = &f;
  return out;
}

TEST(ReleaseInspect, OpensArchivesInsideArchives) {
  test::TempDir dir;
  dir.write(
      "app/resources/app.asar",
      asar(R"({"files":{"main.js":{"size":5,"offset":"0"},"lib":{"files":{"x.node":)"
           R"({"size":3,"offset":"5","executable":true}}},"up.node":{"size":9,"unpacked":true}}})",
           "hello"
           "abc"));
  python(dir, R"(
import io, os, sys, tarfile, zipfile
top = sys.argv[1]
inner = io.BytesIO()
with tarfile.open(fileobj=inner, mode="w:gz") as t:
    data = b"inner text\n"
    info = tarfile.TarInfo("docs/x.txt"); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
    link = tarfile.TarInfo("docs/y"); link.type = tarfile.SYMTYPE; link.linkname = "x.txt"
    t.addfile(link)
with zipfile.ZipFile(os.path.join(top, "app.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("bin/tool.exe", b"MZ" + b"\0" * 100)
    z.writestr("inner.tar.gz", inner.getvalue())
    z.write(os.path.join(top, "app/resources/app.asar"), "resources/app.asar")
)");
  auto seen = inspect(dir.path(), {});
  ASSERT_TRUE(seen) << seen.error().describe();
  const auto files = by_path(*seen);
  ASSERT_TRUE(files.count("app.zip"));
  EXPECT_EQ(files.at("app.zip")->format, "zip");
  EXPECT_EQ(files.at("app.zip")->members, 3u);
  ASSERT_TRUE(files.count("app.zip!/inner.tar.gz!/docs/x.txt")) << seen->files.size();
  const ReleaseFile& text = *files.at("app.zip!/inner.tar.gz!/docs/x.txt");
  EXPECT_EQ(text.depth, 2u);
  EXPECT_EQ(to_hex(*text.sha256), test::sha256_hex("inner text\n"));
  EXPECT_EQ(files.at("app.zip!/inner.tar.gz!/docs/y")->link_target, "x.txt");
  EXPECT_EQ(files.at("app.zip!/bin/tool.exe")->size, 102u);
  // The asar, on its own and inside the zip, with its unpacked file listed without bytes.
  for (const std::string prefix : {"app/resources/app.asar", "app.zip!/resources/app.asar"}) {
    ASSERT_TRUE(files.count(prefix)) << prefix;
    EXPECT_EQ(files.at(prefix)->format, "asar");
    ASSERT_TRUE(files.count(prefix + "!/lib/x.node")) << prefix;
    EXPECT_EQ(to_hex(*files.at(prefix + "!/main.js")->sha256), test::sha256_hex("hello"));
    EXPECT_EQ(to_hex(*files.at(prefix + "!/lib/x.node")->sha256), test::sha256_hex("abc"));
    EXPECT_FALSE(files.at(prefix + "!/up.node")->sha256.has_value());
  }
  EXPECT_TRUE(seen->findings.empty()) << seen->findings.front().rule;
  EXPECT_EQ(seen->archives, 4u);  // the zip, its tar.gz, the two asars
}

TEST(ReleaseInspect, ADebIsOpenedToItsFiles) {
  test::TempDir dir;
  dir.write("pkg/DEBIAN/control",
            "Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@e.org>\n"
            "Description: t\n");
  dir.write("pkg/usr/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  const test::RunResult built = test::run_command(
      {"dpkg-deb", "--build", "--root-owner-group", dir / "pkg", dir / "tool.deb"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto seen = inspect(dir / "tool.deb", {});
  ASSERT_TRUE(seen) << seen.error().describe();
  const auto files = by_path(*seen);
  EXPECT_EQ(files.at("tool.deb")->format, "deb");
  bool found = false;
  for (const auto& [path, file] : files) {
    if (path.starts_with("tool.deb!/data.tar") && path.ends_with("usr/bin/tool")) {
      found = to_hex(*file->sha256) == test::sha256_hex("#!/bin/sh\necho tool\n");
    }
  }
  EXPECT_TRUE(found);
}

// A release held in memory is inspected as the same file on disk is.
TEST(ReleaseInspect, BytesInMemoryAreInspectedAsTheFile) {
  test::TempDir dir;
  python(dir, R"(
import os, sys, zipfile
with zipfile.ZipFile(os.path.join(sys.argv[1], "app.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("bin/tool.exe", b"MZ" + b"\0" * 100)
    z.writestr("../escape.txt", b"x")
)");
  auto on_disk = inspect(dir / "app.zip", {});
  ASSERT_TRUE(on_disk) << on_disk.error().describe();
  const std::string bytes = test::read_file(dir / "app.zip");
  const Inspection in_memory = inspect_bytes("app.zip", bytes, {});
  EXPECT_EQ(in_memory.top, "app.zip");
  EXPECT_EQ(in_memory.bytes, bytes.size());
  ASSERT_EQ(in_memory.files.size(), on_disk->files.size());
  for (size_t i = 0; i < in_memory.files.size(); ++i) {
    EXPECT_EQ(in_memory.files[i].path, on_disk->files[i].path);
    EXPECT_EQ(in_memory.files[i].sha256, on_disk->files[i].sha256);
  }
  ASSERT_EQ(in_memory.findings.size(), on_disk->findings.size());
  EXPECT_EQ(in_memory.findings[0].rule, "RELEASE_UNSAFE_MEMBER_NAME");
}

// A disk image is listed, not opened, and its own code signature is verified: the one in the zip
// was changed after signing.
TEST(ReleaseInspect, ADiskImageIsOpaqueWithItsSignatureVerified) {
  test::TempDir dir;
  const std::string image = test::build_dmg({});
  std::string patched = image;
  patched[100] ^= 0x01;
  dir.write("Installer.dmg", image);
  dir.write("patched.dmg", patched);
  python(dir, R"(
import os, sys, zipfile
top = sys.argv[1]
with zipfile.ZipFile(os.path.join(top, "app.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.write(os.path.join(top, "patched.dmg"), "mac/Installer.dmg")
os.remove(os.path.join(top, "patched.dmg"))
)");
  auto seen = inspect(dir.path(), {});
  ASSERT_TRUE(seen) << seen.error().describe();
  const auto files = by_path(*seen);
  ASSERT_TRUE(files.count("Installer.dmg") && files.count("app.zip!/mac/Installer.dmg"));
  const ReleaseFile& plain = *files.at("Installer.dmg");
  EXPECT_EQ(plain.format, "dmg");
  EXPECT_EQ(plain.opaque, "dmg");
  EXPECT_EQ(plain.signature, "untrusted");
  EXPECT_EQ(files.at("app.zip!/mac/Installer.dmg")->signature, "invalid");
  bool mismatch = false;
  for (const Finding& f : seen->findings) {
    EXPECT_NE(f.path, "Installer.dmg") << f.rule;
    mismatch |= f.path == "app.zip!/mac/Installer.dmg" && f.rule == "DMG_CODE_HASH_MISMATCH";
  }
  EXPECT_TRUE(mismatch);
}

// Hostile archives: each stops at its limit with a finding, the rest of the release is still
// read, and nothing is written anywhere.
TEST(ReleaseInspect, HostileArchivesAreReportedAndSurvived) {
  test::TempDir dir;
  python(dir, R"(
import io, os, sys, zipfile
top = sys.argv[1]
with zipfile.ZipFile(os.path.join(top, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("zeros", b"\0" * (48 << 20))
with zipfile.ZipFile(os.path.join(top, "names.zip"), "w") as z:
    z.writestr("../../etc/evil", b"x")
    z.writestr("/abs/evil", b"y")
    z.writestr("fine/ok", b"z")
blob = b"deep"
for level in range(12):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("level%d.zip" % level if level else "payload", blob)
    blob = out.getvalue()
open(os.path.join(top, "nested.zip"), "wb").write(blob)
good = io.BytesIO()
with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(50):
        z.writestr("f%d.txt" % i, ("file %d " % i) * 200)
data = good.getvalue()
open(os.path.join(top, "truncated.zip"), "wb").write(data[: len(data) // 2])
open(os.path.join(top, "after.txt"), "wb").write(b"still read")
)");
  const auto before = std::distance(std::filesystem::recursive_directory_iterator(dir.path()),
                                    std::filesystem::recursive_directory_iterator());
  auto seen = inspect(dir.path(), {});
  ASSERT_TRUE(seen) << seen.error().describe();
  std::map<std::string, std::vector<const Finding*>> by_file;
  for (const Finding& f : seen->findings) by_file[f.path].push_back(&f);
  ASSERT_EQ(by_file["bomb.zip"].size(), 1u);
  EXPECT_EQ(by_file["bomb.zip"][0]->rule, "RELEASE_ARCHIVE_LIMIT");
  EXPECT_EQ(evidence_of(*by_file["bomb.zip"][0], "limit"), "ratio");
  EXPECT_EQ(by_file["names.zip!/../../etc/evil"].at(0)->rule, "RELEASE_UNSAFE_MEMBER_NAME");
  EXPECT_EQ(evidence_of(*by_file["names.zip!/../../etc/evil"].at(0), "reason"), "parent");
  EXPECT_EQ(evidence_of(*by_file["names.zip!//abs/evil"].at(0), "reason"), "absolute");
  EXPECT_TRUE(by_file["names.zip!/fine/ok"].empty());
  // Eight archives deep are opened; the ninth is listed, not opened.
  size_t depth_limits = 0;
  for (const Finding& f : seen->findings) {
    depth_limits += f.rule == "RELEASE_ARCHIVE_LIMIT" && evidence_of(f, "limit") == "depth";
  }
  EXPECT_EQ(depth_limits, 1u);
  ASSERT_EQ(by_file["truncated.zip"].size(), 1u);
  EXPECT_EQ(by_file["truncated.zip"][0]->rule, "RELEASE_ARCHIVE_DAMAGED");
  EXPECT_TRUE(by_path(*seen).count("after.txt"));
  const auto after = std::distance(std::filesystem::recursive_directory_iterator(dir.path()),
                                   std::filesystem::recursive_directory_iterator());
  EXPECT_EQ(after, before);
  // The budget of expanded bytes is the release's, not each archive's.
  InspectOptions tight;
  tight.limits.max_total_bytes = 1 << 20;
  auto limited = inspect(dir / "bomb.zip", tight);
  ASSERT_TRUE(limited);
  EXPECT_EQ(evidence_of(limited->findings.at(0), "limit"), "total-bytes");
}

TEST(ReleaseInspect, HostileAsarHeadersAreDamagedNotFatal) {
  test::TempDir dir;
  dir.write("outside.asar", asar(R"({"files":{"a":{"size":10,"offset":"99999"}}})", "short"));
  std::string deep = "{\"files\":";
  for (int i = 0; i < 100; ++i) deep += "{\"d\":{\"files\":";
  deep += "{}";
  for (int i = 0; i < 100; ++i) deep += "}}";
  deep += "}";
  dir.write("deep.asar", asar(deep, ""));
  dir.write(
      "huge-offset.asar",
      asar(R"({"files":{"a":{"size":"18446744073709551615","offset":"18446744073709551615"}}})",
           ""));
  auto seen = inspect(dir.path(), {});
  ASSERT_TRUE(seen) << seen.error().describe();
  std::map<std::string, std::string> rule;
  for (const Finding& f : seen->findings) rule[f.path] = f.rule;
  EXPECT_EQ(rule["outside.asar"], "RELEASE_ARCHIVE_DAMAGED");
  EXPECT_EQ(rule["deep.asar"], "RELEASE_ARCHIVE_DAMAGED");
  EXPECT_FALSE(rule["huge-offset.asar"].empty());
}

TEST(ReleaseInspect, TheCommandListsFilesAndExitsOnFindings) {
  test::TempDir dir;
  python(dir, R"(
import os, sys, zipfile
with zipfile.ZipFile(os.path.join(sys.argv[1], "r.zip"), "w") as z:
    z.writestr("../x", b"x")
    z.writestr("ok", b"ok")
)");
  // A store of the test's own: inspection keeps what it finds in the store.
  const std::string db = dir / "catena.db";
  const test::RunResult r =
      test::run_catena({"release", "inspect", "--db", db, dir / "r.zip", "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;  // the unsafe name is high
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["archives"], 1);
  EXPECT_EQ(doc["files"].size(), 3u);
  EXPECT_EQ(doc["findings"][0]["rule"], "RELEASE_UNSAFE_MEMBER_NAME");
  EXPECT_EQ(test::run_catena({"release", "inspect", "--db", db, dir / "missing"}).exit_code, 2);
  const test::RunResult table = test::run_catena({"release", "inspect", "--db", db, dir / "r.zip"});
  EXPECT_NE(table.out.find("r.zip!/ok"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace catena::release
