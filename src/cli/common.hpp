#pragma once
// Shared plumbing of the CLI commands: options every command takes, exit codes, signals.
#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/report/render.hpp"
#include "catena/store/store.hpp"
#include "catena/trust/keys.hpp"

namespace catena::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitError = 2;

struct OutputOptions {
  std::string db;
  std::string format = "table";
  std::string fail_on = "high";
  bool quiet = false;
  bool all = false;  // every finding in full, not grouped (reports of findings)
};

/// Adds --db, --format, --quiet (and --fail-on when `with_fail_on`).
void add_output_options(CLI::App& app,
                        OutputOptions& options,
                        bool with_fail_on,
                        bool sarif = true);

/// Prints "catena: <reason>" on stderr and returns kExitError.
int fail(const Error& error);

/// Where catena keeps downloads: $XDG_CACHE_HOME/catena, else ~/.cache/catena.
std::string default_cache_dir();

/// The store named by --db, else the default.
std::string store_path(const OutputOptions& options);
[[nodiscard]] Result<std::unique_ptr<store::Store>> open_store(const OutputOptions& options,
                                                               store::Store::Access access);

/// The public keys at `paths` (catena's, PEM).
[[nodiscard]] Result<std::vector<trust::VerifyingKey>> load_keys(
    const std::vector<std::string>& paths);
/// The largest DSSE envelope catena reads.
inline constexpr uint64_t kMaxEnvelopeBytes = uint64_t{1} << 30;

/// True when the text on this stream goes to a terminal; colour also honours NO_COLOR.
bool is_terminal(std::FILE* stream);
/// Colour on a terminal unless NO_COLOR is set; the width of the terminal, else $COLUMNS, else
/// none (paths are then never shortened). `all`: every finding in full, not grouped.
report::Style output_style(bool all = false);

/// SIGINT/SIGTERM/SIGHUP raise this flag; a second signal ends the process at once.
const std::atomic<bool>& install_cancel_handlers();

/// The arguments the process was started with, recorded with each scan.
std::vector<std::string>& process_arguments();
/// The process's own argument memory (what /proc/PID/cmdline shows), set by main.
void set_argument_memory(int argc, char** argv);
/// Overwrites, in that memory, the value given to `option` ("--key PATH", "--key=PATH"), so
/// that other processes reading our command line do not learn it.
void hide_option_value(std::string_view option);

/// The host's audits up to `scan_id` (the last 30, oldest first) with their finding counts.
[[nodiscard]] Result<std::vector<report::AuditPoint>> audit_history(store::Store& store,
                                                                    const std::string& host,
                                                                    int64_t scan_id);
/// Exit code for a finished report: 1 when a finding is at or above fail_on.
int exit_code_for(const FindingCounts& findings, Severity fail_on);
/// Prints `report` to stdout: the exit code for its findings at or above `fail_on`, or that of
/// the error that cut the output short.
int print_report(const report::ScanReport& report, report::Format format, Severity fail_on);

}  // namespace catena::cli
