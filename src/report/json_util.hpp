#pragma once
// Private JSON helpers of the report module: byte-exact paths into UTF-8-only JSON.
#include <cstdio>
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

// A document with an array too large to hold: `document` carries kArraySlot where the array
// goes, and `write_items` writes each item through the function it is given. The document's
// other keys keep their place and indentation; items are compact, one per line.
inline constexpr const char* kArraySlot = "\x01array\x01";

template <typename WriteItems>
auto write_with_array(std::FILE* out,
                      const nlohmann::json& document,
                      int indent,
                      WriteItems&& write_items) {
  const std::string text = dump(document, indent);
  const std::string slot = dump(nlohmann::json(kArraySlot));
  const size_t at = text.find(slot);
  const size_t line = text.rfind('\n', at) + 1;  // npos + 1 == 0 for a one-line document
  size_t depth = line;
  while (depth < at && text[depth] == ' ') ++depth;
  const std::string margin(depth - line, ' ');
  const std::string item_margin = indent > 0 ? margin + std::string(indent, ' ') : "";
  std::fwrite(text.data(), 1, at, out);
  std::fputc('[', out);
  size_t items = 0;
  auto status = write_items([&](const nlohmann::json& item) {
    std::fputs(items++ == 0 ? "" : ",", out);
    if (indent >= 0) std::fputs(("\n" + item_margin).c_str(), out);
    std::fputs(dump(item).c_str(), out);
  });
  if (items > 0 && indent >= 0) std::fputs(("\n" + margin).c_str(), out);
  std::fputc(']', out);
  std::fputs(text.c_str() + at + slot.size(), out);
  return status;
}

}  // namespace catena::report
