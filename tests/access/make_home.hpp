#pragma once
// The fixture home both access test files build: every credential kind, made by make_home.sh.
#include <string>

#include "support/run.hpp"

namespace catena::test {

/// Builds the home at `dir`; `name` varies its secrets (all start with "catenasecret").
inline RunResult make_home(const std::string& dir, const std::string& name) {
  return run_command(
      {"/bin/sh", std::string(CATENA_SOURCE_DIR) + "/tests/access/make_home.sh", dir, name});
}

}  // namespace catena::test
