// OLE compound files: a real MSI from msitools' wixl, compared with msiinfo, and damaged ones.
#include "catena/formats/ole.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "catena/formats/msi.hpp"
#include "support/byte_builder.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/msi.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::formats {
namespace {

using test::IsOk;
using test::read_file;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

void put_le32(std::string& s, size_t at, uint32_t value) {
  for (size_t idx = 0; idx < 4; ++idx) s[at + idx] = static_cast<char>((value >> (8 * idx)) & 0xff);
}

uint32_t le32(const std::string& s, size_t at) {
  uint32_t value = 0;
  for (size_t idx = 0; idx < 4; ++idx)
    value |= uint32_t{static_cast<uint8_t>(s[at + idx])} << (8 * idx);
  return value;
}

class OleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::build_test_msi(dir_, "test", "catena comments"))
      CATENA_MISSING() << "wixl unavailable";
    msi_ = read_file(dir_ / "test.msi");
  }
  test::TempDir dir_;
  std::string msi_;
};

TEST_F(OleTest, StreamsAndSummaryAgreeWithMsiinfo) {
  auto ole = parse_ole(bytes_of(msi_));
  ASSERT_THAT(ole, IsOk());
  EXPECT_TRUE(ole->problems.empty()) << ole->problems.front();
  // msiinfo lists the streams that are not tables (whose names start with "!").
  const test::RunResult listed = test::run_command({"msiinfo", "streams", dir_ / "test.msi"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::set<std::string> theirs;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    // msiinfo prints a name's control characters raw; catena escapes them as \xNN.
    std::string name;
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20) {
        char text[8];
        std::snprintf(text, sizeof(text), "\\x%02x", static_cast<unsigned char>(c));
        name += text;
      } else {
        name += c;
      }
    }
    if (!name.empty()) theirs.insert(name);
  }
  std::set<std::string> ours;
  for (uint32_t id : ole->entries[0].children) {
    const OleEntry& e = ole->entries[id];
    ASSERT_EQ(e.type, kOleStream) << e.name;
    if (!e.name.starts_with("!")) ours.insert(e.name);
    auto data = read_ole_stream(*ole, bytes_of(msi_), id);
    ASSERT_THAT(data, IsOk()) << e.name;
    EXPECT_EQ(data->size(), e.size);
  }
  EXPECT_EQ(ours, theirs);
  EXPECT_GE(find_ole_child(*ole, 0, "!_StringPool"), 0);

  // The cabinet (above the 4 KiB cutoff: read through the FAT) is what msiextract-free tools see.
  const long cab = find_ole_child(*ole, 0, "data.cab");
  ASSERT_GE(cab, 0);
  auto data = read_ole_stream(*ole, bytes_of(msi_), static_cast<size_t>(cab));
  ASSERT_THAT(data, IsOk());
  ASSERT_GE(data->size(), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data->data()), 4), "MSCF");

  const long summary = find_ole_child(*ole, 0, "\\x05SummaryInformation");
  ASSERT_GE(summary, 0);
  auto stream = read_ole_stream(*ole, bytes_of(msi_), static_cast<size_t>(summary));
  ASSERT_THAT(stream, IsOk());
  auto properties = parse_summary_information(*stream);
  ASSERT_THAT(properties, IsOk());
  const test::RunResult info = test::run_command({"msiinfo", "suminfo", dir_ / "test.msi"});
  ASSERT_EQ(info.exit_code, 0);
  for (const auto& [ours_key, theirs_key] :
       std::vector<std::pair<std::string, std::string>>{{"subject", "Subject: "},
                                                        {"author", "Author: "},
                                                        {"comments", "Comments: "},
                                                        {"template", "Template: "},
                                                        {"application", "Application: "}}) {
    ASSERT_TRUE(properties->contains(ours_key)) << ours_key;
    EXPECT_NE(info.out.find(theirs_key + properties->at(ours_key) + "\n"), std::string::npos)
        << ours_key << " = " << properties->at(ours_key) << "\n"
        << info.out;
  }
  EXPECT_EQ(properties->at("comments"), "catena comments");
  EXPECT_EQ(properties->at("created").size(), 20u);  // RFC 3339, seconds
}

// msiinfo's File table: key -> the long part of FileName.
std::map<std::string, std::string> msiinfo_file_names(const std::string& msi) {
  const test::RunResult exported = test::run_command({"msiinfo", "export", msi, "File"});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  std::istringstream lines(exported.out);
  std::string line;
  std::vector<std::string> header;
  std::map<std::string, std::string> out;
  for (int number = 0; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '\t');) fields.push_back(cell);
    if (number == 0) header = fields;
    if (number < 3) continue;  // names, types, the table's name and keys
    std::string key, name;
    for (size_t i = 0; i < fields.size() && i < header.size(); ++i) {
      if (header[i] == "File") key = fields[i];
      if (header[i] == "FileName") name = fields[i].substr(fields[i].find('|') + 1);
    }
    out[key] = name;
  }
  return out;
}

TEST_F(OleTest, FileNamesAgreeWithMsiinfo) {
  ASSERT_TRUE(test::build_msi_of(dir_, "keyed", "tool.txt", "filE3A1C0"));
  for (const char* name : {"test.msi", "keyed.msi"}) {
    const std::string msi = read_file(dir_ / name);
    auto ole = parse_ole(bytes_of(msi));
    ASSERT_THAT(ole, IsOk());
    auto names = msi_file_names(*ole, bytes_of(msi));
    ASSERT_THAT(names, IsOk()) << name;
    EXPECT_EQ(*names, msiinfo_file_names(dir_ / name)) << name;
  }
  const std::string keyed = read_file(dir_ / "keyed.msi");
  auto ole = parse_ole(bytes_of(keyed));
  ASSERT_THAT(ole, IsOk());
  EXPECT_EQ(msi_file_names(*ole, bytes_of(keyed))->at("filE3A1C0"), "tool.txt");
}

TEST(MsiStringPool, HostilePoolsAreErrors) {
  const auto pool = [](std::vector<uint16_t> words) {
    std::string out;
    for (uint16_t w : words) {
      out.push_back(static_cast<char>(w & 0xff));
      out.push_back(static_cast<char>(w >> 8));
    }
    return out;
  };
  const std::string data = "FileName";
  // Two strings, "File" and "Name".
  const std::string good = pool({0, 0, 4, 1, 4, 1});
  auto parsed = parse_msi_string_pool(bytes_of(good), bytes_of(data));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->strings, (std::vector<std::string>{"", "File", "Name"}));
  EXPECT_FALSE(parsed->long_refs);
  EXPECT_TRUE(parse_msi_string_pool(bytes_of(pool({0, 0x8000})), bytes_of(data))->long_refs);
  // A string past the data, a pool cut inside an entry, a long string whose length is cut, and a
  // long string longer than the data.
  EXPECT_FALSE(parse_msi_string_pool(bytes_of(pool({0, 0, 4, 1, 5, 1})), bytes_of(data)));
  EXPECT_FALSE(parse_msi_string_pool(bytes_of(good.substr(0, 10)), bytes_of(data)));
  EXPECT_FALSE(parse_msi_string_pool(bytes_of(pool({0, 0, 0, 1})), bytes_of(data)));
  EXPECT_FALSE(parse_msi_string_pool(bytes_of(pool({0, 0, 0, 1, 0xffff, 0xffff})), bytes_of(data)));
  // An empty entry is an id with the empty string.
  parsed = parse_msi_string_pool(bytes_of(pool({0, 0, 0, 0, 4, 1})), bytes_of(data));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->strings, (std::vector<std::string>{"", "", "File"}));
}

TEST_F(OleTest, DamagedFilesAreErrorsNotHangs) {
  // Not a compound file, and one cut inside its header.
  EXPECT_EQ(parse_ole(bytes_of(std::string(600, 'x'))).error().code, ErrorCode::BadMagic);
  EXPECT_FALSE(parse_ole(bytes_of(msi_.substr(0, 300))).has_value());
  // More FAT sectors than the file holds.
  std::string many = msi_;
  put_le32(many, 0x2c, 0x7fffffff);
  EXPECT_EQ(parse_ole(bytes_of(many)).error().code, ErrorCode::LimitExceeded);
  // The directory chain loops on itself: the FAT entry of the first directory sector names it.
  const uint32_t sector_size = 512;
  const uint32_t directory = le32(msi_, 0x30);
  const uint32_t fat0 = le32(msi_, 0x4c);
  std::string loop = msi_;
  put_le32(loop, (fat0 + 1) * sector_size + 4 * directory, directory);
  auto looped = parse_ole(bytes_of(loop));
  ASSERT_FALSE(looped.has_value());
  EXPECT_EQ(looped.error().code, ErrorCode::LimitExceeded);
  // The root's child points back at the root: a problem, and the tree stays finite.
  std::string cycle = msi_;
  const size_t root = (directory + 1) * sector_size;
  const uint32_t first_child = le32(cycle, root + 0x4c);
  put_le32(cycle, root + 128 * first_child + 0x44, 0);
  auto cyclic = parse_ole(bytes_of(cycle));
  ASSERT_THAT(cyclic, IsOk());
  EXPECT_FALSE(cyclic->problems.empty());
  // A stream claiming more bytes than the file holds, and one starting past the end.
  auto ole = parse_ole(bytes_of(msi_));
  ASSERT_THAT(ole, IsOk());
  const long cab = find_ole_child(*ole, 0, "data.cab");
  ASSERT_GE(cab, 0);
  std::string huge = msi_;
  put_le32(huge, root + 128 * static_cast<size_t>(cab) + 0x78, 0xfffffff0u);
  auto parsed = parse_ole(bytes_of(huge));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_FALSE(read_ole_stream(*parsed, bytes_of(huge), static_cast<size_t>(cab)).has_value());
  std::string past = msi_;
  put_le32(past, root + 128 * static_cast<size_t>(cab) + 0x74, 0x00ffffff);
  parsed = parse_ole(bytes_of(past));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_FALSE(read_ole_stream(*parsed, bytes_of(past), static_cast<size_t>(cab)).has_value());
}

TEST(OleRegressions, SeedCorpusAndRegressionsParse) {
  size_t replayed = 0;
  for (const char* dir : {"/tests/data/regress/ole", "/fuzz/corpus/ole"}) {
    const std::filesystem::path root = std::string(CATENA_SOURCE_DIR) + dir;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      const std::string bytes = read_file(entry.path());
      if (auto ole = parse_ole(bytes_of(bytes))) {
        for (size_t idx = 0; idx < ole->entries.size(); ++idx) {
          (void)read_ole_stream(*ole, bytes_of(bytes), idx);
        }
      }
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0u);
}

// A compound file of many small streams, laid out field by field ([MS-CFB] version 3): every
// stream is read back exactly, through the root's sectors. Each read used to copy the whole mini
// stream, which made reading every stream of such a file quadratic (here 20,000 x 1.28 MB).
TEST(OleStreams, ManySmallStreamsAreEachReadInPlace) {
  constexpr uint32_t kStreams = 20000, kFree = 0xffffffff, kEnd = 0xfffffffe, kFatSect = 0xfffffffd;
  const uint32_t dir_sectors = (kStreams + 1 + 3) / 4;
  const uint32_t minifat_sectors = (kStreams + 127) / 128;
  const uint32_t mini_sectors = (kStreams * 64 + 511) / 512;
  uint32_t fat_sectors = 1;
  while (fat_sectors * 128 < fat_sectors + dir_sectors + minifat_sectors + mini_sectors) {
    ++fat_sectors;
  }
  ASSERT_LE(fat_sectors, 109u);
  const uint32_t dir_at = fat_sectors, minifat_at = dir_at + dir_sectors,
                 mini_at = minifat_at + minifat_sectors, total = mini_at + mini_sectors;
  test::ByteBuilder b(512 * (size_t{total} + 1));
  b.put(0, std::string_view("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8));
  b.put_le<uint16_t>(0x18, 0x3e).put_le<uint16_t>(0x1a, 3).put_le<uint16_t>(0x1c, 0xfffe);
  b.put_le<uint16_t>(0x1e, 9).put_le<uint16_t>(0x20, 6);
  b.put_le<uint32_t>(0x2c, fat_sectors).put_le<uint32_t>(0x30, dir_at);
  b.put_le<uint32_t>(0x38, 4096).put_le<uint32_t>(0x3c, minifat_at);
  b.put_le<uint32_t>(0x40, minifat_sectors).put_le<uint32_t>(0x44, kEnd);
  for (uint32_t i = 0; i < 109; ++i) b.put_le<uint32_t>(0x4c + 4 * i, i < fat_sectors ? i : kFree);
  const auto sector = [](uint32_t n) { return 512 * (size_t{n} + 1); };
  // The FAT: its own sectors, then three chains.
  std::vector<uint32_t> fat(size_t{fat_sectors} * 128, kFree);
  for (uint32_t i = 0; i < fat_sectors; ++i) fat[i] = kFatSect;
  for (auto [first, count] :
       {std::pair{dir_at, dir_sectors}, std::pair{minifat_at, minifat_sectors},
        std::pair{mini_at, mini_sectors}}) {
    for (uint32_t i = 0; i < count; ++i) fat[first + i] = i + 1 < count ? first + i + 1 : kEnd;
  }
  for (size_t i = 0; i < fat.size(); ++i) b.put_le<uint32_t>(sector(0) + 4 * i, fat[i]);
  // The directory: the root, then each stream as the right sibling of the one before.
  const auto entry = [&](uint32_t id, std::string_view name, uint8_t type, uint32_t right,
                         uint32_t child, uint32_t start, uint64_t size) {
    const size_t at = sector(dir_at) + 128 * size_t{id};
    for (size_t c = 0; c < name.size(); ++c) b.put_le<uint16_t>(at + 2 * c, name[c]);
    b.put_le<uint16_t>(at + 0x40, static_cast<uint16_t>(2 * (name.size() + 1)));
    b.put_le<uint8_t>(at + 0x42, type).put_le<uint8_t>(at + 0x43, 1);
    b.put_le<uint32_t>(at + 0x44, kFree).put_le<uint32_t>(at + 0x48, right);
    b.put_le<uint32_t>(at + 0x4c, child).put_le<uint32_t>(at + 0x74, start);
    b.put_le<uint64_t>(at + 0x78, size);
  };
  entry(0, "Root Entry", 5, kFree, 1, mini_at, uint64_t{kStreams} * 64);
  for (uint32_t i = 1; i <= kStreams; ++i) {
    entry(i, "s" + std::to_string(i), 2, i < kStreams ? i + 1 : kFree, kFree, i - 1, 64);
  }
  for (uint32_t i = kStreams + 1; i < dir_sectors * 4; ++i) entry(i, "", 0, kFree, kFree, 0, 0);
  // Each stream one mini sector, filled with its own byte.
  for (uint32_t i = 0; i < minifat_sectors * 128; ++i) {
    b.put_le<uint32_t>(sector(minifat_at) + 4 * size_t{i}, i < kStreams ? kEnd : kFree);
  }
  for (uint32_t i = 0; i < kStreams; ++i) {
    for (size_t k = 0; k < 64; ++k) {
      b.put_le<uint8_t>(sector(mini_at) + 64 * size_t{i} + k, static_cast<uint8_t>(i * 7 + 1));
    }
  }
  auto ole = parse_ole(b.span());
  ASSERT_THAT(ole, IsOk());
  ASSERT_EQ(ole->entries.size(), size_t{dir_sectors} * 4);
  size_t exact = 0;
  for (uint32_t i = 1; i <= kStreams; ++i) {
    auto data = read_ole_stream(*ole, b.span(), i);
    ASSERT_THAT(data, IsOk()) << i;
    exact += data->size() == 64 && std::all_of(data->begin(), data->end(), [&](std::byte c) {
               return c == static_cast<std::byte>(static_cast<uint8_t>((i - 1) * 7 + 1));
             });
  }
  EXPECT_EQ(exact, kStreams);
  // A mini sector past the mini stream's end is an error, not a read beyond it.
  ole->entries[kStreams].start_sector = kStreams + 5;
  ole->mini_fat[kStreams + 5] = kEnd;
  EXPECT_FALSE(read_ole_stream(*ole, b.span(), kStreams));
}

}  // namespace
}  // namespace catena::formats
