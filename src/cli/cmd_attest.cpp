#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "catena/attest/intoto.hpp"
#include "catena/attest/provenance.hpp"
#include "catena/attest/trace.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/pkg/database.hpp"
#include "catena/pkg/dpkg.hpp"
#include "catena/trust/keys.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "provenance_store.hpp"

extern char** environ;

namespace catena::cli {
namespace {

// Variables whose values shape a build and hold no secret; every other value is left out.
const std::set<std::string> kDefaultEnvValues = {"PATH",
                                                 "LANG",
                                                 "LC_ALL",
                                                 "TZ",
                                                 "SOURCE_DATE_EPOCH",
                                                 "CC",
                                                 "CXX",
                                                 "CFLAGS",
                                                 "CXXFLAGS",
                                                 "CPPFLAGS",
                                                 "LDFLAGS",
                                                 "MAKEFLAGS",
                                                 "DEB_BUILD_OPTIONS",
                                                 "ARCHFLAGS"};

// "<path>\0<sha256>\n" of every record in path order: a digest of what the scan saw.
Result<attest::LastScan> last_scan_of(store::Store& store, const std::string& host) {
  CATENA_TRY(std::optional<scan::ScanRecord> scan, store.latest_scan_of_host(host));
  if (!scan) return make_error(ErrorCode::NotFound, "no scan of this host in the store");
  CATENA_TRY(Sha256 digest, store.scan_content_digest(scan->id));
  return attest::LastScan{scan->id, to_hex(digest), scan->started_ns};
}

// The other spelling of a path under Debian's merged /usr (/bin/sh and /usr/bin/sh), as a
// package's file list may name either.
std::string usrmerge_alias(const std::string& path) {
  for (const std::string_view top : {"/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/"}) {
    if (path.starts_with(top)) return "/usr" + path;
    if (path.starts_with("/usr") && path.substr(4).starts_with(top)) return path.substr(4);
  }
  return {};
}

// Which package owns each tool that ran, by path, and only when that package's md5sums name
// the bytes that ran: a file bind-mounted over a packaged path, or rewritten, is no package's.
std::map<std::pair<std::string, std::string>, attest::AttestInput::PackageAttribution> owners_of(
    const std::vector<attest::TracedExec>& execs) {
  std::set<std::string> paths, dirs;
  for (const auto& exec : execs) {
    if (exec.path.empty()) continue;
    paths.insert(exec.path);
    dirs.insert(std::filesystem::path(exec.path).parent_path().string());
  }
  std::map<std::pair<std::string, std::string>, attest::AttestInput::PackageAttribution> out;
  if (paths.empty()) return out;
  auto owners = pkg::PackageOwners::load({}, {dirs.begin(), dirs.end()});
  if (!owners) return out;  // not a Debian system: no owners recorded
  auto database = pkg::DpkgDatabase::open({});
  std::map<std::string, std::map<std::string, std::string>> shipped;  // package -> path -> md5
  const auto md5sums_of =
      [&](const std::string& package) -> const std::map<std::string, std::string>& {
    auto [it, fresh] = shipped.try_emplace(package);
    if (!fresh || !database) return it->second;
    for (const pkg::InstalledPackage& installed : database->packages()) {
      if (installed.qualified_name() != package && installed.name != package) continue;
      auto text = database->read_info(installed, "md5sums");
      if (!text) break;
      for (auto& entry : pkg::parse_md5sums(*text).entries) {
        it->second.emplace(std::move(entry.path), std::move(entry.md5));
      }
      break;
    }
    return it->second;
  };
  for (const auto& exec : execs) {
    const std::string owner = owners->owner_of(exec.path);
    if (owner.empty()) continue;
    attest::AttestInput::PackageAttribution attribution;
    // A path several packages list (rare for a program): each is tried.
    for (size_t at = 0; at < owner.size();) {
      const size_t comma = std::min(owner.find(',', at), owner.size());
      std::string package = owner.substr(at, comma - at);
      while (!package.empty() && package.front() == ' ') package.erase(0, 1);
      at = comma + 1;
      const auto& sums = md5sums_of(package);
      auto listed = sums.find(exec.path);
      if (listed == sums.end()) listed = sums.find(usrmerge_alias(exec.path));
      if (listed == sums.end()) {
        attribution.problem = package + " records no md5sum for it";
      } else if (exec.md5.empty() || listed->second != exec.md5) {
        attribution.problem = package + " shipped other bytes (md5 " + listed->second + ")";
      } else {
        attribution = {owner, {}};
        break;
      }
    }
    out.insert_or_assign({exec.path, exec.sha256}, std::move(attribution));
  }
  return out;
}

Result<attest::TraceOptions::Identity> identity_of(const std::string& user) {
  if (::geteuid() != 0)
    return make_error(ErrorCode::Usage, "--build-user needs catena to run as root");
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(1 << 16);
  if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    return make_error(ErrorCode::Usage, "--build-user: no account named " + user);
  }
  if (entry.pw_uid == 0) return make_error(ErrorCode::Usage, "--build-user: " + user + " is root");
  attest::TraceOptions::Identity out{entry.pw_uid, entry.pw_gid, {}};
  int count = 64;
  out.groups.resize(static_cast<size_t>(count));
  while (::getgrouplist(user.c_str(), entry.pw_gid, out.groups.data(), &count) < 0) {
    out.groups.resize(static_cast<size_t>(count));
  }
  out.groups.resize(static_cast<size_t>(count));
  return out;
}

// Whether the build could read the signing key: it runs as root, or as an account the key
// file's mode lets read. Said, not refused: a developer's laptop has no second account.
std::optional<std::string> key_exposure(const std::string& key_path,
                                        const std::optional<attest::TraceOptions::Identity>& as) {
  const uid_t uid = as ? as->uid : ::geteuid();
  if (uid == 0) {
    return "the build runs as root: it can read the signing key and catena's memory, and so "
           "sign provenance of its own (run it as another account: --build-user)";
  }
  if (key_path.empty()) return std::nullopt;
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) return std::nullopt;
  std::vector<gid_t> groups = as ? as->groups : std::vector<gid_t>{};
  if (as) {
    groups.push_back(as->gid);
  } else {
    groups.push_back(::getegid());
    const int count = ::getgroups(0, nullptr);
    if (count > 0) {
      std::vector<gid_t> more(static_cast<size_t>(count));
      if (::getgroups(count, more.data()) == count)
        groups.insert(groups.end(), more.begin(), more.end());
    }
  }
  const bool readable = st.st_uid == uid ? (st.st_mode & S_IRUSR) != 0
                        : std::find(groups.begin(), groups.end(), st.st_gid) != groups.end()
                            ? (st.st_mode & S_IRGRP) != 0
                            : (st.st_mode & S_IROTH) != 0;
  if (!readable) return std::nullopt;
  return "the build runs as an account that can read the signing key " + key_path +
         ": it could sign provenance of its own (give it a key it cannot read, or run it as "
         "another account: --build-user)";
}

}  // namespace

Runner register_attest(CLI::App& app) {
  struct Options {
    std::string step;
    std::string key;
    int key_fd = -1;
    std::string build_user;
    std::vector<std::string> materials;
    std::vector<std::string> products;
    std::vector<std::string> excludes;
    std::string out;
    std::string format = "dsse";
    std::vector<std::string> env_values;
    std::string builder_id;
    std::string host;
    bool no_trace = false;
    bool no_libraries = false;
    bool allow_ptrace = false;
    std::string left_running = "kill";
    bool no_store = false;
    std::string db;
    std::vector<std::string> command;
  };
  auto options = std::make_shared<Options>();
  CLI::App* attest = app.add_subcommand(
      "attest",
      "Run a build command, trace every program it runs, and write signed provenance.\n"
      "Exit code: the command's own (128 + signal when it was killed); 2 when catena "
      "cannot attest.");
  attest->add_option("--step", options->step, "Name of the build step")->required();
  CLI::Option* key_path =
      attest->add_option("--key", options->key,
                         "Private key to sign with (PEM or securesystemslib JSON); read before "
                         "the build starts, its path then blanked from catena's command line");
  CLI::Option* key_fd = attest->add_option(
      "--key-fd", options->key_fd,
      "Read the private key from this open descriptor instead (3 with `3<key`, or a pipe from "
      "a secret store), then close it: the build never inherits it");
  key_path->excludes(key_fd);
  key_fd->excludes(key_path);
  attest->add_option("--build-user", options->build_user,
                     "Run the build as this account (catena must run as root): a key it "
                     "cannot read, and a catena it cannot inspect, keep the signing out of "
                     "its reach");
  attest
      ->add_option("-m,--material", options->materials,
                   "File or directory the build consumes, hashed before it runs (repeatable)")
      ->allow_extra_args(false);
  attest
      ->add_option("-p,--product", options->products,
                   "File or directory the build produces, hashed after it ends (repeatable)")
      ->allow_extra_args(false);
  attest
      ->add_option("--exclude", options->excludes,
                   "Pattern of paths to leave out (repeatable; replaces the default "
                   "*.link* .git *.pyc *~)")
      ->allow_extra_args(false);
  attest->add_option(
      "--out", options->out,
      "Output file or directory (default name <step>.intoto.json, or <step>.<keyid8>.link)");
  attest
      ->add_option("--format", options->format,
                   "dsse (in-toto Statement with SLSA Provenance v1, default) or intoto-link")
      ->check(CLI::IsMember({"dsse", "intoto-link"}));
  attest
      ->add_option("--env-value", options->env_values,
                   "Also record this environment variable's value (names are always recorded)")
      ->allow_extra_args(false);
  attest->add_option("--builder-id", options->builder_id,
                     "SLSA builder id (default urn:catena:host:<hostname>)");
  attest->add_option("--host", options->host,
                     "Record the build under this host name (default: this machine's)");
  attest->add_flag("--no-trace", options->no_trace, "Do not trace the command's programs");
  attest->add_flag("--no-libraries", options->no_libraries,
                   "Do not record the shared libraries traced processes mapped");
  attest->add_flag("--allow-ptrace", options->allow_ptrace,
                   "Let the build attach to processes with ptrace (refused and recorded "
                   "otherwise; processes of the build are traced by catena and cannot be "
                   "attached either way)");
  attest
      ->add_option("--left-running", options->left_running,
                   "What becomes of processes the build leaves running: kill (default: "
                   "SIGTERM, SIGKILL 5 s later, traced until gone, as CI runners end a job), "
                   "wait (traced to their end), detach (the record is then incomplete, and "
                   "they can no longer map executable files)")
      ->check(CLI::IsMember({"kill", "wait", "detach"}));
  attest->add_flag("--no-store", options->no_store, "Do not keep the attestation in the store");
  attest->add_option("--db", options->db, "Store path (default: the user's store)");
  attest->add_option("command", options->command, "The build command, after --")->required();
  return [attest, options]() -> int {
    if (!attest->parsed()) return -1;
    // Before the key is in memory: no core dump, no /proc/PID/mem or ptrace by another process
    // of this user (the build).
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (options->key.empty() && options->key_fd < 0) {
      return fail(Error{ErrorCode::Usage, "--key or --key-fd is required", {}});
    }
    auto key = options->key_fd >= 0
                   ? trust::SigningKey::load_fd(options->key_fd,
                                                "descriptor " + std::to_string(options->key_fd))
                   : trust::SigningKey::load(options->key);
    if (options->key_fd >= 0) ::close(options->key_fd);
    hide_option_value("--key");
    if (!key) return fail(key.error());
    std::optional<attest::TraceOptions::Identity> build_identity;
    if (!options->build_user.empty()) {
      auto identity = identity_of(options->build_user);
      if (!identity) return fail(identity.error());
      build_identity = std::move(*identity);
    }
    if (auto exposure = key_exposure(options->key, build_identity)) {
      std::fprintf(stderr, "catena: warning: %s\n", exposure->c_str());
    }
    attest::ArtifactOptions artifact_options;
    if (!options->excludes.empty()) artifact_options.exclude = options->excludes;
    // The first Ctrl-C reaches the build (same process group) and catena attests the
    // interrupted build; a second one ends catena, and PTRACE_O_EXITKILL the build.
    install_cancel_handlers();
    const attest::LeftRunning left_running =
        options->left_running == "wait"     ? attest::LeftRunning::Wait
        : options->left_running == "detach" ? attest::LeftRunning::Detach
                                            : attest::LeftRunning::Kill;
    auto materials = attest::record_artifacts(options->materials, artifact_options);
    if (!materials) return fail(materials.error());
    auto trace = attest::run_traced(options->command, {.trace = !options->no_trace,
                                                       .libraries = !options->no_libraries,
                                                       .allow_ptrace = options->allow_ptrace,
                                                       .run_as = build_identity,
                                                       .left_running = left_running});
    if (!trace) return fail(trace.error());
    for (const std::string& attempt : trace->refused) {
      std::fprintf(stderr, "catena: warning: refused: %s\n", escape_for_terminal(attempt).c_str());
    }
    for (const std::string& reason : trace->incomplete) {
      std::fprintf(stderr, "catena: warning: not recorded: %s\n",
                   escape_for_terminal(reason).c_str());
    }
    if (!trace->start_error.empty())
      std::fprintf(stderr, "catena: %s\n", trace->start_error.c_str());
    if (!options->no_trace && !trace->traced) {
      std::fprintf(stderr, "catena: warning: the command ran untraced (%s)\n",
                   trace->trace_error.c_str());
    }
    auto products = attest::record_artifacts(options->products, artifact_options);
    if (!products) return fail(products.error());
    const int command_exit = trace->exit_code;
    const std::string host = options->host.empty() ? host_name() : options->host;

    std::string text;
    std::string out = options->out;
    std::string default_name;
    if (options->format == "intoto-link") {
      attest::IntotoLink link{.name = options->step,
                              .command = options->command,
                              .materials = materials->artifacts,
                              .products = products->artifacts,
                              .return_value = command_exit,
                              .tools = trace->execs,
                              .traced = trace->traced};
      for (const auto& error : materials->errors) link.unrecorded.push_back("material " + error);
      for (const auto& error : products->errors) link.unrecorded.push_back("product " + error);
      auto written = attest::write_intoto_link(link, *key);
      if (!written) return fail(written.error());
      text = std::move(*written);
      default_name = attest::intoto_link_filename(options->step, key->sslib().keyid);
    } else {
      attest::AttestInput input{.step = options->step,
                                .command = options->command,
                                .working_directory = absolute_path("."),
                                .materials = std::move(*materials),
                                .products = std::move(*products),
                                .trace = std::move(*trace),
                                .builder_id = options->builder_id.empty()
                                                  ? "urn:catena:host:" + host
                                                  : options->builder_id,
                                .host = host,
                                .catena_version = CATENA_VERSION};
      input.tool_packages = owners_of(input.trace.execs);
      std::set<std::string> allowed = kDefaultEnvValues;
      allowed.insert(options->env_values.begin(), options->env_values.end());
      for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view pair(*entry);
        const size_t equals = pair.find('=');
        const std::string name(pair.substr(0, equals));
        input.environment_names.push_back(name);
        if (allowed.contains(name) && equals != std::string_view::npos) {
          input.environment_values.emplace(name, std::string(pair.substr(equals + 1)));
        }
      }
      std::unique_ptr<store::Store> store;
      if (!options->no_store) {
        auto opened = open_store({.db = options->db}, store::Store::Access::ReadWrite);
        if (opened) {
          store = std::move(*opened);
          if (auto scan = last_scan_of(*store, host)) input.last_scan = *scan;
        } else {
          std::fprintf(stderr, "catena: warning: the attestation is not stored: %s\n",
                       opened.error().describe().c_str());
        }
      }
      auto statement = attest::build_statement(input);
      if (!statement) return fail(statement.error());
      auto envelope = attest::sign_envelope(*statement, *key);
      if (!envelope) return fail(envelope.error());
      text = std::move(*envelope);
      default_name = options->step + ".intoto.json";
      if (store) {
        if (auto stored = store_attestation(*store, text, *statement, "attest"); !stored) {
          std::fprintf(stderr, "catena: warning: the attestation is not stored: %s\n",
                       stored.error().describe().c_str());
        }
      }
      std::set<std::string> distinct;
      for (const auto& exec : input.trace.execs) distinct.insert(exec.sha256);
      std::fprintf(stderr,
                   "catena: step %s: %zu materials, %zu products, %zu program runs (%zu distinct "
                   "programs)%s\n",
                   options->step.c_str(), input.materials.artifacts.size(),
                   input.products.artifacts.size(), input.trace.execs.size(), distinct.size(),
                   input.trace.traced ? "" : ", not traced");
    }
    struct stat st {};
    if (out.empty()) {
      out = default_name;
    } else if (::stat(out.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      out += "/" + default_name;
    }
    if (auto written = write_file_atomically(out, text, 0644); !written)
      return fail(written.error());
    std::fprintf(stderr, "catena: wrote %s\n", out.c_str());
    return command_exit;
  };
}

}  // namespace catena::cli
