#pragma once
/// Build-access discovery: what on a host's disk grants access to build, source, signing,
/// publishing or cloud infrastructure, found without ever keeping a secret.
///
///   access::Options options{.homes = {"/home/dev"}, .key = key};
///   access::Report report = access::discover(options, inventory);
///
/// Each discovery names what the credential reaches (`target`), the file, its owner and mode,
/// whether it is protected (a passphrase, hardware), and a fingerprint: the public-key
/// fingerprint of a key (`SHA256:` as ssh-keygen prints it, or `spki-sha256:`/`cert-sha256:`)
/// or, for a token or password, `hmac-sha256:` of it under the store's HMAC key, so the same
/// credential is recognised on two hosts recorded in one store while the value stays unknown.
///
/// Where it looks, in every home: the well-known files (`~/.ssh`, `~/.gitconfig`,
/// `~/.git-credentials`, `~/.config/gh/hosts.yml`, `~/.config/glab-cli/config.yml`, `~/.npmrc`,
/// `~/.pypirc`, `~/.cargo/credentials(.toml)`, `~/.docker/config.json`, `~/.m2/settings.xml`,
/// `~/.gem/credentials`, `~/.nuget/NuGet/NuGet.Config`, `~/.aws/{credentials,config}`,
/// `~/.config/gcloud`, `~/.azure`, `~/.kube/config`, `~/.gnupg`, `~/.config/pkcs11/modules`)
/// and a walk of the whole home (depth 8, files up to 1 MiB, symlinks not followed; caches,
/// VCS object stores, package and toolchain stores skipped) for keys and signing material by
/// name (`*.pfx`, `*.p12`, `*.key`, `*.pem`, `*.asc`, `cosign.key`, `*.sec`), CI runner
/// registrations (`.runner`, `config.toml` of gitlab-runner, `buildkite-agent.cfg`, Jenkins
/// `secrets/master.key` and agent `secret-file`), git repositories' remotes and signing
/// scripts. Outside homes: /etc/gitlab-runner, /etc/buildkite-agent, /var/lib/jenkins,
/// /etc/pkcs11/modules.
///
/// What counts as build-critical comes from an inventory (catena.toml, see parse_inventory);
/// without one, signing material, CI runner registrations and publishing tokens do.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catena/access/discovery.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::access {

/// The build-critical part of the infrastructure, from `catena.toml`:
///
///   [build]
///   hosts = ["build*.corp.example", "git.corp.example"]    # SSH, git, cluster, runner hosts
///   registries = ["registry.npmjs.org", "upload.pypi.org"] # publishing
///   repositories = ["github.com/acme/*"]                   # source (host/path)
///   signing_identities = ["Acme Corp*"]                    # certificate subjects, key ids
///
/// Patterns are shell globs (fnmatch) matched case-insensitively against the host name (for a
/// URL, its host) or, for repositories, "host/path". Signing material and CI runner
/// registrations are build-critical whether or not they match: they are the build.
struct Inventory {
  std::vector<std::string> hosts;
  std::vector<std::string> registries;
  std::vector<std::string> repositories;
  std::vector<std::string> signing_identities;
  bool declared = false;  // false: the defaults apply
};

/// Parse error (with the line) for malformed TOML, unknown keys or wrong types.
[[nodiscard]] Result<Inventory> parse_inventory(std::string_view toml_text);

struct Options {
  std::vector<std::string> homes;
  /// Also look in the system places of CI agents (/etc/gitlab-runner, ...).
  bool system_places = true;
  /// The HMAC key for secret fingerprints (kept outside the store; see docs/access.md).
  std::string key;
  unsigned max_depth = 8;
  uint64_t max_file_bytes = 1 << 20;
  /// Test hook: called with a path after it was looked at and before it is opened, so a test
  /// can swap it for a symlink there. Unset in normal use.
  std::function<void(const std::string& path)> before_open;
};

struct Report {
  std::vector<Discovery> discoveries;  // classified, ordered by path
  /// Every ACCESS_* finding except ACCESS_SHARED_CREDENTIAL (which needs other hosts' records),
  /// ACCESS_LIMIT_REACHED included.
  std::vector<Finding> findings;
  std::vector<Finding> limits;  // ACCESS_LIMIT_REACHED, while the walk runs
  uint64_t files_examined = 0;
  uint64_t directories_walked = 0;
};

/// Walks the homes (and system places) and reports what grants access.
Report discover(const Options& options, const Inventory& inventory);

/// What one file holds, judged by its path and content alone (owner and mode left empty).
/// Used by discover, by tests and by the fuzzer.
std::vector<Discovery> examine(std::string_view path,
                               std::string_view content,
                               std::string_view key);

/// Marks each discovery build-critical or not.
void classify(std::vector<Discovery>& discoveries, const Inventory& inventory);

/// The ACCESS_* findings of classified discoveries (all but the shared-credential one, which
/// needs the store).
std::vector<Finding> access_findings(const std::vector<Discovery>& discoveries);

/// True when some discovery is build-critical: the host holds build access.
bool holds_build_access(const std::vector<Discovery>& discoveries);

/// ACCESS_SHARED_CREDENTIAL: each secret of `discoveries` whose fingerprint is also recorded
/// on other hosts (`other_hosts`: fingerprint -> host names, as the store's
/// credential_hosts() gives them, one query for the whole scan).
std::vector<Finding> shared_credential_findings(
    const std::vector<Discovery>& discoveries,
    const std::map<std::string, std::vector<std::string>>& other_hosts);

/// A token's fingerprint: "hmac-sha256:" + hex of HMAC-SHA256(key, secret).
std::string secret_fingerprint(std::string_view key, std::string_view secret);

}  // namespace catena::access
