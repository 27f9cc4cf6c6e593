// Deployment files (CSV and JSON) as anyone may hand them over: parsed or refused with the
// line or element named; a parsed deployment never ends before it starts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "catena/graph/deployments.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = catena::graph::parse_deployments(text, "fuzz.csv");
  if (parsed) {
    for (const catena::graph::Deployment& d : *parsed) {
      if (d.site.empty() || d.release_name.empty() || d.release_version.empty()) std::abort();
      if (d.removed_ns && *d.removed_ns < d.installed_ns) std::abort();
    }
  } else if (parsed.error().message.find("fuzz.csv") == std::string::npos) {
    std::abort();
  }
  (void)catena::graph::parse_when(text);
  return 0;
}
