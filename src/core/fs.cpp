#include "catena/core/fs.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

namespace catena {

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::string> read_small_file(const std::string& path, uint64_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT) return make_error(ErrorCode::NotFound, path + " does not exist");
    return make_io_error("cannot open " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_io_error("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::Io, path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return make_error(ErrorCode::LimitExceeded,
                      path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (true) {
    if (done == out.size()) {
      // The file may have grown since fstat; keep reading up to the cap.
      if (out.size() >= max_bytes) break;
      out.resize(std::min<uint64_t>(max_bytes, out.size() + 65536));
    }
    const ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_io_error("cannot read " + path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == max_bytes && out.size() == max_bytes) {
    char probe = 0;
    if (::read(fd.get(), &probe, 1) > 0) {
      return make_error(ErrorCode::LimitExceeded,
                        path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  out.resize(done);
  return out;
}

Result<void> write_file_atomically(const std::string& path, std::string_view text, unsigned mode) {
  return write_file_atomically(path, mode, [&](std::FILE* out) -> Status {
    std::fwrite(text.data(), 1, text.size(), out);
    return {};
  });
}

Result<void> write_file_atomically(const std::string& path,
                                   unsigned mode,
                                   const std::function<Status(std::FILE*)>& write) {
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return make_io_error("cannot create a file beside " + path, errno);
  std::FILE* out = ::fdopen(fd, "w");
  if (out == nullptr) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return make_io_error("cannot write " + path, err);
  }
  Status written = write(out);
  bool failed = std::fflush(out) != 0 || std::ferror(out) != 0;
  int err = failed ? errno : 0;
  if (!failed && (::fchmod(fd, static_cast<mode_t>(mode)) != 0 || ::fsync(fd) != 0)) {
    failed = true;
    err = errno;
  }
  if (std::fclose(out) != 0 && !failed) {
    failed = true;
    err = errno;
  }
  if (written && !failed && ::rename(temp.c_str(), path.c_str()) != 0) {
    failed = true;
    err = errno;
  }
  if (!written || failed) {
    ::unlink(temp.c_str());
    if (!written) return written;
    return make_io_error("cannot write " + path, err);
  }
  return {};
}

std::string absolute_path(std::string_view path) {
  std::string joined;
  if (path.empty() || path.front() != '/') {
    std::unique_ptr<char, decltype(&std::free)> cwd(::getcwd(nullptr, 0), &std::free);
    joined = cwd ? cwd.get() : "/";
    joined += '/';
  }
  joined.append(path);
  std::string out;
  size_t pos = 0;
  while (pos < joined.size()) {
    size_t end = joined.find('/', pos);
    if (end == std::string::npos) end = joined.size();
    const std::string_view component(joined.data() + pos, end - pos);
    if (!component.empty() && component != ".") {
      out += '/';
      out.append(component);
    }
    pos = end + 1;
  }
  return out.empty() ? "/" : out;
}

Result<std::string> canonical_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                       &std::free);
  if (!resolved) return make_io_error("cannot resolve " + path, errno);
  return std::string(resolved.get());
}

bool path_is_within(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return !path.empty() && path.front() == '/';
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string host_name() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  return name.nodename;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Result<void> make_directories(const std::string& path, unsigned mode) {
  size_t slash = 0;
  while (slash != std::string::npos) {
    slash = path.find('/', slash + 1);
    const std::string dir = path.substr(0, slash);
    if (dir.empty()) continue;
    if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      return make_io_error("cannot create directory " + dir, errno);
    }
  }
  return {};
}

}  // namespace catena
