// Feed parsing: plain lists, CSV, STIX 2.1 and MISP, with the untidy input real feeds carry, and
// malformed feeds rejected with the line or JSON path of the first error.
#include "catena/intel/feed.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include "catena/core/time.hpp"
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

  // An indicator without a pattern, or whose hash is no digest, is left out with its reason;
  // when nothing is left the import fails and says why.
  auto bad = parse(R"({"type": "bundle", "objects": [{"type": "indicator"},
    {"type": "indicator", "pattern": "[file:hashes.MD5 = 'zz']"}]})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("no pattern: 1, not a hex digest: 1"), std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse("{\"type\": \"bundle\", \"objects\": [").has_value());
  EXPECT_FALSE(parse(R"({"type": "report"})").has_value());
}

// STIX patterns as the OASIS elevator and threat feeds write them: each comparison judged on
// its own, the lifecycle honoured, one clause catena cannot use costing only that clause.
TEST(Feed, StixComparisonsOneByOneAndIndicatorLifecycle) {
  const std::string sha1 = kSha1;
  const auto indicator = [](const std::string& id, const std::string& pattern,
                            const std::string& extra = "") {
    return R"({"type": "indicator", "id": "indicator--)" + id +
           R"(", "pattern_type": "stix", "pattern": ")" + pattern + "\"" + extra + "}";
  };
  const std::string text =
      R"({"type": "bundle", "id": "bundle--2", "objects": [)" +
      indicator(
          "1", "[file:hashes.'SHA-256' != '" + kSha256 + "' OR file:hashes.MD5 = '" + kMd5 + "']") +
      "," +
      indicator("2",
                "[file:hashes.MD5 LIKE 'bb%' OR file:hashes.'SHA-1' MATCHES '^bf' OR "
                "file:hashes.MD5 NOT = '" +
                    kMd5 + "' OR file:hashes.MD5 IN ('" + kMd5 + "')]") +
      "," +
      indicator("3", "[file:hashes.'SHA-1' = '" + sha1 + "'] FOLLOWEDBY [file:name = 'it\\\\'s'" +
                         " AND file:hashes.'SHA-256' = '" + kSha256 +
                         "'] WITHIN 300 SECONDS START t'2023-01-01T00:00:00Z' STOP "
                         "t'2024-01-01T00:00:00Z'") +
      "," +
      indicator("4", "[file:hashes.'SHA-256' = '" + std::string(64, 'd') + "']",
                R"(, "revoked": true)") +
      "," +
      indicator("5", "[file:hashes.'SHA-256' = '" + std::string(64, 'e') + "']",
                R"(, "valid_until": "2024-01-01T00:00:00Z")") +
      "," +
      indicator("6", "[file:hashes.'SHA-256' = '" + std::string(64, 'f') + "']",
                R"(, "valid_until": "2099-01-01T00:00:00.5Z")") +
      "," + indicator("7", "[file:hashes.'SHA-256' = 'unterminated]") + "," +
      indicator("8", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]") + "," +
      R"({"type": "indicator", "id": "indicator--9", "name": "no pattern"}]})";
  const int64_t now = *parse_rfc3339("2026-11-30T00:00:00Z");
  auto feed = parse_feed(text, FeedFormat::Auto, {.now_ns = now});
  ASSERT_THAT(feed, IsOk());
  std::vector<std::string> got;
  for (const Indicator& i : feed->indicators) got.push_back(hex(i.digest));
  EXPECT_EQ(got, (std::vector<std::string>{kMd5, sha1, kSha256, std::string(64, 'f')}));
  const std::map<std::string, uint64_t> expected = {
      {"hash comparison other than '='", 5},  // !=, LIKE, MATCHES, NOT =, IN
      {"revoked", 1},
      {"expired (valid_until)", 1},
      {"pattern not understood", 1},
      {"not a file hash", 1},
      {"no pattern", 1}};
  EXPECT_EQ(feed->skipped_by, expected);
  EXPECT_EQ(feed->skipped, 10u);

  auto kept = parse_feed(text, FeedFormat::Auto, {.include_expired = true, .now_ns = now});
  ASSERT_THAT(kept, IsOk());
  EXPECT_EQ(kept->indicators.size(), 5u);
  EXPECT_FALSE(kept->skipped_by.contains("expired (valid_until)"));
}

TEST(Time, ParsesTheRfc2822DatesOfAptReleaseFiles) {
  EXPECT_EQ(parse_rfc2822("Sat, 28 Nov 2026 02:53:00 UTC"), parse_rfc3339("2026-11-28T02:53:00Z"));
  EXPECT_EQ(parse_rfc2822("28 Nov 2026 02:53:00 +0100"), parse_rfc3339("2026-11-28T01:53:00Z"));
  EXPECT_EQ(parse_rfc2822("Thu, 01 Jan 1970 00:00:00 GMT"), std::optional<int64_t>(0));
  for (const char* bad : {"", "Sat, 28 Nov 2026", "Sat, 28 Foo 2026 02:53:00 UTC",
                          "Sat, 28 Nov 2026 2:53:00 UTC", "Sat, 28 Nov 2026 02:53:00 CET",
                          "Sat, 32 Nov 2026 02:53:00 UTC", "Sat, 28 Nov 2026 25:00:00 UTC"}) {
    EXPECT_EQ(parse_rfc2822(bad), std::nullopt) << bad;
  }
}

TEST(Time, ParsesTheRfc3339UtcThatStixAndInTotoWrite) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2023-04-20T12:00:01.25Z"),
            int64_t{1681992001} * 1'000'000'000 + 250'000'000);
  for (const char* bad : {"", "2023-04-20", "2023-04-20T12:00:01", "2023-04-20T12:00:01+02:00",
                          "2023-13-20T12:00:01Z", "2023-04-20T12:00:01Zx", "2023-04-20 12:00:01Z",
                          "2023-0a-20T12:00:01Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
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

  // A hash attribute catena cannot read costs that attribute, with its reason; a feed left
  // with nothing fails and says why.
  auto missing = parse(R"({"Event": {"Attribute": [{"type": "sha256"}]}})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("no value"), std::string::npos) << missing.error().message;
  auto some = parse(R"({"Event": {"Attribute": [{"type": "sha256", "value": "12zz"},
      {"type": "filename|md5", "value": "x.dll"}, {"type": "sha256", "value": ")" +
                    kSha256 + R"("}]}})");
  ASSERT_THAT(some, IsOk());
  EXPECT_EQ(some->indicators.size(), 1u);
  EXPECT_EQ(some->skipped_by.at("not a hex digest"), 1u);
  EXPECT_EQ(some->skipped_by.at("not \"filename|hash\""), 1u);
  EXPECT_EQ(some->hashes_skipped, 2u);
  auto no_type = parse(R"({"Event": {"Attribute": [{"value": "x"}]}})");
  ASSERT_FALSE(no_type.has_value());
  EXPECT_NE(no_type.error().message.find("Event.Attribute[0].type"), std::string::npos);
}

// The event as PyMISP writes it (bare), wrapped, in a search response of either, or in an
// array: the same indicators, and the shape named.
TEST(Feed, MispEventInEveryShapeMispAndPyMispWrite) {
  const std::string event = R"({"uuid": "e-2", "info": "X_TRADER", "date": "2023-04-20",
    "Attribute": [{"type": "sha256", "value": ")" +
                            kSha256 + R"(", "to_ids": true},
      {"type": "md5", "value": ")" +
                            kMd5 + R"(", "to_ids": false}],
    "Object": [{"name": "file", "Attribute": [{"type": "sha1", "value": ")" +
                            kSha1 + R"(", "to_ids": "1"}]}]})";
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {event, "bare event"},
      {R"({"Event": )" + event + "}", "event"},
      {R"({"response": [)" + event + "]}", "search response of 1 events"},
      {R"({"response": [{"Event": )" + event + "}]}", "search response of 1 events"},
      {"[" + event + "]", "array of 1 events"},
      {R"([{"Event": )" + event + "}]", "array of 1 events"},
  };
  for (const auto& [text, shape] : shapes) {
    for (const FeedFormat format : {FeedFormat::Auto, FeedFormat::Misp}) {
      auto feed = parse(text, format);
      ASSERT_THAT(feed, IsOk()) << text;
      EXPECT_EQ(feed->format, FeedFormat::Misp) << text;
      EXPECT_EQ(feed->shape, shape);
      ASSERT_EQ(feed->indicators.size(), 3u) << text;
      EXPECT_EQ(feed->indicators[0].reference, "MISP event e-2: X_TRADER");
      EXPECT_EQ(feed->not_for_detection, 1u);  // the MD5: imported, and counted
    }
  }
  // Told it is MISP, something that is no event is an error, never 0 indicators and success.
  for (const char* text : {R"({"type": "bundle", "objects": []})", R"({"name": "x"})",
                           R"({"response": [{"name": "x"}]})", "[1]"}) {
    auto feed = parse(text, FeedFormat::Misp);
    ASSERT_FALSE(feed.has_value()) << text;
    EXPECT_NE(feed.error().message.find("not a MISP event"), std::string::npos)
        << feed.error().message;
  }
  // A STIX bundle is still STIX; fields of the wrong type do not throw.
  auto stix = parse(R"({"type": "bundle", "id": "bundle--1", "objects": []})");
  ASSERT_THAT(stix, IsOk());
  EXPECT_EQ(stix->format, FeedFormat::Stix);
  auto odd = parse(R"({"uuid": 5, "info": ["x"], "Attribute": [{"type": "sha256", "value": ")" +
                   kSha256 + R"(", "deleted": null, "to_ids": {}}]})");
  ASSERT_THAT(odd, IsOk());
  EXPECT_EQ(odd->indicators.size(), 1u);
  EXPECT_EQ(odd->indicators[0].reference, "MISP event ");
}

TEST(Feed, MispDeletedAndNotForDetectionAreLeftOutAndCounted) {
  const std::string text = R"({"Event": {"uuid": "e-3", "info": "lifecycle",
    "Attribute": [
      {"type": "sha256", "value": ")" +
                           kSha256 + R"(", "to_ids": true},
      {"type": "md5", "value": ")" +
                           kMd5 + R"(", "to_ids": false},
      {"type": "sha1", "value": ")" +
                           kSha1 + R"(", "to_ids": true, "deleted": true},
      {"type": "domain", "value": "example.com"}],
    "Object": [{"name": "file", "deleted": "1", "Attribute": [
      {"type": "sha256", "value": ")" +
                           std::string(64, 'b') + R"(", "to_ids": true},
      {"type": "filename", "value": "a.dll"}]}]}})";
  auto all = parse(text);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->indicators.size(), 2u);
  EXPECT_EQ(all->not_for_detection, 1u);
  EXPECT_EQ(all->skipped_by.at("deleted"), 3u);  // the attribute, and the object's two
  EXPECT_EQ(all->skipped_by.at("not a file hash"), 1u);
  EXPECT_EQ(all->skipped, 4u);

  auto detection = parse_feed(text, FeedFormat::Auto, {.to_ids_only = true});
  ASSERT_THAT(detection, IsOk());
  ASSERT_EQ(detection->indicators.size(), 1u);
  EXPECT_EQ(hex(detection->indicators[0].digest), kSha256);
  EXPECT_EQ(detection->skipped_by.at("not for detection (to_ids false)"), 1u);
  EXPECT_EQ(detection->not_for_detection, 0u);

  // Every hash left out: an error that says why, not an empty import.
  const std::string gone = R"({"Event": {"Attribute": [
      {"type": "sha256", "value": ")" +
                           kSha256 +
                           R"(", "deleted": true},
      {"type": "md5", "value": ")" +
                           kMd5 + R"(", "to_ids": false}]}})";
  auto none = parse_feed(gone, FeedFormat::Auto, {.to_ids_only = true});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("deleted: 1"), std::string::npos) << none.error().message;
  EXPECT_NE(none.error().message.find("not for detection (to_ids false): 1"), std::string::npos)
      << none.error().message;
  // An event with no hash at all imports nothing, and that is no error.
  auto empty = parse(R"({"Event": {"Attribute": [{"type": "domain", "value": "x.org"}]}})");
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->indicators.empty());
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
