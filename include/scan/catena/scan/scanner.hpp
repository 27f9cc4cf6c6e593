#pragma once
/// The scan pipeline: walk the roots in parallel, read each regular file exactly once (digests
/// and format from the same bytes), apply the per-file checks, and record everything in the
/// store under one scan record.
///
///   ScanOptions options;
///   options.roots = {"/usr/bin"};
///   CATENA_TRY(ScanSummary summary, run_scan(*store, options, ScanMeta{.kind = "scan"}));
///
/// Threads: `jobs` workers share a directory stack and a file queue, preferring files so that
/// memory stays bounded by a few directory listings; one writer (the calling thread) commits
/// batches to the store. Symlinks are recorded, never followed (a root that is a symlink is
/// followed, as `find -H` does). FIFOs, sockets and devices are recorded from lstat and never
/// opened. Files are opened relative to their directory's descriptor with O_NOFOLLOW and
/// checked with fstat, so a file swapped in between can neither block nor redirect the scan.
///
/// Errors: Usage (no roots, a root that does not exist), Db (the store failed; the scan is
/// marked failed when possible), Interrupted (the cancel flag was raised; what was read is
/// committed and the scan is marked interrupted, and the summary is still returned through
/// `summary_on_interrupt`).
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/pkg/dpkg.hpp"
#include "catena/scan/scan_store.hpp"

namespace catena::intel {
class IndicatorIndex;
class SignerBlocklist;
class YaraRules;
}  // namespace catena::intel

namespace catena::scan {

/// A file with more holes than this draws on ScanOptions::sparse_budget_bytes.
inline constexpr uint64_t kSparseHoleBytes = 64ull << 20;
/// Records committed to the store per transaction.
inline constexpr size_t kBatchRecords = 2000;

struct Progress {
  uint64_t files = 0;
  uint64_t bytes = 0;
  int64_t elapsed_ns = 0;
};

/// A file as a scan leaves it: read now, or unchanged since the record it reused. Views are
/// valid during the call only.
struct SeenFile {
  /// As read now, or as the earlier scan that read it recorded it (its content's format, MD5
  /// and SHA-1 included); `changed`: its digests describe no single moment.
  const FileRecord& record;
  std::string_view package;   // its owner now (a reused record's may be older)
  bool owners_known = false;  // a package database was asked: an empty package means unowned
  int64_t read_ns = 0;        // when the scan that read it started (no later than the read)
};

struct ScanOptions {
  std::vector<std::string> roots;
  unsigned jobs = 0;  // 0: one per core
  bool one_file_system = false;
  /// Record each entry's extended attributes (capabilities, ACLs, labels); baselines watch them.
  bool xattrs = false;
  /// Directories deeper than this (below a root) are not entered: SCAN_DEPTH_LIMIT, and the
  /// scan is incomplete. Real trees stay far below; a hostile one can nest without end.
  size_t max_depth = 4096;
  /// Called with each path (files and directories) before it is read or entered; true leaves
  /// it out. For exclusions `excludes` cannot express (regular expressions).
  std::function<bool(const std::string& path)> exclude_path;
  /// fnmatch(3) patterns; one without '/' matches a base name, one with '/' the whole path.
  std::vector<std::string> excludes;
  /// Names what `exclude_path` leaves out, so that scans with the same exclusions share their
  /// records (see `full`); with `exclude_path` but no key, every file is read and written.
  std::string exclude_key;
  /// Incremental scanning. Scans of one host with the same roots and walk options form a
  /// series: a file whose (device, inode, size, mtime, ctime, mode, owner) equal those of the
  /// record a complete scan of the series wrote is not read again (its digests, facts and
  /// findings come from that record and its content's stored facts), and a record that still
  /// holds is not written again. `full` reads every file; so does a scan when the series' last
  /// full pass is older than `full_every_ns` (0: never forced), or when it has none.
  bool full = false;
  int64_t full_every_ns = 7LL * 24 * 3600 * 1'000'000'000;
  /// Files listed but not yet read, at most (plus one listing chunk of 4,096): a worker listing
  /// a huge directory reads files itself while the queue is longer, so that a directory of a
  /// million entries costs this many entries of memory (~300 bytes each), not a million.
  size_t max_queued_files = 65536;
  /// A record whose mtime or ctime lies within this window of the moment it was recorded is
  /// "racy" (as git calls it): file systems keep times in coarse ticks (ext4: the kernel's
  /// jiffy, FAT: 2 s), so a rewrite in the same tick leaves the anchors unchanged. Such a file
  /// is read again, and its record rewritten, until it is older than the window.
  int64_t racy_window_ns = 2'000'000'000;
  unsigned digests = DigestSet::kSha256;
  /// Files (by canonical path) whose MD5 is wanted too, in the same read: an audit asks it for
  /// packaged files, so that verifying packages reads nothing the scan has read. Called from
  /// the workers, concurrently.
  std::function<bool(const std::string& canonical_path)> md5_for;
  /// YARA rules applied to each file's bytes during the read (YARA_MATCH); nullptr for none.
  /// Files larger than the cap, or that take longer than the timeout, are reported skipped.
  const intel::YaraRules* yara = nullptr;
  uint64_t yara_max_bytes = 256ull << 20;
  /// The analysers (signature, structure, YARA) read a private copy of a file, never the
  /// mapping that is hashed under the fault guard; this bounds the bytes all workers hold in
  /// such copies at once. A file larger than it is analysed from a mapping whose faults become
  /// zero pages (core/mapped.hpp with_stable_mapping), its results dropped if that happened.
  uint64_t analysis_max_bytes = 64ull << 20;
  /// Bytes of holes (a sparse file's unallocated ranges, read as zeros) the whole scan may hash.
  /// Any user can create a 100 GB file that costs no disk and two minutes of hashing; files with
  /// more than kSparseHoleBytes of holes draw on this budget, and one that finds it spent is
  /// recorded without a digest (FILE_NOT_HASHED).
  uint64_t sparse_budget_bytes = 16ull << 30;
  int yara_timeout_seconds = 10;
  /// Signing certificates to flag in any signature the scan verifies (SIG_SIGNER_BLOCKED).
  const intel::SignerBlocklist* blocked_signers = nullptr;
  /// Indicators to match each file's digests against (IOC_MATCH); nullptr for none.
  const intel::IndicatorIndex* indicators = nullptr;
  /// Verify signatures and record executables' structure while reading; false classifies the
  /// format only.
  bool analyse = true;
  /// Owning packages; nullptr when there is no dpkg database. When `owners_loader` is set
  /// instead, the writer calls it once, before its first commit, so that loading the dpkg
  /// database overlaps the first reads.
  const pkg::PackageOwners* owners = nullptr;
  std::function<const pkg::PackageOwners*()> owners_loader;
  /// Raised (by a signal handler) to stop the scan; read with relaxed loads.
  const std::atomic<bool>* cancel = nullptr;
  /// Called on the writer thread about every 100 ms.
  std::function<void(const Progress&)> on_progress;
  /// Called on the writer thread with every file the scan records or reuses (after its owning
  /// package is known): what a later step needs of every file (the audit's package check)
  /// without reading the store or walking the tree again.
  std::function<void(const SeenFile&)> on_file;
  /// Test hook: runs after a file is opened (and mapped, when it is) and before it is read.
  std::function<void(const std::string& path, int attempt)> before_read_hook;
  /// Test hook: runs after each read of a file and before it is checked for change.
  std::function<void(const std::string& path, int attempt)> after_read_hook;
};

struct ScanMeta {
  std::string kind = "scan";
  std::string host;  // default: this host's name
  std::vector<std::string> arguments;
};

struct ScanSummary {
  int64_t scan_id = 0;
  std::string host;
  int64_t started_ns = 0;
  scan::ScanStatus status = scan::ScanStatus::Running;
  scan::ScanTotals totals;
  std::vector<std::string> roots;  // absolute, after de-duplication
  /// Every finding of the scan, read from the store as it is visited (the store must outlive
  /// the summary): a scan holds none of them in memory.
  FindingStream findings;
  bool full_pass = true;  // every file was read
  /// How many contents each analyser this scan ran examined (a content analysed by an earlier
  /// scan, or a copy of one this scan analysed, is not counted).
  std::vector<std::pair<std::string, uint64_t>> analyser_runs;
  /// The longest the queue of files waiting to be read grew (bounded by max_queued_files plus
  /// one listing chunk): what a huge directory cost.
  size_t peak_queued_files = 0;
};

/// Runs a scan into `store`. On interruption returns Interrupted and fills *summary_on_interrupt.
[[nodiscard]] Result<ScanSummary> run_scan(ScanStore& store,
                                           const ScanOptions& options,
                                           const ScanMeta& meta,
                                           ScanSummary* summary_on_interrupt = nullptr);

struct Root {
  std::string path;       // absolute, as the user named it (symlinks unresolved)
  std::string canonical;  // realpath, for package lookups and overlap checks
};

/// Makes roots absolute and drops any root inside another (by canonical path), keeping order.
/// `missing` says what to do with a root that does not exist.
enum class MissingRoot { Error, Skip };
[[nodiscard]] Result<std::vector<Root>> resolve_roots(const std::vector<std::string>& given,
                                                      MissingRoot missing);

}  // namespace catena::scan
