#pragma once
/// One directory walker for the commands that walk a tree of their own (the package check's
/// unowned executables, build-access discovery, attestation materials), with the scanner's
/// rules:
///
/// - a directory is opened relative to its parent's descriptor with O_NOFOLLOW | O_DIRECTORY |
///   O_NONBLOCK and checked (fstat) to be the directory that was listed, so a directory
///   swapped for a symlink between the listing and the open is refused, not followed;
/// - entries are never followed: each is lstat'd (`fstatat(AT_SYMLINK_NOFOLLOW)`), or, when
///   `stat_files` is false, known only by the listing's d_type (a directory is always stat'd);
/// - names are visited in byte order, so what a walk reports is the same from run to run;
/// - a directory more than `max_depth` levels below the root is not entered and is reported
///   (Problem::TooDeep): a walk holds one descriptor per level, so the depth bounds them;
/// - with `one_file_system`, a directory on another device is not entered (not a problem).
///
///   struct Executables : WalkVisitor {
///     void file(const WalkEntry& e) override { if (e.is_regular()) paths.push_back(e.path); }
///   } visitor;
///   WalkStats stats = walk_tree(root_fd, "/usr/lib", {.max_depth = 64}, visitor);
#include <dirent.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "catena/core/fs.hpp"

namespace catena {

/// What a walk is shown of an entry; valid only during the call.
struct WalkEntry {
  int dir_fd = -1;                  // the directory holding the entry (openat/fstatat relative)
  const std::string& dir;           // its path
  std::string_view name;            // the entry's name in it
  const std::string& path;          // dir joined with name ("" dir: name alone)
  unsigned char type = DT_UNKNOWN;  // DT_REG, DT_DIR, DT_LNK, ... (from d_type or lstat)
  const struct stat* st = nullptr;  // its lstat; null when not stat'd (stat_files false)
  unsigned depth = 0;               // 0 for a root's own entries

  bool is_regular() const { return type == DT_REG; }
};

enum class WalkProblem {
  Unreadable,  // a directory that cannot be opened or listed (errno given)
  Replaced,    // a directory replaced between its listing and its opening
  TooDeep,     // a directory below max_depth, not entered
};

/// "cannot be read: Permission denied", "replaced while it was examined", ...
std::string describe_walk_problem(WalkProblem problem, int error);

class WalkVisitor {
 public:
  virtual ~WalkVisitor() = default;
  /// Every entry that is not a directory (files, symlinks, FIFOs, ...).
  virtual void file(const WalkEntry& entry) = 0;
  /// A directory found: return false to leave it alone (not opened, not entered).
  virtual bool wants(const WalkEntry& entry) {
    (void)entry;
    return true;
  }
  /// A directory about to be entered, already opened as `fd` (valid during the call) and
  /// checked to be the one listed: return false to not enter it (the visitor may still look
  /// inside through `fd`, whatever its depth).
  virtual bool enter(const WalkEntry& entry, int fd) {
    (void)entry;
    (void)fd;
    return true;
  }
  /// A directory that was not walked; `path` is the directory's.
  virtual void problem(const std::string& path, WalkProblem problem, int error) {
    (void)path;
    (void)problem;
    (void)error;
  }
};

struct WalkOptions {
  unsigned max_depth = 64;      // levels below the root that are entered
  bool one_file_system = true;  // do not enter another device's directories
  bool stat_files = true;       // lstat every entry (false: d_type when the listing has it)
  const std::atomic<bool>* cancel = nullptr;
  /// Test hook: called with a directory's path just before it is opened.
  std::function<void(const std::string& path)> before_open;
};

struct WalkStats {
  uint64_t directories = 0;  // directories listed
  uint64_t too_deep = 0;     // directories not entered for their depth
};

/// Walks the directory open as `root_fd` (borrowed, not closed), whose path is `root_path`
/// ("" to report paths relative to it). Its own entries have depth 0.
WalkStats walk_tree(int root_fd,
                    const std::string& root_path,
                    const WalkOptions& options,
                    WalkVisitor& visitor);

/// One directory, opened as every walk opens one (walk_tree above, the scan's parallel
/// walker): relative to its parent's descriptor with O_DIRECTORY | O_NONBLOCK, O_NOFOLLOW
/// unless `follow` (a root a person named), then fstat'd and, given `listed` (the lstat the
/// listing made), checked to be that very directory.
struct OpenedDirectory {
  UniqueFd fd;                                    // valid when opened
  struct stat st {};                              // of what was opened
  WalkProblem problem = WalkProblem::Unreadable;  // when not
  int error = 0;                                  // errno, 0 for Replaced without one
};
OpenedDirectory open_walk_directory(int parent_fd,
                                    const std::string& name,
                                    const struct stat* listed,
                                    bool follow);

/// Lists the directory open as `fd` (borrowed: readdir gets a descriptor of its own, so `fd`
/// stays the parent of the children's openat) and calls `visit` with each entry's name and
/// d_type, "." and ".." left out, in the order the file system gives them. 0, or the errno of
/// a listing that failed (what was visited before stays visited).
int list_walk_directory(
    int fd, const std::function<void(std::string_view name, unsigned char type)>& visit);

/// Joins a directory and a name as the walk does: "" + n = n, "/" + n = "/n", d + n = "d/n".
std::string join_walk_path(std::string_view dir, std::string_view name);

}  // namespace catena
