#include "common.hpp"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "catena/core/text.hpp"

namespace catena::cli {
namespace {

std::atomic<bool> g_cancel{false};

extern "C" void on_cancel_signal(int signal_number) {
  if (g_cancel.exchange(true)) {
    // A second signal: the user wants out now. The store stays consistent (SQLite rolls back).
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
  }
}

}  // namespace

void add_output_options(CLI::App& app, OutputOptions& options, bool with_fail_on, bool sarif) {
  app.add_option("--db", options.db,
                 "Store file (default: $CATENA_DB, else ~/.local/share/catena/catena.db)");
  // Listings of records have no SARIF form: the help offers only what the command takes.
  if (sarif) {
    app.add_option("--format", options.format, "Output format: table, json, jsonl or sarif")
        ->check(CLI::IsMember({"table", "json", "jsonl", "sarif"}));
  } else {
    app.add_option("--format", options.format, "Output format: table, json or jsonl")
        ->check(CLI::IsMember({"table", "json", "jsonl"}));
  }
  if (with_fail_on) {
    app.add_option("--fail-on", options.fail_on,
                   "Exit 1 when a finding is at or above this severity: info, low, medium, high, "
                   "critical (default high)")
        ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  }
  app.add_flag("-q,--quiet", options.quiet, "No progress line on stderr");
}

int fail(const Error& error) {
  std::string reason = escape_for_terminal(error.describe());
  std::fprintf(stderr, "catena: %s\n", reason.c_str());
  return kExitError;
}

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/catena";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/root") + "/.cache/catena";
}

std::string store_path(const OutputOptions& options) {
  return options.db.empty() ? store::default_store_path() : options.db;
}

Result<std::unique_ptr<store::Store>> open_store(const OutputOptions& options,
                                                 store::Store::Access access) {
  return store::Store::open(store_path(options), access);
}

bool is_terminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1; }

Result<std::vector<report::AuditPoint>> audit_history(store::Store& store,
                                                      const std::string& host,
                                                      int64_t scan_id) {
  constexpr size_t kPoints = 30;
  CATENA_TRY(std::vector<scan::ScanRecord> scans, store.list_scans());
  std::vector<report::AuditPoint> out;
  for (auto it = scans.rbegin(); it != scans.rend() && out.size() < kPoints; ++it) {
    if (it->id > scan_id || it->host != host || it->kind != "audit" ||
        it->status == scan::ScanStatus::Running) {
      continue;
    }
    CATENA_TRY(FindingCounts counts, store.finding_counts(it->id));
    out.push_back({.scan_id = it->id, .started_ns = it->started_ns, .counts = counts});
  }
  std::reverse(out.begin(), out.end());
  return out;
}

report::Style output_style(bool all) {
  const char* no_color = std::getenv("NO_COLOR");
  report::Style style{.color = is_terminal(stdout) && (no_color == nullptr || *no_color == '\0'),
                      .all = all};
  winsize size{};
  if (is_terminal(stdout) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    style.width = size.ws_col;
  } else if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    char* end = nullptr;
    const unsigned long value = std::strtoul(columns, &end, 10);
    if (end != columns && *end == '\0' && value > 0 && value < 100000) style.width = value;
  }
  return style;
}

const std::atomic<bool>& install_cancel_handlers() {
  struct sigaction action {};
  action.sa_handler = on_cancel_signal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal_number, &action, nullptr);
  return g_cancel;
}

std::vector<std::string>& process_arguments() {
  static std::vector<std::string> arguments;
  return arguments;
}

namespace {
int g_argc = 0;
char** g_argv = nullptr;
}  // namespace

void set_argument_memory(int argc, char** argv) {
  g_argc = argc;
  g_argv = argv;
}

void hide_option_value(std::string_view option) {
  const auto blank = [](char* text) {
    for (char* c = text; *c != '\0'; ++c) *c = '*';
  };
  for (int i = 1; i < g_argc; ++i) {
    const std::string_view arg = g_argv[i];
    if (arg == "--") break;
    if (arg == option && i + 1 < g_argc) {
      blank(g_argv[i + 1]);
    } else if (arg.size() > option.size() && arg.starts_with(option) && arg[option.size()] == '=') {
      blank(g_argv[i] + option.size() + 1);
    }
  }
}

int exit_code_for(const FindingCounts& findings, Severity fail_on) {
  return findings.at_least(fail_on) > 0 ? kExitFindings : kExitOk;
}

int print_report(const report::ScanReport& report, report::Format format, Severity fail_on) {
  auto printed = report::write_scan_report(stdout, report, format, output_style());
  std::fflush(stdout);
  if (!printed) return fail(printed.error());
  return exit_code_for(report.findings.counts(), fail_on);
}

Result<std::vector<trust::VerifyingKey>> load_keys(const std::vector<std::string>& paths) {
  std::vector<trust::VerifyingKey> keys;
  for (const std::string& path : paths) {
    CATENA_TRY(trust::VerifyingKey key, trust::VerifyingKey::load(path));
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace catena::cli
