#pragma once
// Build-access discovery as `access scan` and `audit` run it: discover, record in the store,
// and recognise credentials already recorded on other hosts.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "catena/access/access.hpp"
#include "catena/audit/standard.hpp"
#include "catena/store/store.hpp"

namespace catena::cli {

struct AccessRun {
  std::vector<store::AccessRecord> discoveries;
  std::vector<Finding> findings;  // every ACCESS_* finding, shared credentials included
  uint64_t files_examined = 0;
  bool build_access = false;
};

[[nodiscard]] Result<AccessRun> run_access(store::Store& store,
                                           const std::vector<std::string>& homes,
                                           const access::Inventory& inventory,
                                           const std::string& host,
                                           bool system_places,
                                           const std::string& key_path);

/// Adds --access-key to a command.
void add_access_key_option(CLI::App& app, std::string& path);

/// catena.toml from --config, else $CATENA_CONFIG, else /etc/catena/catena.toml when it
/// exists; without any, the defaults (no inventory, the build-server standard).
[[nodiscard]] Result<audit::Config> load_config(const std::string& path_option);

/// Adds --config to a command.
void add_config_option(CLI::App& app, std::string& path);

}  // namespace catena::cli
