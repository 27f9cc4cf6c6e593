#include "catena/core/bytes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <limits>

#include "support/matchers.hpp"

namespace catena {
namespace {

using test::HasError;
using test::IsOkAndHolds;

TEST(FitsIn, RejectsOverflowingRanges) {
  struct Case {
    uint64_t size, offset, length;
    bool fits;
  };
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  for (const Case& c : std::vector<Case>{{10, 0, 10, true},
                                         {10, 10, 0, true},
                                         {10, 11, 0, false},
                                         {10, 5, 6, false},
                                         {10, 1, max, false},
                                         {max, max, 1, false},
                                         {max, 1, max, false}}) {
    EXPECT_EQ(fits_in(c.size, c.offset, c.length), c.fits)
        << c.size << " " << c.offset << " " << c.length;
  }
}

TEST(ByteReader, ReadsBothEndians) {
  const std::array<uint8_t, 4> data = {0x01, 0x02, 0x03, 0x04};
  ByteReader reader(data.data(), data.size());
  EXPECT_THAT(reader.read_le<uint32_t>(0), IsOkAndHolds(0x04030201u));
  EXPECT_THAT(reader.read_be<uint32_t>(0), IsOkAndHolds(0x01020304u));
  EXPECT_THAT(reader.read_le<uint16_t>(2), IsOkAndHolds(0x0403u));
  EXPECT_THAT(reader.read_le<int8_t>(3), IsOkAndHolds(int8_t{4}));
}

TEST(ByteReader, ReportsTruncationWithOffset) {
  const std::array<uint8_t, 4> data = {1, 2, 3, 4};
  ByteReader reader(data.data(), data.size());
  auto value = reader.read_le<uint32_t>(1);
  ASSERT_THAT(value, HasError(ErrorCode::Truncated));
  EXPECT_EQ(value.error().offset, 1u);
  EXPECT_THAT(reader.bytes(2, std::numeric_limits<uint64_t>::max()),
              HasError(ErrorCode::Truncated));
  EXPECT_THAT(reader.read_be<uint64_t>(std::numeric_limits<uint64_t>::max() - 2),
              HasError(ErrorCode::Truncated));
  EXPECT_FALSE(reader.matches(3, "\x04\x05"));
  EXPECT_TRUE(reader.matches(3, "\x04"));
}

TEST(CheckedArithmetic, DetectsOverflow) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_THAT(checked_add(max, 1), HasError(ErrorCode::OutOfRange));
  EXPECT_THAT(checked_mul(max / 2 + 1, 2), HasError(ErrorCode::OutOfRange));
  EXPECT_THAT(checked_add(1, 2), IsOkAndHolds(3u));
  EXPECT_THAT(checked_mul(1u << 20, 1u << 20), IsOkAndHolds(uint64_t{1} << 40));
}

}  // namespace
}  // namespace catena
