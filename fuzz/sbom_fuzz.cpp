#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catena/sbom/sbom.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bom = catena::sbom::parse_sbom(std::string_view(reinterpret_cast<const char*>(data), size));
  if (bom) (void)catena::sbom::check_sbom(*bom, *bom);
  return 0;
}
