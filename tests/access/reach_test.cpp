// What credentials reach, from discoveries shaped as the readers make them (an ssh config's
// host entries, keys, known_hosts, tokens, signing material).
#include "catena/access/reach.hpp"

#include <gtest/gtest.h>

namespace catena::access {
namespace {

Discovery key(const std::string& path, const std::string& fingerprint) {
  return {.kind = "ssh-private-key",
          .category = "ssh",
          .target = "",
          .account = "",
          .path = path,
          .owner = "dev",
          .mode = 0600,
          .fingerprint = fingerprint,
          .protection = "none",
          .holds_secret = true,
          .signing = false,
          .build_critical = false,
          .detail = "ed25519"};
}

Discovery host_entry(const std::string& target, const std::string& detail) {
  return {.kind = "ssh-host",
          .category = "ssh",
          .target = target,
          .account = "",
          .path = "/home/dev/.ssh/config",
          .owner = "dev",
          .mode = 0644,
          .fingerprint = "",
          .protection = "not-applicable",
          .holds_secret = false,
          .signing = false,
          .build_critical = true,
          .detail = detail};
}

std::vector<std::string> targets_of(const std::vector<Reach>& reach,
                                    const std::string& credential) {
  std::vector<std::string> out;
  for (const Reach& r : reach) {
    if (r.credential == credential) out.push_back(r.target);
  }
  return out;
}

TEST(AccessReach, KeysReachTheHostsTheirConfigNamesThemFor) {
  const std::vector<Discovery> found = {
      key("/home/dev/.ssh/id_ed25519", "SHA256:default"),
      key("/home/dev/.ssh/deploy_key", "SHA256:deploy"),
      key("/home/dev/keys/other", "SHA256:other"),
      host_entry("build-01.corp.example", "alias build"),  // default keys
      host_entry("git.corp.example", "alias git; identity ~/.ssh/deploy_key"),
      host_entry("vault.corp.example", "alias v; identity keys/other; via jump"),
      host_entry("nowhere.example", "alias n; identity ~/.ssh/missing"),
  };
  const std::vector<Reach> reach = reach_of(found);
  EXPECT_EQ(targets_of(reach, "SHA256:default"),
            (std::vector<std::string>{"", "build-01.corp.example"}));
  EXPECT_EQ(targets_of(reach, "SHA256:deploy"), (std::vector<std::string>{"", "git.corp.example"}));
  EXPECT_EQ(targets_of(reach, "SHA256:other"),
            (std::vector<std::string>{"", "vault.corp.example"}));
  for (const Reach& r : reach) {
    EXPECT_NE(r.target, "nowhere.example");  // its key is not there
    EXPECT_EQ(r.account, "dev");
  }
}

TEST(AccessReach, TokensKnownHostsAndSigningMaterial) {
  Discovery token = key("/home/dev/.npmrc", "hmac-sha256:abc");
  token.kind = "npm-token";
  token.category = "publish";
  token.target = "registry.npmjs.org";
  Discovery known = host_entry("build-01", "");
  known.kind = "ssh-known-host";
  known.path = "/home/dev/.ssh/known_hosts";
  Discovery hashed = known;
  hashed.target = "(hashed)";
  Discovery signing = key("/home/dev/codesign.p12", "SHA256:signing");
  signing.kind = "pkcs12";
  signing.signing = true;
  signing.detail = "CN=Example Ltd";
  Discovery config_only = host_entry("", "alias x");
  config_only.kind = "git-remote";
  const std::vector<Reach> reach = reach_of({token, known, hashed, signing, config_only});
  ASSERT_EQ(reach.size(), 3u);
  EXPECT_EQ(reach[0], (Reach{"dev", "", "build-01", "ssh-known-host", known.path}));
  EXPECT_EQ(reach[1],
            (Reach{"dev", "SHA256:signing", "signing: CN=Example Ltd", "pkcs12", signing.path}));
  EXPECT_EQ(reach[2],
            (Reach{"dev", "hmac-sha256:abc", "registry.npmjs.org", "npm-token", token.path}));
  // Nothing twice.
  EXPECT_EQ(reach_of({token, token}).size(), 1u);
}

}  // namespace
}  // namespace catena::access
