// The walk of homes. Race-free: every directory is opened relative to its parent with
// O_NOFOLLOW|O_DIRECTORY and every file relative to its directory with O_NOFOLLOW, each checked
// to be the inode that was looked at, so no rename or symlink swap in a home — a race any user
// can run — can point the walk at another user's files. A credential file that is a symlink is
// read only when its target is a regular file of the link's owner inside the same home, and
// never a system secret (/etc/shadow, host keys, ...), whoever owns the link.
#include "walk.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/walk.hpp"
#include "keys.hpp"
#include "readers.hpp"

namespace catena::access {
namespace {

// Directories that hold caches, package stores, toolchains and VCS objects: never credentials,
// often millions of files.
constexpr std::string_view kSkippedNames[] = {
    ".cache",        "node_modules",   ".npm", ".hg",     ".svn",    "__pycache__",
    "site-packages", ".rustup",        ".nvm", ".pyenv",  ".sdkman", ".mozilla",
    ".vscode",       ".vscode-server", "snap", ".steam",  ".wine",   ".Trash",
    ".venv",         "venv",           ".tox", ".ccache", ".conda",  "anaconda3",
    "miniconda3",    ".pub-cache",
};
constexpr std::string_view kSkippedSuffixes[] = {
    "/.cargo/registry",
    "/.cargo/git",
    "/.m2/repository",
    "/go/pkg",
    "/.config/google-chrome",
    "/.config/chromium",
    "/.local/share/Trash",
    "/.nuget/packages",
    "/.local/lib",
    "/.local/share/containers",
    "/.local/share/docker",
    "/.gradle/caches",
    "/.gradle/wrapper",
    "/.gradle/daemon",
    "/.gradle/native",
    "/.gradle/jdks",
};

// Files no symlink in a home may make catena read, whoever owns the link: the system's own
// secrets. (The inside-the-home rule already refuses them; this holds if that rule is wrong.)
constexpr std::string_view kSystemSecretPrefixes[] = {
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/security/opasswd",
    "/etc/sudoers",
    "/etc/ssh/ssh_host_",
    "/etc/ssl/private/",
    "/etc/krb5.keytab",
    "/proc/",
    "/sys/",
    "/dev/",
};

// Bounds on what one file and one home may add: a hostile file of one repeated line must not
// turn into hundreds of thousands of discoveries.
constexpr size_t kMaxPerFile = 2000;
constexpr size_t kMaxPerRoot = 20000;

bool skipped_directory(std::string_view path, std::string_view name) {
  for (std::string_view n : kSkippedNames) {
    if (name == n) return true;
  }
  for (std::string_view suffix : kSkippedSuffixes) {
    if (path.ends_with(suffix)) return true;
  }
  return false;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool same_inode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

Result<std::string> read_fd(int fd, uint64_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(ErrorCode::Io, errno_text(errno));
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return make_error(ErrorCode::LimitExceeded, "larger than " + human_bytes(max_bytes));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorCode::Io, errno_text(errno));
    if (n == 0) break;  // shrank while read: what is there
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

class OwnerNames {
 public:
  std::string name(uid_t uid) {
    auto it = cache_.find(uid);
    if (it != cache_.end()) return it->second;
    std::string out = std::to_string(uid);
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
      out = found->pw_name;
    }
    cache_.emplace(uid, out);
    return out;
  }

 private:
  std::map<uid_t, std::string> cache_;
};

std::string join(const std::string& dir, std::string_view name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
}

class Walker : public WalkVisitor {
 public:
  Walker(const Options& options, Report& report) : options_(options), report_(report) {}

  void walk_root(const std::string& root, unsigned max_depth, bool required) {
    auto real = canonical_path(root);
    root_ = real ? *real : root;
    root_count_ = 0;
    root_limited_ = false;
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) {
      if (errno != ENOENT || required) record_unreadable(root, std::strerror(errno));
      return;
    }
    if (S_ISREG(st.st_mode)) {
      // A single file (a system place): examined from its directory.
      const size_t slash = root.rfind('/');
      const std::string dir = slash == 0 ? "/" : root.substr(0, slash);
      Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (dfd.fd < 0) return;
      auto real_dir = canonical_path(dir);
      root_ = real_dir ? *real_dir : dir;
      examine_entry(dfd.fd, dir, root.substr(slash + 1), st);
      return;
    }
    int follow = O_NOFOLLOW;
    if (S_ISLNK(st.st_mode)) {
      // A home that is a symlink (/home/dev -> /data/dev) is followed when root made the link;
      // a link its user could have made is not.
      if (st.st_uid != 0 || !required) {
        if (required) record_unreadable(root, "a symbolic link its user owns, not followed");
        return;
      }
      follow = 0;
      if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        record_unreadable(root, "a symbolic link to something other than a directory");
        return;
      }
    } else if (!S_ISDIR(st.st_mode)) {
      return;
    }
    Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | follow | O_CLOEXEC | O_NONBLOCK));
    if (fd.fd < 0) {
      record_unreadable(root, std::strerror(errno));
      return;
    }
    struct stat opened {};
    if (::fstat(fd.fd, &opened) != 0 || !same_inode(st, opened)) {
      record_unreadable(root, "replaced while it was examined");
      return;
    }
    walk_dir(fd.fd, root, max_depth);
  }

 private:
  void walk_dir(int fd, const std::string& path, unsigned max_depth) {
    const WalkOptions walk{.max_depth = max_depth,
                           .one_file_system = false,  // a home's mounts are the home's too
                           .before_open = options_.before_open};
    report_.directories_walked += walk_tree(fd, path, walk, *this).directories;
  }

  void file(const WalkEntry& entry) override {
    examine_entry(entry.dir_fd, entry.dir, std::string(entry.name), *entry.st);
  }

  bool wants(const WalkEntry& entry) override {
    return entry.name == ".git" || !skipped_directory(entry.path, entry.name);
  }

  bool enter(const WalkEntry& entry, int fd) override {
    if (entry.name != ".git") return true;
    // A repository: its remotes and credentials, not its objects (at any depth).
    struct stat config {};
    if (::fstatat(fd, "config", &config, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(config.st_mode)) {
      examine_entry(fd, entry.path, "config", config);
    }
    return false;
  }

  void problem(const std::string& path, WalkProblem problem, int error) override {
    if (problem == WalkProblem::TooDeep) return;  // the depth is a bound of the search, not a gap
    Discovery d = unparsed("directory", describe_walk_problem(problem, error));
    d.holds_secret = false;
    d.path = path;
    report_.discoveries.push_back(std::move(d));
  }

  void record_unreadable(const std::string& path, const std::string& reason) {
    Discovery d = unparsed("directory", "cannot be read: " + reason);
    d.holds_secret = false;
    d.path = path;
    report_.discoveries.push_back(std::move(d));
  }

  // Reads `name` in `dfd` only if it is still the regular file `expected` describes.
  Result<std::string> read_at(int dfd,
                              const std::string& path,
                              const std::string& name,
                              const struct stat& expected,
                              uint64_t max_bytes) {
    if (options_.before_open) options_.before_open(path);
    Fd fd(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd.fd < 0) {
      return make_error(ErrorCode::Io, errno == ELOOP ? "replaced by a symbolic link while it was "
                                                        "examined"
                                                      : errno_text(errno));
    }
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) return make_error(ErrorCode::Io, errno_text(errno));
    if (!S_ISREG(st.st_mode) || !same_inode(st, expected)) {
      return make_error(ErrorCode::Io, "the file was replaced while it was examined");
    }
    return read_fd(fd.fd, max_bytes);
  }

  // A key's .pub or certificate beside it, read only when it is a regular file of the key's
  // owner.
  std::string read_sibling(
      int dfd, const std::string& dir, const std::string& name, uid_t owner, uint64_t max_bytes) {
    struct stat st {};
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != owner) {
      return {};
    }
    auto text = read_at(dfd, join(dir, name), name, st, max_bytes);
    return text ? std::move(*text) : std::string();
  }

  void examine_entry(int dfd,
                     const std::string& dir,
                     const std::string& name,
                     const struct stat& st) {
    const std::string path = join(dir, name);
    const Reader reader = reader_for(path);
    if (reader == Reader::None) return;
    if (S_ISREG(st.st_mode)) {
      examine_file(dfd, dir, name, st, reader, nullptr);
      return;
    }
    // Only well-known credential files are followed or recorded when they are not files.
    if (reader == Reader::Script || reader == Reader::Sniff) return;
    if (S_ISLNK(st.st_mode)) {
      follow_link(dfd, dir, name, st, reader);
      return;
    }
    add(path, st, {unparsed("file", "not a regular file")});
  }

  // A credential file that is a symlink (dotfile managers make them) is read through it when
  // the target is a regular file of the link's owner inside the same home and no system secret.
  // The target is opened with O_PATH (no side effect, whatever it is), judged by fstat and its
  // resolved path, then read through that very inode.
  void follow_link(int dfd,
                   const std::string& dir,
                   const std::string& name,
                   const struct stat& link,
                   Reader reader) {
    const std::string path = join(dir, name);
    if (options_.before_open) options_.before_open(path);
    Fd target(::openat(dfd, name.c_str(), O_PATH | O_CLOEXEC));
    struct stat st {};
    if (target.fd < 0 || ::fstat(target.fd, &st) != 0) {
      add(path, link, {unparsed("file", "a broken symbolic link")});
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      add(path, link, {unparsed("file", "a symbolic link to something other than a file")});
      return;
    }
    const std::string proc = "/proc/self/fd/" + std::to_string(target.fd);
    char resolved_buffer[4096];
    const ssize_t n = ::readlink(proc.c_str(), resolved_buffer, sizeof resolved_buffer - 1);
    const std::string resolved = n > 0 ? std::string(resolved_buffer, static_cast<size_t>(n)) : "";
    bool system_secret = resolved.empty();
    for (std::string_view prefix : kSystemSecretPrefixes) {
      system_secret = system_secret || resolved.starts_with(prefix);
    }
    const bool inside = resolved.starts_with(root_ + "/");
    if (system_secret || st.st_uid != link.st_uid || !inside) {
      add(path, link,
          {unparsed("file", st.st_uid != link.st_uid
                                ? "a symbolic link to a file of another owner, not "
                                  "followed"
                                : "a symbolic link out of the home, not followed")});
      return;
    }
    Fd opened(::open(proc.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    struct stat check {};
    if (opened.fd < 0 || ::fstat(opened.fd, &check) != 0 || !same_inode(st, check)) {
      add(path, link, {unparsed("file", "replaced while it was examined")});
      return;
    }
    examine_file(dfd, dir, name, st, reader, &opened.fd);
  }

  // `opened`: the file already open (a symlink's target); else it is opened from `dfd`.
  void examine_file(int dfd,
                    const std::string& dir,
                    const std::string& name,
                    const struct stat& st,
                    Reader reader,
                    const int* opened) {
    const std::string path = join(dir, name);
    const uint64_t limit = size_limit(reader, options_.max_file_bytes);
    if (static_cast<uint64_t>(st.st_size) > limit) {
      if (quietly_skipped_when_large(reader)) return;
      add(path, st,
          {unparsed("file", "larger than " + human_bytes(limit) + " (" +
                                human_bytes(static_cast<uint64_t>(st.st_size)) + "), not read")});
      return;
    }
    if (reader == Reader::GcloudStore) {
      // Presence is the fact; the SQLite content is not read.
      add(path, st, run_reader(reader, path, {}, options_.key, {}));
      return;
    }
    auto content =
        opened != nullptr ? read_fd(*opened, limit) : read_at(dfd, path, name, st, limit);
    ++report_.files_examined;
    if (!content) {
      add(path, st, {unparsed("file", "cannot be read: " + content.error().message)});
      return;
    }
    Reader chosen = reader;
    if (reader == Reader::Sniff) {
      chosen = sniff(path, *content);
      if (chosen == Reader::None) return;
    }
    Siblings siblings;
    if (wants_public_key(chosen) || wants_public_key(reader)) {
      const std::string pub = read_sibling(dfd, dir, name + ".pub", st.st_uid, 64 * 1024);
      // "type base64 comment": the comment is the rest of the first line.
      std::string_view line = trim_space(std::string_view(pub).substr(0, pub.find('\n')));
      const size_t first = line.find(' ');
      const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
      if (second != std::string_view::npos) {
        siblings.ssh_comment = std::string(trim_space(line.substr(second + 1)));
      }
    }
    if (wants_certificates(chosen) || wants_certificates(reader)) {
      const size_t dot = name.rfind('.');
      const std::string stem = dot == std::string::npos ? name : name.substr(0, dot);
      for (const char* ext : {".crt", ".cer", ".pem", ".cert.pem", "-cert.pem"}) {
        const std::string other = stem + ext;
        if (other != name) {
          siblings.certificates += read_sibling(dfd, dir, other, st.st_uid, 256 * 1024);
        }
      }
    }
    add(path, st, run_reader(chosen, path, *content, options_.key, siblings));
  }

  void add(const std::string& path, const struct stat& st, std::vector<Discovery> found) {
    // One file's identical discoveries (a line repeated a million times) count once.
    std::set<std::string> seen;
    size_t kept = 0;
    size_t dropped = 0;
    for (Discovery& d : found) {
      std::string identity = d.kind + '\0' + d.target + '\0' + d.account + '\0' + d.fingerprint +
                             '\0' + d.detail + '\0' + d.protection;
      if (!seen.insert(std::move(identity)).second) continue;
      if (kept >= kMaxPerFile || root_count_ >= kMaxPerRoot) {
        ++dropped;
        continue;
      }
      d.path = path;
      d.owner = owners_.name(st.st_uid);
      d.mode = st.st_mode & 07777;
      report_.discoveries.push_back(std::move(d));
      ++kept;
      ++root_count_;
    }
    if (dropped > 0) {
      const bool per_root = root_count_ >= kMaxPerRoot;
      if (per_root && root_limited_) return;
      root_limited_ = root_limited_ || per_root;
      Finding f{.rule = "ACCESS_LIMIT_REACHED", .severity = Severity::Medium, .path = path};
      f.message = per_root ? "A home holds more credential entries than catena records; the rest "
                             "of it was not recorded."
                           : "A credential file holds more entries than catena records; the rest "
                             "of it was not recorded.";
      f.add_evidence("limit", std::to_string(per_root ? kMaxPerRoot : kMaxPerFile));
      f.add_evidence("not_recorded", std::to_string(dropped));
      if (per_root) f.add_evidence("root", root_);
      report_.limits.push_back(std::move(f));
    }
  }

  const Options& options_;
  Report& report_;
  OwnerNames owners_;
  std::string root_;
  size_t root_count_ = 0;
  bool root_limited_ = false;
};

}  // namespace

void walk(const Options& options, Report& report) {
  Walker walker(options, report);
  std::set<std::string> seen;
  for (const std::string& home : options.homes) {
    if (home.empty() || home == "/" || !seen.insert(home).second) continue;
    walker.walk_root(home, options.max_depth, true);
  }
  if (options.system_places) {
    for (const char* place :
         {"/etc/gitlab-runner", "/etc/buildkite-agent", "/var/lib/jenkins/secrets",
          "/var/lib/jenkins/credentials.xml", "/etc/pkcs11/modules"}) {
      walker.walk_root(place, 2, false);
    }
  }
}

}  // namespace catena::access
