#include <cstddef>
#include <cstdint>

#include "catena/formats/format.hpp"
#include "catena/formats/strings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  (void)catena::formats::classify_format(bytes);
  // A small cap, so that the fuzzer also reaches the truncation path.
  (void)catena::formats::network_strings(bytes, 8);
  return 0;
}
