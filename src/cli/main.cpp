// catena: the command line. Parses arguments and hands each command to the library.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "common.hpp"

int main(int argc, char** argv) {
  using namespace catena::cli;
  for (int arg_idx = 0; arg_idx < argc; ++arg_idx) process_arguments().emplace_back(argv[arg_idx]);
  set_argument_memory(argc, argv);

  CLI::App app{
      "catena: verify every tool on every machine that can reach your build.\n"
      "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or "
      "operational error.",
      "catena"};
  app.set_version_flag("--version", std::string("catena ") + CATENA_VERSION);
  app.require_subcommand(1);
  const Runner runners[] = {
      register_scan(app),     register_audit(app),      register_inventory(app),
      register_packages(app), register_baseline(app),   register_key(app),
      register_sig(app),      register_intel(app),      register_intoto(app),
      register_attest(app),   register_provenance(app), register_access(app),
      register_store(app),    register_report(app),     register_release(app),
      register_sbom(app),     register_graph(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::string reason = error.what();
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      reason = std::string("unknown command '") + argv[1] + "'";
    }
    std::fprintf(stderr, "catena: %s (see catena --help)\n", reason.c_str());
    return kExitError;
  }
  for (const Runner& runner : runners) {
    const int code = runner();
    if (code >= 0) return code;
  }
  std::fprintf(stderr, "catena: no command given (see catena --help)\n");
  return kExitError;
}
