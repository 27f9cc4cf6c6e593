#pragma once
/// What a scan keeps: scans, file records, findings, the facts of contents.
///
/// The scanner, the baseline and the audit read and write through this interface. The SQLite store
/// (store::Store) implements it; a second backend (the fleet server's PostgreSQL) implements the
/// same interface.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::scan {

enum class ScanStatus { Running, Complete, Interrupted, Failed };
std::string_view scan_status_name(ScanStatus status);

enum class FileType { Regular, Symlink, Fifo, Socket, CharDevice, BlockDevice, Other };
std::string_view file_type_name(FileType type);

struct FileRecord {
  std::string path;  // exact bytes
  FileType type = FileType::Regular;
  uint64_t size = 0;
  uint32_t mode = 0;  // full st_mode
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  std::optional<Sha256> sha256;  // regular files that were read
  std::optional<Md5> md5;
  std::optional<Sha1> sha1;
  std::string format;       // per-content fact; empty when not read
  std::string signature;    // per-content: code-signature verdict (valid, invalid, ...), or empty
  std::string details;      // per-content: the format's structure as a JSON object, or empty
  std::string package;      // owning Debian package(s), empty when unowned
  std::string link_target;  // symlinks: exact bytes of the target
  bool changed = false;     // content kept changing while read
  /// Extended attributes when the scan collected them: "name\0hex value\n" per attribute,
  /// sorted by name (see core/xattr.hpp); empty when none or not collected.
  std::string xattrs;
};

struct NewScan {
  std::string host;
  std::string kind;  // "scan" or "audit"
  int64_t started_ns = 0;
  std::string catena_version;
  std::vector<std::string> arguments;
  std::vector<std::string> roots;
  std::string digests = "sha256";  // the digests computed for every file: "sha256,md5,sha1"
  /// Scans of one host with the same series key (roots and content-affecting options) share
  /// their file records: a record stays valid until a later scan of the series sees the file
  /// change. Empty: the scan is a series of its own.
  std::string series_key;
  /// Every file was read (no record was taken from an earlier scan).
  bool full_pass = true;
};

struct ScanTotals {
  uint64_t files = 0;   // regular files recorded
  uint64_t bytes = 0;   // bytes of those files read
  uint64_t errors = 0;  // unreadable, vanished or failed entries
  int64_t finished_ns = 0;
  uint64_t files_read = 0;    // regular files opened and hashed
  uint64_t files_reused = 0;  // regular files whose record an earlier scan's stat anchors vouch for
  /// The walk finished but could not examine everything (a SCAN_DEPTH_LIMIT or
  /// SCAN_RESOURCE_LIMIT finding says where): not a complete picture.
  bool incomplete = false;
};

/// A file record valid at the start of a scan of the series, as an incremental scan compares
/// with it: the record (its content's format, MD5 and SHA-1 from the content), where it is in
/// the store, and which analysers produced its content's facts.
struct ReferenceFile {
  FileRecord record;
  int64_t row = 0;                  // the record's id: closed when the file changed or vanished
  bool from_complete_scan = false;  // written by a scan that completed: only those are reused
  int64_t recorded_ns = 0;          // when the scan that wrote it started
  std::string analysis;             // contents.analysis of its content
};

/// What a content's analysers concluded, as stored: "name=version/inputs" pairs joined by ';'
/// (`analysis`) and the findings they raised, each tagged with its analyser.
struct AnalysedContent {
  Sha256 sha256{};
  std::string analysis;
  std::vector<std::pair<std::string, Finding>> findings;  // (analyser, finding without path)
};

/// An MD5 an earlier read vouches for while the file's stat anchors hold.
struct StatDigest {
  std::string path;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  Md5 md5{};
  int64_t recorded_ns = 0;  // when the file was read (a scan's: when the scan started)
};

/// One scan's change to its series: a new record, and the earlier record it replaces (0: none).
struct FileChange {
  FileRecord record;
  int64_t replaces = 0;
};

struct ScanRecord {
  int64_t id = 0;
  std::string host;
  std::string kind;
  int64_t started_ns = 0;
  std::optional<int64_t> finished_ns;
  std::string catena_version;
  std::vector<std::string> arguments;
  std::vector<std::string> roots;
  ScanStatus status = ScanStatus::Running;
  ScanTotals totals;
};

/// Where and when a content was seen: the answer to "who has, or had, this file?".
struct Occurrence {
  int64_t scan_id = 0;
  std::string host;
  int64_t scan_started_ns = 0;
  ScanStatus scan_status = ScanStatus::Running;
  FileRecord file;
};

/// Scans, their file records and findings, the facts of contents, and the digests earlier reads
/// vouch for.
class ScanStore {
 public:
  virtual ~ScanStore() = default;

  [[nodiscard]] virtual Result<int64_t> begin_scan(const NewScan& scan) = 0;
  /// Adds records and findings to a scan in one transaction.
  [[nodiscard]] virtual Status add_batch(int64_t scan_id,
                                         std::span<const FileRecord> files,
                                         std::span<const Finding> findings) = 0;
  /// The same for an incremental scan: each change is a new record that closes the record it
  /// replaces; `closed` are records whose file is gone; `analysed` are the facts of contents
  /// the scan analysed (stored with the content, so no later scan analyses them again).
  [[nodiscard]] virtual Status add_changes(int64_t scan_id,
                                           std::span<const FileChange> changes,
                                           std::span<const int64_t> closed,
                                           std::span<const Finding> findings,
                                           std::span<const AnalysedContent> analysed = {}) = 0;
  [[nodiscard]] virtual Status finish_scan(int64_t scan_id,
                                           const ScanTotals& totals,
                                           ScanStatus status) = 0;

  /// Records MD5s read outside a scan (package verification), replacing those of the same paths.
  [[nodiscard]] virtual Status put_stat_digests(const std::string& host,
                                                std::span<const StatDigest> digests) = 0;
  /// The host's recorded MD5s (a scan's own come to its caller through ScanOptions::on_file).
  [[nodiscard]] virtual Status for_each_stat_digest(
      const std::string& host, const std::function<void(StatDigest&&)>& visit) = 0;
  /// When the host's series last completed a full pass (nullopt: never).
  [[nodiscard]] virtual Result<std::optional<int64_t>> last_full_pass_ns(
      const std::string& host, const std::string& series_key) = 0;
  /// The records of the scan's series valid when it began (not those it wrote), with their
  /// contents' MD5, SHA-1, analysis and format: what the scan holds while it walks.
  [[nodiscard]] virtual Result<std::vector<ReferenceFile>> reference_files(int64_t scan_id) = 0;
  /// The stored facts of every analysed content that has findings or a format whose analysis
  /// costs (ELF, PE, Mach-O, MSI), streamed: what a scan need not analyse again.
  [[nodiscard]] virtual Status for_each_analysed_content(
      const std::function<void(AnalysedContent&&)>& visit) = 0;

  /// NotFound when there is no such scan.
  [[nodiscard]] virtual Result<ScanRecord> get_scan(int64_t scan_id) = 0;
  /// Most recent scan (any host), or nullopt when the store is empty.
  [[nodiscard]] virtual Result<std::optional<int64_t>> latest_scan_id() = 0;
  [[nodiscard]] virtual Result<std::vector<ScanRecord>> list_scans() = 0;
  /// The most recent scan or audit of `host`, or nullopt when it has none.
  [[nodiscard]] virtual Result<std::optional<ScanRecord>> latest_scan_of_host(
      const std::string& host) = 0;
  /// The scans that did not compute `algorithm` for their files (scans of a store older than
  /// schema 5 computed SHA-256 only).
  [[nodiscard]] virtual Result<std::vector<ScanRecord>> scans_without_digest(
      const std::string& algorithm) = 0;
  /// Calls `visit` for each record of the scan, in path byte order.
  [[nodiscard]] virtual Status for_each_file(
      int64_t scan_id, const std::function<void(const FileRecord&)>& visit) = 0;
  /// Calls `visit` for each finding stored with the scan, most severe first, then by rule and
  /// path (the order of sort_findings), one at a time.
  [[nodiscard]] virtual Status for_each_finding(
      int64_t scan_id, const std::function<void(const Finding&)>& visit) = 0;
  /// How many findings of each severity are stored with the scan.
  [[nodiscard]] virtual Result<FindingCounts> finding_counts(int64_t scan_id) = 0;
  /// Every record of this content in every scan of every host, oldest scan first.
  [[nodiscard]] virtual Result<std::vector<Occurrence>> find_by_sha256(const Sha256& sha256) = 0;
  /// The stored format of a content, or nullopt when it has never been seen.
  [[nodiscard]] virtual Result<std::optional<std::string>> content_format(const Sha256& sha256) = 0;
  /// SHA-256 over "<path>\0<sha256 hex>\n" of the scan's records in path (byte) order: what a
  /// build attestation cites of its host. Computed on first request and kept for a scan that
  /// is no longer running.
  [[nodiscard]] virtual Result<Sha256> scan_content_digest(int64_t scan_id) = 0;
  /// What a report of the scan says beyond its records and findings (an audit's build access
  /// and verdict), kept as the renderer wrote it so that the report can be shown again;
  /// replaces an earlier one. NotFound when there is no such scan.
  [[nodiscard]] virtual Status put_report_context(int64_t scan_id, std::string_view context) = 0;
  /// The context kept for the scan, or nullopt.
  [[nodiscard]] virtual Result<std::optional<std::string>> report_context(int64_t scan_id) = 0;
};

/// Findings added to a scan after it ran (the audit's later steps), written a batch at a time
/// and counted, so that no step holds them all.
class FindingWriter {
 public:
  FindingWriter(ScanStore& store, int64_t scan_id) : store_(store), scan_id_(scan_id) {}
  void add(Finding&& finding);
  /// Writes what is left; the first error of any write.
  [[nodiscard]] Status flush();
  const FindingCounts& counts() const { return counts_; }

 private:
  static constexpr size_t kBatch = 1024;
  ScanStore& store_;
  int64_t scan_id_;
  std::vector<Finding> batch_;
  FindingCounts counts_;
  std::optional<Error> error_;
};

/// The findings stored with a scan as a stream (`counts` says how many there are); `store`
/// must outlive it.
inline FindingStream stored_findings(ScanStore& store, int64_t scan_id, FindingCounts counts) {
  return FindingStream(counts, [&store, scan_id](const FindingStream::Visitor& visit) {
    return store.for_each_finding(scan_id, visit);
  });
}

}  // namespace catena::scan
