#pragma once
/// Digests of file content: any of SHA-256, MD5 and SHA-1, computed in the same pass over the
/// same bytes (OpenSSL EVP, so SHA-NI and AVX2 paths are used where the CPU has them).
///
///   DigestSet digests(DigestSet::kSha256);
///   digests.update(chunk);             // as many times as there are chunks
///   DigestValues values = digests.finish();
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena {

using Sha256 = std::array<uint8_t, 32>;
using Sha1 = std::array<uint8_t, 20>;
using Md5 = std::array<uint8_t, 16>;

/// Lower-case hex of any byte sequence.
std::string to_hex(std::span<const uint8_t> bytes);
/// Bytes from hex digits (either case); Parse error for an odd count or a non-hex character.
[[nodiscard]] Result<std::string> hex_decode(std::string_view hex);
/// Parses exactly 64 hex digits (either case); Parse error otherwise.
[[nodiscard]] Result<Sha256> sha256_from_hex(std::string_view hex);

/// Each value is set when its algorithm was asked for.
struct DigestValues {
  std::optional<Sha256> sha256;
  std::optional<Md5> md5;
  std::optional<Sha1> sha1;
};

class DigestSet {
 public:
  enum Algorithms : unsigned { kSha256 = 1, kMd5 = 2, kSha1 = 4 };

  /// Computes the `algorithms` given (at least one).
  explicit DigestSet(unsigned algorithms = kSha256);
  ~DigestSet();
  DigestSet(const DigestSet&) = delete;
  DigestSet& operator=(const DigestSet&) = delete;

  /// Starts a new digest; the object is reusable across files without reallocating.
  void reset();
  void update(std::span<const std::byte> data);
  DigestValues finish();

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
  unsigned algorithms_;
};

/// One-shot SHA-256 of a buffer.
Sha256 sha256_of(std::span<const std::byte> data);

/// Hash of a digest for unordered containers: its first bytes, a digest being uniformly random.
struct DigestHash {
  template <size_t N>
  size_t operator()(const std::array<uint8_t, N>& digest) const {
    static_assert(N >= sizeof(size_t));
    size_t out = 0;
    std::memcpy(&out, digest.data(), sizeof out);
    return out;
  }
};

}  // namespace catena
