#pragma once
/// The store: every scan, file record and finding, with its host and time, in SQLite (WAL).
///
///   CATENA_TRY(auto store, Store::open(default_store_path(), Store::Access::ReadWrite));
///   CATENA_TRY(int64_t scan_id, store->begin_scan(info));
///   CATENA_TRY_STATUS(store->add_batch(scan_id, files, findings));   // one transaction
///   CATENA_TRY_STATUS(store->finish_scan(scan_id, totals, ScanStatus::Complete));
///
/// Errors: Db (cannot open, locked past the busy timeout, read-only, corrupt, not a catena
/// store), SchemaTooNew (written by a newer catena), NotFound (no such scan).
/// Per-content facts (format, and later signature verdicts) live in `contents`, keyed by
/// SHA-256, so a content seen on many hosts and in many scans is analysed once.
/// The SQL is kept portable (no SQLite-only types in queries) for a later PostgreSQL server.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/access/discovery.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

struct sqlite3;

namespace catena::store {

inline constexpr int kSchemaVersion = 9;

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

/// A named baseline: a frozen scan of this host's selected paths, the configuration that chose
/// them and the package versions installed when it was taken.
struct BaselineRecord {
  int64_t id = 0;
  std::string name;
  std::string host;
  int64_t scan_id = 0;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
  std::string config;    // JSON
  std::string packages;  // JSON object: qualified package name -> version
};

/// An imported indicator feed.
struct FeedRecord {
  int64_t id = 0;
  std::string name;
  std::string source;  // the file it was imported from
  std::string format;  // plain, csv, stix
  int64_t imported_ns = 0;
  uint64_t indicators = 0;
};

/// One file-hash indicator of a feed.
struct IndicatorRecord {
  std::string feed;       // the feed's name (ignored when importing)
  std::string algorithm;  // md5, sha1, sha256
  std::string digest;     // raw bytes
  std::string label;
  std::string reference;
};

/// A blocked signing certificate: by SHA-256 thumbprint, or by issuer and serial.
struct BlockedSignerRecord {
  std::string feed;        // the feed's name (ignored when importing)
  std::string thumbprint;  // lower-case hex; empty when named by issuer and serial
  std::string issuer;      // as catena prints names (RFC 2253); empty with a thumbprint
  std::string serial;      // lower-case hex without leading zeros; empty with a thumbprint
  std::string label;
};

/// An indicator that names a stored content.
struct IndicatorHit {
  IndicatorRecord indicator;
  Sha256 content{};
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
/// with it: identity and stat anchors, digests, and which analysers produced its content's facts.
struct ReferenceFile {
  int64_t row = 0;  // the record's id: closed when the file changed or vanished
  std::string path;
  FileType type = FileType::Regular;
  uint64_t size = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  std::optional<Sha256> sha256;
  std::optional<Md5> md5;
  std::optional<Sha1> sha1;
  std::string package;
  std::string xattrs;
  std::string link_target;
  bool changed = false;             // it kept changing while read: never reused
  bool from_complete_scan = false;  // written by a scan that completed: only those are reused
  int64_t recorded_ns = 0;          // when the scan that wrote it started
  std::string analysis;             // contents.analysis of its content
};

/// What a content's analysers concluded, as stored: "name=version/inputs" pairs joined by ';'
/// (`analysis`) and the findings they raised, each tagged with its analyser.
struct ContentFacts {
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

/// A digest an attestation names, and in what role.
struct AttestationDigest {
  Sha256 sha256{};
  std::string role;  // "subject", "material", "tool" or "library"
  std::string name;  // the path or name the attestation gives it
};

/// A stored build attestation: its envelope kept whole, with what it says indexed.
struct AttestationRecord {
  int64_t id = 0;
  Sha256 envelope_sha256{};
  std::string host;
  std::string builder_id;
  std::string step;
  std::optional<int64_t> started_ns;
  std::optional<int64_t> finished_ns;
  std::optional<int64_t> exit_code;
  int64_t stored_ns = 0;
  std::string source;  // where it came from: "attest" or the imported file
  std::vector<AttestationDigest> digests;
};

/// An attestation that names a digest, with the role and name it gives it.
struct AttestationHit {
  AttestationRecord attestation;  // without its digests list
  std::string role;
  std::string name;
};

class Store {
 public:
  enum class Access { ReadWrite, ReadOnly };

  /// Opens (creating if needed, with its parent directories, for ReadWrite) and migrates.
  /// Creation and migration are serialised between processes by a lock file beside the store
  /// (`<store>.lock`); a scan whose process is gone (killed) is marked interrupted, with the
  /// count of the records it committed, by the next process that opens the store, which then
  /// runs SQLite's quick check over the store the killed process was writing (a damaged store
  /// is an error naming `catena store check`, never written into).
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(const std::string& path, Access access);
  /// A private in-memory store, for tests.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open_memory();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// The schema version found in the file (after migration, kSchemaVersion).
  int schema_version() const { return schema_version_; }

  [[nodiscard]] Result<int64_t> begin_scan(const NewScan& scan);

  /// A feed written a row at a time in one transaction (for feeds too large to hold): nothing
  /// is visible until commit(), and destroying it uncommitted leaves the store as it was.
  class FeedImport {
   public:
    ~FeedImport();
    /// Adds an indicator; one already in the feed (same algorithm and digest) is counted, not
    /// added.
    [[nodiscard]] Status add(IndicatorRecord indicator);
    /// Commits, recording the feed's format as finally known; returns how many indicators were
    /// duplicates.
    [[nodiscard]] Result<uint64_t> commit(const std::string& format);

   private:
    friend class Store;
    struct State;
    std::unique_ptr<State> state_;
  };
  /// Begins replacing the feed named feed.name.
  [[nodiscard]] Result<std::unique_ptr<FeedImport>> begin_feed_import(const FeedRecord& feed);

  /// Stores a feed and its indicators in one transaction, replacing a feed of the same name.
  [[nodiscard]] Result<int64_t> import_feed(const FeedRecord& feed,
                                            std::span<const IndicatorRecord> indicators);
  /// Stores a feed of blocked signers in one transaction, replacing a feed of the same name.
  [[nodiscard]] Result<int64_t> import_signer_feed(const FeedRecord& feed,
                                                   std::span<const BlockedSignerRecord> signers);
  [[nodiscard]] Status for_each_blocked_signer(
      const std::function<void(BlockedSignerRecord&&)>& visit);
  [[nodiscard]] Result<std::vector<FeedRecord>> list_feeds();
  /// NotFound when there is no feed of that name.
  [[nodiscard]] Status remove_feed(const std::string& name);
  /// Every indicator of every feed, streamed.
  [[nodiscard]] Status for_each_indicator(const std::function<void(IndicatorRecord&&)>& visit);
  /// Every indicator that names a stored content: a SHA-256 one by the content's key, an MD5 or
  /// SHA-1 one by the digest some scan recorded for the content. No file is read.
  [[nodiscard]] Status for_each_indicator_hit(const std::function<void(IndicatorHit&&)>& visit);
  /// How many stored indicators use `algorithm` ("md5", "sha1", "sha256").
  [[nodiscard]] Result<uint64_t> count_indicators(const std::string& algorithm);
  /// The scans that did not compute `algorithm` for their files (scans of a store older than
  /// schema 5 computed SHA-256 only).
  [[nodiscard]] Result<std::vector<ScanRecord>> scans_without_digest(const std::string& algorithm);
  /// Adds records and findings to a scan in one transaction.
  [[nodiscard]] Status add_batch(int64_t scan_id,
                                 std::span<const FileRecord> files,
                                 std::span<const Finding> findings);
  /// The same for an incremental scan: each change is a new record that closes the record it
  /// replaces; `closed` are records whose file is gone; `analysed` are the facts of contents
  /// the scan analysed (stored with the content, so no later scan analyses them again).
  [[nodiscard]] Status add_changes(int64_t scan_id,
                                   std::span<const FileChange> changes,
                                   std::span<const int64_t> closed,
                                   std::span<const Finding> findings,
                                   std::span<const ContentFacts> analysed = {});
  [[nodiscard]] Status finish_scan(int64_t scan_id, const ScanTotals& totals, ScanStatus status);

  /// Records MD5s read outside a scan (package verification), replacing those of the same paths.
  [[nodiscard]] Status put_stat_digests(const std::string& host,
                                        std::span<const StatDigest> digests);
  /// The host's recorded MD5s, then those of the scan's records that have one (scan_id 0: none).
  [[nodiscard]] Status for_each_stat_digest(const std::string& host,
                                            int64_t scan_id,
                                            const std::function<void(StatDigest&&)>& visit);
  /// When the host's series last completed a full pass (nullopt: never).
  [[nodiscard]] Result<std::optional<int64_t>> last_full_pass_ns(const std::string& host,
                                                                 const std::string& series_key);
  /// The records of the scan's series valid when it began (not those it wrote), streamed.
  [[nodiscard]] Status for_each_reference_file(int64_t scan_id,
                                               const std::function<void(ReferenceFile&&)>& visit);
  /// The stored facts of every analysed content that has findings or a format whose analysis
  /// costs (ELF, PE, Mach-O, MSI), streamed: what a scan need not analyse again.
  [[nodiscard]] Status for_each_analysed_content(const std::function<void(ContentFacts&&)>& visit);

  [[nodiscard]] Result<ScanRecord> get_scan(int64_t scan_id);
  /// Most recent scan (any host), or nullopt when the store is empty.
  [[nodiscard]] Result<std::optional<int64_t>> latest_scan_id();
  [[nodiscard]] Result<std::vector<ScanRecord>> list_scans();
  /// Calls `visit` for each record of the scan, in path byte order.
  [[nodiscard]] Status for_each_file(int64_t scan_id,
                                     const std::function<void(const FileRecord&)>& visit);
  [[nodiscard]] Result<std::vector<Finding>> findings_of(int64_t scan_id);
  /// Every record of this content in every scan of every host, oldest scan first.
  [[nodiscard]] Result<std::vector<Occurrence>> find_by_sha256(const Sha256& sha256);
  /// The stored format of a content, or nullopt when it has never been seen.
  [[nodiscard]] Result<std::optional<std::string>> content_format(const Sha256& sha256);

  /// Stores an attestation and its digests in one transaction; the same envelope stored twice
  /// is kept once (its existing id is returned).
  [[nodiscard]] Result<int64_t> put_attestation(const AttestationRecord& record,
                                                std::string_view envelope);
  /// Every attestation naming this SHA-256 (as subject, material, tool or library), newest
  /// first.
  [[nodiscard]] Result<std::vector<AttestationHit>> find_attestations(const Sha256& sha256);
  /// Attestations of builds on `host`, newest first (every host when empty).
  [[nodiscard]] Result<std::vector<AttestationRecord>> list_attestations(const std::string& host);
  /// The most recent scan or audit of `host`, or nullopt when it has none.
  [[nodiscard]] Result<std::optional<ScanRecord>> latest_scan_of_host(const std::string& host);
  /// SHA-256 over "<path>\0<sha256 hex>\n" of the scan's records in path (byte) order: what a
  /// build attestation cites of its host. Computed on first request and kept for a scan that
  /// is no longer running (ReadWrite stores).
  [[nodiscard]] Result<Sha256> scan_content_digest(int64_t scan_id);

  /// Creates the baseline, or moves an existing one of the same host and name to the record's
  /// scan, config and packages (keeping its creation time). Returns its id.
  /// The HMAC key of credential fingerprints. It is kept outside the database, in `key_path`
  /// (default: the store's path + ".access-key"), created mode 0600 on first use, so a copied
  /// database alone cannot be used to test guesses against its fingerprints. A key that is not
  /// the one the store's fingerprints were made with, or a key file others can read, is an
  /// error. A store that kept its key in its settings (schema 8) has it moved out. ReadWrite.
  [[nodiscard]] Result<std::string> access_key(const std::string& key_path);
  /// The default key file of a store at `store_path`.
  static std::string default_access_key_path(const std::string& store_path);
  /// How others can read the store file, or empty when only its owner can ("readable by its
  /// group", "readable by every user").
  [[nodiscard]] std::string exposure() const;
  /// SQLite's integrity check over the whole store: empty when it is sound, else what is wrong
  /// (at most 100 lines).
  [[nodiscard]] Result<std::vector<std::string>> check();
  /// STORE_READABLE_BY_OTHERS when exposure() says others can read the store.
  [[nodiscard]] std::optional<Finding> exposure_finding() const;
  /// Replaces everything recorded about `host`'s build access with `records`.
  [[nodiscard]] Status replace_access(const std::string& host,
                                      int64_t discovered_ns,
                                      const std::vector<access::Discovery>& records);
  /// The build access recorded for `host` (every host when empty), ordered by path.
  [[nodiscard]] Result<std::vector<access::Discovery>> list_access(const std::string& host);
  /// For every credential recorded on a host other than `host`: its fingerprint and the hosts
  /// that hold it. One query, whatever the number of discoveries.
  [[nodiscard]] Result<std::map<std::string, std::vector<std::string>>> credential_hosts(
      const std::string& host);

  [[nodiscard]] Result<int64_t> put_baseline(const BaselineRecord& baseline);
  /// NotFound when this host has no baseline of that name.
  [[nodiscard]] Result<BaselineRecord> get_baseline(const std::string& host,
                                                    const std::string& name);
  [[nodiscard]] Result<std::vector<BaselineRecord>> list_baselines();
  /// NotFound when there is no such baseline.
  [[nodiscard]] Status delete_baseline(const std::string& host, const std::string& name);

 private:
  Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  [[nodiscard]] Status prepare_schema(Access access);
  [[nodiscard]] Status recover_interrupted_scans(Access access);
  [[nodiscard]] Result<int64_t> host_id(const std::string& name);
  [[nodiscard]] Status write_batch(int64_t scan_id,
                                   size_t count,
                                   const std::function<const FileRecord&(size_t)>& record_at,
                                   const std::function<int64_t(size_t)>& replaces_at,
                                   std::span<const int64_t> closed,
                                   std::span<const Finding> findings,
                                   std::span<const ContentFacts> analysed);

  sqlite3* db_;
  std::string path_;
  // The lock file beside the store (see Store::open): held shared on its byte 1 while this
  // store has a scan running, so another process can tell a live scan from a killed one.
  int scan_lock_fd_ = -1;
  int schema_version_ = 0;
};

/// The store path when --db is not given: $CATENA_DB, else $XDG_DATA_HOME/catena/catena.db,
/// else ~/.local/share/catena/catena.db.
std::string default_store_path();

}  // namespace catena::store
