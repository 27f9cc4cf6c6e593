#include "catena/core/xattr.hpp"

#include <sys/xattr.h>

#include <algorithm>
#include <functional>
#include <span>

#include "catena/core/digest.hpp"

namespace catena {
namespace {

// `list(buffer, size)` and `get(name, buffer, size)` are the fd or path flavours of the calls.
std::string read_xattrs(const std::function<ssize_t(char*, size_t)>& list,
                        const std::function<ssize_t(const char*, void*, size_t)>& get) {
  std::string names(kMaxXattrBytes, '\0');
  const ssize_t n = list(names.data(), names.size());
  if (n <= 0) return {};
  names.resize(static_cast<size_t>(n));
  std::vector<std::string> sorted;
  for (size_t pos = 0; pos < names.size();) {
    const size_t end = names.find('\0', pos);
    const size_t stop = end == std::string::npos ? names.size() : end;
    if (stop > pos) sorted.emplace_back(names.substr(pos, stop - pos));
    pos = stop + 1;
  }
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  std::vector<unsigned char> value(kMaxXattrBytes);
  for (const std::string& name : sorted) {
    const ssize_t size = get(name.c_str(), value.data(), value.size());
    out += name;
    out.push_back('\0');
    out += size >= 0 ? to_hex(std::span(value.data(), static_cast<size_t>(size))) : "unreadable";
    out.push_back('\n');
  }
  return out;
}

}  // namespace

std::string read_xattrs_fd(int fd) {
  return read_xattrs([fd](char* buffer, size_t size) { return ::flistxattr(fd, buffer, size); },
                     [fd](const char* name, void* buffer, size_t size) {
                       return ::fgetxattr(fd, name, buffer, size);
                     });
}

std::string read_xattrs_path(const std::string& path) {
  return read_xattrs(
      [&path](char* buffer, size_t size) { return ::llistxattr(path.c_str(), buffer, size); },
      [&path](const char* name, void* buffer, size_t size) {
        return ::lgetxattr(path.c_str(), name, buffer, size);
      });
}

std::vector<std::pair<std::string, std::string>> split_xattrs(std::string_view encoded) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < encoded.size()) {
    size_t end = encoded.find('\n', pos);
    if (end == std::string_view::npos) end = encoded.size();
    const std::string_view line = encoded.substr(pos, end - pos);
    const size_t nul = line.find('\0');
    if (nul != std::string_view::npos) {
      out.emplace_back(std::string(line.substr(0, nul)), std::string(line.substr(nul + 1)));
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace catena
