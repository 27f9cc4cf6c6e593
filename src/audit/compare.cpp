#include <unordered_map>

#include "catena/audit/run.hpp"

namespace catena::audit {

Result<std::optional<FindingComparison>> compare_with_earlier(scan::ScanStore& store,
                                                              int64_t scan_id,
                                                              std::optional<int64_t> since) {
  CATENA_TRY(scan::ScanRecord now, store.get_scan(scan_id));
  std::optional<scan::ScanRecord> earlier;
  if (since) {
    auto given = store.get_scan(*since);
    if (!given) {
      return make_error(ErrorCode::Usage, "--since " + std::to_string(*since) + ": no such scan");
    }
    if (given->host != now.host || given->kind != "audit" || given->id == now.id) {
      return make_error(ErrorCode::Usage,
                        "--since " + std::to_string(*since) + ": not another audit of " + now.host);
    }
    earlier = std::move(*given);
  } else {
    CATENA_TRY(std::vector<scan::ScanRecord> scans, store.list_scans());
    for (scan::ScanRecord& scan : scans) {
      // The latest complete audit before this one: an interrupted one saw only part.
      if (scan.host != now.host || scan.kind != "audit" || scan.id >= now.id ||
          scan.status != scan::ScanStatus::Complete) {
        continue;
      }
      if (!earlier || scan.id > earlier->id) earlier = std::move(scan);
    }
  }
  if (!earlier) return std::optional<FindingComparison>();

  FindingComparison comparison{.scan_id = earlier->id, .started_ns = earlier->started_ns};
  // Each identity of this audit with how many findings carry it: the store is read once.
  std::unordered_map<std::string, uint64_t> current;
  CATENA_TRY_STATUS(
      store.for_each_finding(scan_id, [&](const Finding& f) { ++current[finding_identity(f)]; }));
  CATENA_TRY_STATUS(store.for_each_finding(earlier->id, [&](const Finding& f) {
    std::string identity = finding_identity(f);
    if (!current.contains(identity) && !comparison.earlier.contains(identity)) {
      comparison.resolved.push_back(f);
    }
    comparison.earlier.insert(std::move(identity));
  }));
  for (const auto& [identity, count] : current) {
    (comparison.earlier.contains(identity) ? comparison.open_count : comparison.new_count) += count;
  }
  return std::optional<FindingComparison>(std::move(comparison));
}

}  // namespace catena::audit
