#include "catena/access/reach.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace catena::access {
namespace {

constexpr std::array<std::string_view, 6> kDefaultKeys = {
    "id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_dsa"};

// The directory part of a path, with its final slash ("" for a bare name).
std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// The value after "identity " in an ssh-host discovery's detail ("alias a; identity ~/k").
std::string identity_of(const std::string& detail) {
  size_t at = 0;
  while (at < detail.size()) {
    size_t end = detail.find("; ", at);
    if (end == std::string::npos) end = detail.size();
    const std::string_view part = std::string_view(detail).substr(at, end - at);
    if (part.starts_with("identity ")) return std::string(part.substr(9));
    at = end + 2;
  }
  return "";
}

// An IdentityFile as the config's owner means it: "~/" is the home above the .ssh directory
// the config lies in; a relative name is relative to that home, as ssh takes it.
std::string resolve_identity(const std::string& identity, const std::string& config_path) {
  const std::string ssh_dir = directory_of(config_path);  // ".../.ssh/"
  std::string home = ssh_dir;
  if (home.ends_with(".ssh/")) home.erase(home.size() - 5);
  if (identity.starts_with("~/")) return home + identity.substr(2);
  if (identity.starts_with("/")) return identity;
  return home + identity;
}

}  // namespace

std::vector<Reach> reach_of(const std::vector<Discovery>& discoveries) {
  std::vector<Reach> out;
  std::vector<const Discovery*> keys;
  for (const Discovery& d : discoveries) {
    if (d.kind == "ssh-private-key" && !d.fingerprint.empty()) keys.push_back(&d);
    if (d.holds_secret && !d.fingerprint.empty()) {
      std::string target = d.target;
      if (target.empty() && d.signing && !d.detail.empty()) target = "signing: " + d.detail;
      out.push_back({d.owner, d.fingerprint, target, d.kind, d.path});
    }
    if (d.kind == "ssh-known-host" && !d.target.empty() && d.target != "(hashed)") {
      out.push_back({d.owner, "", d.target, d.kind, d.path});
    }
  }
  for (const Discovery& d : discoveries) {
    if (d.kind != "ssh-host" || d.target.empty()) continue;
    const std::string identity = identity_of(d.detail);
    const std::string ssh_dir = directory_of(d.path);
    for (const Discovery* key : keys) {
      bool used = false;
      if (!identity.empty()) {
        used = key->path == resolve_identity(identity, d.path);
      } else if (directory_of(key->path) == ssh_dir) {
        const std::string name = key->path.substr(ssh_dir.size());
        used = std::find(kDefaultKeys.begin(), kDefaultKeys.end(), name) != kDefaultKeys.end();
      }
      if (used) out.push_back({key->owner, key->fingerprint, d.target, d.kind, d.path});
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace catena::access
