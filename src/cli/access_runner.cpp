#include "access_runner.hpp"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "catena/core/fs.hpp"
#include "catena/core/time.hpp"

namespace catena::cli {

namespace {
constexpr uint64_t kMaxConfigBytes = 1 << 20;
}  // namespace

Result<AccessRun> run_access(store::Store& store,
                             const std::vector<std::string>& homes,
                             const access::Inventory& inventory,
                             const std::string& host,
                             bool system_places,
                             const std::string& key_path) {
  CATENA_TRY(std::string key, store.access_key(key_path));
  access::Options options{.homes = homes, .system_places = system_places, .key = key};
  access::Report report = access::discover(options, inventory);
  CATENA_TRY_STATUS(store.replace_access(host, now_ns(), report.discoveries));
  CATENA_TRY(auto other_hosts, store.credential_hosts(host));
  AccessRun run;
  run.files_examined = report.files_examined;
  run.build_access = access::holds_build_access(report.discoveries);
  run.findings = std::move(report.findings);
  for (Finding& f : access::shared_credential_findings(report.discoveries, other_hosts)) {
    run.findings.push_back(std::move(f));
  }
  if (auto exposed = store.exposure_finding()) run.findings.push_back(std::move(*exposed));
  sort_findings(run.findings);
  run.discoveries = std::move(report.discoveries);
  return run;
}

void add_access_key_option(CLI::App& app, std::string& path) {
  app.add_option("--access-key", path,
                 "The key of credential fingerprints (default: the store's path + "
                 "\".access-key\", created mode 0600 on first use)");
}

Result<audit::Config> load_config(const std::string& path_option) {
  std::string path = path_option;
  bool required = !path.empty();
  if (path.empty()) {
    if (const char* env = std::getenv("CATENA_CONFIG"); env != nullptr && *env != '\0') {
      path = env;
      required = true;
    } else {
      path = "/etc/catena/catena.toml";
    }
  }
  auto text = read_small_file(path, kMaxConfigBytes);
  if (!text) {
    if (!required && text.error().code == ErrorCode::NotFound) {
      return audit::Config{.standard = audit::build_server_standard()};
    }
    return make_error(text.error().code, path + ": " + text.error().message);
  }
  auto config = audit::parse_config(*text);
  if (!config) return make_error(config.error().code, path + ": " + config.error().message);
  return config;
}

void add_config_option(CLI::App& app, std::string& path) {
  app.add_option(
      "--config", path,
      "catena.toml: build-critical hosts, registries, repositories, signing "
      "identities ([build]), the audit standard ([standard]) and full passes ([scan]) (default: "
      "$CATENA_CONFIG, else /etc/catena/catena.toml when it exists)");
}

}  // namespace catena::cli
