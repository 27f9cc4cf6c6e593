// Feed parsing: plain lists, CSV, STIX 2.1 and MISP, with the untidy input real feeds carry, and
// malformed feeds rejected with the line or JSON path of the first error.
#include "catena/intel/feed.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "support/matchers.hpp"

namespace catena::intel {
namespace {

using test::IsOk;

const std::string kSha256 = "aa124a4b4df12b34e74ee7f6c683b2ebec4ce9a8edcf9be345823b4fdcf5d868";
const std::string kSha1 = "bf939c9c261d27ee7bb92325cc588624fca75429";
const std::string kMd5 = "bb915073385dd16a846dfa318afa3c19";

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += digits[(static_cast<unsigned char>(c) >> 4) & 0xf];
    out += digits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

Result<FeedContents> parse(const std::string& text,
                           FeedFormat format = FeedFormat::Auto,
                           const std::string& column = "") {
  return parse_feed(text, format, {.column = column});
}

TEST(Feed, PlainListWithBomCrlfCaseCommentsAndDuplicates) {
  const std::string text = "\xef\xbb\xbf# 3CX indicators\r\n" + upper(kSha256) +
                           "  *setup.msi\r\n" + kSha1 + "\r\n\r\n" + kMd5 + " # a comment\r\n" +
                           kSha256 + "\r\n";
  auto feed = parse(text);
  ASSERT_THAT(feed, IsOk());
  EXPECT_EQ(feed->format, FeedFormat::Plain);
  ASSERT_EQ(feed->indicators.size(), 3u);
  EXPECT_EQ(feed->duplicates, 1u);
  EXPECT_EQ(feed->skipped, 2u);
  EXPECT_EQ(feed->indicators[0].algorithm, HashAlgorithm::Sha256);
  EXPECT_EQ(hex(feed->indicators[0].digest), kSha256);
  EXPECT_EQ(feed->indicators[0].label, "setup.msi");
  EXPECT_EQ(feed->indicators[1].algorithm, HashAlgorithm::Sha1);
  EXPECT_EQ(feed->indicators[2].algorithm, HashAlgorithm::Md5);
}

TEST(Feed, PlainListErrorsNameTheLine) {
  auto bad = parse(kSha256 + "\n" + kSha256.substr(1) + "\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::Parse);
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  auto not_hex = parse(std::string(64, 'g') + "\n");
  ASSERT_FALSE(not_hex.has_value());
  EXPECT_NE(not_hex.error().message.find("line 1"), std::string::npos);
}

TEST(Feed, CsvFindsOrIsToldItsColumns) {
  const std::string text =
      "algorithm,hash,label,platform,sources\n"
      "sha256," +
      kSha256 +
      ",\"setup.msi, trojanized \"\"3CX\"\"\",windows,elastic;sophos\n"
      "md5," +
      upper(kMd5) + ",ffmpeg.dll,windows,volexity\n";
  auto feed = parse(text);
  ASSERT_THAT(feed, IsOk());
  EXPECT_EQ(feed->format, FeedFormat::Csv);
  ASSERT_EQ(feed->indicators.size(), 2u);
  EXPECT_EQ(feed->indicators[0].label, "setup.msi, trojanized \"3CX\"");
  EXPECT_EQ(feed->indicators[0].reference, "elastic;sophos");
  EXPECT_EQ(feed->indicators[1].algorithm, HashAlgorithm::Md5);

  const std::string custom = "id,file_digest,note\n1," + kSha1 + ",x\n";
  EXPECT_FALSE(parse(custom).has_value());  // no recognisable hash column
  auto told = parse(custom, FeedFormat::Auto, "file_digest");
  ASSERT_THAT(told, IsOk());
  EXPECT_EQ(told->indicators.at(0).algorithm, HashAlgorithm::Sha1);

  auto short_row = parse("label,sha256\nfirst\n");
  ASSERT_FALSE(short_row.has_value());
  EXPECT_NE(short_row.error().message.find("line 2"), std::string::npos);
  auto open_quote = parse("sha256,label\n" + kSha256 + ",\"unterminated\n");
  ASSERT_FALSE(open_quote.has_value());
  EXPECT_NE(open_quote.error().message.find("line 2"), std::string::npos);
}

TEST(Feed, StixBundleIndicatorsWithOredHashes) {
  const std::string text = R"({"type": "bundle", "id": "bundle--1", "objects": [
    {"type": "identity", "id": "identity--1", "name": "catena"},
    {"type": "indicator", "id": "indicator--1", "name": "3CX installer",
     "pattern_type": "stix",
     "pattern": "[file:hashes.'SHA-256' = ')" +
                           kSha256 + R"(' OR file:hashes.MD5 = ')" + upper(kMd5) + R"(']",
     "external_references": [{"source_name": "elastic"}, {"source_name": "sophos"}]},
    {"type": "indicator", "id": "indicator--2", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '192.0.2.1']"},
    {"type": "indicator", "id": "indicator--3", "pattern_type": "sigma", "pattern": "x"},
    {"type": "indicator", "id": "indicator--4", "pattern_type": "stix",
     "pattern": "[file:hashes.'SHA-512' = 'abcd']"},
    {"type": "malware", "id": "malware--1", "name": "SUDDENICON"}
  ]})";
  auto feed = parse(text);
  ASSERT_THAT(feed, IsOk());
  EXPECT_EQ(feed->format, FeedFormat::Stix);
  ASSERT_EQ(feed->indicators.size(), 2u);
  EXPECT_EQ(feed->indicators[0].label, "3CX installer");
  EXPECT_EQ(feed->indicators[0].reference, "elastic;sophos");
  EXPECT_EQ(feed->indicators[1].algorithm, HashAlgorithm::Md5);
  // identity, network indicator, sigma indicator, SHA-512 comparison, malware
  EXPECT_EQ(feed->skipped, 5u);

  auto bad = parse(R"({"type": "bundle", "objects": [{"type": "indicator"},
    {"type": "indicator", "pattern": "[file:hashes.MD5 = 'zz']"}]})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("objects[0].pattern"), std::string::npos)
      << bad.error().message;
  auto wrong_value = parse(R"({"type": "bundle", "objects": [
    {"type": "indicator", "pattern": "[file:hashes.MD5 = 'zz']"}]})");
  ASSERT_FALSE(wrong_value.has_value());
  EXPECT_NE(wrong_value.error().message.find("objects[0].pattern"), std::string::npos);
  EXPECT_FALSE(parse("{\"type\": \"bundle\", \"objects\": [").has_value());
  EXPECT_FALSE(parse(R"({"type": "report"})").has_value());
}

TEST(Feed, MispEventAttributesAndObjects) {
  const std::string text = R"({"Event": {"uuid": "e-1", "info": "3CX supply chain",
    "Attribute": [
      {"type": "sha256", "value": ")" +
                           kSha256 + R"(", "comment": "installer"},
      {"type": "domain", "value": "example.com"},
      {"type": "filename|md5", "value": "ffmpeg.dll|)" +
                           kMd5 + R"("}],
    "Object": [{"name": "file", "Attribute": [{"type": "sha1", "value": ")" +
                           kSha1 + R"("}]}]}})";
  auto feed = parse(text);
  ASSERT_THAT(feed, IsOk());
  EXPECT_EQ(feed->format, FeedFormat::Misp);
  ASSERT_EQ(feed->indicators.size(), 3u);
  EXPECT_EQ(feed->indicators[0].label, "installer");
  EXPECT_EQ(feed->indicators[0].reference, "MISP event e-1: 3CX supply chain");
  EXPECT_EQ(feed->indicators[1].label, "ffmpeg.dll (3CX supply chain)");
  EXPECT_EQ(feed->indicators[2].algorithm, HashAlgorithm::Sha1);
  EXPECT_EQ(feed->skipped, 1u);

  auto missing = parse(R"({"Event": {"Attribute": [{"type": "sha256"}]}})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("Event.Attribute[0].value"), std::string::npos)
      << missing.error().message;
  auto no_type = parse(R"({"Event": {"Attribute": [{"value": "x"}]}})");
  ASSERT_FALSE(no_type.has_value());
  EXPECT_NE(no_type.error().message.find("Event.Attribute[0].type"), std::string::npos);
}

TEST(Feed, ManyLinesStayLinear) {
  std::string text;
  for (int idx = 0; idx < 200000; ++idx) {
    char line[80];
    std::snprintf(line, sizeof(line), "%064x\n", idx);
    text += line;
  }
  auto feed = parse(text);
  ASSERT_THAT(feed, IsOk());
  EXPECT_EQ(feed->indicators.size(), 200000u);
}

TEST(Feed, StreamedFeedsGoLineByLineToTheSink) {
  // Many lines through a counting sink: nothing is held but the current line.
  std::string text = "\xef\xbb\xbfsha256,label\r\n";
  for (int idx = 0; idx < 200000; ++idx) {
    char line[96];
    std::snprintf(line, sizeof(line), "%064x,sample %d\r\n", idx, idx);
    text += line;
  }
  std::istringstream in(text);
  uint64_t seen = 0;
  std::string last_label;
  auto stats = stream_feed(in, FeedFormat::Auto, {}, [&](Indicator&& i) -> Status {
    ++seen;
    last_label = i.label;
    return {};
  });
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->format, FeedFormat::Csv);
  EXPECT_EQ(stats->indicators, 200000u);
  EXPECT_EQ(seen, 200000u);
  EXPECT_EQ(last_label, "sample 199999");

  // An error late in the stream names its line; the sink's own error stops the stream.
  std::istringstream bad(kSha256 + "\n" + kSha1 + "\nnot-a-hash\n");
  auto failed = stream_feed(bad, FeedFormat::Auto, {}, [](Indicator&&) -> Status { return {}; });
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message.find("line 3"), std::string::npos) << failed.error().message;
  std::istringstream refused(kSha256 + "\n");
  auto stopped = stream_feed(refused, FeedFormat::Plain, {}, [](Indicator&&) -> Status {
    return make_error(ErrorCode::Db, "the store is full");
  });
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().code, ErrorCode::Db);
  // A line longer than the cap is an error, not an allocation.
  std::istringstream huge(std::string(kMaxFeedLine + 10, 'a'));
  EXPECT_FALSE(stream_feed(huge, FeedFormat::Plain, {}, [](Indicator&&) -> Status {
                 return {};
               }).has_value());
  // A CSV stream without even a header.
  std::istringstream empty("");
  EXPECT_FALSE(stream_feed(empty, FeedFormat::Csv, {}, [](Indicator&&) -> Status {
                 return {};
               }).has_value());
}

TEST(Feed, SeedCorpusAndRegressionsParse) {
  size_t replayed = 0;
  for (const char* dir : {"/tests/data/regress/feed", "/fuzz/corpus/feed"}) {
    const std::filesystem::path root = std::string(CATENA_SOURCE_DIR) + dir;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      (void)parse(text);
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0u);
}

}  // namespace
}  // namespace catena::intel
