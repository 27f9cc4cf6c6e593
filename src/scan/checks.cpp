#include "checks.hpp"

#include <cstdio>

#include "catena/core/rules.hpp"

namespace catena::scan {
namespace {

std::string octal_mode(mode_t mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

}  // namespace

void check_file_metadata(const std::string& path,
                         const struct stat& st,
                         std::vector<Finding>& out) {
  // Any local account can replace a world-writable executable with a trojan.
  if (S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0 && (st.st_mode & S_IWOTH) != 0) {
    Finding f = make_finding("WORLD_WRITABLE_EXECUTABLE", path);
    f.message =
        "Executable file is writable by every user, so any local account can "
        "replace it.";
    f.add_evidence("mode", octal_mode(st.st_mode));
    f.add_evidence("uid", std::to_string(st.st_uid));
    out.push_back(std::move(f));
  }
}

void check_directory_metadata(const std::string& path,
                              const struct stat& st,
                              std::vector<Finding>& out) {
  // Without the sticky bit, every user may rename or delete any file in the directory.
  if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0) {
    Finding f = make_finding("WORLD_WRITABLE_DIR", path);
    f.message =
        "Directory is writable by every user without the sticky bit, so any "
        "local account can add or replace the tools in it.";
    f.add_evidence("mode", octal_mode(st.st_mode));
    f.add_evidence("uid", std::to_string(st.st_uid));
    out.push_back(std::move(f));
  }
}

}  // namespace catena::scan
