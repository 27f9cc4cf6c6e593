#pragma once
/// What the credentials found in a host's homes reach, as the supply-chain graph records it:
/// an account (the home's owner) holds a credential (its fingerprint, never its secret), and
/// the credential reaches a target (a host, registry, repository or signing identity).
///
///   for (const access::Reach& r : access::reach_of(discoveries)) ...
///
/// - a secret with a fingerprint reaches the target it names (a token its registry, a runner
///   its server); one that names none (a key with no config naming it) is still held;
/// - an SSH key reaches each host an ssh config entry names with it as IdentityFile (`~/`
///   resolved against the config's home), and, for an entry with no IdentityFile, each host
///   through the default key names (id_rsa, id_ecdsa, id_ed25519, id_dsa, and their -sk forms)
///   in that .ssh directory, as ssh tries them;
/// - a known_hosts entry says the account reached a host before: an account-to-target reach
///   with no credential ("(hashed)" entries name no host and are left out);
/// - signing material with no target reaches the signing identity its detail names.
#include <string>
#include <vector>

#include "catena/access/discovery.hpp"

namespace catena::access {

struct Reach {
  std::string account;     // the owner of the home the discovery lies in
  std::string credential;  // a fingerprint; empty for a reach through no credential
  std::string target;      // empty: held, reaching nothing known
  std::string kind;        // the discovery kind that gave it: "ssh-host", "npm-token", ...
  std::string path;        // the file that says so
  bool operator==(const Reach&) const = default;
  auto operator<=>(const Reach&) const = default;
};

/// Sorted and without duplicates.
std::vector<Reach> reach_of(const std::vector<Discovery>& discoveries);

}  // namespace catena::access
