#pragma once
/// A scan with everything it needs loaded: the dpkg owners of the scanned trees (on their own
/// thread, while the first files are read), the store's indicators and blocked signers, and the
/// YARA rules named. `catena scan`, `catena audit` and a future agent call this; the CLI only
/// parses options and renders the summary.
///
///   scan::Session session{.scan = options, .yara = {"rules/"}};
///   CATENA_TRY(scan::ScanSummary s,
///              scan::run_session(*store, *store, session, {.kind = "scan"}));
#include <functional>
#include <string>
#include <vector>

#include "catena/intel/intel_store.hpp"
#include "catena/scan/scanner.hpp"

namespace catena::scan {

struct Session {
  ScanOptions scan;    // roots, digests, excludes, cancel, progress; the loaded parts are set here
  bool owners = true;  // look up owning Debian packages
  std::vector<std::string> yara;  // rule files or directories, compiled once for the run
  /// Compute the MD5 of packaged files in the same read (the audit verifies packages next).
  bool md5_for_packages = false;
  /// Problems that do not stop the scan (a damaged dpkg file list, no owners); default: none.
  std::function<void(const std::string& message)> warn;
};

/// Loads what `session` asks for, then runs the scan. Errors: a rule file that does not
/// compile, a store that cannot be read; on interruption returns Interrupted and fills
/// *summary_on_interrupt, as run_scan does.
[[nodiscard]] Result<ScanSummary> run_session(ScanStore& store,
                                              intel::IntelStore& intel,
                                              Session& session,
                                              const ScanMeta& meta,
                                              ScanSummary* summary_on_interrupt = nullptr);

}  // namespace catena::scan
