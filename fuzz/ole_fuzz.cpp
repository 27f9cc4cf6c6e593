#include <cstddef>
#include <cstdint>
#include <span>

#include "catena/formats/msi.hpp"
#include "catena/formats/ole.hpp"
#include "catena/trust/authenticode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto ole = catena::formats::parse_ole(bytes);
  if (!ole) return 0;
  for (size_t idx = 0; idx < ole->entries.size(); ++idx) {
    auto stream = catena::formats::read_ole_stream(*ole, bytes, idx);
    if (stream) (void)catena::formats::parse_summary_information(*stream);
  }
  (void)catena::formats::msi_file_names(*ole, bytes);
  // The string pool on its own, the input split in two.
  (void)catena::formats::parse_msi_string_pool(bytes.first(size / 2), bytes.subspan(size / 2));
  // No trust anchors: the chain step runs but finds nothing to trust.
  static const catena::trust::TrustStore store = *catena::trust::TrustStore::load({}, false);
  (void)catena::trust::verify_msi_authenticode(bytes, *ole, store);
  return 0;
}
