#include <cstddef>
#include <cstdint>
#include <span>

#include "catena/formats/elf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)catena::formats::parse_elf(std::as_bytes(std::span(data, size)));
  return 0;
}
