#pragma once
// Builds binary test inputs field by field, so malformed files are written as intent, not blobs.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace catena::test {

class ByteBuilder {
 public:
  explicit ByteBuilder(size_t size = 0) : bytes_(size, 0) {}

  ByteBuilder& resize(size_t size) {
    bytes_.resize(size, 0);
    return *this;
  }
  ByteBuilder& put(size_t offset, std::string_view text) {
    ensure(offset + text.size());
    for (size_t idx = 0; idx < text.size(); ++idx)
      bytes_[offset + idx] = static_cast<uint8_t>(text[idx]);
    return *this;
  }
  template <class T>
  ByteBuilder& put_le(size_t offset, T value) {
    ensure(offset + sizeof(T));
    for (size_t idx = 0; idx < sizeof(T); ++idx) {
      bytes_[offset + idx] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * idx));
    }
    return *this;
  }
  template <class T>
  ByteBuilder& put_be(size_t offset, T value) {
    ensure(offset + sizeof(T));
    for (size_t idx = 0; idx < sizeof(T); ++idx) {
      bytes_[offset + sizeof(T) - 1 - idx] =
          static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * idx));
    }
    return *this;
  }
  std::span<const std::byte> span() const { return std::as_bytes(std::span(bytes_)); }
  std::string str() const { return std::string(bytes_.begin(), bytes_.end()); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void ensure(size_t size) {
    if (bytes_.size() < size) bytes_.resize(size, 0);
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace catena::test
