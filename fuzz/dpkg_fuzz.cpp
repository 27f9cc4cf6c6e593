#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catena/pkg/dpkg.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)catena::pkg::parse_list(text);
  (void)catena::pkg::parse_diversions(text);
  return 0;
}
