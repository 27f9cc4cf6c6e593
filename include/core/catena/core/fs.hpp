#pragma once
/// File-system helpers shared by the modules: an owning file descriptor, bounded reads of small
/// text files, and path arithmetic on byte strings.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena {

/// Owns a file descriptor; closes it once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

/// Reads a whole regular file of at most `max_bytes` (LimitExceeded when larger, NotFound when
/// it does not exist, Io on other failures).
/// Does not follow a final symlink and never opens FIFOs or devices.
[[nodiscard]] Result<std::string> read_small_file(const std::string& path, uint64_t max_bytes);

/// `path` made absolute against the working directory, with "." components, repeated and
/// trailing slashes removed. ".." is kept: resolving it lexically is wrong across symlinks.
std::string absolute_path(std::string_view path);

/// realpath(3); Io error when the path does not resolve.
[[nodiscard]] Result<std::string> canonical_path(const std::string& path);

/// True when `path` equals `prefix` or lies beneath it (component-wise, not textual).
bool path_is_within(std::string_view path, std::string_view prefix);

/// mkdir -p: creates `path` and its missing parents with `mode`; Io error naming the directory.
[[nodiscard]] Result<void> make_directories(const std::string& path, unsigned mode);

/// Writes `text` to a temporary file beside `path`, syncs it and renames it over `path`: a
/// reader sees the old file or the new one, never a part. Io error naming the path.
[[nodiscard]] Result<void> write_file_atomically(const std::string& path,
                                                 std::string_view text,
                                                 unsigned mode);
/// The same for text too large to hold: `write` writes it to the stream it is given; its error
/// (or a failed write) leaves `path` as it was.
[[nodiscard]] Result<void> write_file_atomically(const std::string& path,
                                                 unsigned mode,
                                                 const std::function<Status(std::FILE*)>& write);

/// This host's name (uname nodename).
std::string host_name();

/// Raises the soft open-file limit to the hard limit; a deep tree walk keeps one fd per level.
void raise_open_file_limit();

}  // namespace catena
