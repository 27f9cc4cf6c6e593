#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "catena/core/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Escaped output must always be valid UTF-8, and base64 must round-trip.
  if (!catena::is_valid_utf8(catena::escape_for_terminal(bytes))) std::abort();
  auto decoded = catena::base64_decode(catena::base64_encode(bytes));
  if (!decoded || *decoded != bytes) std::abort();
  (void)catena::base64_decode(bytes);
  (void)catena::percent_encode_path(bytes);
  return 0;
}
