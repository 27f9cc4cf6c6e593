#include <cstddef>
#include <cstdint>
#include <span>

#include "catena/formats/elf.hpp"
#include "catena/trust/codesign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto elf = catena::formats::parse_elf(bytes);
  if (!elf) return 0;
  const catena::formats::ElfSymbols symbols = catena::formats::elf_dynamic_symbols(bytes, *elf);
  if (symbols.imports.size() + symbols.exports.size() > catena::formats::kMaxElfSymbols) {
    __builtin_trap();
  }
  // No trust anchors: the signer is looked up and not found.
  static const catena::trust::TrustStore store = *catena::trust::TrustStore::load({}, false);
  (void)catena::trust::verify_module_signature(bytes, *elf, store);
  return 0;
}
