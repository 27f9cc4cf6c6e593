#pragma once
/// Network indicators among a file's strings, as an analyst greps for them: URLs, host names
/// under a known top-level domain, and IPv4 addresses, found in runs of printable ASCII and of
/// UTF-16LE (Windows keeps its strings in the latter).
///
///   NetworkStrings found = network_strings(bytes);
///   for (const std::string& s : found.values) ...   // sorted, each once
///
/// Untrusted input, read once from start to end; a run longer than kMaxStringRun is cut, and at
/// most `max_values` distinct values are kept (`truncated` then says so).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace catena::formats {

inline constexpr size_t kMinStringRun = 6;
inline constexpr size_t kMaxStringRun = 4096;

struct NetworkStrings {
  std::vector<std::string> values;  // sorted; host names lower-cased
  bool truncated = false;
};

NetworkStrings network_strings(std::span<const std::byte> bytes, size_t max_values = 1000);

}  // namespace catena::formats
