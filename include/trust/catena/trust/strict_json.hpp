#pragma once
/// JSON for signed metadata and envelopes: parsing that refuses what two parsers could read
/// differently (a duplicate object key, deep nesting, invalid UTF-8).
#include <nlohmann/json.hpp>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena::trust {

inline constexpr size_t kMaxJsonDepth = 256;

/// Parse error naming the problem for malformed JSON, a duplicate object key, nesting deeper
/// than kMaxJsonDepth, or invalid UTF-8.
[[nodiscard]] Result<nlohmann::json> parse_strict_json(std::string_view text);

/// Appends `text` as a JSON string the way securesystemslib's canonical encoding writes it:
/// only '"' and '\\' are escaped, every other byte is copied.
void canonical_quote(std::string_view text, std::string& out);

}  // namespace catena::trust
