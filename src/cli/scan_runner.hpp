#pragma once
// Runs a scan for `scan` and `audit` and prints its report.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "catena/scan/scanner.hpp"
#include "common.hpp"

namespace catena::cli {

struct ScanCommand {
  std::string name;  // "scan" or "audit"
  OutputOptions output;
  scan::ScanOptions scan;
  bool dpkg = true;
  std::vector<std::string> yara;  // --yara paths
  /// Compute the MD5 of packaged files in the scan's read (the audit verifies packages next).
  bool md5_for_packages = false;
  int64_t scan_id = 0;  // set before after_scan runs
  /// Checks that run after the scan (audit: package verification); their findings are stored
  /// with the scan and reported with it. They may add lines to the report's summary.
  std::function<std::vector<Finding>(store::Store& store,
                                     std::vector<std::pair<std::string, std::string>>& summary)>
      after_scan;
  /// Completes the report before it is printed (audit: build access and the standard).
  std::function<void(report::ScanReport& report)> finish_report;
  /// Also write the report as HTML to this file.
  std::string html;
};

int run_scan_command(ScanCommand& command);

/// The options `scan` and `audit` share; `digests` receives the --digests text.
void add_scan_options(CLI::App& app, ScanCommand& command, std::string& digests);
/// "sha256,md5" → DigestSet algorithm bits; Usage error for an unknown name.
[[nodiscard]] Result<unsigned> parse_digests(const std::string& text);

}  // namespace catena::cli
