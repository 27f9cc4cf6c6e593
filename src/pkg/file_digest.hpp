#pragma once
// Helpers the package checks share: digesting a file of a root, and a small parallel loop.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/parallel.hpp"
#include "catena/formats/format.hpp"
#include "root_fs.hpp"

namespace catena::pkg {

// Reads the whole of `fd` from `offset` 0 into `digests`; 0 or an errno value.
inline int digest_fd(int fd,
                     DigestSet& digests,
                     std::vector<std::byte>& buffer,
                     uint64_t& bytes,
                     std::vector<std::byte>* head) {
  bytes = 0;
  while (true) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(bytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    const std::span<const std::byte> chunk(buffer.data(), static_cast<size_t>(n));
    if (head != nullptr && head->size() < formats::kClassifyHeadBytes) {
      const size_t take = std::min(chunk.size(), formats::kClassifyHeadBytes - head->size());
      head->insert(head->end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    }
    digests.update(chunk);
    bytes += static_cast<uint64_t>(n);
  }
}

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
FileDigest digest_path(const RootFs& fs,
                       const std::string& path,
                       unsigned algorithms,
                       std::vector<std::byte>& buffer);

using catena::NoState;
using catena::parallel_for;

}  // namespace catena::pkg
