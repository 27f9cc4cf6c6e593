#pragma once
/// The SQLite store: one file (WAL) that implements every concern's store interface — scans and
/// contents (scan::ScanStore), intelligence (intel::IntelStore), attestations
/// (attest::AttestationStore), build access (access::AccessStore), baselines
/// (baseline::BaselineStore), the archive Releases the anchor believed (pkg::ArchiveStore),
/// imported SBOMs (sbom::SbomStore), what release inspection found inside release files
/// (release::InspectionCache) and the supply-chain graph over all of it, with release manifests
/// and deployments (graph::GraphStore). The
/// record types and the interfaces' contracts live with their modules; this class adds opening,
/// migration, locking and checking.
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
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "catena/access/access_store.hpp"
#include "catena/attest/attestation_store.hpp"
#include "catena/baseline/baseline_store.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/graph/graph_store.hpp"
#include "catena/intel/intel_store.hpp"
#include "catena/pkg/archive_store.hpp"
#include "catena/release/cache.hpp"
#include "catena/sbom/sbom.hpp"
#include "catena/scan/scan_store.hpp"

struct sqlite3;

namespace catena::store {

class Statement;

inline constexpr int kSchemaVersion = 16;

class Store final : public scan::ScanStore,
                    public intel::IntelStore,
                    public attest::AttestationStore,
                    public access::AccessStore,
                    public baseline::BaselineStore,
                    public pkg::ArchiveStore,
                    public sbom::SbomStore,
                    public release::InspectionCache,
                    public graph::GraphStore {
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

  // scan::ScanStore (src/store/scans.cpp, contents.cpp)
  [[nodiscard]] Result<int64_t> begin_scan(const scan::NewScan& scan) override;
  [[nodiscard]] Status add_batch(int64_t scan_id,
                                 std::span<const scan::FileRecord> files,
                                 std::span<const Finding> findings) override;
  [[nodiscard]] Status add_changes(int64_t scan_id,
                                   std::span<const scan::FileChange> changes,
                                   std::span<const int64_t> closed,
                                   std::span<const Finding> findings,
                                   std::span<const scan::AnalysedContent> analysed = {}) override;
  [[nodiscard]] Status finish_scan(int64_t scan_id,
                                   const scan::ScanTotals& totals,
                                   scan::ScanStatus status) override;
  [[nodiscard]] Status put_stat_digests(const std::string& host,
                                        std::span<const scan::StatDigest> digests) override;
  [[nodiscard]] Status for_each_stat_digest(
      const std::string& host, const std::function<void(scan::StatDigest&&)>& visit) override;
  [[nodiscard]] Result<std::optional<int64_t>> last_full_pass_ns(
      const std::string& host, const std::string& series_key) override;
  [[nodiscard]] Result<std::vector<scan::ReferenceFile>> reference_files(int64_t scan_id) override;
  [[nodiscard]] Status for_each_analysed_content(
      const std::function<void(scan::AnalysedContent&&)>& visit) override;
  [[nodiscard]] Result<scan::ScanRecord> get_scan(int64_t scan_id) override;
  [[nodiscard]] Result<std::optional<int64_t>> latest_scan_id() override;
  [[nodiscard]] Result<std::vector<scan::ScanRecord>> list_scans() override;
  [[nodiscard]] Result<std::optional<scan::ScanRecord>> latest_scan_of_host(
      const std::string& host) override;
  [[nodiscard]] Result<std::vector<scan::ScanRecord>> scans_without_digest(
      const std::string& algorithm) override;
  [[nodiscard]] Status for_each_file(
      int64_t scan_id, const std::function<void(const scan::FileRecord&)>& visit) override;
  [[nodiscard]] Status for_each_finding(int64_t scan_id,
                                        const std::function<void(const Finding&)>& visit) override;
  [[nodiscard]] Result<FindingCounts> finding_counts(int64_t scan_id) override;
  [[nodiscard]] Result<std::vector<scan::Occurrence>> find_by_sha256(const Sha256& sha256) override;
  [[nodiscard]] Result<std::optional<std::string>> content_format(const Sha256& sha256) override;
  [[nodiscard]] Result<Sha256> scan_content_digest(int64_t scan_id) override;
  [[nodiscard]] Status put_report_context(int64_t scan_id, std::string_view context) override;
  [[nodiscard]] Result<std::optional<std::string>> report_context(int64_t scan_id) override;

  // intel::IntelStore (src/store/intel.cpp)
  [[nodiscard]] Result<std::unique_ptr<intel::FeedImport>> begin_feed_import(
      const intel::FeedRecord& feed) override;
  [[nodiscard]] Result<int64_t> import_feed(
      const intel::FeedRecord& feed, std::span<const intel::IndicatorRecord> indicators) override;
  [[nodiscard]] Result<int64_t> import_signer_feed(
      const intel::FeedRecord& feed, std::span<const intel::BlockedSignerRecord> signers) override;
  [[nodiscard]] Status for_each_blocked_signer(
      const std::function<void(intel::BlockedSignerRecord&&)>& visit) override;
  [[nodiscard]] Result<std::vector<intel::FeedRecord>> list_feeds() override;
  [[nodiscard]] Status remove_feed(const std::string& name) override;
  [[nodiscard]] Status for_each_indicator(
      const std::function<void(intel::IndicatorRecord&&)>& visit) override;
  [[nodiscard]] Status for_each_indicator_hit(
      const std::function<void(intel::IndicatorHit&&)>& visit) override;
  [[nodiscard]] Result<uint64_t> count_indicators(const std::string& algorithm) override;

  // attest::AttestationStore (src/store/attestations.cpp)
  [[nodiscard]] Result<int64_t> put_attestation(const attest::AttestationRecord& record,
                                                std::string_view envelope) override;
  [[nodiscard]] Result<std::vector<attest::AttestationHit>> find_attestations(
      const Sha256& sha256) override;
  [[nodiscard]] Result<std::vector<attest::AttestationRecord>> list_attestations(
      const std::string& host) override;

  // access::AccessStore (src/store/access.cpp). The key lives in a file beside the store
  // (`<store>.access-key` unless given); a store that kept it in its settings (schema 8) has it
  // moved out. ReadWrite.
  [[nodiscard]] Result<std::string> access_key(const std::string& key_path) override;
  [[nodiscard]] std::optional<Finding> exposure_finding() const override;
  [[nodiscard]] Status replace_access(const std::string& host,
                                      int64_t discovered_ns,
                                      const std::vector<access::Discovery>& records) override;
  [[nodiscard]] Result<std::vector<access::Discovery>> list_access(
      const std::string& host) override;
  [[nodiscard]] Result<std::map<std::string, std::vector<std::string>>> credential_hosts(
      const std::string& host) override;
  /// The default key file of a store at `store_path`.
  static std::string default_access_key_path(const std::string& store_path);

  // baseline::BaselineStore (src/store/baselines.cpp)
  [[nodiscard]] Result<int64_t> put_baseline(const baseline::BaselineRecord& baseline) override;
  [[nodiscard]] Result<baseline::BaselineRecord> get_baseline(const std::string& host,
                                                              const std::string& name) override;
  [[nodiscard]] Result<std::vector<baseline::BaselineRecord>> list_baselines() override;
  [[nodiscard]] Status delete_baseline(const std::string& host, const std::string& name) override;
  [[nodiscard]] Result<std::optional<baseline::ExportMark>> newest_export(
      const std::string& host, const std::string& name, const std::string& key_id) override;
  [[nodiscard]] Status remember_export(const baseline::ExportMark& mark) override;

  // pkg::ArchiveStore (src/store/baselines.cpp)
  [[nodiscard]] Result<std::unordered_map<std::string, int64_t>> newest_releases(
      const std::string& system) override;
  [[nodiscard]] Status remember_releases(std::span<const pkg::ReleaseMark> marks) override;

  // sbom::SbomStore (src/store/sboms.cpp)
  [[nodiscard]] Result<int64_t> put_sbom(const sbom::Bom& bom, const std::string& source) override;
  [[nodiscard]] Result<std::vector<sbom::SbomRecord>> list_sboms() override;
  [[nodiscard]] Result<sbom::Bom> get_sbom(int64_t id) override;
  [[nodiscard]] Result<std::vector<sbom::Claim>> claims_for(const Sha256& sha256) override;

  // release::InspectionCache (src/store/releases.cpp). Safe from several threads (a diff
  // inspects its two releases at once); a store opened read-only keeps nothing.
  std::optional<std::string> get_part(const Sha256& content, const std::string& key) override;
  void put_part(const Sha256& content, const std::string& key, std::string_view value) override;

  // graph::GraphStore (src/store/graph.cpp): each node's edges from the tables that hold them
  // (docs/graph.md).
  [[nodiscard]] Result<std::vector<graph::Edge>> edges_from(const graph::NodeRef& node) override;
  [[nodiscard]] Result<std::vector<graph::Edge>> edges_to(const graph::NodeRef& node) override;
  [[nodiscard]] Result<std::optional<int64_t>> first_seen(const graph::NodeRef& node) override;
  [[nodiscard]] Result<std::vector<std::string>> marks(const graph::NodeRef& node) override;
  [[nodiscard]] Status put_release(const graph::ReleaseRecord& release) override;
  [[nodiscard]] Status put_deployments(const std::vector<graph::Deployment>& deployments) override;
  // The whole graph, table by table (src/store/graph_all.cpp).
  [[nodiscard]] Status for_each_node(
      const std::function<Status(const graph::NodeRef&)>& visit) override;
  [[nodiscard]] Status for_each_edge(
      const std::function<Status(const graph::Edge&)>& visit) override;
  /// One read transaction until end_read: a query of many small reads (the graph's, a few per
  /// node) then takes the file lock once instead of per read, and sees one state of the store.
  [[nodiscard]] Status begin_read();
  void end_read();

  // The store itself (src/store/store.cpp)
  /// How others can read the store file, or empty when only its owner can ("readable by its
  /// group", "readable by every user").
  [[nodiscard]] std::string exposure() const;
  /// SQLite's integrity check over the whole store: empty when it is sound, else what is wrong
  /// (at most 100 lines).
  [[nodiscard]] Result<std::vector<std::string>> check();

 private:
  Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  [[nodiscard]] Status prepare_schema(Access access);
  [[nodiscard]] Status recover_interrupted_scans(Access access);
  [[nodiscard]] Result<int64_t> host_id(const std::string& name);
  // The host names the store records (scanned, access-scanned, building) that a target host
  // names (graph::names_host), found through the indexes.
  [[nodiscard]] Result<std::vector<std::string>> graph_hosts_named(const std::string& wanted);
  // The statement for `sql`, prepared on first use and kept; nullptr when it cannot be.
  Statement* graph_statement(const std::string& sql);
  [[nodiscard]] Status write_batch(int64_t scan_id,
                                   size_t count,
                                   const std::function<const scan::FileRecord&(size_t)>& record_at,
                                   const std::function<int64_t(size_t)>& replaces_at,
                                   std::span<const int64_t> closed,
                                   std::span<const Finding> findings,
                                   std::span<const scan::AnalysedContent> analysed);

  sqlite3* db_;
  std::string path_;
  // The lock file beside the store (see Store::open): held shared on its byte 1 while this
  // store has a scan running, so another process can tell a live scan from a killed one.
  int scan_lock_fd_ = -1;
  int schema_version_ = 0;
  std::mutex parts_mutex_;
  // The graph's queries, prepared once per store: a query runs a few per node it reaches.
  struct StatementDeleter {
    void operator()(Statement* stmt) const;  // src/store/graph.cpp, where Statement is complete
  };
  std::unordered_map<std::string, std::unique_ptr<Statement, StatementDeleter>> graph_statements_;
  // The edges into each occurrence of a host's programs, read with the host (edges_to).
  std::unordered_map<std::string, std::vector<graph::Edge>> graph_occurrences_in_;
};

/// The store path when --db is not given: $CATENA_DB, else $XDG_DATA_HOME/catena/catena.db,
/// else ~/.local/share/catena/catena.db.
std::string default_store_path();

}  // namespace catena::store
