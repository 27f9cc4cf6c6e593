#pragma once
// Options several commands share: the credential-fingerprint key and catena.toml.
#include <CLI/CLI.hpp>
#include <string>

namespace catena::cli {

/// Adds --access-key to a command.
void add_access_key_option(CLI::App& app, std::string& path);

/// Adds --config to a command (read by audit::load_config).
void add_config_option(CLI::App& app, std::string& path);

}  // namespace catena::cli
