#include "catena/core/walk.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "catena/core/result.hpp"

namespace catena {
namespace {

unsigned char type_of(mode_t mode) {
  if (S_ISREG(mode)) return DT_REG;
  if (S_ISDIR(mode)) return DT_DIR;
  if (S_ISLNK(mode)) return DT_LNK;
  if (S_ISFIFO(mode)) return DT_FIFO;
  if (S_ISSOCK(mode)) return DT_SOCK;
  if (S_ISCHR(mode)) return DT_CHR;
  if (S_ISBLK(mode)) return DT_BLK;
  return DT_UNKNOWN;
}

class TreeWalk {
 public:
  TreeWalk(const WalkOptions& options, WalkVisitor& visitor, dev_t device)
      : options_(options), visitor_(visitor), device_(device) {}

  // Lists the directory open as `fd` (borrowed) and walks what is in it.
  void directory(int fd, const std::string& path, unsigned depth) {
    std::vector<std::pair<std::string, unsigned char>> names;
    if (!list(fd, path, names)) return;
    ++stats.directories;
    for (const auto& [name, listed_type] : names) {
      if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) return;
      const std::string child = join_walk_path(path, name);
      struct stat st {};
      unsigned char type = listed_type;
      const bool need_stat = options_.stat_files || type == DT_UNKNOWN || type == DT_DIR;
      if (need_stat) {
        if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished
        type = type_of(st.st_mode);
      }
      const WalkEntry entry{.dir_fd = fd,
                            .dir = path,
                            .name = name,
                            .path = child,
                            .type = type,
                            .st = need_stat ? &st : nullptr,
                            .depth = depth};
      if (type != DT_DIR) {
        visitor_.file(entry);
        continue;
      }
      if (!visitor_.wants(entry)) continue;
      if (options_.before_open) options_.before_open(child);
      OpenedDirectory opened = open_walk_directory(fd, name, &st, /*follow=*/false);
      if (!opened.fd.valid()) {
        visitor_.problem(child, opened.problem, opened.error);
        continue;
      }
      const int child_fd = opened.fd.get();
      // Another file system mounted here is not part of this tree.
      if (options_.one_file_system && opened.st.st_dev != device_) continue;
      if (!visitor_.enter(entry, child_fd)) continue;
      if (depth + 1 > options_.max_depth) {
        ++stats.too_deep;
        visitor_.problem(child, WalkProblem::TooDeep, 0);
        continue;
      }
      directory(child_fd, child, depth + 1);
    }
  }

  WalkStats stats;

 private:
  // The names in `fd`, sorted. readdir needs a descriptor of its own: `fd` stays the parent
  // of the children's openat.
  bool list(int fd,
            const std::string& path,
            std::vector<std::pair<std::string, unsigned char>>& names) {
    const int err = list_walk_directory(
        fd, [&](std::string_view name, unsigned char type) { names.emplace_back(name, type); });
    if (err != 0) {
      visitor_.problem(path, WalkProblem::Unreadable, err);
      return false;
    }
    std::sort(names.begin(), names.end());
    return true;
  }

  const WalkOptions& options_;
  WalkVisitor& visitor_;
  dev_t device_;
};

}  // namespace

OpenedDirectory open_walk_directory(int parent_fd,
                                    const std::string& name,
                                    const struct stat* listed,
                                    bool follow) {
  OpenedDirectory out;
  out.fd = UniqueFd(::openat(
      parent_fd, name.c_str(),
      O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW)));
  if (!out.fd.valid()) {
    out.error = errno;
    // A symlink (O_NOFOLLOW) or a file where the listing saw a directory.
    out.problem = listed != nullptr && (out.error == ELOOP || out.error == ENOTDIR)
                      ? WalkProblem::Replaced
                      : WalkProblem::Unreadable;
    return out;
  }
  if (::fstat(out.fd.get(), &out.st) != 0) {
    out.error = errno;
    out.fd.reset();
    return out;
  }
  if (listed != nullptr && (out.st.st_dev != listed->st_dev || out.st.st_ino != listed->st_ino)) {
    out.fd.reset();
    out.problem = WalkProblem::Replaced;
    return out;
  }
  return out;
}

int list_walk_directory(
    int fd, const std::function<void(std::string_view name, unsigned char type)>& visit) {
  const int listing = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* stream = listing >= 0 ? ::fdopendir(listing) : nullptr;
  if (stream == nullptr) {
    const int err = errno;
    if (listing >= 0) ::close(listing);
    return err;
  }
  int err = 0;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(stream);
    if (entry == nullptr) {
      err = errno;
      break;
    }
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") visit(name, entry->d_type);
  }
  ::closedir(stream);
  return err;
}

std::string describe_walk_problem(WalkProblem problem, int error) {
  switch (problem) {
    case WalkProblem::Unreadable:
      return "cannot be read: " + errno_text(error);
    case WalkProblem::Replaced:
      return "replaced while it was examined";
    case WalkProblem::TooDeep:
      return "deeper than the walk's depth limit, not examined";
  }
  return "cannot be read";
}

std::string join_walk_path(std::string_view dir, std::string_view name) {
  std::string out;
  if (dir.empty()) return std::string(name);
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir);
  if (dir != "/") out += '/';
  out.append(name);
  return out;
}

WalkStats walk_tree(int root_fd,
                    const std::string& root_path,
                    const WalkOptions& options,
                    WalkVisitor& visitor) {
  struct stat root {};
  if (::fstat(root_fd, &root) != 0) {
    visitor.problem(root_path, WalkProblem::Unreadable, errno);
    return {};
  }
  TreeWalk walk(options, visitor, root.st_dev);
  walk.directory(root_fd, root_path, 0);
  return walk.stats;
}

}  // namespace catena
