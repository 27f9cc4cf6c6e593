#pragma once
// What `scan` and `audit` share: their options, and printing a scan's report.
#include <functional>
#include <string>

#include "catena/report/render.hpp"
#include "catena/scan/session.hpp"
#include "common.hpp"
#include "progress.hpp"

namespace catena::cli {

struct ScanCommand {
  std::string name;  // "scan" or "audit"
  OutputOptions output;
  scan::Session session;
  std::string html;  // also write the report as HTML to this file
  std::string host;  // recorded under this name; empty: this machine's
};

/// The options `scan` and `audit` share; `digests` receives the --digests text.
void add_scan_options(CLI::App& app, ScanCommand& command, std::string& digests);
/// "sha256,md5" → DigestSet algorithm bits; Usage error for an unknown name.
[[nodiscard]] Result<unsigned> parse_digests(const std::string& text);

/// Opens the store and wires cancellation and the progress line into `command.session`, then
/// calls `run` and prints the report it fills. `run` returns false when it was interrupted
/// (the report is printed all the same) or an error. Returns the exit code.
int run_scan_like(
    ScanCommand& command,
    const std::function<Result<bool>(store::Store& store, report::ScanReport& report)>& run);

/// A report of a scan summary, findings and steps not yet added.
report::ScanReport report_of(const std::string& command, const scan::ScanSummary& summary);

}  // namespace catena::cli
