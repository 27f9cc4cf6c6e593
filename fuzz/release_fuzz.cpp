#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catena/release/cache.hpp"
#include "catena/release/diff.hpp"
#include "catena/release/inspect.hpp"

// A release that is one file: whatever it is (archive, MSI, asar, executable, disk image) is
// opened and analysed as `catena release inspect` would; the input's two halves are then
// inspected and compared as `catena release diff` would. Limits are small so that each input
// stays fast; they are the same code paths as the defaults.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  catena::release::InspectOptions options;
  options.limits.max_total_bytes = 8u << 20;
  options.limits.max_member_bytes = 4u << 20;
  options.limits.max_members = 2000;
  options.max_depth = 4;
  (void)catena::release::inspect_bytes("input", bytes, options);
  // What the store keeps of an inspection is read back as untrusted bytes too.
  (void)catena::release::decode_part(bytes);
  const size_t half = size / 2;
  const auto old_release = catena::release::inspect_bytes("r", bytes.substr(0, half), options);
  const auto new_release = catena::release::inspect_bytes("r", bytes.substr(half), options);
  (void)catena::release::diff(old_release, new_release, {});
  (void)catena::release::diff(old_release, new_release, {.rebuild = true});
  return 0;
}
