#pragma once
/// ByteReader: bounds-checked, endian-explicit reads over untrusted bytes.
///
///   ByteReader reader(bytes);
///   CATENA_TRY(uint32_t e_lfanew, reader.read_le<uint32_t>(0x3c));
///
/// Every read checks `offset <= size && length <= size - offset`; no read can overflow. Values are
/// copied out with memcpy, never reinterpret_cast. Errors: Truncated (read past the end).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "catena/core/result.hpp"

namespace catena {

/// True when [offset, offset+length) lies inside a buffer of `size` bytes, without overflow.
constexpr bool fits_in(uint64_t size, uint64_t offset, uint64_t length) {
  return offset <= size && length <= size - offset;
}

/// Overflow-checked arithmetic for sizes taken from files.
[[nodiscard]] Result<uint64_t> checked_add(uint64_t a, uint64_t b);
[[nodiscard]] Result<uint64_t> checked_mul(uint64_t a, uint64_t b);

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}
  ByteReader(const void* data, size_t size) : data_(static_cast<const std::byte*>(data), size) {}

  size_t size() const { return data_.size(); }
  std::span<const std::byte> data() const { return data_; }

  /// The bytes [offset, offset+length); Truncated if they are not all present.
  [[nodiscard]] Result<std::span<const std::byte>> bytes(uint64_t offset, uint64_t length) const;

  /// True when the bytes at `offset` equal `magic` (false, not an error, when out of range).
  bool matches(uint64_t offset, std::string_view magic) const;

  template <class T>
  [[nodiscard]] Result<T> read_le(uint64_t offset) const {
    return read_integer<T>(offset, /*big_endian=*/false);
  }
  template <class T>
  [[nodiscard]] Result<T> read_be(uint64_t offset) const {
    return read_integer<T>(offset, /*big_endian=*/true);
  }

 private:
  template <class T>
  Result<T> read_integer(uint64_t offset, bool big_endian) const {
    static_assert(std::is_integral_v<T>);
    if (!fits_in(data_.size(), offset, sizeof(T))) return truncated(offset, sizeof(T));
    std::make_unsigned_t<T> value = 0;
    for (size_t byte_idx = 0; byte_idx < sizeof(T); ++byte_idx) {
      const size_t source = big_endian ? byte_idx : sizeof(T) - 1 - byte_idx;
      value = static_cast<std::make_unsigned_t<T>>(
          (value << 8) | static_cast<uint8_t>(data_[static_cast<size_t>(offset) + source]));
    }
    return static_cast<T>(value);
  }
  tl::unexpected<Error> truncated(uint64_t offset, uint64_t length) const;

  std::span<const std::byte> data_;
};

}  // namespace catena
