#pragma once
// Private JSON helpers of the report module: byte-exact paths into UTF-8-only JSON.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "catena/core/text.hpp"

namespace catena::report {

// Sets `key` (readable) and, when the bytes are not UTF-8, `key_b64` (exact).
inline void put_bytes(nlohmann::json& object, const std::string& key, std::string_view bytes) {
  bool needs_b64 = false;
  object[key] = json_path_text(bytes, &needs_b64);
  if (needs_b64) object[key + "_b64"] = base64_encode(bytes);
}

// Serialises compactly; invalid UTF-8 can only come from a bug, and is replaced, not thrown.
inline std::string dump(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Text that may hold attacker bytes (messages quoting paths) made valid UTF-8 losslessly.
inline std::string utf8_text(std::string_view bytes) {
  return is_valid_utf8(bytes) ? std::string(bytes) : escape_for_terminal(bytes);
}

}  // namespace catena::report
