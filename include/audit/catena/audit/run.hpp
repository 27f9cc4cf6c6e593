#pragma once
/// An audit as one library call: scan the machine's tool places, look for build access in the
/// homes, verify the installed packages (reusing the scan's digests), check the host's
/// baselines, store every finding with the scan and judge the host against the standard.
/// `catena audit` parses options into `Audit` and renders `AuditResult`; an agent or a server
/// calls the same function.
///
///   audit::Audit request{.places = audit::this_machine(), .config = config};
///   CATENA_TRY(audit::AuditResult result, audit::run_audit(*store, request));
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catena/access/access.hpp"
#include "catena/audit/audit.hpp"
#include "catena/audit/standard.hpp"
#include "catena/scan/session.hpp"
#include "catena/store/store.hpp"

namespace catena::audit {

/// Build-access discovery as `access scan` and `audit` run it: discover, record in the store,
/// and recognise credentials already recorded on other hosts.
struct AccessRun {
  std::vector<access::Discovery> discoveries;
  std::vector<Finding> findings;  // every ACCESS_* finding, shared credentials included; sorted
  uint64_t files_examined = 0;
  bool build_access = false;
};

[[nodiscard]] Result<AccessRun> run_access(store::Store& store,
                                           const std::vector<std::string>& homes,
                                           const access::Inventory& inventory,
                                           const std::string& host,
                                           bool system_places,
                                           const std::string& key_path);

/// catena.toml from `path` (an error when it cannot be read), else $CATENA_CONFIG (the same),
/// else /etc/catena/catena.toml when it exists; without any, the defaults (no inventory, the
/// build-server standard, full passes every 7 days).
[[nodiscard]] Result<Config> load_config(const std::string& path);

struct Audit {
  AuditPlaces places;             // where tools live (this_machine() by default)
  std::vector<std::string> also;  // more directories to scan
  /// Homes to look for build access in; empty: access_homes(places).
  std::vector<std::string> access_homes;
  bool access = true;               // look for build access
  std::string access_key;           // the credential-fingerprint key's file; "" = the store's
  bool packages = true;             // look up owners and verify the installed packages
  std::string packages_root = "/";  // the system whose packages to verify
  Config config;
  scan::Session session;               // digests, jobs, excludes, YARA, cancel, progress, --full
  std::string host;                    // default: this host's name
  std::vector<std::string> arguments;  // the command line, recorded with the scan
  /// The audit to compare with (`--since`); default the host's latest complete audit before.
  std::optional<int64_t> since;
};

struct AuditResult {
  scan::ScanSummary scan;    // the scan's own summary (its findings included)
  bool interrupted = false;  // the scan was cancelled: no later step ran
  /// Every finding of every step, most severe first, read from the store given to run_audit
  /// (which must outlive the result) as they are visited: an audit holds none of them.
  FindingStream findings;
  /// One line per step after the scan ("access", "packages", "baseline"), with its time.
  std::vector<std::pair<std::string, std::string>> steps;
  std::optional<AccessRun> access;  // when the access step ran
  Examined examined;
  Verdict verdict;
  /// The findings against the host's earlier audit; nullopt for its first audit.
  std::optional<FindingComparison> comparison;
};

/// Interrupted only through `result.interrupted` (the scan's partial summary is kept); an
/// error when the scan could not run or a finding could not be stored. A step that fails
/// (an unreadable dpkg database, a baseline that cannot be checked) is a line in `steps`, and
/// a damaged package database is also the finding PKG_DATABASE_DAMAGED.
[[nodiscard]] Result<AuditResult> run_audit(store::Store& store, Audit& request);

/// Audit `scan_id` against `since` (another audit of the same host; Usage error otherwise) or,
/// by default, the host's latest complete audit before it: which findings are new, which were
/// there before (open), which earlier ones are gone (resolved). nullopt when there is no
/// earlier audit.
[[nodiscard]] Result<std::optional<FindingComparison>> compare_with_earlier(
    scan::ScanStore& store, int64_t scan_id, std::optional<int64_t> since);

}  // namespace catena::audit
