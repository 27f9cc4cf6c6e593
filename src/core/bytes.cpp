#include "catena/core/bytes.hpp"

#include <string>

namespace catena {

Result<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    return make_error(ErrorCode::OutOfRange,
                      "integer overflow: " + std::to_string(a) + " + " + std::to_string(b));
  }
  return out;
}

Result<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) {
    return make_error(ErrorCode::OutOfRange,
                      "integer overflow: " + std::to_string(a) + " * " + std::to_string(b));
  }
  return out;
}

Result<std::span<const std::byte>> ByteReader::bytes(uint64_t offset, uint64_t length) const {
  if (!fits_in(data_.size(), offset, length)) return truncated(offset, length);
  return data_.subspan(static_cast<size_t>(offset), static_cast<size_t>(length));
}

bool ByteReader::matches(uint64_t offset, std::string_view magic) const {
  if (!fits_in(data_.size(), offset, magic.size())) return false;
  return std::memcmp(data_.data() + offset, magic.data(), magic.size()) == 0;
}

tl::unexpected<Error> ByteReader::truncated(uint64_t offset, uint64_t length) const {
  return make_error(ErrorCode::Truncated,
                    "read of " + std::to_string(length) + " bytes past end of " +
                        std::to_string(data_.size()) + "-byte input",
                    offset);
}

}  // namespace catena
