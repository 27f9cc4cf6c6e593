#include <algorithm>

#include "catena/core/fs.hpp"
#include "catena/scan/scanner.hpp"

namespace catena::scan {

Result<std::vector<Root>> resolve_roots(const std::vector<std::string>& given,
                                        MissingRoot missing) {
  std::vector<Root> candidates;
  for (const std::string& path : given) {
    if (path.empty()) return make_error(ErrorCode::Usage, "empty path given to scan");
    Root root{absolute_path(path), {}};
    auto canonical = canonical_path(root.path);
    if (!canonical) {
      if (missing == MissingRoot::Skip) continue;
      return make_error(ErrorCode::Usage, "cannot scan " + path + ": " + canonical.error().message);
    }
    root.canonical = std::move(*canonical);
    candidates.push_back(std::move(root));
  }
  std::vector<Root> out;
  for (size_t idx = 0; idx < candidates.size(); ++idx) {
    const Root& root = candidates[idx];
    bool covered = false;
    for (size_t other_idx = 0; other_idx < candidates.size() && !covered; ++other_idx) {
      if (other_idx == idx) continue;
      const Root& other = candidates[other_idx];
      // Drop a root inside another; of two equal roots keep the first.
      if (other.canonical == root.canonical) {
        covered = other_idx < idx;
      } else {
        covered = path_is_within(root.canonical, other.canonical);
      }
    }
    if (!covered) out.push_back(root);
  }
  return out;
}

}  // namespace catena::scan
