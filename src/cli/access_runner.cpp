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
                             bool system_places) {
  CATENA_TRY(std::string salt, store.access_salt());
  access::Options options{.homes = homes, .system_places = system_places, .salt = salt};
  access::Report report = access::discover(options, inventory);
  CATENA_TRY_STATUS(store.replace_access(host, now_ns(), report.discoveries));
  AccessRun run;
  run.files_examined = report.files_examined;
  run.build_access = access::holds_build_access(report.discoveries);
  run.findings = std::move(report.findings);
  for (const store::AccessRecord& d : report.discoveries) {
    if (!d.holds_secret || d.fingerprint.empty()) continue;
    CATENA_TRY(std::vector<std::string> others, store.hosts_with_credential(d.fingerprint, host));
    if (others.empty()) continue;
    Finding f{.rule = "ACCESS_SHARED_CREDENTIAL",
              .severity = d.build_critical ? Severity::High : Severity::Medium,
              .path = d.path};
    f.message = "The same credential is recorded on other hosts: one theft reaches all of them.";
    f.add_evidence("kind", d.kind);
    if (!d.target.empty()) f.add_evidence("target", d.target);
    f.add_evidence("fingerprint", d.fingerprint);
    std::string list;
    for (const std::string& other : others) list += (list.empty() ? "" : ", ") + other;
    f.add_evidence("other_hosts", list);
    run.findings.push_back(std::move(f));
  }
  sort_findings(run.findings);
  run.discoveries = std::move(report.discoveries);
  return run;
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
  app.add_option("--config", path,
                 "catena.toml: build-critical hosts, registries, repositories, signing "
                 "identities ([build]) and the audit standard ([standard]) (default: "
                 "$CATENA_CONFIG, else /etc/catena/catena.toml when it exists)");
}

}  // namespace catena::cli
