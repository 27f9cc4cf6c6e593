#include "support/tree.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "catena/core/digest.hpp"
#include "support/run.hpp"

namespace catena::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/catena-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buffer.data();
}

TempDir::~TempDir() { remove_tree(path_); }

std::string TempDir::operator/(std::string_view relative) const {
  return path_ + "/" + std::string(relative);
}

void TempDir::mkdir(std::string_view relative, mode_t mode) const {
  std::string full = path_;
  size_t pos = 0;
  while (pos <= relative.size()) {
    size_t end = relative.find('/', pos);
    if (end == std::string_view::npos) end = relative.size();
    full += "/" + std::string(relative.substr(pos, end - pos));
    ::mkdir(full.c_str(), end == relative.size() ? mode : 0755);
    pos = end + 1;
  }
}

void TempDir::write(std::string_view relative, std::string_view content, mode_t mode) const {
  const size_t slash = relative.rfind('/');
  if (slash != std::string_view::npos) mkdir(relative.substr(0, slash));
  const std::string full = *this / relative;
  const int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + full);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) throw std::runtime_error("cannot write " + full);
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
}

void TempDir::symlink(std::string_view relative, std::string_view target) const {
  const std::string full = *this / relative;
  if (::symlink(std::string(target).c_str(), full.c_str()) != 0) {
    throw std::runtime_error("cannot symlink " + full);
  }
}

void remove_tree(const std::string& path) {
  // chmod first so that rm can enter directories a test made unreadable; both tools handle
  // paths longer than PATH_MAX, which nftw(3) does not.
  run_command({"chmod", "-R", "u+rwX", "--", path});
  run_command({"rm", "-rf", "--", path});
}

std::string sha256_hex(std::string_view data) {
  return to_hex(sha256_of(std::as_bytes(std::span(data.data(), data.size()))));
}

}  // namespace catena::test
