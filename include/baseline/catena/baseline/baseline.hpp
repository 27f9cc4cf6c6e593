#pragma once
/// File-integrity baselines, as AIDE keeps them, in the store: `create` takes a scan of the
/// selected paths (with extended attributes) and names it; `check` scans the same paths again
/// and reports what was added, removed or changed, telling a package upgrade from an
/// unexplained change; `update` moves the baseline forward.
///
///   Options options{.name = "tools", .config = default_config()};
///   CATENA_TRY(BaselineRecord b, create(store, options));
///   CATENA_TRY(CheckReport report, check(store, options));
///
/// A baseline covers files, symlinks and special files; directories themselves are not
/// recorded (a file added to or removed from one is).
#include <atomic>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catena/baseline/baseline_store.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/pkg/dpkg.hpp"
#include "catena/scan/scan_store.hpp"
#include "catena/trust/keys.hpp"

namespace catena::baseline {

/// The attributes a rule watches.
enum Attribute : unsigned {
  kContent = 1 << 0,  // SHA-256
  kSize = 1 << 1,
  kType = 1 << 2,
  kMode = 1 << 3,  // permission bits, setuid/setgid/sticky
  kUid = 1 << 4,
  kGid = 1 << 5,
  kMtime = 1 << 6,
  kCtime = 1 << 7,
  kInode = 1 << 8,
  kLink = 1 << 9,     // symlink target
  kXattrs = 1 << 10,  // extended attributes: file capabilities, POSIX ACLs, labels
  kAllAttributes = (1 << 11) - 1,
};

/// "content", "size", "type", "mode", "uid", "gid", "mtime", "ctime", "inode", "link", "xattrs"
/// (and "all") to bits; Usage error naming an unknown one.
[[nodiscard]] Result<unsigned> parse_attributes(const std::vector<std::string>& names);
std::vector<std::string> attribute_names(unsigned attributes);

struct Rule {
  std::vector<std::string> paths;     // absolute
  std::vector<std::string> excludes;  // fnmatch globs: with '/' the whole path, else the name
  std::vector<std::string> exclude_regexes;  // POSIX extended, matched against the whole path
  unsigned attributes = kAllAttributes;
};

struct Config {
  std::vector<Rule> rules;
};

/// The system tool directories (/usr/bin, /usr/sbin, /usr/lib*, /usr/libexec, /usr/local, /opt,
/// /etc), every attribute, Python byte-code caches excluded.
Config default_config();
/// The config as TOML (see docs/baseline.md). Parse error with the line for bad TOML; Usage for an
/// unknown key or attribute, a relative path, or a bad regular expression.
[[nodiscard]] Result<Config> parse_config(std::string_view toml);
std::string config_to_json(const Config& config);
[[nodiscard]] Result<Config> config_from_json(std::string_view json);

struct Options {
  std::string name;
  Config config;     // for create; check and update use the baseline's own
  std::string host;  // default: this host
  unsigned jobs = 0;
  pkg::DpkgLocation dpkg;        // whose package versions explain changes
  bool accept_packages = false;  // update: fold in only package-explained changes
  /// Read every file; otherwise one whose stat anchors equal those an earlier scan of the same
  /// selection recorded is taken from that record (see scan::ScanOptions::full).
  bool full = false;
  const std::atomic<bool>* cancel = nullptr;
};

/// Where a baseline is kept: its scans and its named record. One backend keeps both (the
/// SQLite store does), so a store converts to this as it is.
struct Stores {
  template <typename Both>
  requires std::derived_from<Both, scan::ScanStore> && std::derived_from<Both, BaselineStore>
  Stores(Both& both) : scans(both), baselines(both) {}  // NOLINT(google-explicit-constructor)
  Stores(scan::ScanStore& scan_store, BaselineStore& baseline_store)
      : scans(scan_store), baselines(baseline_store) {}
  scan::ScanStore& scans;
  BaselineStore& baselines;
};

/// Creates (or replaces) the baseline from a fresh scan. Usage error for an empty selection.
[[nodiscard]] Result<BaselineRecord> create(Stores store, const Options& options);

struct CheckReport {
  BaselineRecord baseline;
  int64_t scan_id = 0;     // the scan taken for the check
  int64_t started_ns = 0;  // when the check began
  /// For an exported baseline: when it was exported, its sequence among that signer's exports
  /// of it, and the signer's key id. A sequence older than the newest this store has seen is
  /// a BASELINE_ROLLBACK finding.
  int64_t exported_ns = 0;
  int64_t sequence = 0;
  std::string signer;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t files_read = 0;  // the rest were unchanged since an earlier check's read
  uint64_t files_reused = 0;
  /// Most severe first; a check's are read from the store (which must outlive the report).
  FindingStream findings;
};

/// Compares the paths' current state with the baseline. NotFound when there is none.
[[nodiscard]] Result<CheckReport> check(Stores store, const Options& options);

/// Checks, then moves the baseline to the current state (with accept_packages: only the
/// package-explained changes). Returns the check that was folded in.
[[nodiscard]] Result<CheckReport> update(Stores store, const Options& options);

/// The DSSE payload type and format version of an exported baseline.
inline constexpr std::string_view kExportPayloadType = "application/vnd.catena.baseline+json";
inline constexpr int kExportVersion = 1;
/// A cap on an exported baseline file; a system-wide baseline is a few tens of MB.
inline constexpr uint64_t kMaxExportBytes = 1ull << 30;

/// The baseline as a DSSE envelope (JSON) signed with `key`: its records, config and package
/// versions, so that it can be kept off the host and checked against later.
[[nodiscard]] Result<std::string> export_signed(Stores store,
                                                const Options& options,
                                                const trust::SigningKey& key);

/// Checks this host against an exported baseline. Refuses (Usage error, nothing checked) an
/// envelope whose signature does not verify with `key`, a baseline of another host (unless
/// options.host names it) or of another format version; Parse error for a damaged file.
[[nodiscard]] Result<CheckReport> check_exported(Stores store,
                                                 std::string_view envelope,
                                                 const trust::VerifyingKey& key,
                                                 const Options& options);

}  // namespace catena::baseline
