#include "catena/core/content.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "catena/core/fs.hpp"
#include "catena/core/mapped.hpp"

namespace catena {
namespace {

constexpr size_t kBufferBytes = 1 << 18;
constexpr size_t kWindowBytes = 4 << 20;
constexpr int kAttempts = 2;

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool same_state(const struct stat& a, const struct stat& b) {
  return same_file(a, b) && a.st_size == b.st_size && to_ns(a.st_mtim) == to_ns(b.st_mtim) &&
         to_ns(a.st_ctim) == to_ns(b.st_ctim);
}

int open_flags(const ReadSpec& spec) {
  return O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (spec.follow ? 0 : O_NOFOLLOW);
}

// Opens `name` for reading; the descriptor, or -errno.
int open_for_content(int dir_fd, const std::string& name, const ReadSpec& spec) {
  // O_NOATIME keeps access times (evidence) as they were; only the owner and root may ask.
  int fd = ::openat(dir_fd, name.c_str(), open_flags(spec) | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name.c_str(), open_flags(spec));
  return fd >= 0 ? fd : -errno;
}

enum class Pass { Done, Changed, Failed };

// One read of the whole file into the digests (and the head); Changed when it shrank under a
// mapping or returned fewer bytes than fstat said.
Pass read_once(int fd, uint64_t size, const ReadSpec& spec, FileContent& out) {
  out.head.clear();
  if (spec.head_bytes > 0) {
    out.head.resize(static_cast<size_t>(std::min<uint64_t>(size, spec.head_bytes)));
    size_t done = 0;
    while (done < out.head.size()) {
      const ssize_t n =
          ::pread(fd, out.head.data() + done, out.head.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        out.error = errno;
        return Pass::Failed;
      }
      if (n == 0) return Pass::Changed;
      done += static_cast<size_t>(n);
    }
  }
  if (spec.digests == 0) {
    out.bytes = out.head.size();
    return Pass::Done;
  }
  DigestSet digests(spec.digests);
  if (size >= kContentMapBytes) {
    // The guard jumps out of this loop when the file shrinks: it owns nothing but the digests.
    const MapResult mapped = with_mapping(fd, size, [&](std::span<const std::byte> whole) {
      for_each_window(whole, kWindowBytes,
                      [&](std::span<const std::byte> window) { digests.update(window); });
    });
    if (mapped == MapResult::Changed) return Pass::Changed;
    if (mapped == MapResult::Done) {
      out.digests = digests.finish();
      out.bytes = size;
      return Pass::Done;
    }
  }
  std::vector<std::byte> buffer(static_cast<size_t>(std::min<uint64_t>(size, kBufferBytes)));
  uint64_t total = 0;
  while (total < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size - total, buffer.size()));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = errno;
      return Pass::Failed;
    }
    if (n == 0) return Pass::Changed;  // shorter than fstat said
    digests.update(std::span(buffer.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
  }
  out.digests = digests.finish();
  out.bytes = total;
  return Pass::Done;
}

}  // namespace

FileContent read_open_content(int fd, const ReadSpec& spec) {
  FileContent out;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    struct stat before {};
    if (::fstat(fd, &before) != 0) {
      out.status = FileContent::Status::Unreadable;
      out.error = errno;
      return out;
    }
    out.st = before;
    if (!S_ISREG(before.st_mode)) {
      out.status = FileContent::Status::NotRegular;
      return out;
    }
    if (spec.expect != nullptr && !same_file(before, *spec.expect)) {
      out.status = FileContent::Status::Changed;
      return out;
    }
    const Pass pass = read_once(fd, static_cast<uint64_t>(before.st_size), spec, out);
    if (pass == Pass::Failed) {
      out.status = FileContent::Status::Unreadable;
      return out;
    }
    struct stat after {};
    if (pass == Pass::Done && ::fstat(fd, &after) == 0 && same_state(before, after)) {
      out.status = FileContent::Status::Read;
      return out;
    }
  }
  out.status = FileContent::Status::Changed;
  out.digests = {};
  return out;
}

FileContent read_content(int dir_fd, const std::string& name, const ReadSpec& spec) {
  const int fd = open_for_content(dir_fd, name, spec);
  if (fd >= 0) {
    const UniqueFd owned(fd);
    return read_open_content(owned.get(), spec);
  }
  FileContent out;
  const int err = -fd;
  if (err == ENOENT || err == ENOTDIR) {
    out.status = FileContent::Status::Missing;
    out.error = err;
    return out;
  }
  if (err == ELOOP || err == ENXIO || err == EWOULDBLOCK) {
    // A symlink (O_NOFOLLOW), or a FIFO or socket where a file was: say what is there.
    if (::fstatat(dir_fd, name.c_str(), &out.st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISREG(out.st.st_mode)) {
      out.status = FileContent::Status::NotRegular;
      return out;
    }
  }
  out.status = FileContent::Status::Unreadable;
  out.error = err;
  return out;
}

std::string describe_failure(const FileContent& content) {
  switch (content.status) {
    case FileContent::Status::Read:
      return "read";
    case FileContent::Status::Missing:
      return "no such file";
    case FileContent::Status::NotRegular:
      return "not a regular file";
    case FileContent::Status::Changed:
      return "changed while it was read";
    case FileContent::Status::Unreadable:
      return std::strerror(content.error);
  }
  return "unknown";
}

Result<void> with_whole_open_content(int fd,
                                     uint64_t copy_max,
                                     const std::function<void(std::span<const std::byte>)>& use) {
  struct stat before {};
  if (::fstat(fd, &before) != 0) return make_io_error("cannot stat", errno);
  if (!S_ISREG(before.st_mode)) return make_error(ErrorCode::Usage, "not a regular file");
  const auto size = static_cast<uint64_t>(before.st_size);
  bool shrank = false;
  if (size <= copy_max) {
    // Not zero-filled first: every byte is read over.
    auto bytes = std::make_unique_for_overwrite<std::byte[]>(static_cast<size_t>(size));
    uint64_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd, bytes.get() + done, static_cast<size_t>(size - done),
                                static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_io_error("cannot read", errno);
      if (n == 0) break;
      done += static_cast<uint64_t>(n);
    }
    shrank = done != size;
    if (!shrank) use(std::span<const std::byte>(bytes.get(), static_cast<size_t>(size)));
  } else {
    const MapResult mapped = with_stable_mapping(fd, size, use);
    if (mapped == MapResult::Unavailable) return make_io_error("cannot map", errno);
    shrank = mapped == MapResult::Changed;
  }
  struct stat after {};
  if (shrank || ::fstat(fd, &after) != 0 || !same_state(before, after)) {
    return make_error(ErrorCode::Io, "changed while it was read");
  }
  return {};
}

Result<void> with_whole_content(const std::string& path,
                                uint64_t copy_max,
                                const std::function<void(std::span<const std::byte>)>& use) {
  const ReadSpec spec{.follow = true};
  const int opened = open_for_content(AT_FDCWD, path, spec);
  if (opened < 0) {
    if (-opened == ENOENT) return make_error(ErrorCode::NotFound, path + " does not exist");
    return make_io_error("cannot open " + path, -opened);
  }
  const UniqueFd fd(opened);
  auto done = with_whole_open_content(fd.get(), copy_max, use);
  if (!done) return make_error(done.error().code, path + ": " + done.error().message);
  return {};
}

}  // namespace catena
