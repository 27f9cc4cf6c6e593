#include <cstdio>

#include "catena/audit/run.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/time.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "shared_options.hpp"

namespace catena::cli {

Runner register_access(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "access",
      "Build access: which credentials on this host reach build, source, signing, "
      "publishing or cloud infrastructure (never their secret values)");
  group->require_subcommand(1);
  struct Options {
    std::vector<std::string> homes;
    std::string config;
    std::string host;
    bool no_system = false;
    std::string access_key;
    OutputOptions output;
  };
  auto options = std::make_shared<Options>();

  CLI::App* scan = group->add_subcommand(
      "scan",
      "Find credentials and signing material in every home (or the given ones), record "
      "them in the store and report findings");
  scan->add_option("--home", options->homes,
                   "Look in this home directory only (repeatable; default: every home in the "
                   "passwd database, and $HOME)")
      ->allow_extra_args(false);
  add_config_option(*scan, options->config);
  scan->add_option("--host", options->host,
                   "Record under this host name (default: this machine's; e.g. for a mounted "
                   "disk image of another machine)");
  scan->add_flag("--no-system", options->no_system,
                 "Skip the system places of CI agents (/etc/gitlab-runner, ...)");
  add_access_key_option(*scan, options->access_key);
  add_output_options(*scan, options->output, true);

  CLI::App* list = group->add_subcommand("list", "Print the build access recorded in the store");
  list->add_option("--host", options->host, "Only this host (default: every host)");
  add_output_options(*list, options->output, false);

  return [group, scan, list, options]() -> int {
    if (!group->parsed()) return -1;
    auto format = report::parse_format(options->output.format);
    if (!format) return fail(format.error());
    auto fail_on = parse_severity(options->output.fail_on);
    if (!fail_on) return fail(fail_on.error());
    if (scan->parsed()) {
      auto config = audit::load_config(options->config);
      if (!config) return fail(config.error());
      auto store = open_store(options->output, store::Store::Access::ReadWrite);
      if (!store) return fail(store.error());
      std::vector<std::string> homes = options->homes;
      if (homes.empty()) homes = audit::access_homes(audit::this_machine());
      const std::string host = options->host.empty() ? host_name() : options->host;
      const int64_t started = now_ns();
      auto run = audit::run_access(**store, homes, config->inventory, host, !options->no_system,
                                   options->access_key);
      if (!run) return fail(run.error());
      report::ScanReport report{.command = "access scan",
                                .host = host,
                                .started_ns = started,
                                .finished_ns = now_ns(),
                                .roots = homes,
                                .findings = std::move(run->findings),
                                .fail_on = *fail_on,
                                .store_path = store_path(options->output),
                                .show_totals = false};
      report.access = report::AccessSection{.build_access = run->build_access,
                                            .discoveries = std::move(run->discoveries),
                                            .files_examined = run->files_examined};
      return print_report(report, *format, *fail_on);
    }
    auto store = open_store(options->output, store::Store::Access::ReadOnly);
    if (!store) return fail(store.error());
    auto records = (*store)->list_access(options->host);
    if (!records) return fail(records.error());
    report::ScanReport report{.command = "access list",
                              .host = options->host.empty() ? "every host" : options->host,
                              .store_path = store_path(options->output),
                              .show_totals = false};
    report.access = report::AccessSection{.build_access = access::holds_build_access(*records),
                                          .discoveries = std::move(*records)};
    return print_report(report, *format, *fail_on);  // a listing has no findings
  };
}

}  // namespace catena::cli
