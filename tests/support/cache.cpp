#include "support/cache.hpp"

#include <cstdlib>
#include <fstream>

namespace catena::test {

std::string cache_dir() {
  const char* env = std::getenv("CATENA_TEST_CACHE");
  if (env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.cache/catena-test-data";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::string out(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace catena::test
