#pragma once
// The store's schema as an ordered list of migrations; migration N brings user_version N-1 to N.
#include <span>
#include <string_view>

namespace catena::store {

// 'CATE': marks a SQLite file as a catena store, so that another application's database is
// refused instead of being migrated into.
inline constexpr int kApplicationId = 0x43415445;

std::span<const std::string_view> migrations();

}  // namespace catena::store
