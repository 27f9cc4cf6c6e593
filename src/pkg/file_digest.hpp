#pragma once
// Helpers the package checks share: digesting a file of a root (core/content.hpp reads it),
// and a small parallel loop.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "catena/core/content.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/parallel.hpp"
#include "catena/formats/format.hpp"
#include "root_fs.hpp"

namespace catena::pkg {

struct FileDigest {
  enum Kind { Regular, Missing, NotRegular, Unreadable } kind = Missing;
  std::string type;  // "file", "symlink", "directory", ...
  std::string link_target;
  std::string error;  // for Missing and Unreadable
  uint32_t mode = 0;
  uint64_t size = 0;
  DigestValues digests;  // for Regular
  std::string format;    // for Regular
};

/// lstat, open (checked to be the same file) and digest of an absolute root-relative path.
FileDigest digest_path(const RootFs& fs, const std::string& path, unsigned algorithms);

using catena::NoState;
using catena::parallel_for;

}  // namespace catena::pkg
