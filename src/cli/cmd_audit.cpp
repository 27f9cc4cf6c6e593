#include "access_runner.hpp"
#include "catena/audit/audit.hpp"
#include "catena/audit/packages.hpp"
#include "catena/audit/standard.hpp"
#include "catena/baseline/baseline.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/time.hpp"
#include "catena/pkg/verify.hpp"
#include "commands.hpp"
#include "scan_runner.hpp"

namespace catena::cli {

Runner register_audit(CLI::App& app) {
  auto command = std::make_shared<ScanCommand>();
  auto digests = std::make_shared<std::string>("sha256");
  auto extra = std::make_shared<std::vector<std::string>>();
  struct Places {
    std::vector<std::string> homes;
    std::vector<std::string> system_dirs;
    std::string path_env;
    bool path_given = false;
  };
  auto places_option = std::make_shared<Places>();
  auto packages_root = std::make_shared<std::string>("/");
  auto config_path = std::make_shared<std::string>();
  auto no_access = std::make_shared<bool>(false);
  auto access_key = std::make_shared<std::string>();
  command->name = "audit";
  CLI::App* sub = app.add_subcommand(
      "audit",
      "Audit this machine: scan every place executables and developer tools live (PATH, "
      "/usr/lib, /usr/libexec, /usr/local, /opt, per-user tool directories), run every check, "
      "store the inventory and print a verdict");
  add_scan_options(*sub, *command, *digests);
  sub->add_option("--also", *extra, "Scan this directory too (repeatable)");
  sub->add_option("--home", places_option->homes,
                  "Look for per-user tool directories in this home only (repeatable; default: "
                  "every home in the passwd database, and $HOME)");
  sub->add_option("--system-dir", places_option->system_dirs,
                  "Scan this system directory instead of /usr/lib, /usr/libexec, /usr/local, /opt "
                  "(repeatable; e.g. the same places in a mounted disk image)");
  CLI::Option* path_option = sub->add_option("--path", places_option->path_env,
                                             "Colon-separated tool directories instead of $PATH");
  sub->add_option("--packages-root", *packages_root,
                  "Verify the installed packages of the system at this root (default /; "
                  "--no-dpkg skips package verification)");
  add_config_option(*sub, *config_path);
  sub->add_option("--html", command->html,
                  "Also write the audit as one self-contained HTML page to this file");
  sub->add_flag("--no-access", *no_access,
                "Do not look for build access (credentials, signing material) in the homes");
  add_access_key_option(*sub, *access_key);
  return [sub, command, digests, extra, places_option, path_option, packages_root, config_path,
          no_access, access_key]() -> int {
    if (!sub->parsed()) return -1;
    auto algorithms = parse_digests(*digests);
    if (!algorithms) return fail(algorithms.error());
    command->scan.digests = *algorithms;
    audit::AuditPlaces machine = audit::this_machine();
    if (!places_option->homes.empty()) machine.homes = places_option->homes;
    if (!places_option->system_dirs.empty()) machine.system_dirs = places_option->system_dirs;
    if (path_option->count() > 0) machine.path_env = places_option->path_env;
    audit::AuditRoots audit_places = audit::audit_roots(machine);
    std::vector<std::string> places = std::move(audit_places.roots);
    for (const std::string& dir : *extra) places.push_back(dir);
    command->scan.roots = std::move(places);
    auto refused =
        std::make_shared<std::vector<Finding>>(audit::refused_place_findings(audit_places));
    auto config = load_config(*config_path);
    if (!config) return fail(config.error());
    auto shared_config = std::make_shared<audit::Config>(std::move(*config));
    command->scan.full_every_ns = shared_config->full_every_ns;
    command->md5_for_packages = command->dpkg && absolute_path(*packages_root) == "/";
    auto access_run = std::make_shared<std::optional<AccessRun>>();
    // What ran: a rule of the standard no check could break is "skipped", not "pass".
    auto examined = std::make_shared<audit::Examined>(
        audit::Examined{.packages = false, .access = false, .baselines = false});
    // Homes given on the command line are taken as they are; the passwd database's are
    // filtered of daemon accounts' system directories.
    const std::vector<std::string> homes =
        places_option->homes.empty() ? audit::access_homes(machine) : places_option->homes;
    const bool look_for_access = !*no_access;
    // A raw pointer: the command owns this callback, and a shared_ptr here would be a cycle.
    command->after_scan = [command = command.get(), packages_root, shared_config, access_run, homes,
                           look_for_access, access_key, examined,
                           refused](store::Store& store,
                                    std::vector<std::pair<std::string, std::string>>& summary) {
      std::vector<Finding> findings = *refused;
      // Each step's time goes into its summary line: where an audit's time goes.
      const auto seconds_since = [](int64_t start) {
        char text[32];
        std::snprintf(text, sizeof text, ", %.2f s", static_cast<double>(now_ns() - start) / 1e9);
        return std::string(text);
      };
      if (look_for_access) {
        const int64_t access_start = now_ns();
        auto run =
            run_access(store, homes, shared_config->inventory, host_name(), true, *access_key);
        if (run) {
          summary.emplace_back("access", std::to_string(run->discoveries.size()) +
                                             " discoveries in " + std::to_string(homes.size()) +
                                             " homes" + seconds_since(access_start));
          for (const Finding& f : run->findings) findings.push_back(f);
          *access_run = std::move(*run);
          examined->access = true;
        } else {
          summary.emplace_back("access", "not examined: " + run.error().describe());
        }
      }
      if (command->dpkg) {
        pkg::VerifyOptions verify;
        verify.location.root = absolute_path(*packages_root);
        verify.jobs = command->scan.jobs;
        verify.cancel = command->scan.cancel;
        const int64_t packages_start = now_ns();
        auto report = audit::verify_packages_with_store(store, host_name(), command->scan_id,
                                                        verify, command->scan.full);
        if (report) {
          summary.emplace_back("packages", std::to_string(report->packages) + " verified, " +
                                               std::to_string(report->files) + " files (" +
                                               std::to_string(report->files_reused) +
                                               " digests known, not read again)" +
                                               seconds_since(packages_start));
          // The access findings come first; the packages' are added to them.
          for (Finding& f : report->findings) findings.push_back(std::move(f));
          examined->packages = true;
        } else if (report.error().code == ErrorCode::NotFound) {
          summary.emplace_back("packages", "no dpkg database: not verified");
        } else {
          // A database that cannot be read is itself a finding, never a silent pass.
          Finding f = make_finding("PKG_DATABASE_DAMAGED", verify.location.root);
          f.message = "The dpkg database could not be read, so no package was verified.";
          f.add_evidence("error", report.error().describe());
          findings.push_back(std::move(f));
          summary.emplace_back("packages", "not verified: " + report.error().describe());
        }
      }
      // Every baseline this host has is checked too.
      auto baselines = store.list_baselines();
      const std::string host = host_name();
      for (const store::BaselineRecord& b :
           baselines ? *baselines : std::vector<store::BaselineRecord>{}) {
        if (b.host != host) continue;
        baseline::Options options{
            .name = b.name, .jobs = command->scan.jobs, .cancel = command->scan.cancel};
        options.dpkg.root = absolute_path(*packages_root);
        auto checked = baseline::check(store, options);
        if (!checked) {
          summary.emplace_back("baseline", b.name + ": not checked: " + checked.error().describe());
          continue;
        }
        summary.emplace_back(
            "baseline", b.name + ": " + std::to_string(checked->findings.size()) + " findings");
        examined->baselines = true;
        for (Finding& f : checked->findings) findings.push_back(std::move(f));
      }
      return findings;
    };
    command->finish_report = [shared_config, access_run, examined](report::ScanReport& report) {
      // Without an access run (interrupted, or --no-access) there is no judgement of access:
      // the host is treated as one with build access, so the standard is enforced, not advice.
      const bool build_access = !access_run->has_value() || (*access_run)->build_access;
      const audit::Verdict verdict =
          audit::evaluate(shared_config->standard, report.findings, build_access, *examined);
      report::AccessSection section{.examined = access_run->has_value(),
                                    .build_access = build_access,
                                    .standard = shared_config->standard.name,
                                    .verdict = verdict.verdict};
      if (access_run->has_value()) {
        section.discoveries = std::move((*access_run)->discoveries);  // not used again
        section.files_examined = (*access_run)->files_examined;
      }
      for (const audit::RuleResult& result : verdict.rules) {
        section.rules.push_back({.id = result.rule->id,
                                 .title = result.rule->title,
                                 .status = std::string(audit::rule_status_name(result.status)),
                                 .findings = result.findings});
      }
      report.access = std::move(section);
    };
    return run_scan_command(*command);
  };
}

}  // namespace catena::cli
