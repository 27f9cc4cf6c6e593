#pragma once
// The real-world test data scripts/fetch-test-data.sh caches, and reading files whole.
#include <string>

namespace catena::test {

/// $CATENA_TEST_CACHE, else ~/.cache/catena-test-data.
std::string cache_dir();

/// The whole file; empty when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace catena::test
