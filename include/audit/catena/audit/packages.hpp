#pragma once
/// Package verification that reads only what changed: a packaged file whose stat anchors
/// (device, inode, size, mtime, ctime) equal those of a file the store has a digest of (read by
/// the audit's own scan, or by an earlier verification on this host) is checked against the
/// package's MD5 without being read; every file read is remembered for the next run.
///
///   CATENA_TRY(pkg::VerifyReport report,
///              verify_packages_with_store(store, host_name(), scan_id, options, false));
///
/// Only a match is taken from the store: a file whose recorded MD5 differs from its package's
/// is read, so a finding always carries evidence from now. The anchors are the same ones an
/// incremental scan trusts, with the same limit (docs/architecture.md): an attacker able to
/// rewrite a file and restore its ctime is seen at the next full pass (`full`).
#include <cstdint>
#include <string>

#include "catena/core/result.hpp"
#include "catena/pkg/verify.hpp"
#include "catena/scan/scan_store.hpp"

namespace catena::audit {

/// `scan_id` 0: no scan of this run to take digests from. `full`: read every file (the digests
/// read are still recorded). Files of a root other than "/" (a mounted image) are recorded by
/// their path on this host (the root's path + the packaged path).
[[nodiscard]] Result<pkg::VerifyReport> verify_packages_with_store(scan::ScanStore& store,
                                                                   const std::string& host,
                                                                   int64_t scan_id,
                                                                   pkg::VerifyOptions options,
                                                                   bool full);

}  // namespace catena::audit
