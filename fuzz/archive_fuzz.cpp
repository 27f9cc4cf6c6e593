// Archives and asar files are the attacker's: whatever the bytes, reading stops within the
// limits and never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "catena/formats/archive.hpp"
#include "catena/formats/asar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  const catena::formats::ArchiveLimits limits{.max_members = 1000,
                                              .max_member_bytes = 1 << 20,
                                              .max_total_bytes = 4 << 20,
                                              .max_ratio = 200};
  uint64_t seen = 0;
  const auto visit = [&](catena::formats::ArchiveMember&& member) {
    seen += member.data.size();
    if (member.data.size() > limits.max_member_bytes) std::abort();
    (void)catena::formats::unsafe_member_name(member.name);
  };
  if (auto summary = catena::formats::read_archive(bytes, limits, visit)) {
    if (summary->members > limits.max_members || seen > limits.max_total_bytes) std::abort();
  }
  seen = 0;
  (void)catena::formats::looks_like_asar(bytes);
  if (auto summary = catena::formats::read_asar(bytes, limits, visit)) {
    if (summary->members > limits.max_members || seen > limits.max_total_bytes) std::abort();
  }
  return 0;
}
