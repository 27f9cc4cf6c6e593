#include <cstdio>

#include "catena/core/text.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {

Runner register_store(CLI::App& app) {
  CLI::App* group = app.add_subcommand("store", "The store itself");
  group->require_subcommand(1);
  auto output = std::make_shared<OutputOptions>();
  CLI::App* check = group->add_subcommand(
      "check", "Check the store's integrity (SQLite's integrity check over every page and index)");
  check->add_option("--db", output->db,
                    "Store file (default: $CATENA_DB, else ~/.local/share/catena/catena.db)");
  return [group, check, output]() -> int {
    if (!group->parsed() || !check->parsed()) return -1;
    auto store = open_store(*output, store::Store::Access::ReadOnly);
    if (!store) return fail(store.error());
    auto problems = (*store)->check();
    if (!problems) return fail(problems.error());
    if (problems->empty()) {
      std::printf("%s: ok\n", escape_for_terminal(store_path(*output)).c_str());
      return kExitOk;
    }
    std::printf("%s: damaged\n", escape_for_terminal(store_path(*output)).c_str());
    for (const std::string& line : *problems) {
      std::printf("  %s\n", escape_for_terminal(line).c_str());
    }
    return kExitFindings;
  };
}

}  // namespace catena::cli
