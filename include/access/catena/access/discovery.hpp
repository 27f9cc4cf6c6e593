#pragma once
// One discovery of build access: what `access::discover` finds and the store records.
#include <cstdint>
#include <string>

namespace catena::access {

/// Something on a host's disk that grants access to build, source, signing, publishing or cloud
/// infrastructure. Never the secret itself: a key's public fingerprint or a salted hash of a
/// token (`fingerprint`), so that one credential is recognised on several hosts.
struct Discovery {
  std::string kind;           // "ssh-private-key", "npm-token", "pkcs12", ..., "unparsed"
  std::string category;       // "ssh", "source", "ci", "publish", "cloud", "signing", "key"
  std::string target;         // what it gives access to: host, URL, registry, context (no secret)
  std::string account;        // a user name or key id that is not secret, or empty
  std::string path;           // exact bytes
  std::string owner;          // the file owner's name (or uid)
  uint32_t mode = 0;          // permission bits of the file
  std::string fingerprint;    // "SHA256:..." (key), "hmac-sha256:..." (token), or empty
  std::string protection;     // "passphrase", "none", "hardware", "not-applicable", "unknown"
  bool holds_secret = false;  // the file holds secret material (vs. configuration)
  bool signing = false;       // code-signing material
  bool build_critical = false;
  std::string detail;  // key type and bits, certificate subject, reason a file was unparsed
};

}  // namespace catena::access
