#pragma once
/// `catena packages verify`: every packaged file checked against the dpkg database, the way
/// `dpkg --verify` checks it, plus what dpkg does not see.
///
///   VerifyOptions options;                       // this machine, every package
///   CATENA_TRY(VerifyReport report, verify_packages(options));
///
/// Parity with `dpkg --verify` (dpkg 1.21): the same files are checked against the same hashes
/// (md5sums first, else the conffile hash from `status`), so the set of (path, problem) is the
/// same. Deliberate differences, each documented in docs/packages.md and tested:
///  - a file another package diverted is checked at its diverted-to path against its own
///    package's hash (dpkg looks the hash up under the diverted-to name, finds none and skips);
///  - a malformed md5sums line is a PKG_DATABASE_DAMAGED finding for that package and the other
///    lines are still checked (dpkg aborts the whole run);
///  - a directory or device where a file should be is a modification (dpkg aborts or reports
///    only a mode change);
///  - with a root other than "/", symlinks inside it resolve within it (openat2
///    RESOLVE_IN_ROOT), as they would on the machine whose disk it is; dpkg follows an absolute
///    symlink out of the root onto the host.
/// Beyond dpkg: unowned executables in system directories, packages no configured repository
/// offers, packages without md5sums, and damaged database files, each as a finding.
///
/// Files are hashed by `jobs` threads (MD5 only, as the database records); a file that does not
/// match is read again for its SHA-256 and format, the evidence an analyst needs.
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/pkg/dpkg.hpp"

namespace catena::pkg {

/// MD5s an earlier read vouches for, by root-relative path and stat anchors: a file whose
/// (device, inode, size, mtime, ctime) equal those recorded is not read again.
class KnownDigests {
 public:
  virtual ~KnownDigests() = default;
  /// Called from several threads at once.
  virtual std::optional<Md5> md5(const std::string& path, const struct stat& st) const = 0;
};

/// A file verification hashed, for a cache of stat-anchored digests.
struct HashedFile {
  std::string path;  // root-relative
  struct stat st {};
  Md5 md5{};
};

struct VerifyOptions {
  DpkgLocation location;
  /// Package names ("coreutils") or qualified names ("libc6:amd64"); empty: every package.
  std::vector<std::string> packages;
  unsigned jobs = 0;  // 0: one per core
  /// Look for unowned executables (skipped when `packages` names some).
  bool unowned = true;
  /// Also report unowned executables under /usr/local and /opt.
  bool strict = false;
  /// System tool directories (of system_tool_dirs) whose unowned executables the caller has
  /// already judged (the audit, from the files its scan just saw): not walked again.
  std::vector<std::string> unowned_judged;
  /// Check installed versions against apt's package lists.
  bool repository = true;
  std::string apt_lists_dir;  // default: <root>/var/lib/apt/lists
  const std::atomic<bool>* cancel = nullptr;
  /// Digests that need not be computed again (nullptr: every file is read). Only a match with
  /// the package's hash is taken from it: a file that differs is read for the evidence.
  const KnownDigests* known = nullptr;
  /// Where findings go as they are made (the audit stores them with its scan); unset: into
  /// VerifyReport::findings.
  std::function<void(Finding&&)> on_finding;
};

struct VerifyReport {
  size_t packages = 0;             // packages whose files were checked
  uint64_t files = 0;              // files checked against a hash
  uint64_t bytes = 0;              // bytes hashed
  uint64_t files_reused = 0;       // files whose MD5 came from `known`, not from a read
  std::vector<Finding> findings;   // sorted, most severe first; empty with on_finding
  std::vector<HashedFile> hashed;  // what was read and hashed, with its stat anchors
};

/// Usage error for a named package that is not installed; NotFound when there is no dpkg
/// database; Interrupted when the cancel flag was raised. Per-file problems are findings.
[[nodiscard]] Result<VerifyReport> verify_packages(const VerifyOptions& options);

/// The severity of a packaged file found modified: high for executable content (ELF, PE,
/// Mach-O, a script, an executable mode, or code in a library directory), low for
/// documentation, medium otherwise.
Severity modified_file_severity(std::string_view path, std::string_view format, uint32_t mode);

/// The system directories whose executables must belong to a package: /usr/bin, /usr/sbin,
/// /usr/lib*, /usr/libexec, /bin, /sbin, /lib* (and /usr/local, /opt when `strict`), as they
/// exist under `root`, symlinked aliases (merged-/usr) left out.
std::vector<std::string> system_tool_dirs(const std::string& root, bool strict);

/// UNOWNED_EXECUTABLE for a regular file no package owns when it is an executable (an execute
/// bit, or ELF/PE/Mach-O content by `format`, a format_name()); nullopt when it is not.
std::optional<Finding> unowned_executable(const std::string& path,
                                          uint32_t mode,
                                          uint64_t size,
                                          uint32_t uid,
                                          std::string_view format,
                                          const std::optional<Sha256>& sha256);

/// UNOWNED_EXECUTABLE findings for `dirs` (root-relative) under `root`.
[[nodiscard]] Result<std::vector<Finding>> find_unowned_executables(
    const DpkgLocation& location,
    const std::vector<std::string>& dirs,
    const std::atomic<bool>* cancel = nullptr);

}  // namespace catena::pkg
