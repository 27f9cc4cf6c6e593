// Two releases compared: a real signed DLL (Microsoft's, from the test-data cache) in a directory,
// a zip and an MSI built by wixl, changed the ways a trojanized build changes it; two real
// consecutive releases from npm; and rebuilds.
#include "catena/release/diff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "catena/formats/image.hpp"
#include "catena/formats/pe.hpp"
#include "pe_fixtures.hpp"
#include "support/cache.hpp"
#include "support/dmg_builder.hpp"
#include "support/matchers.hpp"
#include "support/msi.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::release {
namespace {

using test::IsOk;

Inspection inspected(const std::string& path) {
  auto seen = inspect(path, {});
  EXPECT_THAT(seen, IsOk());
  return seen ? *seen : Inspection{};
}

// The rules of the findings at or above high, each once.
std::set<std::string> serious(const ReleaseDiff& d) {
  std::set<std::string> out;
  for (const Finding& f : d.findings) {
    if (f.severity >= Severity::High) out.insert(f.rule);
  }
  return out;
}

const Finding* find_rule(const ReleaseDiff& d, std::string_view rule) {
  for (const Finding& f : d.findings) {
    if (f.rule == rule) return &f;
  }
  return nullptr;
}

class ReleaseDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::cache_dir() + "/pe/amd64-vcruntime140.dll")) {
      CATENA_MISSING() << "no signed DLL in the test-data cache";
    }
    dll_ = real_dll();
  }
  std::string dll_;
};

TEST_F(ReleaseDiffTest, SameVersionOtherBytesInADirectoryRelease) {
  test::TempDir dir;
  dir.write("v1/bin/vcruntime140.dll", dll_);
  dir.write("v1/README", "hello\n");
  dir.write("v2/bin/vcruntime140.dll", patched_code(dll_));
  dir.write("v2/README", "hello\n");
  const ReleaseDiff d = diff(inspected(dir / "v1"), inspected(dir / "v2"), {});
  EXPECT_EQ(d.unchanged, 1u);
  EXPECT_EQ(d.changed, 1u);
  ASSERT_EQ(d.changes.size(), 1u);
  EXPECT_EQ(d.changes[0].path(), "bin/vcruntime140.dll");
  // The patched code no longer matches its signature: the new release's own finding.
  EXPECT_EQ(serious(d),
            (std::set<std::string>{"RELEASE_SAME_VERSION_DIFFERENT_BYTES", "PE_DIGEST_MISMATCH"}));
  const Finding* same = find_rule(d, "RELEASE_SAME_VERSION_DIFFERENT_BYTES");
  ASSERT_NE(same, nullptr);
  EXPECT_NE(evidence_of(*same, "version").find("file_version 14."), std::string::npos)
      << evidence_of(*same, "version");
  EXPECT_EQ(find_rule(d, "RELEASE_SIGNED_DIGEST_UNCHANGED"), nullptr);
}

TEST_F(ReleaseDiffTest, APayloadInTheCertificateTableInsideAZip) {
  test::TempDir dir;
  dir.write("a/vcruntime140.dll", dll_);
  dir.write("b/vcruntime140.dll", payload_in_certificate_table(dll_));
  for (const char* side : {"a", "b"}) {
    const test::RunResult zipped = test::run_command(
        {"python3", "-c",
         "import sys, zipfile\n"
         "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
         "    z.write(sys.argv[2], 'app/vcruntime140.dll')\n",
         dir / (std::string(side) + ".zip"), dir / (std::string(side) + "/vcruntime140.dll")});
    ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
  }
  const ReleaseDiff d = diff(inspected(dir / "a.zip"), inspected(dir / "b.zip"), {});
  ASSERT_EQ(d.changes.size(), 1u);
  EXPECT_EQ(d.changes[0].path(), "b.zip!/app/vcruntime140.dll");
  EXPECT_EQ(d.changes[0].severity, Severity::Critical);
  // The signature still verifies: only the diff and the structural check see the payload.
  EXPECT_EQ(serious(d),
            (std::set<std::string>{"RELEASE_SIGNED_DIGEST_UNCHANGED",
                                   "RELEASE_SAME_VERSION_DIFFERENT_BYTES", "PE_CERT_PADDING"}));
  const Finding* digest = find_rule(d, "RELEASE_SIGNED_DIGEST_UNCHANGED");
  ASSERT_NE(digest, nullptr);
  EXPECT_EQ(evidence_of(*digest, "new_size"),
            std::to_string(dll_.size() + 4096 + ((8 - dll_.size() % 8) % 8)));
}

TEST_F(ReleaseDiffTest, AnMsiIsOpenedThroughItsCabinetAndCompared) {
  test::TempDir a, b;
  a.write("vcruntime140.dll", dll_);
  b.write("vcruntime140.dll", patched_code(dll_));
  // The new build's cabinet names the file by a generated key: the File table maps it back.
  if (!test::build_msi_of(a, "setup", "vcruntime140.dll") ||
      !test::build_msi_of(b, "setup", "vcruntime140.dll", "filE3A1C0")) {
    CATENA_MISSING() << "wixl unavailable";
  }
  const Inspection before = inspected(a / "setup.msi");
  bool found = false;
  for (const ReleaseFile& f : before.files) {
    if (f.path == "setup.msi!/data.cab!/vcruntime140.dll") {
      found = true;
      EXPECT_EQ(f.format, "pe");
      ASSERT_NE(f.binary, nullptr);
      EXPECT_FALSE(f.binary->authenticode_sha256.empty());
      EXPECT_NE(f.signer.find("Microsoft"), std::string::npos) << f.signer;
    }
  }
  ASSERT_TRUE(found) << before.files.size() << " files, first " << before.files[0].path;
  const ReleaseDiff d = diff(before, inspected(b / "setup.msi"), {});
  EXPECT_EQ(serious(d),
            (std::set<std::string>{"RELEASE_SAME_VERSION_DIFFERENT_BYTES", "PE_DIGEST_MISMATCH"}));
  ASSERT_FALSE(d.changes.empty());
  EXPECT_EQ(d.changes[0].path(), "setup.msi!/data.cab!/vcruntime140.dll");
}

TEST_F(ReleaseDiffTest, ARebuildDiffersOnlyInNoiseOrInCode) {
  test::TempDir dir;
  dir.write("release/vcruntime140.dll", dll_);
  dir.write("rebuild/vcruntime140.dll", noisy_unsigned_rebuild(dll_));
  dir.write("tampered/vcruntime140.dll", noisy_unsigned_rebuild(patched_code(dll_)));
  const Inspection release = inspected(dir / "release");
  const ReleaseDiff same = diff(release, inspected(dir / "rebuild"), {.rebuild = true});
  EXPECT_EQ(same.changed, 1u);
  EXPECT_TRUE(same.findings.empty()) << same.findings[0].rule;
  const ReleaseDiff tampered = diff(release, inspected(dir / "tampered"), {.rebuild = true});
  EXPECT_EQ(serious(tampered), std::set<std::string>{"RELEASE_REBUILD_DIFFERS"});
  // Without --rebuild, the stripped signature is itself the finding.
  const ReleaseDiff plain = diff(release, inspected(dir / "rebuild"), {});
  EXPECT_TRUE(serious(plain).contains("RELEASE_SIGNATURE_REMOVED"));
}

TEST_F(ReleaseDiffTest, AddedMovedAndPackedFiles) {
  test::TempDir dir;
  // A section filled with random bytes: a packed or encrypted payload.
  std::string packed = dll_;
  const formats::PeInfo pe = pe_of(dll_);
  const formats::PeSection& text = section_named(pe, ".text");
  std::mt19937 random(7);
  for (uint64_t i = 0; i < text.raw_size; ++i)
    packed[text.raw_offset + i] = static_cast<char>(random());
  dir.write("v1/a/vcruntime140.dll", dll_);
  dir.write("v1/doc.txt", "docs\n");
  dir.write("v2/b/vcruntime140.dll", packed);  // moved by name, and changed
  dir.write("v2/docs/doc.txt", "docs\n");      // moved by content
  std::string unsigned_exe = noisy_unsigned_rebuild(dll_);
  dir.write("v2/extra.exe", unsigned_exe);
  const ReleaseDiff d = diff(inspected(dir / "v1"), inspected(dir / "v2"), {});
  EXPECT_EQ(d.moved, 2u);
  EXPECT_EQ(d.added, 1u);
  EXPECT_EQ(d.removed, 0u);
  const std::set<std::string> rules = serious(d);
  EXPECT_TRUE(rules.contains("RELEASE_UNSIGNED_EXECUTABLE_ADDED"));
  EXPECT_TRUE(rules.contains("RELEASE_ENTROPY_RISE"));
  const Finding* rise = find_rule(d, "RELEASE_ENTROPY_RISE");
  ASSERT_NE(rise, nullptr);
  EXPECT_EQ(rise->path, "b/vcruntime140.dll");
  EXPECT_EQ(evidence_of(*rise, "old_path"), "a/vcruntime140.dll");
  EXPECT_EQ(evidence_of(*rise, "section"), ".text");
  EXPECT_EQ(evidence_of(*rise, "code"), "yes");
}

TEST_F(ReleaseDiffTest, EachContentIsParsedOnceHoweverOftenItAppears) {
  test::TempDir dir;
  dir.write("vcruntime140.dll", dll_);
  if (!test::build_msi_of(dir, "setup", "vcruntime140.dll")) CATENA_MISSING() << "wixl unavailable";
  dir.write("copy/vcruntime140.dll", dll_);
  dir.write("patched/vcruntime140.dll", patched_code(dll_));
  const uint64_t before = formats::images_parsed();
  const Inspection seen = inspected(dir.path());
  // The DLL (three times: beside the MSI, in its cabinet, in copy/), the patched DLL, the MSI.
  EXPECT_EQ(formats::images_parsed() - before, 3u);
  size_t with_facts = 0;
  for (const ReleaseFile& f : seen.files) with_facts += f.binary ? 1 : 0;
  EXPECT_EQ(with_facts, 4u);
}

TEST_F(ReleaseDiffTest, TheCommandPrintsEveryFormatAndExitsOnFindings) {
  test::TempDir dir;
  dir.write("v1/vcruntime140.dll", dll_);
  dir.write("v2/vcruntime140.dll", payload_in_certificate_table(dll_));
  // A store of its own, empty, so that the user's is not read.
  const std::string db = dir / "store.db";
  ASSERT_EQ(test::run_command({CATENA_BINARY, "intel", "list", "--db", db}).exit_code, 0);
  const test::RunResult table =
      test::run_command({CATENA_BINARY, "release", "diff", "--db", db, dir / "v1", dir / "v2"});
  EXPECT_EQ(table.exit_code, 1) << table.err;
  EXPECT_NE(table.out.find("critical changed  vcruntime140.dll  RELEASE_SIGNED_DIGEST_UNCHANGED"),
            std::string::npos)
      << table.out;
  const test::RunResult json = test::run_command(
      {CATENA_BINARY, "release", "diff", "--db", db, "--format", "json", dir / "v1", dir / "v2"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  const auto document = nlohmann::json::parse(json.out);
  EXPECT_EQ(document["changed"], 1);
  EXPECT_EQ(document["changes"][0]["rules"][0], "RELEASE_SIGNED_DIGEST_UNCHANGED");
  EXPECT_EQ(document["changes"][0]["after"]["binary"]["authenticode_sha256"],
            document["changes"][0]["before"]["binary"]["authenticode_sha256"]);
  const test::RunResult sarif = test::run_command(
      {CATENA_BINARY, "release", "diff", "--db", db, "--format", "sarif", dir / "v1", dir / "v2"});
  EXPECT_EQ(sarif.exit_code, 1) << sarif.err;
  dir.write("diff.sarif", sarif.out);
  EXPECT_EQ(test::sarif_schema_errors(dir / "diff.sarif"), "");
  // Nothing at or above critical but that one: --fail-on critical still fails, and the
  // unchanged release passes.
  EXPECT_EQ(
      test::run_command({CATENA_BINARY, "release", "diff", "--db", db, dir / "v1", dir / "v1"})
          .exit_code,
      0);
  EXPECT_EQ(
      test::run_command({CATENA_BINARY, "release", "diff", "--db", db, dir / "v1", dir / "missing"})
          .exit_code,
      2);
}

TEST_F(ReleaseDiffTest, ASecondMemberOfTheSameNameIsComparedToo) {
  test::TempDir dir;
  dir.write("good.dll", dll_);
  dir.write("bad.dll", payload_in_certificate_table(dll_));
  // Both releases hold app/x.dll twice; only the later member changes (the one most
  // extracting tools keep).
  for (const auto& [zip, second] : {std::pair{"a.zip", "good.dll"}, {"b.zip", "bad.dll"}}) {
    const test::RunResult zipped =
        test::run_command({"python3", "-W", "ignore", "-c",
                           "import sys, zipfile\n"
                           "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
                           "    z.write(sys.argv[2], 'app/x.dll')\n"
                           "    z.write(sys.argv[3], 'app/x.dll')\n",
                           dir / zip, dir / "good.dll", dir / second});
    ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
  }
  const ReleaseDiff d = diff(inspected(dir / "a.zip"), inspected(dir / "b.zip"), {});
  EXPECT_EQ(d.unchanged, 2u);  // the zip, compared through its members, and the first x.dll
  EXPECT_EQ(d.changed, 1u);
  EXPECT_TRUE(serious(d).contains("RELEASE_SIGNED_DIGEST_UNCHANGED"));
}

// Two real consecutive releases of a Microsoft-signed tool: a clean update gives no high or
// critical finding (docs/benchmarks.md counts what it does give).
// A disk image's own signature is compared like an executable's: stripped, and tampered with.
TEST(ReleaseDiffDiskImage, SignatureRemovedOrBroken) {
  test::TempDir dir;
  const std::string image = test::build_dmg({});
  test::DmgSpec unsigned_spec;
  unsigned_spec.sign = false;
  std::string patched = image;
  patched[4000] ^= 0x01;
  dir.write("old/Installer.dmg", image);
  dir.write("stripped/Installer.dmg", test::build_dmg(unsigned_spec));
  dir.write("patched/Installer.dmg", patched);
  const Inspection old = inspected(dir / "old");
  EXPECT_TRUE(
      serious(diff(old, inspected(dir / "stripped"), {})).contains("RELEASE_SIGNATURE_REMOVED"));
  EXPECT_TRUE(
      serious(diff(old, inspected(dir / "patched"), {})).contains("DMG_CODE_HASH_MISMATCH"));
}

TEST(ReleaseDiffRealData, ConsecutiveVsceSignReleasesAreClean) {
  const std::string dir = test::cache_dir() + "/releases/";
  if (!std::filesystem::exists(dir + "vsce-sign-win32-x64-2.0.6.tgz")) {
    CATENA_MISSING() << "no vsce-sign releases in the test-data cache";
  }
  const ReleaseDiff d = diff(inspected(dir + "vsce-sign-win32-x64-2.0.5.tgz"),
                             inspected(dir + "vsce-sign-win32-x64-2.0.6.tgz"), {});
  EXPECT_TRUE(serious(d).empty()) << *serious(d).begin();
  EXPECT_EQ(d.changed, 2u);  // the executable and package.json
  bool exe = false;
  for (const FileChange& c : d.changes) {
    if (c.path().ends_with("!/package/bin/vsce-sign.exe")) {
      exe = true;
      ASSERT_TRUE(c.after && c.after->binary);
      EXPECT_EQ(c.after->binary->version.at("FileVersion"), "2.0.6");
      EXPECT_EQ(c.before->binary->version.at("FileVersion"), "2.0.5");
      EXPECT_NE(c.after->signer.find("Microsoft Corporation"), std::string::npos);
    }
  }
  EXPECT_TRUE(exe);
}

}  // namespace
}  // namespace catena::release
