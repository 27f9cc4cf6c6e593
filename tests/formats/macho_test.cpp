// Mach-O parsing on crafted images (thin, fat, both byte orders, damaged) and on real ones from
// npm (fetched by scripts/fetch-test-data.sh).
#include "catena/formats/macho.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/byte_builder.hpp"
#include "support/cache.hpp"
#include "support/macho_builder.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"

namespace catena::formats {
namespace {

using test::cache_dir;
using test::IsOk;
using test::read_file;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string cache_file(const std::string& name) {
  return test::read_file(test::cache_dir() + "/npm/" + name);
}

// A fat header over the given slices, each placed at a 4 KiB boundary.
std::string build_fat(const std::vector<std::pair<uint32_t, std::string>>& slices) {
  test::ByteBuilder b;
  b.put_be<uint32_t>(0, 0xcafebabe);
  b.put_be<uint32_t>(4, static_cast<uint32_t>(slices.size()));
  size_t offset = 4096;
  std::string body;
  for (size_t idx = 0; idx < slices.size(); ++idx) {
    b.put_be<uint32_t>(8 + 20 * idx, slices[idx].first);
    b.put_be<uint32_t>(8 + 20 * idx + 8, static_cast<uint32_t>(offset));
    b.put_be<uint32_t>(8 + 20 * idx + 12, static_cast<uint32_t>(slices[idx].second.size()));
    b.put_be<uint32_t>(8 + 20 * idx + 16, 12);
    b.put(offset, slices[idx].second);
    offset = (offset + slices[idx].second.size() + 4095) / 4096 * 4096;
  }
  return b.str();
}

TEST(Macho, ThinImageLoadCommands) {
  test::MachoSpec spec;
  spec.dylibs = {"/usr/lib/libSystem.B.dylib", "@rpath/libfoo.dylib"};
  const std::string image = test::build_macho(spec);
  auto parsed = parse_macho(bytes_of(image));
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->slices.size(), 1u);
  const MachoSlice& slice = parsed->slices[0];
  EXPECT_FALSE(parsed->fat);
  EXPECT_TRUE(slice.is64);
  EXPECT_FALSE(slice.big_endian);
  EXPECT_EQ(macho_cpu_name(slice.cpu_type), "arm64");
  EXPECT_EQ(slice.dylibs, spec.dylibs);
  EXPECT_EQ(slice.rpaths, std::vector<std::string>{spec.rpath});
  EXPECT_EQ(slice.uuid, "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(slice.code_end, spec.code_size);
  EXPECT_TRUE(slice.problems.empty()) << slice.problems.front();
  ASSERT_TRUE(slice.signature.has_value());
  ASSERT_EQ(slice.signature->code_directories.size(), 1u);
  const MachoCodeDirectory& cd = slice.signature->code_directories[0];
  EXPECT_EQ(cd.identifier, "com.example.tool");
  EXPECT_EQ(cd.code_slots, 3u);
  EXPECT_EQ(cd.code_limit, spec.code_size);
  EXPECT_TRUE(slice.signature->cms.empty());
}

TEST(Macho, BigEndian32BitImage) {
  test::MachoSpec spec;
  spec.big_endian = true;
  spec.is64 = false;
  spec.cpu_type = 18;  // ppc
  spec.sign = false;
  auto parsed = parse_macho(bytes_of(test::build_macho(spec)));
  ASSERT_THAT(parsed, IsOk());
  const MachoSlice& slice = parsed->slices[0];
  EXPECT_TRUE(slice.big_endian);
  EXPECT_FALSE(slice.is64);
  EXPECT_EQ(macho_cpu_name(slice.cpu_type), "ppc");
  EXPECT_EQ(slice.dylibs, spec.dylibs);
  EXPECT_FALSE(slice.signature.has_value());
}

TEST(Macho, FatImageSlices) {
  test::MachoSpec arm;
  test::MachoSpec intel;
  intel.cpu_type = 0x01000007;
  intel.sign = false;
  const std::string fat = build_fat(
      {{arm.cpu_type, test::build_macho(arm)}, {intel.cpu_type, test::build_macho(intel)}});
  auto parsed = parse_macho(bytes_of(fat));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->fat);
  ASSERT_EQ(parsed->slices.size(), 2u);
  EXPECT_EQ(parsed->slices[0].offset, 4096u);
  EXPECT_TRUE(parsed->slices[0].signature.has_value());
  EXPECT_EQ(macho_cpu_name(parsed->slices[1].cpu_type), "x86_64");
  EXPECT_FALSE(parsed->slices[1].signature.has_value());
  EXPECT_TRUE(parsed->problems.empty());
}

TEST(Macho, HostileInputIsBounded) {
  // Ten thousand fat slices: refused by the named cap, not walked.
  test::ByteBuilder many;
  many.put_be<uint32_t>(0, 0xcafebabe).put_be<uint32_t>(4, 10000).resize(4096);
  auto refused = parse_macho(many.span());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::LimitExceeded);

  // A slice past the end of the file, and two slices claiming the same bytes.
  const std::string image = test::build_macho({});
  std::string fat = build_fat({{0x0100000c, image}});
  test::ByteBuilder header;
  header.put_be<uint32_t>(0, 0xcafebabe).put_be<uint32_t>(4, 3);
  for (size_t idx = 0; idx < 3; ++idx) {
    header.put_be<uint32_t>(8 + 20 * idx, 0x0100000c);
    header.put_be<uint32_t>(16 + 20 * idx, idx == 2 ? 0xfffff000u : 4096u);
    header.put_be<uint32_t>(20 + 20 * idx, static_cast<uint32_t>(image.size()));
  }
  header.resize(4096);
  fat.replace(0, 4096, header.str());
  auto odd = parse_macho(bytes_of(fat));
  ASSERT_THAT(odd, IsOk());
  ASSERT_EQ(odd->slices.size(), 3u);
  EXPECT_FALSE(odd->problems.empty());            // slices 0 and 1 overlap
  EXPECT_FALSE(odd->slices[2].problems.empty());  // outside the file

  // Truncated header, load commands past the end, a command of size 0.
  const std::string thin = test::build_macho({});
  EXPECT_FALSE(parse_macho(bytes_of(thin.substr(0, 20))).has_value());
  std::string overrun = thin;
  overrun[20] = '\xff';
  overrun[21] = '\xff';
  overrun[22] = '\xff';
  auto parsed = parse_macho(bytes_of(overrun.substr(0, 200)));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_FALSE(parsed->slices[0].problems.empty());
  std::string zero = thin;
  zero[32 + 4] = zero[32 + 5] = zero[32 + 6] = zero[32 + 7] = '\0';
  auto stopped = parse_macho(bytes_of(zero));
  ASSERT_THAT(stopped, IsOk());
  EXPECT_FALSE(stopped->slices[0].problems.empty());
}

TEST(Macho, CodeDirectoryWithImpossibleCountsIsAProblem) {
  test::MachoSpec spec;
  std::string image = test::build_macho(spec);
  // nCodeSlots of the CodeDirectory (superblob at code_size, CD at +20, field at +28).
  const size_t field = spec.code_size + 20 + 28;
  image[field] = '\x7f';
  image[field + 1] = image[field + 2] = image[field + 3] = '\xff';
  auto parsed = parse_macho(bytes_of(image));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->slices[0].signature->code_directories.empty());
  EXPECT_FALSE(parsed->slices[0].problems.empty());
}

TEST(Macho, RealBinariesFromNpm) {
  const std::string esbuild = cache_file("esbuild-darwin-arm64");
  const std::string sentry = cache_file("sentry-cli-darwin");
  if (esbuild.empty() || sentry.empty()) CATENA_MISSING() << "npm test data not fetched";
  auto thin = parse_macho(bytes_of(esbuild));
  ASSERT_THAT(thin, IsOk());
  ASSERT_EQ(thin->slices.size(), 1u);
  EXPECT_FALSE(thin->slices[0].dylibs.empty());
  EXPECT_EQ(thin->slices[0].dylibs[0].rfind("/usr/lib/", 0), 0u) << thin->slices[0].dylibs[0];
  ASSERT_TRUE(thin->slices[0].signature.has_value());
  EXPECT_EQ(thin->slices[0].signature->code_directories[0].identifier, "a.out");

  auto fat = parse_macho(bytes_of(sentry));
  ASSERT_THAT(fat, IsOk());
  ASSERT_EQ(fat->slices.size(), 2u);
  for (const MachoSlice& slice : fat->slices) {
    EXPECT_TRUE(slice.problems.empty());
    ASSERT_TRUE(slice.signature.has_value());
    EXPECT_FALSE(slice.signature->cms.empty());
    EXPECT_EQ(slice.signature->code_directories[0].team_id, "97JCY7859U");
  }
}

TEST(Macho, SeedCorpusAndRegressionsParse) {
  size_t replayed = 0;
  for (const char* dir : {"/tests/data/regress/macho", "/fuzz/corpus/macho"}) {
    const std::filesystem::path root = std::string(CATENA_SOURCE_DIR) + dir;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      (void)parse_macho(bytes_of(bytes));
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0u);
}

}  // namespace
}  // namespace catena::formats
