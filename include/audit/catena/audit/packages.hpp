#pragma once
/// Package verification that reads only what changed: a packaged file whose stat anchors
/// (device, inode, size, mtime, ctime) equal those of a file the store has a digest of (read by
/// the audit's own scan, or by an earlier verification on this host) is checked against the
/// package's MD5 without being read; every file read is remembered for the next run.
///
///   ScanHarvest harvest(covered_tool_dirs(session.scan));   // before the scan
///   session.scan.on_file = [&](const scan::SeenFile& f) { harvest.add(f); };
///   ... run the scan ...
///   CATENA_TRY(pkg::VerifyReport report,
///              verify_packages_with_store(store, host_name(), &harvest, options, false));
///
/// Only a match is taken from the store: a file whose recorded MD5 differs from its package's
/// is read, so a finding always carries evidence from now. The anchors are the same ones an
/// incremental scan trusts, with the same limit (docs/architecture.md): an attacker able to
/// rewrite a file and restore its ctime is seen at the next full pass (`full`).
#include <cstdint>
#include <string>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/pkg/verify.hpp"
#include "catena/scan/scan_store.hpp"
#include "catena/scan/scanner.hpp"

namespace catena::audit {

/// What the package step needs of the files a scan of this system (root "/") just saw, kept as
/// the scan goes (its on_file), so that the step neither reads the store's records nor walks
/// the system directories again: the MD5 of each packaged file the scan read or reused, and
/// the executables no package owns in the system tool directories the scan covered whole.
class ScanHarvest {
 public:
  /// `tool_dirs`: the system tool directories (pkg::system_tool_dirs) the scan covers whole.
  explicit ScanHarvest(std::vector<std::string> tool_dirs) : tool_dirs_(std::move(tool_dirs)) {}
  /// Called on the scan's writer thread, once per file.
  void add(const scan::SeenFile& file);

  /// The tool directories judged here; none when the scan had no package database to ask
  /// (every file would look unowned): the package step then walks them itself.
  const std::vector<std::string>& tool_dirs() const {
    static const std::vector<std::string> kNone;
    return owners_missing_ ? kNone : tool_dirs_;
  }
  bool owners_missing() const { return owners_missing_; }
  std::vector<scan::StatDigest> digests;  // files whose MD5 is known, with their anchors
  std::vector<Finding> unowned;           // UNOWNED_EXECUTABLE in tool_dirs()

 private:
  std::vector<std::string> tool_dirs_;
  bool owners_missing_ = false;
};

/// The system tool directories of "/" (not strict) that a scan with these options sees whole:
/// under one of its roots, with no exclusion that could leave a file out. The others are
/// walked by the package step as before.
std::vector<std::string> covered_tool_dirs(const scan::ScanOptions& scan);

/// `harvest`: what this run's scan saw (nullptr: no scan). `full`: read every file (the digests
/// read are still recorded). Files of a root other than "/" (a mounted image) are recorded by
/// their path on this host (the root's path + the packaged path).
[[nodiscard]] Result<pkg::VerifyReport> verify_packages_with_store(scan::ScanStore& store,
                                                                   const std::string& host,
                                                                   ScanHarvest* harvest,
                                                                   pkg::VerifyOptions options,
                                                                   bool full);

}  // namespace catena::audit
