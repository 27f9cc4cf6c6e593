// A report context read back from the store: refused or taken, and a context taken once is
// written and taken again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "catena/report/render.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  catena::report::ScanReport report;
  auto compared = catena::report::apply_report_context(report, text);
  if (!compared) return 0;
  if (*compared) report.comparison = catena::FindingComparison{.scan_id = **compared};
  const std::string written = catena::report::report_context_json(report);
  catena::report::ScanReport again;
  auto reread = catena::report::apply_report_context(again, written);
  if (!reread || *reread != *compared) std::abort();
  if (*reread) again.comparison = catena::FindingComparison{.scan_id = **reread};
  if (catena::report::report_context_json(again) != written) std::abort();
  return 0;
}
