#pragma once
/// The one way a command reads a file's content: the scan, packages verify, unowned
/// executables, baselines' evidence, attest's artifacts, the archive anchor, `catena sig`.
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
/// more (with pread: a retry cannot fault), then reported Changed.
///
/// A caller that analyses what it reads (the scan) sets ReadHooks: it is handed every byte of
/// each pass before the fstat that says whether the file held still, so that one read serves
/// the digests and the analysers; the bytes it is handed cannot fault.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/result.hpp"

namespace catena {

/// At or above this size a file is hashed from a mapping (no copy through a buffer).
inline constexpr uint64_t kContentMapBytes = 256 * 1024;

/// One pass over a file that read every byte, as handed to ReadHooks::pass.
struct ReadPass {
  int fd = -1;      // still open: a caller may read the file again (a stable mapping)
  int attempt = 0;  // 0, then 1 for the one retry
  const struct stat* st = nullptr;  // fstat before the pass
  std::span<const std::byte> head;  // up to ReadSpec::head_bytes from the start
  /// Every byte, when `held`: a small file's buffer or what ReadHooks::hold copied. A large
  /// file hashed from its mapping is not held (`whole` empty): the mapping may fault.
  std::span<const std::byte> whole;
  bool held = false;
  const DigestValues* digests = nullptr;
};

/// What a caller that analyses the content hooks into a read. Every member is optional.
struct ReadHooks {
  /// After the fstat that begins each attempt, before any byte is read; false: the file is
  /// not read (FileContent::Status::Declined).
  std::function<bool(int fd, const struct stat& st, int attempt)> begin;
  /// A file of kContentMapBytes or more, first attempt, given its head: bytes of the whole
  /// file the caller copied and keeps until the read returns (they are hashed instead of a
  /// mapping, and handed to `pass` as held), or an empty span to hash from the mapping.
  std::function<std::span<const std::byte>(
      int fd, const struct stat& st, std::span<const std::byte> head)>
      hold;
  /// Just before the digest loop (inside the mapping for a mapped file); for tests.
  std::function<void(int attempt)> before_bytes;
  /// Each pass that read every byte, before the fstat that checks it.
  std::function<void(const ReadPass&)> pass;
  /// After a pass, before that fstat; for tests.
  std::function<void(int attempt)> after;
};

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
  const ReadHooks* hooks = nullptr;
};

struct FileContent {
  enum class Status {
    Read,        // digests, bytes, head and st describe one moment's content
    Missing,     // no such file (ENOENT, ENOTDIR)
    NotRegular,  // a symlink, directory, FIFO, socket or device is there (st says which)
    Unreadable,  // `error` says why (errno)
    Changed,     // it kept changing, or is no longer the file `expect` names
    Declined,    // ReadHooks::begin said no
  };
  Status status = Status::Missing;
  int error = 0;
  /// The file as last seen (the fstat after the read when there was one; for Read the same
  /// size, times and identity as before it), or what is there instead.
  struct stat st {};
  DigestValues digests;  // Read only
  uint64_t bytes = 0;    // read by the last pass (short when the file shrank)
  std::vector<std::byte> head;
  /// Passes made (2: the first saw the file change) and the size the first fstat saw.
  int passes = 0;
  int64_t first_size = 0;
};

/// Reads files as described above, keeping its buffer and digest contexts from one file to
/// the next (one per thread: it is not shared).
class ContentReader {
 public:
  ContentReader();
  ~ContentReader();
  ContentReader(const ContentReader&) = delete;
  ContentReader& operator=(const ContentReader&) = delete;

  /// Reads `name`, relative to `dir_fd` (AT_FDCWD: a path).
  FileContent read(int dir_fd, const std::string& name, const ReadSpec& spec);
  /// The same for a descriptor the caller opened (inside a root with openat2, say); it is not
  /// closed. Read from offset 0 with pread, so the descriptor's offset does not matter.
  FileContent read_open(int fd, const ReadSpec& spec);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// One file with a reader of its own.
FileContent read_content(int dir_fd, const std::string& name, const ReadSpec& spec);
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
