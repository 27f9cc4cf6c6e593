#pragma once
// Why many files of one package changed at once. A language package manager that upgrades a
// tool a distribution package installed (`npm install -g npm` over Debian's nodejs) rewrites
// the tool's whole directory, its manifest included: every file then differs from dpkg's
// record. Naming that directory and what its manifest now says turns hundreds of findings into
// one explained group. The explanation never lowers a severity: an attacker can rewrite a
// manifest as easily as a manager can.
#include <cstddef>
#include <string>
#include <vector>

#include "root_fs.hpp"

namespace catena::pkg {

struct RewrittenDirectory {
  std::string directory;  // the outermost directory whose manifest changed
  std::string manifest;   // its path
  std::string manager;    // "npm", "cargo"
  std::string version;    // what the manifest names now (empty: unreadable or none)
  size_t files = 0;       // changed files of the package beneath it, the manifest included
  size_t gone = 0;        // files of the package beneath it that are missing
  std::string explanation;
};

/// Files that change together with their manifest before a directory counts as rewritten.
constexpr size_t kRewrittenFiles = 3;

/// The rewritten directories among the changed files of one package (`modified`, absolute
/// paths in `fs`'s root): each holds a changed manifest (package.json, Cargo.toml) and at least
/// kRewrittenFiles changed files beneath it. Nested manifests (node_modules inside npm) belong
/// to the outermost. Files of the package that are gone (`missing`) beneath it were removed by
/// the same rewrite and are counted with it. The manifest is read through `fs` (never
/// following a final symlink, at most 1 MiB) only for its version.
std::vector<RewrittenDirectory> rewritten_directories(const std::vector<std::string>& modified,
                                                      const std::vector<std::string>& missing,
                                                      const std::string& package,
                                                      const RootFs& fs);

}  // namespace catena::pkg
