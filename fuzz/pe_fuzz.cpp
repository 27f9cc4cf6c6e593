#include <cstddef>
#include <cstdint>
#include <span>

#include "catena/formats/pe.hpp"
#include "catena/trust/authenticode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto pe = catena::formats::parse_pe(bytes);
  if (!pe) return 0;
  (void)catena::formats::pe_checksum(bytes, pe->checksum_offset);
  (void)catena::formats::authenticode_ranges(*pe, size);
  // No trust anchors: the chain step runs but finds nothing to trust.
  static const catena::trust::TrustStore store = *catena::trust::TrustStore::load({}, false);
  (void)catena::trust::verify_authenticode(bytes, *pe, store);
  return 0;
}
