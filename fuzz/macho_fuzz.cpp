#include <cstddef>
#include <cstdint>
#include <span>

#include "catena/formats/dmg.hpp"
#include "catena/formats/macho.hpp"
#include "catena/trust/codesign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  // No trust anchors: the chain step runs but finds nothing to trust.
  static const catena::trust::TrustStore store = *catena::trust::TrustStore::load({}, false);
  // A disk image carries the same superblob behind its trailer.
  if (auto dmg = catena::formats::parse_dmg(bytes)) {
    (void)catena::trust::verify_dmg(bytes, *dmg, store);
  }
  auto macho = catena::formats::parse_macho(bytes);
  if (!macho) return 0;
  (void)catena::trust::verify_macho(bytes, *macho, store);
  return 0;
}
