#include "catena/audit/run.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "catena/audit/packages.hpp"
#include "catena/baseline/baseline.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/time.hpp"
#include "catena/pkg/verify.hpp"

namespace catena::audit {

namespace {

constexpr uint64_t kMaxConfigBytes = 1 << 20;

// ", 1.23 s": each step's time goes into its line, so an audit shows where its time goes.
std::string seconds_since(int64_t start) {
  char text[32];
  std::snprintf(text, sizeof text, ", %.2f s", static_cast<double>(now_ns() - start) / 1e9);
  return text;
}

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

Result<Config> load_config(const std::string& path_given) {
  std::string path = path_given;
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
      return Config{.standard = build_server_standard()};
    }
    return make_error(text.error().code, path + ": " + text.error().message);
  }
  auto config = parse_config(*text);
  if (!config) return make_error(config.error().code, path + ": " + config.error().message);
  return config;
}

Result<AuditResult> run_audit(store::Store& store, Audit& request) {
  const std::string host = request.host.empty() ? host_name() : request.host;
  const std::string packages_root = absolute_path(request.packages_root);
  AuditRoots places = audit_roots(request.places);
  scan::Session& session = request.session;
  session.scan.roots = std::move(places.roots);
  for (const std::string& dir : request.also) session.scan.roots.push_back(dir);
  session.scan.full_every_ns = request.config.full_every_ns;
  session.owners = request.packages;
  // The package step verifies this system's packages next: their MD5s come from the scan's read.
  session.md5_for_packages = request.packages && packages_root == "/";
  if (session.scan.roots.empty()) return make_error(ErrorCode::Usage, "nothing to scan");
  if (request.since) {
    // Said before the scan, not after it.
    auto earlier = store.get_scan(*request.since);
    if (!earlier || earlier->host != host || earlier->kind != "audit") {
      return make_error(ErrorCode::Usage, "--since " + std::to_string(*request.since) +
                                              ": no audit of " + host + " has that id");
    }
  }

  AuditResult result;
  // What ran: a rule of the standard no check could break is "skipped", not "pass".
  result.examined = Examined{.packages = false, .access = false, .baselines = false};
  // The package step takes what the scan saw of this system instead of looking again.
  std::optional<ScanHarvest> harvest;
  if (session.md5_for_packages) {
    harvest.emplace(covered_tool_dirs(session.scan));
    session.scan.on_file = [&harvest](const scan::SeenFile& file) { harvest->add(file); };
  }
  const scan::ScanMeta meta{.kind = "audit", .host = host, .arguments = request.arguments};
  auto scanned = scan::run_session(store, store, session, meta, &result.scan);
  session.scan.on_file = nullptr;
  if (!scanned && scanned.error().code != ErrorCode::Interrupted) {
    return tl::unexpected(scanned.error());
  }
  result.interrupted = !scanned;
  result.examined.scan = !result.interrupted;
  if (scanned) result.scan = std::move(*scanned);

  // The later steps' findings go to the store with the scan's as they come.
  scan::FindingWriter more(store, result.scan.scan_id);
  if (!result.interrupted) {
    for (Finding& f : refused_place_findings(places)) more.add(std::move(f));
    if (request.access) {
      const std::vector<std::string> homes =
          request.access_homes.empty() ? access_homes(request.places) : request.access_homes;
      const int64_t start = now_ns();
      auto run = run_access(store, homes, request.config.inventory, host, true, request.access_key);
      if (run) {
        result.steps.emplace_back("access", std::to_string(run->discoveries.size()) +
                                                " discoveries in " + std::to_string(homes.size()) +
                                                " homes" + seconds_since(start));
        for (Finding& f : run->findings) more.add(std::move(f));
        run->findings.clear();
        result.access = std::move(*run);
        result.examined.access = true;
      } else {
        result.steps.emplace_back("access", "not examined: " + run.error().describe());
      }
    }
    if (request.packages) {
      pkg::VerifyOptions verify;
      verify.location.root = packages_root;
      verify.jobs = session.scan.jobs;
      verify.cancel = session.scan.cancel;
      verify.on_finding = [&more](Finding&& f) { more.add(std::move(f)); };
      const int64_t start = now_ns();
      auto report = verify_packages_with_store(store, host, harvest ? &*harvest : nullptr, verify,
                                               session.scan.full);
      if (report) {
        result.steps.emplace_back("packages", std::to_string(report->packages) + " verified, " +
                                                  std::to_string(report->files) + " files (" +
                                                  std::to_string(report->files_reused) +
                                                  " digests known, not read again)" +
                                                  seconds_since(start));
        result.examined.packages = true;
      } else if (report.error().code == ErrorCode::NotFound) {
        result.steps.emplace_back("packages", "no dpkg database: not verified");
      } else {
        // A database that cannot be read is itself a finding, never a silent pass.
        Finding f = make_finding("PKG_DATABASE_DAMAGED", packages_root);
        f.message = "The dpkg database could not be read, so no package was verified.";
        f.add_evidence("error", report.error().describe());
        more.add(std::move(f));
        result.steps.emplace_back("packages", "not verified: " + report.error().describe());
      }
    }
    // Every baseline this host has is checked too.
    CATENA_TRY(std::vector<baseline::BaselineRecord> baselines, store.list_baselines());
    for (const baseline::BaselineRecord& b : baselines) {
      if (b.host != host) continue;
      baseline::Options options{
          .name = b.name, .jobs = session.scan.jobs, .cancel = session.scan.cancel};
      options.dpkg.root = packages_root;
      auto checked = baseline::check(store, options);
      if (!checked) {
        result.steps.emplace_back("baseline",
                                  b.name + ": not checked: " + checked.error().describe());
        continue;
      }
      result.steps.emplace_back(
          "baseline", b.name + ": " + std::to_string(checked->findings.size()) + " findings");
      result.examined.baselines = true;
      CATENA_TRY_STATUS(
          checked->findings.for_each([&](const Finding& f) { more.add(Finding(f)); }));
    }
    CATENA_TRY_STATUS(more.flush());
  }
  FindingCounts counts = result.scan.findings.counts();
  counts.add(more.counts());
  result.findings = scan::stored_findings(store, result.scan.scan_id, counts);
  // Without an access run (interrupted, or not asked for) there is no judgement of access: the
  // host is treated as one with build access, so the standard is enforced, not advice.
  const bool build_access = !result.access.has_value() || result.access->build_access;
  CATENA_TRY(result.verdict,
             evaluate(request.config.standard, result.findings, build_access, result.examined));
  if (result.scan.scan_id != 0) {
    CATENA_TRY(auto comparison, compare_with_earlier(store, result.scan.scan_id, request.since));
    result.comparison = std::move(comparison);
  }
  return result;
}

}  // namespace catena::audit
