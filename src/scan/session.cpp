#include "catena/scan/session.hpp"

#include <mutex>
#include <optional>
#include <thread>

#include "catena/intel/index.hpp"
#include "catena/intel/signers.hpp"
#include "catena/intel/yara.hpp"
#include "catena/pkg/dpkg.hpp"

namespace catena::scan {

Result<ScanSummary> run_session(ScanStore& store,
                                intel::IntelStore& intel,
                                Session& session,
                                const ScanMeta& meta,
                                ScanSummary* summary_on_interrupt) {
  ScanOptions& options = session.scan;
  const auto warn = [&](const std::string& message) {
    if (session.warn) session.warn(message);
  };

  // Every stored indicator is matched against every file; MD5 and SHA-1 are computed in the same
  // read only when some feed needs them.
  intel::IndicatorIndex indicators;
  CATENA_TRY_STATUS(indicators.load(intel));
  if (!indicators.empty()) {
    options.indicators = &indicators;
    if (indicators.has_md5()) options.digests |= DigestSet::kMd5;
    if (indicators.has_sha1()) options.digests |= DigestSet::kSha1;
  }
  intel::SignerBlocklist blocked_signers;
  CATENA_TRY_STATUS(blocked_signers.load(intel));
  if (!blocked_signers.empty()) options.blocked_signers = &blocked_signers;
  // A rule that does not compile stops the run before anything is read.
  std::optional<intel::YaraRules> yara;
  if (!session.yara.empty()) {
    CATENA_TRY(intel::YaraRules loaded, intel::YaraRules::load(session.yara));
    yara = std::move(loaded);
    options.yara = &*yara;
  }

  // The dpkg database loads on its own thread while the first files are read.
  std::optional<pkg::PackageOwners> owners;
  std::thread owners_thread;
  std::once_flag owners_joined;
  if (session.owners) {
    // Only the paths under the scanned trees are indexed.
    std::vector<std::string> prefixes;
    if (auto roots = resolve_roots(options.roots, MissingRoot::Skip)) {
      for (const Root& root : *roots) prefixes.push_back(root.canonical);
    }
    owners_thread = std::thread([&owners, &warn, prefixes = std::move(prefixes)] {
      auto loaded = pkg::PackageOwners::load({}, prefixes);
      if (loaded) {
        for (const std::string& damaged : loaded->damaged_lists()) {
          warn("skipped a damaged dpkg file list: " + damaged);
        }
        owners = std::move(*loaded);
      } else if (loaded.error().code != ErrorCode::NotFound) {
        // A damaged dpkg database must not stop an inventory; say so and go on without owners.
        warn("package owners unavailable: " + loaded.error().describe());
      }
    });
    options.owners_loader = [&]() -> const pkg::PackageOwners* {
      std::call_once(owners_joined, [&] { owners_thread.join(); });
      return owners ? &*owners : nullptr;
    };
    if (session.md5_for_packages) {
      options.md5_for = [&](const std::string& path) {
        const pkg::PackageOwners* loaded = options.owners_loader();
        return loaded != nullptr && loaded->owned(path);
      };
    }
  }

  auto summary = run_scan(store, options, meta, summary_on_interrupt);
  std::call_once(owners_joined, [&] {
    if (owners_thread.joinable()) owners_thread.join();
  });
  // What was loaded here dies with this frame: the options must not point at it afterwards.
  options.indicators = nullptr;
  options.blocked_signers = nullptr;
  options.yara = nullptr;
  options.owners_loader = nullptr;
  options.md5_for = nullptr;
  return summary;
}

}  // namespace catena::scan
