#include "shared_options.hpp"

namespace catena::cli {

void add_access_key_option(CLI::App& app, std::string& path) {
  app.add_option("--access-key", path,
                 "The key of credential fingerprints (default: the store's path + "
                 "\".access-key\", created mode 0600 on first use)");
}

void add_config_option(CLI::App& app, std::string& path) {
  app.add_option(
      "--config", path,
      "catena.toml: build-critical hosts, registries, repositories, signing "
      "identities ([build]), the audit standard ([standard]) and full passes ([scan]) (default: "
      "$CATENA_CONFIG, else /etc/catena/catena.toml when it exists)");
}

}  // namespace catena::cli
