#include "catena/pkg/verify.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "apt.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/rules.hpp"
#include "catena/formats/format.hpp"
#include "catena/pkg/database.hpp"
#include "file_digest.hpp"
#include "rewrites.hpp"
#include "root_fs.hpp"

namespace catena::pkg {
namespace {

// Files at least this large are hashed last, largest first.
constexpr uint64_t kLargeFileBytes = 1 << 20;
// Outcome::error of a file swapped between its lstat and its open: check it again.
constexpr std::string_view kReplaced = "replaced while being checked";

bool under_any(std::string_view path, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view prefix : prefixes) {
    if (path.starts_with(prefix) &&
        (path.size() == prefix.size() || path[prefix.size()] == '/' || prefix.back() == '/')) {
      return true;
    }
  }
  return false;
}

bool in_tool_dir(std::string_view path) {
  return under_any(path, {"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/games", "/usr/local/bin",
                          "/usr/local/sbin", "/usr/libexec", "/usr/local/lib"}) ||
         path.starts_with("/usr/lib") || path.starts_with("/lib");
}

bool is_doc_path(std::string_view path) {
  return under_any(
      path, {"/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/locale",
             "/usr/share/help", "/usr/share/gtk-doc", "/usr/share/doc-base", "/usr/share/lintian"});
}

bool has_code_extension(std::string_view path) {
  static constexpr std::array<std::string_view, 16> kCode = {
      ".py", ".pyc", ".pm",    ".pl",  ".rb",  ".js",  ".mjs", ".cjs",
      ".sh", ".jar", ".class", ".lua", ".php", ".tcl", ".so",  ".node"};
  const size_t slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (std::string_view ext : kCode) {
    if (base.ends_with(ext)) return true;
  }
  return base.find(".so.") != std::string_view::npos;
}

bool executable_format(std::string_view format) {
  return format == "elf" || format == "pe" || format == "dos" || format == "macho" ||
         format == "macho_fat" || format == "script" || format == "java_class" || format == "jar";
}

struct Check {
  uint32_t package = 0;
  std::string path;      // where the file is looked at (after diversion)
  std::string listed;    // as the package lists it
  std::string expected;  // lower-case hex, what status records ("newconffile"), or empty: only
                         // its existence is checked (directories, symlinks), as dpkg does
  bool conffile = false;
  const Diversion* diversion = nullptr;
};

enum class Problem { None, Missing, Modified, Unverifiable };

// What the check of one file found. Most files match: what only a problem needs sits behind a
// pointer, so that the outcomes of a host's ~150,000 listed paths stay small.
struct Outcome {
  struct Details {
    std::string error;  // for Unverifiable
    std::optional<Sha256> sha256;
    std::string format;
    std::string type = "file";
    std::string link_target;
  };
  Problem problem = Problem::None;
  uint32_t mode = 0;
  uint64_t size = 0;
  uint64_t bytes = 0;
  std::optional<Md5> md5;  // what was read (or known unchanged since read)
  std::unique_ptr<Details> details;

  Outcome() = default;
  Outcome(const Outcome& other)
      : problem(other.problem),
        mode(other.mode),
        size(other.size),
        bytes(other.bytes),
        md5(other.md5),
        details(other.details ? std::make_unique<Details>(*other.details) : nullptr) {}
  Outcome& operator=(const Outcome& other) {
    if (this != &other) *this = Outcome(other);
    return *this;
  }
  Outcome(Outcome&&) noexcept = default;
  Outcome& operator=(Outcome&&) noexcept = default;

  Details& detail() {
    if (!details) details = std::make_unique<Details>();
    return *details;
  }
  const Details& seen() const {
    static const Details kNone;
    return details ? *details : kNone;
  }
};

std::string_view type_name(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "char-device";
  if (S_ISBLK(mode)) return "block-device";
  return "unknown";
}

std::string octal(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04o", mode & 07777);
  return text;
}

// Hashes the file opened as `fd_or_error` (-errno when the open failed), which `known` (its
// lstat) says is regular. Outcome::error is kReplaced when it is not the file `known` describes.
// `reader` is the calling thread's (its buffer and digest contexts serve every file it reads).
Outcome hash_open_file(ContentReader& reader,
                       int fd_or_error,
                       const Check& check,
                       const struct stat& known);

Outcome hash_file(ContentReader& reader,
                  const RootFs& fs,
                  const Check& check,
                  const struct stat& known) {
  return hash_open_file(reader, fs.open_read(check.path), check, known);
}

// Opens `name` in the directory `dir_fd` for reading; the fd, or -errno.
int open_read_at(int dir_fd, const std::string& name) {
  constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  int fd = ::openat(dir_fd, name.c_str(), kFlags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name.c_str(), kFlags);
  return fd >= 0 ? fd : -errno;
}

Outcome check_file(ContentReader& reader, const RootFs& fs, const Check& check) {
  Outcome out;
  constexpr int kAttempts = 2;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    struct stat st {};
    if (const int err = fs.stat_nofollow(check.path, st); err != 0) {
      if (err == ENOENT || err == ENOTDIR) {
        out.problem = Problem::Missing;
      } else {
        out.problem = Problem::Unverifiable;
        out.detail().error = errno_text(err);
      }
      return out;
    }
    out.mode = st.st_mode & 07777;
    out.size = static_cast<uint64_t>(st.st_size);
    if (check.expected.empty()) return out;
    if (!S_ISREG(st.st_mode)) {
      out.problem = Problem::Modified;
      out.detail().type = std::string(type_name(st.st_mode));
      if (S_ISLNK(st.st_mode)) out.detail().link_target = fs.read_link(check.path);
      return out;
    }
    out = hash_file(reader, fs, check, st);
    if (out.seen().error != kReplaced) return out;
  }
  out.problem = Problem::Unverifiable;
  out.detail().error = "the file kept changing while it was being checked";
  return out;
}

Outcome hash_open_file(ContentReader& reader,
                       int fd_or_error,
                       const Check& check,
                       const struct stat& known) {
  Outcome out;
  out.mode = known.st_mode & 07777;
  out.size = static_cast<uint64_t>(known.st_size);
  if (fd_or_error < 0) {
    out.problem = Problem::Unverifiable;
    out.detail().error = fd_or_error == -ENOENT || fd_or_error == -ELOOP || fd_or_error == -ENXIO
                             ? std::string(kReplaced)
                             : errno_text(-fd_or_error);
    return out;
  }
  const UniqueFd fd(fd_or_error);
  // MD5 alone, as dpkg: the common case (unchanged) costs one digest.
  const FileContent content =
      reader.read_open(fd.get(), {.digests = DigestSet::kMd5, .expect = &known});
  if (content.status != FileContent::Status::Read) {
    out.problem = Problem::Unverifiable;
    out.detail().error = content.status == FileContent::Status::Unreadable
                             ? errno_text(content.error)
                             : std::string(kReplaced);
    return out;
  }
  out.bytes = content.bytes;
  out.md5 = *content.digests.md5;
  if (to_hex(*out.md5) == check.expected) return out;
  // Modified: the evidence is its SHA-256 and what it is, from a second read.
  out.problem = Problem::Modified;
  out.size = content.bytes;
  const FileContent evidence = reader.read_open(
      fd.get(),
      {.digests = DigestSet::kSha256, .head_bytes = formats::kClassifyHeadBytes, .expect = &known});
  if (evidence.status == FileContent::Status::Read) {
    out.detail().sha256 = *evidence.digests.sha256;
    out.detail().format =
        std::string(formats::format_name(formats::classify_format(evidence.head)));
    out.size = evidence.bytes;
  }
  return out;
}

Finding damaged(const std::string& file, const std::string& package, std::string message) {
  Finding f = make_finding("PKG_DATABASE_DAMAGED", file);
  f.message = std::move(message);
  f.add_evidence("package", package);
  return f;
}

bool matches_filter(const InstalledPackage& p, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (name == p.name || name == p.qualified_name() ||
        (!p.architecture.empty() && name == p.name + ":" + p.architecture)) {
      return true;
    }
  }
  return false;
}

Finding finding_for(const Check& check, const Outcome& outcome, const InstalledPackage& package) {
  const Outcome::Details& seen = outcome.seen();
  Finding f;
  switch (outcome.problem) {
    case Problem::Missing:
      f = make_finding(check.conffile ? "PKG_CONFFILE_MISSING" : "PKG_FILE_MISSING", check.path);
      if (!check.conffile && is_doc_path(check.path)) f.severity = Severity::Low;
      break;
    case Problem::Modified:
      if (check.conffile) {
        f = make_finding("PKG_CONFFILE_MODIFIED", check.path);
        // An edited conffile is normal administration; an executable one runs as root.
        if ((outcome.mode & 0111) != 0 || seen.type != "file") f.severity = Severity::Medium;
        if (check.expected == "newconffile") {
          f.message =
              "A conffile has no recorded hash: its package was unpacked but never "
              "configured, so its content cannot be checked.";
        }
      } else {
        f = make_finding("PKG_FILE_MODIFIED", check.path);
        f.severity = seen.type == "file"
                         ? modified_file_severity(check.path, seen.format, outcome.mode)
                         : (in_tool_dir(check.path) ? Severity::High : Severity::Medium);
        if (seen.type != "file") {
          f.message = "A packaged file was replaced by a " + seen.type + ".";
        }
      }
      break;
    case Problem::Unverifiable:
      f = make_finding("PKG_FILE_UNVERIFIABLE", check.path);
      break;
    case Problem::None:
      break;
  }
  f.add_evidence("package", package.qualified_name());
  if (!check.expected.empty()) f.add_evidence("expected_md5", check.expected);
  if (outcome.problem == Problem::Modified) {
    if (outcome.md5) f.add_evidence("actual_md5", to_hex(*outcome.md5));
    if (seen.sha256) {
      f.sha256 = seen.sha256;
      f.add_evidence("sha256", to_hex(*seen.sha256));
    }
    if (!seen.format.empty()) f.add_evidence("format", seen.format);
    f.add_evidence("type", seen.type);
    if (!seen.link_target.empty()) f.add_evidence("link_target", seen.link_target);
    f.add_evidence("mode", octal(outcome.mode));
    if (seen.type == "file") f.add_evidence("size", std::to_string(outcome.size));
  }
  if (outcome.problem == Problem::Unverifiable) f.add_evidence("error", seen.error);
  if (check.conffile) f.add_evidence("conffile", "true");
  if (check.diversion != nullptr) {
    f.add_evidence("diverted_from", check.listed);
    f.add_evidence("diverted_to", check.diversion->to);
    f.add_evidence("diverted_by", check.diversion->by);
  }
  return f;
}

}  // namespace

Severity modified_file_severity(std::string_view path, std::string_view format, uint32_t mode) {
  if (executable_format(format) || (mode & 0111) != 0) return Severity::High;
  const bool lib_dir = path.starts_with("/usr/lib") || path.starts_with("/lib") ||
                       path.starts_with("/usr/libexec") || path.starts_with("/usr/local/lib") ||
                       path.starts_with("/usr/share/perl") || path.starts_with("/usr/share/python");
  if (lib_dir && has_code_extension(path)) return Severity::High;
  if (is_doc_path(path)) return Severity::Low;
  return Severity::Medium;
}

namespace {

// What one package contributes: the files to check and the findings about its database files.
struct PackageWork {
  bool loaded = false;
  std::vector<Check> checks;
  std::vector<Finding> findings;
};

void load_package(const DpkgDatabase& db,
                  const RootFs& fs,
                  uint32_t pkg_idx,
                  const std::unordered_map<std::string_view, const Diversion*>& diversions,
                  PackageWork& out) {
  const InstalledPackage& p = db.packages()[pkg_idx];
  const std::string name = p.qualified_name();
  auto list_text = db.read_info(p, "list");
  if (!list_text) {
    Finding f = damaged(db.info_path(p, "list"), name,
                        "An installed package has no readable files list, so none of its "
                        "files can be checked.");
    f.add_evidence("error", list_text.error().describe());
    out.findings.push_back(std::move(f));
    return;
  }
  auto listed = parse_list(*list_text);
  if (!listed) {
    Finding f = damaged(db.info_path(p, "list"), name,
                        "A package's files list is malformed, so none of its files can be "
                        "checked.");
    f.add_evidence("error", listed.error().message);
    out.findings.push_back(std::move(f));
    return;
  }
  out.loaded = true;
  std::unordered_map<std::string_view, std::string_view> hashes;
  Md5sums md5sums;
  auto md5_text = db.read_info(p, "md5sums");
  const bool has_md5sums = md5_text.has_value();
  if (md5_text) {
    md5sums = parse_md5sums(*md5_text);
    for (const Md5sumEntry& e : md5sums.entries) hashes.emplace(e.path, e.md5);
    if (!md5sums.bad_lines.empty()) {
      Finding f = damaged(db.info_path(p, "md5sums"), name,
                          "A package's md5sums file has malformed lines; the files they name "
                          "cannot be checked against it.");
      f.add_evidence("bad_lines", std::to_string(md5sums.bad_lines.size()));
      f.add_evidence("first_bad_line", std::to_string(md5sums.bad_lines.front().line));
      f.add_evidence("reason", md5sums.bad_lines.front().reason);
      out.findings.push_back(std::move(f));
    }
  } else if (md5_text.error().code != ErrorCode::NotFound) {
    Finding f = damaged(db.info_path(p, "md5sums"), name,
                        "A package's md5sums file cannot be read; its files cannot be checked.");
    f.add_evidence("error", md5_text.error().describe());
    out.findings.push_back(std::move(f));
  }
  std::unordered_map<std::string_view, const Conffile*> conffiles;
  for (const Conffile& c : p.conffiles) conffiles.emplace(c.path, &c);
  uint64_t unhashed_files = 0;
  for (std::string_view path : *listed) {
    auto hash = hashes.find(path);
    auto conffile = conffiles.find(path);
    std::string expected;
    if (hash != hashes.end()) {
      expected = std::string(hash->second);
    } else if (conffile != conffiles.end()) {
      expected = conffile->second->hash;
      for (char& c : expected) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      }
    } else if (!has_md5sums) {
      struct stat st {};
      if (fs.stat_nofollow(std::string(path), st) == 0 && S_ISREG(st.st_mode)) ++unhashed_files;
    }
    Check check{.package = pkg_idx,
                .path = std::string(path),
                .listed = std::string(path),
                .expected = std::move(expected),
                .conffile = conffile != conffiles.end()};
    if (auto d = diversions.find(path);
        d != diversions.end() && d->second->by != p.name && d->second->by != name) {
      check.diversion = d->second;
      check.path = d->second->to;
    }
    out.checks.push_back(std::move(check));
  }
  if (unhashed_files > 0) {
    Finding f = make_finding("PKG_NO_MD5SUMS", db.info_path(p, "md5sums"));
    f.add_evidence("package", name);
    f.add_evidence("unverified_files", std::to_string(unhashed_files));
    out.findings.push_back(std::move(f));
  }
}

}  // namespace

Result<VerifyReport> verify_packages(const VerifyOptions& options) {
  CATENA_TRY(DpkgDatabase db, DpkgDatabase::open(options.location));
  CATENA_TRY(RootFs fs, RootFs::open(db.root()));
  const std::vector<InstalledPackage>& packages = db.packages();
  for (const std::string& name : options.packages) {
    const bool known = std::any_of(
        packages.begin(), packages.end(),
        [&](const InstalledPackage& p) { return p.has_files() && matches_filter(p, {name}); });
    if (!known) return make_error(ErrorCode::Usage, "package '" + name + "' is not installed");
  }
  const unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  const auto cancelled = [&] {
    return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
  };

  std::unordered_map<std::string_view, const Diversion*> diversions;
  for (const Diversion& d : db.diversions()) diversions.emplace(d.from, &d);
  std::vector<uint32_t> selected;
  for (uint32_t pkg_idx = 0; pkg_idx < packages.size(); ++pkg_idx) {
    const InstalledPackage& p = packages[pkg_idx];
    if (!p.has_files()) continue;
    if (!options.packages.empty() && !matches_filter(p, options.packages)) continue;
    selected.push_back(pkg_idx);
  }

  // The checks beyond dpkg run beside the hashing.
  std::vector<Finding> unowned_findings;
  std::optional<Error> unowned_error;
  std::thread unowned_thread;
  if (options.unowned && options.packages.empty()) {
    unowned_thread = std::thread([&] {
      std::vector<std::string> dirs = system_tool_dirs(db.root(), options.strict);
      std::erase_if(dirs, [&](const std::string& dir) {
        return std::find(options.unowned_judged.begin(), options.unowned_judged.end(), dir) !=
               options.unowned_judged.end();
      });
      auto found = find_unowned_executables(options.location, dirs, options.cancel);
      if (found) {
        unowned_findings = std::move(*found);
      } else {
        unowned_error = found.error();
      }
    });
  }
  std::vector<Finding> repository_findings;
  std::thread repository_thread;
  if (options.repository) {
    repository_thread = std::thread([&] {
      const std::string lists = options.apt_lists_dir.empty()
                                    ? join_root(db.root(), "/var/lib/apt/lists")
                                    : options.apt_lists_dir;
      std::vector<const InstalledPackage*> wanted;
      std::unordered_set<std::string_view> names;
      for (uint32_t pkg_idx : selected) {
        wanted.push_back(&packages[pkg_idx]);
        names.insert(packages[pkg_idx].name);
      }
      repository_findings = packages_not_from_repository(wanted, AptIndex::load(lists, &names));
    });
  }
  const auto join_side_threads = [&] {
    if (unowned_thread.joinable()) unowned_thread.join();
    if (repository_thread.joinable()) repository_thread.join();
  };

  // 1. Each package's lists, in parallel.
  std::vector<PackageWork> work(selected.size());
  parallel_for<NoState>(selected.size(), jobs, options.cancel, [&](size_t index, NoState&) {
    load_package(db, fs, selected[index], diversions, work[index]);
  });
  VerifyReport report;
  std::vector<Finding> findings;
  const auto emit = [&](Finding&& f) {
    if (options.on_finding) {
      options.on_finding(std::move(f));
    } else {
      findings.push_back(std::move(f));
    }
  };
  std::vector<Check> checks;
  size_t listed = 0;
  for (const PackageWork& w : work) listed += w.checks.size();
  checks.reserve(listed);
  for (PackageWork& w : work) {
    if (w.loaded) ++report.packages;
    for (Finding& f : w.findings) emit(std::move(f));
    std::move(w.checks.begin(), w.checks.end(), std::back_inserter(checks));
  }
  work.clear();

  // 2. Directory by directory: lstat each file relative to its directory and hash the small
  // ones at once, which spares a full path lookup per file. 3. The large files, largest first,
  // so that no core idles at the end.
  std::vector<Outcome> outcomes(checks.size());
  std::vector<struct stat> stats(checks.size());
  std::vector<size_t> by_dir(checks.size());
  for (size_t index = 0; index < checks.size(); ++index) by_dir[index] = index;
  const auto dir_of = [&](size_t index) {
    const std::string& path = checks[index].path;
    return std::string_view(path).substr(0, path.rfind('/'));
  };
  std::stable_sort(by_dir.begin(), by_dir.end(),
                   [&](size_t a, size_t b) { return dir_of(a) < dir_of(b); });
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) in by_dir
  for (size_t begin = 0; begin < by_dir.size();) {
    size_t end = begin + 1;
    while (end < by_dir.size() && dir_of(by_dir[end]) == dir_of(by_dir[begin])) ++end;
    groups.emplace_back(begin, end);
    begin = end;
  }
  std::vector<char> deferred(checks.size(), 0);
  std::vector<char> reused(checks.size(), 0);
  std::vector<char> stat_known(checks.size(), 0);
  parallel_for<ContentReader>(
      groups.size(), jobs, options.cancel, [&](size_t g, ContentReader& reader) {
        const auto [begin, end] = groups[g];
        const std::string dir(dir_of(by_dir[begin]));
        const UniqueFd dir_fd(fs.open_dir(dir.empty() ? "/" : dir));
        for (size_t n = begin; n < end; ++n) {
          const size_t index = by_dir[n];
          const Check& check = checks[index];
          if (!dir_fd.valid()) {
            outcomes[index] = check_file(reader, fs, check);
            continue;
          }
          const std::string base = check.path.substr(check.path.rfind('/') + 1);
          struct stat& st = stats[index];
          const bool exists = ::fstatat(dir_fd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
          if (exists && check.expected.empty()) continue;
          stat_known[index] = exists ? 1 : 0;
          if (!exists || !S_ISREG(st.st_mode)) {
            // Missing, unreadable or not a file: the full check says which.
            outcomes[index] = check_file(reader, fs, check);
            continue;
          }
          if (options.known != nullptr) {
            if (auto md5 = options.known->md5(check.path, st);
                md5 && to_hex(*md5) == check.expected) {
              Outcome& out = outcomes[index];
              out.mode = st.st_mode & 07777;
              out.size = static_cast<uint64_t>(st.st_size);
              out.md5 = *md5;
              reused[index] = 1;
              continue;
            }
          }
          if (static_cast<uint64_t>(st.st_size) >= kLargeFileBytes) {
            deferred[index] = 1;
            continue;
          }
          Outcome out = hash_open_file(reader, open_read_at(dir_fd.get(), base), check, st);
          if (out.seen().error == kReplaced) out = check_file(reader, fs, check);
          outcomes[index] = std::move(out);
        }
      });
  // Hard links (mesa's drivers, perl, bzip2) are one content under several names: hash it once.
  std::vector<size_t> large;
  std::vector<std::pair<size_t, size_t>> links;  // (index, index of the name that is hashed)
  std::map<std::pair<dev_t, ino_t>, size_t> first_name;
  for (size_t index = 0; index < checks.size(); ++index) {
    if (deferred[index] == 0) continue;
    auto [it, inserted] = first_name.try_emplace({stats[index].st_dev, stats[index].st_ino}, index);
    if (inserted) {
      large.push_back(index);
    } else {
      links.emplace_back(index, it->second);
    }
  }
  std::sort(large.begin(), large.end(),
            [&](size_t a, size_t b) { return stats[a].st_size > stats[b].st_size; });
  parallel_for<ContentReader>(large.size(), jobs, options.cancel,
                              [&](size_t n, ContentReader& reader) {
                                const size_t index = large[n];
                                Outcome out = hash_file(reader, fs, checks[index], stats[index]);
                                if (out.seen().error == kReplaced)
                                  out = check_file(reader, fs, checks[index]);
                                outcomes[index] = std::move(out);
                              });
  {
    ContentReader reader;
    for (const auto& [index, source] : links) {
      const Outcome& hashed = outcomes[source];
      Outcome out = hashed;
      out.bytes = 0;
      if (!hashed.md5) {
        out = check_file(reader, fs, checks[index]);  // unreadable, or it changed
      } else if (to_hex(*hashed.md5) == checks[index].expected) {
        out.problem = Problem::None;
      } else if (hashed.problem != Problem::Modified) {
        out = check_file(reader, fs, checks[index]);  // for the evidence
      }
      outcomes[index] = std::move(out);
    }
  }
  join_side_threads();
  if (cancelled()) return make_error(ErrorCode::Interrupted, "interrupted");
  if (unowned_error) return tl::unexpected(*unowned_error);

  // Directories a language package manager rewrote: their findings carry the explanation.
  std::unordered_map<uint32_t, std::vector<std::string>> modified_by_package;
  std::unordered_map<uint32_t, std::vector<std::string>> missing_by_package;
  for (size_t check_idx = 0; check_idx < checks.size(); ++check_idx) {
    const Problem problem = outcomes[check_idx].problem;
    if (checks[check_idx].conffile) continue;
    if (problem == Problem::Modified) {
      modified_by_package[checks[check_idx].package].push_back(checks[check_idx].path);
    } else if (problem == Problem::Missing) {
      missing_by_package[checks[check_idx].package].push_back(checks[check_idx].path);
    }
  }
  std::unordered_map<uint32_t, std::vector<RewrittenDirectory>> rewritten;
  for (const auto& [pkg_idx, paths] : modified_by_package) {
    if (paths.size() < kRewrittenFiles) continue;
    auto dirs = rewritten_directories(paths, missing_by_package[pkg_idx],
                                      packages[pkg_idx].qualified_name(), fs);
    if (!dirs.empty()) rewritten.emplace(pkg_idx, std::move(dirs));
  }
  modified_by_package.clear();
  missing_by_package.clear();
  const auto explain = [&](const Check& check, Finding& f) {
    const auto it = rewritten.find(check.package);
    if (it == rewritten.end() || check.conffile) return;
    for (const RewrittenDirectory& d : it->second) {
      if (!path_is_within(check.path, d.directory)) continue;
      f.add_evidence("group_root", d.directory);
      if (!d.version.empty()) f.add_evidence("manifest_version", d.version);
      f.add_evidence("explanation", d.explanation);
      return;
    }
  };

  for (size_t check_idx = 0; check_idx < checks.size(); ++check_idx) {
    const Outcome& outcome = outcomes[check_idx];
    report.bytes += outcome.bytes;
    if (reused[check_idx] != 0) ++report.files_reused;
    // A digest read now, of the file the stat describes, is worth remembering.
    if (reused[check_idx] == 0 && stat_known[check_idx] != 0 && outcome.bytes > 0 && outcome.md5 &&
        S_ISREG(stats[check_idx].st_mode)) {
      report.hashed.push_back(
          {.path = checks[check_idx].path, .st = stats[check_idx], .md5 = *outcome.md5});
    }
    if (!checks[check_idx].expected.empty() && outcome.problem != Problem::Missing &&
        outcome.problem != Problem::Unverifiable) {
      ++report.files;
    }
    if (outcome.problem == Problem::None) continue;
    Finding f = finding_for(checks[check_idx], outcome, packages[checks[check_idx].package]);
    if (outcome.problem == Problem::Modified || outcome.problem == Problem::Missing) {
      explain(checks[check_idx], f);
    }
    emit(std::move(f));
  }
  for (Finding& f : unowned_findings) emit(std::move(f));
  for (Finding& f : repository_findings) emit(std::move(f));
  sort_findings(findings);
  report.findings = std::move(findings);
  return report;
}

std::vector<std::string> system_tool_dirs(const std::string& root, bool strict) {
  std::vector<std::string> candidates = {"/usr/bin", "/usr/sbin", "/usr/libexec", "/bin", "/sbin"};
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  for (const char* parent_text : {"/usr", "/"}) {
    const std::string parent(parent_text);
    std::unique_ptr<DIR, CloseDir> dir(::opendir(join_root(root, parent).c_str()));
    if (!dir) continue;
    std::vector<std::string> libs;
    while (dirent* entry = ::readdir(dir.get())) {
      const std::string_view name(entry->d_name);
      if (name.starts_with("lib") && name != "libexec") {
        libs.push_back((parent == "/" ? "" : parent) + "/" + std::string(name));
      }
    }
    std::sort(libs.begin(), libs.end());
    candidates.insert(candidates.end(), libs.begin(), libs.end());
  }
  if (strict) {
    candidates.push_back("/usr/local");
    candidates.push_back("/opt");
  }
  std::vector<std::string> out;
  for (const std::string& dir : candidates) {
    struct stat st {};
    // A symlinked alias (merged-/usr: /bin -> usr/bin) is walked under its real name.
    if (::lstat(join_root(root, dir).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      out.push_back(dir);
    }
  }
  return out;
}

FileDigest digest_path(const RootFs& fs, const std::string& path, unsigned algorithms) {
  FileDigest out;
  constexpr int kAttempts = 2;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    struct stat st {};
    if (const int err = fs.stat_nofollow(path, st); err != 0) {
      out.kind = err == ENOENT || err == ENOTDIR ? FileDigest::Missing : FileDigest::Unreadable;
      out.error = errno_text(err);
      return out;
    }
    out.mode = st.st_mode & 07777;
    out.size = static_cast<uint64_t>(st.st_size);
    out.type = std::string(type_name(st.st_mode));
    if (!S_ISREG(st.st_mode)) {
      out.kind = FileDigest::NotRegular;
      if (S_ISLNK(st.st_mode)) out.link_target = fs.read_link(path);
      return out;
    }
    const int fd_or_error = fs.open_read(path);
    if (fd_or_error < 0) {
      if (fd_or_error == -ENOENT || fd_or_error == -ELOOP || fd_or_error == -ENXIO) continue;
      out.kind = FileDigest::Unreadable;
      out.error = errno_text(-fd_or_error);
      return out;
    }
    const UniqueFd fd(fd_or_error);
    const FileContent content = read_open_content(
        fd.get(),
        {.digests = algorithms, .head_bytes = formats::kClassifyHeadBytes, .expect = &st});
    if (content.status == FileContent::Status::Unreadable) {
      out.kind = FileDigest::Unreadable;
      out.error = errno_text(content.error);
      return out;
    }
    if (content.status != FileContent::Status::Read) continue;  // replaced: look again
    out.size = content.bytes;
    out.digests = content.digests;
    out.format = std::string(formats::format_name(formats::classify_format(content.head)));
    out.kind = FileDigest::Regular;
    return out;
  }
  out.kind = FileDigest::Unreadable;
  out.error = "the file kept changing while it was being checked";
  return out;
}

}  // namespace catena::pkg
