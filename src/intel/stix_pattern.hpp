#pragma once
// The comparisons of a STIX 2.1 pattern, private to the intel module (see stix_pattern.cpp).
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::intel {

struct PatternComparison {
  std::string object;    // the object type, lower case: "file", "ipv4-addr"
  std::string property;  // lower case, quotes removed: "hashes.sha-256", "name"
  std::string op;        // "=", "!=", "<", "<=", ">", ">=", "LIKE", "MATCHES", "IN", "EXISTS", ...
  bool negated = false;  // NOT before the operator
  bool string_value = false;  // the value is a plain quoted string (not t'', h'', b'', a list)
  std::string value;          // unescaped
};

/// Every comparison of a STIX 2.1 pattern, in order, however the pattern combines them (AND,
/// OR, FOLLOWEDBY, qualifiers). An error only when the pattern cannot be read at all (an
/// unterminated string, a character no pattern has, a comparison without an operator).
[[nodiscard]] Result<std::vector<PatternComparison>> stix_comparisons(std::string_view pattern);

}  // namespace catena::intel
