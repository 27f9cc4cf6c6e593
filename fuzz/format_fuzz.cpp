#include <cstddef>
#include <cstdint>

#include "catena/formats/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)catena::formats::classify_format(std::as_bytes(std::span(data, size)));
  return 0;
}
