#include "catena/core/content.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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

// Reads exactly `out.size()` bytes from `offset`: Done, Changed when the file is shorter,
// Failed (errno in `error`).
Pass pread_all(int fd, std::span<std::byte> out, uint64_t offset, int& error) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      return Pass::Failed;
    }
    if (n == 0) return Pass::Changed;
    done += static_cast<size_t>(n);
  }
  return Pass::Done;
}

}  // namespace

struct ContentReader::State {
  std::vector<std::byte> buffer;
  // One set of contexts per combination of algorithms, made on first use.
  std::array<std::unique_ptr<DigestSet>, 8> digest_sets;

  DigestSet& digests_for(unsigned algorithms) {
    auto& set = digest_sets[algorithms & 7];
    if (!set) set = std::make_unique<DigestSet>(algorithms);
    return *set;
  }

  // One pass over the whole file into the digests (and the head); Changed when it shrank
  // under a mapping or was shorter than fstat said.
  Pass read_once(
      int fd, const struct stat& st, int attempt, const ReadSpec& spec, FileContent& out) {
    const auto size = static_cast<uint64_t>(st.st_size);
    const ReadHooks* hooks = spec.hooks;
    out.head.clear();
    out.bytes = 0;
    out.digests = {};
    const bool large = size >= kContentMapBytes;
    if (large || spec.digests == 0) {
      out.head.resize(static_cast<size_t>(std::min<uint64_t>(size, spec.head_bytes)));
      const Pass head = pread_all(fd, out.head, 0, out.error);
      if (head != Pass::Done) return head;
      if (spec.digests == 0) {
        out.bytes = out.head.size();
        return Pass::Done;
      }
    }
    DigestSet& digests = digests_for(spec.digests);
    const auto handed = [&](std::span<const std::byte> whole, bool held) {
      out.bytes = size;
      out.digests = digests.finish();
      if (hooks != nullptr && hooks->pass) {
        hooks->pass(ReadPass{.fd = fd,
                             .attempt = attempt,
                             .st = &st,
                             .head = out.head,
                             .whole = whole,
                             .held = held,
                             .digests = &out.digests});
      }
      return Pass::Done;
    };
    const auto before_bytes = [&] {
      if (hooks != nullptr && hooks->before_bytes) hooks->before_bytes(attempt);
    };
    if (large && attempt == 0) {
      std::span<const std::byte> held;
      if (hooks != nullptr && hooks->hold) held = hooks->hold(fd, st, out.head);
      if (!held.empty() && held.size() == size) {
        before_bytes();
        digests.update(held);  // heap memory: not for_each_window, which drops pages
        return handed(held, true);
      }
      // The guard jumps out of this loop when the file shrinks: it owns nothing but the
      // digests, which reset() restores.
      const MapResult mapped = with_mapping(fd, size, [&](std::span<const std::byte> whole) {
        before_bytes();
        for_each_window(whole, kWindowBytes,
                        [&](std::span<const std::byte> window) { digests.update(window); });
      });
      if (mapped == MapResult::Changed) {
        digests.reset();
        return Pass::Changed;
      }
      if (mapped == MapResult::Done) return handed({}, false);
    }
    before_bytes();
    // Grown to the largest file read so far, up to its cap: a one-file reader allocates what
    // its file needs, a reader kept across files allocates once.
    const auto wanted = static_cast<size_t>(std::min<uint64_t>(size, kBufferBytes));
    if (buffer.size() < wanted) buffer.resize(wanted);
    const bool fits = size <= buffer.size();
    uint64_t total = 0;
    while (total < size) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(size - total, buffer.size()));
      const Pass chunk = pread_all(fd, std::span(buffer.data(), want), total, out.error);
      if (chunk != Pass::Done) {
        digests.reset();
        out.bytes = total;  // the short chunk is not counted: it was not hashed
        return chunk;
      }
      if (total == 0 && spec.head_bytes > 0) {
        out.head.assign(buffer.begin(),
                        buffer.begin() + static_cast<ptrdiff_t>(std::min(want, spec.head_bytes)));
      }
      digests.update(std::span(buffer.data(), want));
      total += want;
    }
    return fits ? handed(std::span(buffer.data(), static_cast<size_t>(size)), true)
                : handed({}, false);
  }
};

ContentReader::ContentReader() : state_(std::make_unique<State>()) {}
ContentReader::~ContentReader() = default;

FileContent ContentReader::read_open(int fd, const ReadSpec& spec) {
  FileContent out;
  const ReadHooks* hooks = spec.hooks;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    struct stat before {};
    if (::fstat(fd, &before) != 0) {
      out.status = FileContent::Status::Unreadable;
      out.error = errno;
      return out;
    }
    out.st = before;
    if (attempt == 0) out.first_size = before.st_size;
    if (!S_ISREG(before.st_mode)) {
      out.status = FileContent::Status::NotRegular;
      return out;
    }
    if (spec.expect != nullptr && !same_file(before, *spec.expect)) {
      out.status = FileContent::Status::Changed;
      return out;
    }
    if (hooks != nullptr && hooks->begin && !hooks->begin(fd, before, attempt)) {
      out.status = FileContent::Status::Declined;
      return out;
    }
    out.passes = attempt + 1;
    const Pass pass = state_->read_once(fd, before, attempt, spec, out);
    if (pass == Pass::Failed) {
      out.status = FileContent::Status::Unreadable;
      out.digests = {};
      return out;
    }
    if (hooks != nullptr && hooks->after) hooks->after(attempt);
    struct stat after {};
    if (::fstat(fd, &after) != 0) continue;
    out.st = after;
    if (pass == Pass::Done && same_state(before, after)) {
      out.status = FileContent::Status::Read;
      return out;
    }
  }
  out.status = FileContent::Status::Changed;
  out.digests = {};
  return out;
}

FileContent ContentReader::read(int dir_fd, const std::string& name, const ReadSpec& spec) {
  const int fd = open_for_content(dir_fd, name, spec);
  if (fd >= 0) {
    const UniqueFd owned(fd);
    return read_open(owned.get(), spec);
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

FileContent read_content(int dir_fd, const std::string& name, const ReadSpec& spec) {
  return ContentReader().read(dir_fd, name, spec);
}

FileContent read_open_content(int fd, const ReadSpec& spec) {
  return ContentReader().read_open(fd, spec);
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
    case FileContent::Status::Declined:
      return "not read";
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
