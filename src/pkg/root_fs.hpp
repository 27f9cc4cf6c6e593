#pragma once
// Looks at files of a package root: the host ("/") through ordinary calls, any other root with
// openat2(RESOLVE_IN_ROOT) so that its symlinks resolve inside it, as on the machine it came
// from. Kernels without openat2 fall back to joined paths (dpkg's behaviour).
#include <sys/stat.h>

#include <string>

#include "catena/core/fs.hpp"
#include "catena/core/result.hpp"

namespace catena::pkg {

class RootFs {
 public:
  [[nodiscard]] static Result<RootFs> open(const std::string& root);

  /// lstat of an absolute, root-relative path; 0 or an errno value.
  int stat_nofollow(const std::string& path, struct stat& st) const;
  /// Opens a regular file for reading without following a final symlink; the fd, or -errno.
  int open_read(const std::string& path) const;
  /// An O_PATH descriptor of a directory (symlinks on the way followed within the root), or -1.
  int open_dir(const std::string& path) const;
  /// The target of a symlink, or empty.
  std::string read_link(const std::string& path) const;

 private:
  int open_in_root(const std::string& path, int flags) const;

  std::string root_;
  bool host_ = true;
  bool openat2_ = false;
  UniqueFd root_fd_;
};

}  // namespace catena::pkg
