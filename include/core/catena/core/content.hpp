#pragma once
/// The one way a command reads a file's content (packages verify, unowned executables,
/// baselines' evidence, attest's artifacts, the archive anchor, `catena sig`; the scanner keeps
/// its own loop on the same primitives because it also feeds the analysers and the store).
///
///   FileContent c = read_content(dir_fd, name, {.digests = DigestSet::kSha256 | DigestSet::kMd5,
///                                               .head_bytes = formats::kClassifyHeadBytes});
///   if (c.status == FileContent::Status::Read) use(*c.digests.sha256, c.head);
///
/// The rules every reader follows: the final name is opened without following a symlink
/// (O_NOFOLLOW) and without blocking on a FIFO or device (O_NONBLOCK), with O_NOATIME where the
/// kernel allows it; what was opened is checked with fstat to be a regular file (and, given
/// `expect`, the very file a listing or lstat saw: device and inode); every digest asked for
/// is computed in one pass; a large file is hashed from a read-only mapping in bounded
/// windows with the fault guard around the digest loop only (core/mapped.hpp), a small one
/// with pread. A file whose size, times or identity moved while it was read is read once
/// more, then reported Changed.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/result.hpp"

namespace catena {

/// At or above this size a file is hashed from a mapping (no copy through a buffer).
inline constexpr uint64_t kContentMapBytes = 256 * 1024;

struct ReadSpec {
  /// DigestSet algorithms; 0 reads only the head (to decide whether the file is worth hashing).
  unsigned digests = DigestSet::kSha256;
  /// Keep up to this many bytes from the start (format classification); 0: none.
  size_t head_bytes = 0;
  /// The file must be this one (st_dev, st_ino), as a listing or an lstat saw it; a file
  /// swapped in since is Changed. nullptr: whatever regular file the name leads to.
  const struct stat* expect = nullptr;
  /// Follow a final symlink: only for a path a person named on the command line.
  bool follow = false;
};

struct FileContent {
  enum class Status {
    Read,        // digests, bytes, head and st describe one moment's content
    Missing,     // no such file (ENOENT, ENOTDIR)
    NotRegular,  // a symlink, directory, FIFO, socket or device is there (st says which)
    Unreadable,  // `error` says why (errno)
    Changed,     // it kept changing, or is no longer the file `expect` names
  };
  Status status = Status::Missing;
  int error = 0;
  struct stat st {};  // of the file read (fstat before the read), or of what is there instead
  DigestValues digests;
  uint64_t bytes = 0;
  std::vector<std::byte> head;
};

/// Reads `name`, relative to `dir_fd` (AT_FDCWD: a path), as described above.
FileContent read_content(int dir_fd, const std::string& name, const ReadSpec& spec);

/// The same for a descriptor the caller opened (inside a root with openat2, say); it is not
/// closed. Read from offset 0 with pread, so the descriptor's offset does not matter.
FileContent read_open_content(int fd, const ReadSpec& spec);

/// Text of a FileContent's failure for messages ("changed while read", strerror, ...).
std::string describe_failure(const FileContent& content);

/// For a parser that needs a file whole (signature verification): opens `path` as
/// read_content does (following a final symlink: the path was named by a person) and calls
/// `use` with bytes that cannot fault for the length of the call: a private copy up to
/// `copy_max` bytes, else a mapping whose faults become zero pages (with_stable_mapping).
/// Changed (ErrorCode::Io, "changed while read") when the file moved under `use`: whatever
/// `use` concluded must then be dropped. Errors name the path.
[[nodiscard]] Result<void> with_whole_content(
    const std::string& path,
    uint64_t copy_max,
    const std::function<void(std::span<const std::byte>)>& use);

/// The same for a descriptor the caller opened (not closed); errors do not name a path.
[[nodiscard]] Result<void> with_whole_open_content(
    int fd, uint64_t copy_max, const std::function<void(std::span<const std::byte>)>& use);

}  // namespace catena
