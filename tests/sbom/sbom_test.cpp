// SBOMs: a release with a real signed DLL (in a zip) written as CycloneDX 1.6 and SPDX 2.3 and
// validated against the official schemas, read back, checked against changed releases; a scan
// of this host's packaged files with purls from its dpkg database; hostile documents.
#include "catena/sbom/sbom.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "catena/formats/pe.hpp"
#include "catena/store/store.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::sbom {
namespace {

using test::IsOk;

std::string dll_path() { return test::cache_dir() + "/pe/amd64-vcruntime140.dll"; }

// dist/: app.zip holding bin/vcruntime140.dll and README, and a loose tool.sh.
void write_release(test::TempDir& dir, const std::string& name, const std::string& dll) {
  dir.write(name + "/tool.sh", "#!/bin/sh\necho hi\n");
  dir.write(name + ".dll", dll);
  const test::RunResult zipped =
      test::run_command({"python3", "-c",
                         "import sys, zipfile\n"
                         "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
                         "    z.write(sys.argv[2], 'bin/vcruntime140.dll')\n"
                         "    z.writestr('README', 'read me\\n')\n",
                         dir / (name + "/app.zip"), dir / (name + ".dll")});
  ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
}

Bom bom_of(const std::string& path) {
  auto seen = release::inspect(path, {});
  EXPECT_THAT(seen, IsOk());
  return seen ? from_inspection(*seen) : Bom{};
}

const Component* by_path(const Bom& bom, const std::string& path) {
  for (const Component& c : bom.components) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

std::map<std::string, Severity> rules_of(const std::vector<Finding>& findings) {
  std::map<std::string, Severity> out;
  for (const Finding& f : findings) out[f.rule + " " + f.path] = f.severity;
  return out;
}

class SbomRelease : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(dll_path())) CATENA_MISSING() << "no signed DLL in the cache";
    dll_ = test::read_file(dll_path());
    write_release(dir_, "v1", dll_);
  }
  test::TempDir dir_;
  std::string dll_;
};

TEST_F(SbomRelease, BothFormatsValidateAndSayWhatContainsWhat) {
  const Bom bom = bom_of(dir_ / "v1");
  const Component* zip = by_path(bom, "app.zip");
  const Component* dll = by_path(bom, "app.zip!/bin/vcruntime140.dll");
  ASSERT_NE(zip, nullptr);
  ASSERT_NE(dll, nullptr);
  EXPECT_EQ(dll->parent, zip->ref);
  EXPECT_EQ(dll->kind, "library");
  EXPECT_NE(dll->name.find("Visual Studio"), std::string::npos) << dll->name;
  EXPECT_EQ(dll->version.substr(0, 3), "14.");
  EXPECT_EQ(dll->supplier, "Microsoft Corporation");
  EXPECT_EQ(*dll->sha256, sha256_of(std::as_bytes(std::span(dll_.data(), dll_.size()))));

  dir_.write("bom.cdx.json", write_cyclonedx(bom));
  dir_.write("bom.spdx.json", write_spdx(bom));
  EXPECT_EQ(test::sbom_schema_errors(dir_ / "bom.cdx.json", "bom-1.6.schema.json"), "");
  EXPECT_EQ(test::sbom_schema_errors(dir_ / "bom.spdx.json", "spdx-2.3.schema.json"), "");

  // CycloneDX nests the DLL in the zip; SPDX says the zip CONTAINS it.
  const auto cdx = nlohmann::json::parse(test::read_file(dir_ / "bom.cdx.json"));
  bool nested = false;
  for (const auto& c : cdx["components"]) {
    if (c["name"] != "app.zip") continue;
    for (const auto& inner : c["components"]) {
      nested |= inner["bom-ref"] == dll->ref && inner["hashes"][0]["alg"] == "SHA-256";
    }
  }
  EXPECT_TRUE(nested);
  const auto spdx = nlohmann::json::parse(test::read_file(dir_ / "bom.spdx.json"));
  bool contains = false;
  for (const auto& r : spdx["relationships"]) {
    contains |= r["relationshipType"] == "CONTAINS" &&
                r["spdxElementId"] == "SPDXRef-" + zip->ref &&
                r["relatedSpdxElement"] == "SPDXRef-" + dll->ref;
  }
  EXPECT_TRUE(contains);
}

TEST_F(SbomRelease, WhatIsWrittenIsReadBack) {
  const Bom bom = bom_of(dir_ / "v1");
  for (const std::string& text : {write_cyclonedx(bom), write_spdx(bom)}) {
    auto read = parse_sbom(text);
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(read->components.size(), bom.components.size()) << read->format;
    for (const Component& c : bom.components) {
      const Component* back = by_path(*read, c.path);
      ASSERT_NE(back, nullptr) << read->format << " " << c.path;
      EXPECT_EQ(back->sha256, c.sha256) << c.path;
      if (c.kind != "file") {
        EXPECT_EQ(back->name, c.name) << read->format;
      }
      EXPECT_EQ(back->parent.empty(), c.parent.empty()) << read->format << " " << c.path;
    }
  }
  // Through the store: kept as claims, found again by hash.
  auto store = store::Store::open_memory();
  ASSERT_THAT(store, IsOk());
  auto id = (*store)->put_sbom(*parse_sbom(write_cyclonedx(bom)), "/tmp/bom.json");
  ASSERT_THAT(id, IsOk());
  auto kept = (*store)->get_sbom(*id);
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->components.size(), bom.components.size());
  auto claims = (*store)->claims_for(*by_path(bom, "app.zip!/bin/vcruntime140.dll")->sha256);
  ASSERT_THAT(claims, IsOk());
  ASSERT_EQ(claims->size(), 1u);
  EXPECT_EQ((*claims)[0].path, "app.zip!/bin/vcruntime140.dll");
}

TEST_F(SbomRelease, TheCheckFindsChangedMissingAndUndeclaredFiles) {
  const Bom declared = bom_of(dir_ / "v1");
  EXPECT_TRUE(check_sbom(declared, declared).empty());
  // v2: the DLL changed, tool.sh gone, an unsigned executable added.
  std::string patched = dll_;
  patched[patched.size() / 2] ^= 0x20;
  write_release(dir_, "v2", patched);
  std::filesystem::remove(dir_ / "v2/tool.sh");
  dir_.write("v2/extra.exe", dll_.substr(0, 4096) + std::string(64, 'x'));
  const std::vector<Finding> found = check_sbom(declared, bom_of(dir_ / "v2"));
  const auto rules = rules_of(found);
  EXPECT_EQ(rules.size(), 4u) << found[0].rule;
  EXPECT_EQ(rules.at("SBOM_HASH_MISMATCH app.zip!/bin/vcruntime140.dll"), Severity::High);
  EXPECT_EQ(rules.at("SBOM_HASH_MISMATCH app.zip"), Severity::High);  // the zip holds it
  EXPECT_EQ(rules.at("SBOM_MISSING_COMPONENT tool.sh"), Severity::Medium);
  EXPECT_EQ(rules.at("SBOM_UNDECLARED_EXECUTABLE extra.exe"), Severity::High);
}

TEST(SbomParse, HostileAndForeignDocumentsAreRefused) {
  EXPECT_EQ(parse_sbom("not json").error().code, ErrorCode::Parse);
  EXPECT_EQ(parse_sbom("[1,2]").error().code, ErrorCode::Parse);
  EXPECT_EQ(parse_sbom(R"({"bomFormat":"CycloneDX","specVersion":"1.2"})").error().code,
            ErrorCode::Unsupported);
  EXPECT_EQ(parse_sbom(R"({"spdxVersion":"SPDX-3.0"})").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(parse_sbom(R"({"hello":1})").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(parse_sbom(std::string(100000, '[') + std::string(100000, ']')).error().code,
            ErrorCode::LimitExceeded);
  // Components nested past the cap.
  std::string deep = R"({"bomFormat":"CycloneDX","specVersion":"1.6","components":)";
  for (int i = 0; i < 70; ++i) deep += R"([{"type":"file","name":"x","components":)";
  deep += "[]";
  for (int i = 0; i < 70; ++i) deep += "}]";
  deep += "}";
  EXPECT_EQ(parse_sbom(deep).error().code, ErrorCode::LimitExceeded);
  // Wrong types and bad hashes say nothing, and are not errors.
  auto odd = parse_sbom(
      R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[7,{"type":"file",)"
      R"("name":"./a","hashes":[{"alg":"SHA-256","content":"zz"},3]},{"name":{"x":1}}]})");
  ASSERT_THAT(odd, IsOk());
  ASSERT_EQ(odd->components.size(), 2u);
  EXPECT_EQ(odd->components[0].path, "a");
  EXPECT_FALSE(odd->components[0].sha256.has_value());
}

// A scan of this host's packaged files: purls carry the versions dpkg has, and the CLI writes,
// keeps and checks them.
TEST(SbomCli, AScanOfThisHostsPackagesExportsImportsAndChecks) {
  const std::string root = "/usr/share/doc/coreutils";
  const test::RunResult version =
      test::run_command({"dpkg-query", "-W", "-f", "${Version} ${Architecture}", "coreutils"});
  if (version.exit_code != 0 || !std::filesystem::exists(root)) {
    CATENA_SKIP_ENVIRONMENT() << "no dpkg-installed coreutils";
  }
  test::TempDir dir;
  const std::string db = dir / "store.db";
  const test::RunResult scanned =
      test::run_command({CATENA_BINARY, "scan", "--db", db, "--format", "json", root});
  ASSERT_LE(scanned.exit_code, 1) << scanned.err;
  const test::RunResult exported = test::run_command(
      {CATENA_BINARY, "sbom", "export", "--db", db, "--scan", "1", "--out", dir / "host.cdx.json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(test::sbom_schema_errors(dir / "host.cdx.json", "bom-1.6.schema.json"), "");
  const auto cdx = nlohmann::json::parse(test::read_file(dir / "host.cdx.json"));
  const std::string v = version.out.substr(0, version.out.find(' '));
  const std::string arch = version.out.substr(version.out.find(' ') + 1);
  bool purl = false;
  for (const auto& c : cdx["components"]) {
    if (c["name"] != "coreutils") continue;
    EXPECT_EQ(c["purl"], "pkg:deb/debian/coreutils@" + v + "?arch=" + arch);
    EXPECT_FALSE(c["components"].empty());
    purl = true;
  }
  EXPECT_TRUE(purl);
  const test::RunResult spdx =
      test::run_command({CATENA_BINARY, "sbom", "export", "--db", db, "--scan", "1", "--format",
                         "spdx", "--out", dir / "host.spdx.json"});
  ASSERT_EQ(spdx.exit_code, 0) << spdx.err;
  EXPECT_EQ(test::sbom_schema_errors(dir / "host.spdx.json", "spdx-2.3.schema.json"), "");

  const test::RunResult imported =
      test::run_command({CATENA_BINARY, "sbom", "import", "--db", db, dir / "host.cdx.json"});
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("stored as SBOM 1 (CycloneDX 1.6"), std::string::npos)
      << imported.out;
  const test::RunResult listed = test::run_command({CATENA_BINARY, "sbom", "list", "--db", db});
  EXPECT_NE(listed.out.find("host "), std::string::npos) << listed.out;
  // The host's SBOM checks clean against the scan it came from.
  const test::RunResult checked =
      test::run_command({CATENA_BINARY, "sbom", "check", "--db", db, "--format", "json",
                         dir / "host.spdx.json", "--scan", "1"});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(test::run_command({CATENA_BINARY, "sbom", "check", dir / "host.spdx.json"}).exit_code,
            2);  // neither --scan nor --release
}

}  // namespace
}  // namespace catena::sbom
