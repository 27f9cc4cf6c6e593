#pragma once
// Keeping attestations in the store: what `catena attest` and `provenance import` share.
#include <string>
#include <string_view>

#include "catena/core/result.hpp"
#include "catena/store/store.hpp"

namespace catena::cli {

/// Stores a signed envelope under what its statement (already authenticated) says: builder,
/// host, step, times, and every subject, material, tool and library digest. Returns its id.
[[nodiscard]] Result<int64_t> store_attestation(store::Store& store,
                                                std::string_view envelope,
                                                std::string_view statement,
                                                const std::string& source);

}  // namespace catena::cli
