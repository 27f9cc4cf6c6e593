#include <cstddef>
#include <cstdint>
#include <span>

#include "catena/formats/macho.hpp"
#include "catena/trust/codesign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto macho = catena::formats::parse_macho(bytes);
  if (!macho) return 0;
  // No trust anchors: the chain step runs but finds nothing to trust.
  static const catena::trust::TrustStore store = *catena::trust::TrustStore::load({}, false);
  (void)catena::trust::verify_macho(bytes, *macho, store);
  return 0;
}
