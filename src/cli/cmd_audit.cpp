#include "catena/audit/audit.hpp"
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
  return [sub, command, digests, extra, places_option, path_option]() -> int {
    if (!sub->parsed()) return -1;
    auto algorithms = parse_digests(*digests);
    if (!algorithms) return fail(algorithms.error());
    command->scan.digests = *algorithms;
    audit::AuditPlaces machine = audit::this_machine();
    if (!places_option->homes.empty()) machine.homes = places_option->homes;
    if (!places_option->system_dirs.empty()) machine.system_dirs = places_option->system_dirs;
    if (path_option->count() > 0) machine.path_env = places_option->path_env;
    std::vector<std::string> places = audit::audit_roots(machine);
    for (const std::string& dir : *extra) places.push_back(dir);
    command->scan.roots = std::move(places);
    return run_scan_command(*command);
  };
}

}  // namespace catena::cli
