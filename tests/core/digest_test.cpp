#include "catena/core/digest.hpp"

#include <gtest/gtest.h>

#include "support/matchers.hpp"

namespace catena {
namespace {

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(DigestSet, MatchesKnownVectorsForAllAlgorithms) {
  DigestSet digests(DigestSet::kSha256 | DigestSet::kMd5 | DigestSet::kSha1);
  digests.update(bytes_of("a"));
  digests.update(bytes_of("bc"));
  const DigestValues values = digests.finish();
  ASSERT_TRUE(values.sha256);
  EXPECT_EQ(to_hex(*values.sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(values.md5 && values.sha1);
  EXPECT_EQ(to_hex(*values.md5), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_hex(*values.sha1), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(DigestSet, IsReusableAfterFinish) {
  DigestSet digests;
  digests.update(bytes_of("junk"));
  (void)digests.finish();
  EXPECT_FALSE(digests.finish().md5.has_value());
  EXPECT_EQ(to_hex(*digests.finish().sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestSet, ComputesOnlyWhatWasAskedFor) {
  DigestSet digests(DigestSet::kMd5);
  digests.update(bytes_of("abc"));
  const DigestValues values = digests.finish();
  EXPECT_FALSE(values.sha256.has_value());
  EXPECT_FALSE(values.sha1.has_value());
  ASSERT_TRUE(values.md5);
  EXPECT_EQ(to_hex(*values.md5), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Sha256FromHex, ParsesAndRejects) {
  auto parsed = sha256_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_THAT(parsed, test::IsOk());
  EXPECT_EQ(to_hex(*parsed), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THAT(sha256_from_hex("abc"), test::HasError(ErrorCode::Parse));
  EXPECT_THAT(sha256_from_hex(std::string(63, 'a') + "g"), test::HasError(ErrorCode::Parse));
}

}  // namespace
}  // namespace catena
