#include "root_fs.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "catena/pkg/dpkg.hpp"

namespace catena::pkg {
namespace {

constexpr int kReadFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

long openat2_in_root(int root_fd, const char* relative, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return ::syscall(SYS_openat2, root_fd, relative, &how, sizeof(how));
}

}  // namespace

Result<RootFs> RootFs::open(const std::string& root) {
  RootFs fs;
  fs.root_ = root.empty() ? "/" : root;
  fs.host_ = fs.root_ == "/";
  if (!fs.host_) {
    fs.root_fd_ = UniqueFd(::open(fs.root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fs.root_fd_.valid()) return make_io_error("cannot open root " + fs.root_, errno);
    // Seccomp filters in some containers answer EPERM for system calls they do not know.
    const long probe = openat2_in_root(fs.root_fd_.get(), ".", O_PATH | O_CLOEXEC);
    fs.openat2_ = probe >= 0;
    if (probe >= 0) ::close(static_cast<int>(probe));
  }
  return fs;
}

int RootFs::open_in_root(const std::string& path, int flags) const {
  if (openat2_) {
    const size_t first = path.find_first_not_of('/');
    const std::string relative = first == std::string::npos ? "." : path.substr(first);
    const long fd = openat2_in_root(root_fd_.get(), relative.c_str(), flags);
    return fd >= 0 ? static_cast<int>(fd) : -errno;
  }
  const int fd = ::open(join_root(root_, path).c_str(), flags);
  return fd >= 0 ? fd : -errno;
}

int RootFs::stat_nofollow(const std::string& path, struct stat& st) const {
  if (host_) return ::fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  const int fd = open_in_root(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -fd;
  const int rc = ::fstat(fd, &st) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

int RootFs::open_read(const std::string& path) const {
  if (host_) {
    // O_NOATIME keeps access times intact (evidence); only the owner and root may use it.
    int fd = ::open(path.c_str(), kReadFlags | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), kReadFlags);
    return fd >= 0 ? fd : -errno;
  }
  int fd = open_in_root(path, kReadFlags | O_NOATIME);
  if (fd == -EPERM) fd = open_in_root(path, kReadFlags);
  return fd;
}

int RootFs::open_dir(const std::string& path) const {
  constexpr int kFlags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  if (host_) return ::open(path.c_str(), kFlags);
  const int fd = open_in_root(path, kFlags);
  return fd >= 0 ? fd : -1;
}

std::string RootFs::read_link(const std::string& path) const {
  char target[4096];
  ssize_t n = -1;
  if (host_) {
    n = ::readlink(path.c_str(), target, sizeof(target));
  } else {
    const int fd = open_in_root(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return {};
    n = ::readlinkat(fd, "", target, sizeof(target));
    ::close(fd);
  }
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

}  // namespace catena::pkg
