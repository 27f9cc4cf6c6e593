// The shipped 3CX pack: the STIX bundle agrees with the published CSV it is made from (and is
// what the generator makes of it), and each YARA rule matches the shape it is written for and
// not the clean file it is derived from.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "catena/formats/pe.hpp"
#include "catena/intel/feed.hpp"
#include "catena/intel/yara.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::intel {
namespace {

using test::IsOk;
using test::read_file;

const std::string kSource = CATENA_SOURCE_DIR;
const std::string kIntelCsv = kSource + "/../shared/intel/3cx-2023-iocs.csv";

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(ThreeCxPack, StixBundleCarriesEveryPublishedHash) {
  auto stix = parse_feed(read_file(kSource + "/intel/3cx-2023.stix.json"), FeedFormat::Auto, {});
  ASSERT_THAT(stix, IsOk());
  EXPECT_EQ(stix->format, FeedFormat::Stix);
  EXPECT_EQ(stix->skipped, 1u);  // the identity
  const std::string csv_text = read_file(kIntelCsv);
  if (csv_text.empty()) CATENA_MISSING() << "the published CSV is not beside the repository";
  auto csv = parse_feed(csv_text, FeedFormat::Csv, {.column = "hash"});
  ASSERT_THAT(csv, IsOk());
  ASSERT_EQ(stix->indicators.size(), csv->indicators.size());
  for (size_t idx = 0; idx < csv->indicators.size(); ++idx) {
    EXPECT_EQ(stix->indicators[idx].algorithm, csv->indicators[idx].algorithm);
    EXPECT_EQ(stix->indicators[idx].digest, csv->indicators[idx].digest);
    EXPECT_EQ(stix->indicators[idx].label, csv->indicators[idx].label);
    EXPECT_EQ(stix->indicators[idx].reference, csv->indicators[idx].reference);
  }
  // The committed bundle is exactly what the generator makes of the CSV.
  test::TempDir dir;
  const test::RunResult made = test::run_command(
      {"/usr/bin/python3", kSource + "/scripts/make-3cx-stix.py", kIntelCsv, dir / "out.json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(read_file(dir / "out.json"), read_file(kSource + "/intel/3cx-2023.stix.json"));
}

std::string cached_dll() { return read_file(test::cache_dir() + "/pe/amd64-vcruntime140.dll"); }

void put_le32(std::string& s, uint64_t at, uint32_t value) {
  for (int idx = 0; idx < 4; ++idx) s[at + idx] = static_cast<char>((value >> (8 * idx)) & 0xff);
}

std::set<std::string> matched(const YaraRules& rules, const std::string& bytes) {
  auto hits = rules.scan(bytes_of(bytes), 10);
  std::set<std::string> out;
  if (hits) {
    for (const YaraMatch& m : *hits) out.insert(m.rule);
  }
  return out;
}

TEST(ThreeCxPack, YaraRulesMatchTheirShapesOnly) {
  const std::string clean = cached_dll();
  if (clean.empty()) CATENA_MISSING() << "no cached DLL (scripts/fetch-test-data.sh)";
  auto rules = YaraRules::load({kSource + "/intel/rules"});
  ASSERT_THAT(rules, IsOk());
  EXPECT_TRUE(matched(*rules, clean).empty());

  // Data hidden after the PKCS#7 inside the signature block (the d3dcompiler_47.dll shape).
  auto pe = formats::parse_pe(bytes_of(clean));
  ASSERT_THAT(pe, IsOk());
  ASSERT_FALSE(pe->certificates.empty());
  std::string padded = clean;
  const formats::PeCertificate& last = pe->certificates.back();
  const std::string payload(512, '\x5a');
  const uint32_t grown = ((last.length + 7) & ~7u) + static_cast<uint32_t>(payload.size());
  put_le32(padded, last.offset, grown);
  put_le32(padded, pe->security_entry_offset + 4,
           static_cast<uint32_t>(last.offset - pe->cert_table_offset) + grown);
  padded.resize(last.offset + ((last.length + 7) & ~7u), '\0');
  padded += payload;
  EXPECT_EQ(matched(*rules, padded),
            std::set<std::string>{"catena_pe_data_after_authenticode_pkcs7"});

  // A DLL that names d3dcompiler_47.dll and carries FE ED FA CE; each alone is not enough.
  const std::string marker("\xfe\xed\xfa\xce", 4);
  EXPECT_EQ(matched(*rules, clean + "d3dcompiler_47.dll" + marker),
            std::set<std::string>{"catena_dll_seeks_feedface_in_d3dcompiler"});
  EXPECT_TRUE(matched(*rules, clean + marker).empty());
  EXPECT_TRUE(matched(*rules, clean + "d3dcompiler_47.dll").empty());

  // The yara CLI agrees on the padded file.
  test::TempDir dir;
  dir.write("padded.dll", padded);
  const test::RunResult cli =
      test::run_command({"yara", kSource + "/intel/rules/3cx-2023.yar", dir / "padded.dll"});
  if (cli.exit_code == 0) {
    EXPECT_NE(cli.out.find("catena_pe_data_after_authenticode_pkcs7"), std::string::npos);
  }
}

}  // namespace
}  // namespace catena::intel
