#include "catena/audit/run.hpp"
#include "catena/core/fs.hpp"
#include "commands.hpp"
#include "scan_runner.hpp"
#include "shared_options.hpp"

namespace catena::cli {

namespace {

// The audit's judgement as the report shows it.
report::AccessSection access_section(audit::AuditResult& result, const audit::Config& config) {
  report::AccessSection section{.examined = result.access.has_value(),
                                .build_access = result.verdict.build_access,
                                .standard = config.standard.name,
                                .verdict = result.verdict.verdict};
  if (result.access) {
    section.discoveries = std::move(result.access->discoveries);
    section.files_examined = result.access->files_examined;
  }
  for (const audit::RuleResult& rule : result.verdict.rules) {
    section.rules.push_back({.id = rule.rule->id,
                             .title = rule.rule->title,
                             .status = std::string(audit::rule_status_name(rule.status)),
                             .count = rule.count,
                             .examples = rule.examples});
  }
  return section;
}

}  // namespace

Runner register_audit(CLI::App& app) {
  auto command = std::make_shared<ScanCommand>();
  auto digests = std::make_shared<std::string>("sha256");
  auto request = std::make_shared<audit::Audit>();
  struct Places {
    std::vector<std::string> homes;
    std::vector<std::string> system_dirs;
    std::string path_env;
  };
  auto places_option = std::make_shared<Places>();
  auto config_path = std::make_shared<std::string>();
  auto no_access = std::make_shared<bool>(false);
  command->name = "audit";
  CLI::App* sub = app.add_subcommand(
      "audit",
      "Audit this machine: scan every place executables and developer tools live (PATH, "
      "/usr/lib, /usr/libexec, /usr/local, /opt, per-user tool directories), run every check, "
      "store the inventory and print a verdict");
  add_scan_options(*sub, *command, *digests);
  sub->add_option("--also", request->also, "Scan this directory too (repeatable)");
  sub->add_option("--home", places_option->homes,
                  "Look for per-user tool directories in this home only (repeatable; default: "
                  "every home in the passwd database, and $HOME)");
  sub->add_option("--system-dir", places_option->system_dirs,
                  "Scan this system directory instead of /usr/lib, /usr/libexec, /usr/local, /opt "
                  "(repeatable; e.g. the same places in a mounted disk image)");
  CLI::Option* path_option = sub->add_option("--path", places_option->path_env,
                                             "Colon-separated tool directories instead of $PATH");
  sub->add_option("--packages-root", request->packages_root,
                  "Verify the installed packages of the system at this root (default /; "
                  "--no-dpkg skips package verification)");
  add_config_option(*sub, *config_path);
  sub->add_option("--html", command->html,
                  "Also write the audit as one self-contained HTML page to this file");
  sub->add_flag("--no-access", *no_access,
                "Do not look for build access (credentials, signing material) in the homes");
  add_access_key_option(*sub, request->access_key);
  auto since = std::make_shared<int64_t>(0);
  sub->add_option("--since", *since,
                  "Compare with this stored audit of the host (its scan id) instead of the "
                  "host's latest complete audit: each finding is new or open, and the earlier "
                  "audit's findings not found now are resolved");
  return [sub, command, digests, request, places_option, path_option, config_path, no_access,
          since]() -> int {
    if (!sub->parsed()) return -1;
    auto algorithms = parse_digests(*digests);
    if (!algorithms) return fail(algorithms.error());
    command->session.scan.digests = *algorithms;
    audit::AuditPlaces& machine = request->places;
    machine = audit::this_machine();
    if (!places_option->homes.empty()) machine.homes = places_option->homes;
    if (!places_option->system_dirs.empty()) machine.system_dirs = places_option->system_dirs;
    if (path_option->count() > 0) machine.path_env = places_option->path_env;
    // Homes given on the command line are taken as they are; the passwd database's are
    // filtered of daemon accounts' system directories.
    request->access_homes = places_option->homes;
    request->access = !*no_access;
    request->arguments = process_arguments();
    if (*since != 0) request->since = *since;
    auto config = audit::load_config(*config_path);
    if (!config) return fail(config.error());
    request->config = std::move(*config);
    return run_scan_like(*command,
                         [&](store::Store& store, report::ScanReport& report) -> Result<bool> {
                           request->packages = command->session.owners;
                           request->session = std::move(command->session);
                           request->host = command->host;
                           CATENA_TRY(audit::AuditResult result, audit::run_audit(store, *request));
                           report = report_of("audit", result.scan);
                           report.findings = std::move(result.findings);
                           report.summary = std::move(result.steps);
                           report.access = access_section(result, request->config);
                           report.comparison = std::move(result.comparison);
                           return !result.interrupted;
                         });
  };
}

}  // namespace catena::cli
