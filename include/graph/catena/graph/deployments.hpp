#pragma once
/// Deployments as a vendor or a customer keeps them: which site installed which release, and
/// when. CSV with a header naming the columns (any order):
///
///   site,release,version,installed_at,removed_at
///   acme-corp,3cx-desktop,18.12.416,2023-03-01,
///
/// or JSON, an array of objects with the same names. Times are RFC 3339 UTC or a date
/// (YYYY-MM-DD, midnight UTC); removed_at may be empty or absent. Every error names its line
/// (CSV) or its element (JSON); nothing is kept from a file with an error.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/graph/graph_store.hpp"

namespace catena::graph {

/// `source` names the file in errors and in each deployment's evidence.
[[nodiscard]] Result<std::vector<Deployment>> parse_deployments(std::string_view text,
                                                                const std::string& source);

/// "2023-03-01" (midnight UTC) or RFC 3339 UTC ("2023-03-01T08:00:00Z"); nullopt otherwise.
std::optional<int64_t> parse_when(std::string_view text);

}  // namespace catena::graph
