#pragma once
// JSON for signed metadata: parsing that refuses what two parsers could read differently
// (duplicate keys, deep nesting), and securesystemslib's canonical encoding.
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"
#include "catena/trust/strict_json.hpp"

namespace catena::attest {

using trust::canonical_quote;
using trust::kMaxJsonDepth;
using trust::parse_strict_json;

/// Canonical JSON as securesystemslib encodes it: keys sorted by code point, no whitespace,
/// only '"' and '\' escaped. Parse error for a floating-point number, which it refuses, and
/// for a duplicate key. The one encoder of both signing and verifying.
[[nodiscard]] Status encode_canonical(simdjson::dom::element element, std::string& out);
/// The same for a value being signed (written as text and encoded by encode_canonical).
[[nodiscard]] Result<std::string> canonical_json(const nlohmann::json& value);

/// A string member of an object, or empty when absent or not a string.
std::string string_member(const nlohmann::json& object, std::string_view name);

}  // namespace catena::attest
