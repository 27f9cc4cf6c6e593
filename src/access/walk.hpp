#pragma once
// The walk of homes and system places, race-free (see walk.cpp).
#include "catena/access/access.hpp"

namespace catena::access {

/// Walks options.homes (and the system places of CI agents) and adds every discovery, the
/// counts and any ACCESS_LIMIT_REACHED finding to `report`.
void walk(const Options& options, Report& report);

}  // namespace catena::access
