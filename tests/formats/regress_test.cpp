// Replays every input a fuzzer ever crashed on (tests/data/regress/<format>/) and the seed corpus
// through the classifier: each must classify without a crash or sanitizer report.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "catena/formats/format.hpp"

namespace catena::formats {
namespace {

TEST(FormatRegressions, EveryStoredInputClassifies) {
  size_t replayed = 0;
  for (const char* dir : {"/tests/data/regress/format", "/fuzz/corpus/format"}) {
    const std::filesystem::path root = std::string(CATENA_SOURCE_DIR) + dir;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      const auto format = classify_format(std::as_bytes(std::span(bytes.data(), bytes.size())));
      EXPECT_FALSE(format_name(format).empty()) << entry.path();
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0u) << "no seed corpus found";
}

}  // namespace
}  // namespace catena::formats
