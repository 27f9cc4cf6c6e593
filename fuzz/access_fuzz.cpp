// Credential and key files as build-access discovery reads them: the first byte picks the file
// name (and so the reader), the rest is the content.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../src/access/flatten.hpp"
#include "../src/access/secrets.hpp"
#include "catena/access/access.hpp"

namespace {

constexpr const char* kPaths[] = {
    "/h/.ssh/config",
    "/h/.ssh/known_hosts",
    "/h/.ssh/id_ed25519",
    "/h/.gitconfig",
    "/h/p/.git/config",
    "/h/.git-credentials",
    "/h/.config/gh/hosts.yml",
    "/h/.config/glab-cli/config.yml",
    "/h/.npmrc",
    "/h/.pypirc",
    "/h/.cargo/credentials.toml",
    "/h/.docker/config.json",
    "/h/.m2/settings.xml",
    "/h/.gem/credentials",
    "/h/.nuget/NuGet/NuGet.Config",
    "/h/.aws/credentials",
    "/h/.aws/config",
    "/h/.config/gcloud/application_default_credentials.json",
    "/h/.config/gcloud/configurations/config_default",
    "/h/.azure/msal_token_cache.json",
    "/h/.kube/config",
    "/h/r/.runner",
    "/h/.gitlab-runner/config.toml",
    "/h/b/buildkite-agent.cfg",
    "/h/.gnupg/private-keys-v1.d/AB.key",
    "/h/.gnupg/secring.gpg",
    "/h/k/release.pfx",
    "/h/k/release.key",
    "/h/k/release.pem",
    "/h/k/key.asc",
    "/h/k/minisign.sec",
    "/h/k/cosign.key",
    "/h/.config/pkcs11/modules/x.module",
    "/h/sign.sh",
    "/h/.netrc",
    "/h/.config/hub",
    "/h/.yarnrc.yml",
    "/h/.config/pip/pip.conf",
    "/h/.gradle/gradle.properties",
    "/h/.terraform.d/credentials.tfrc.json",
    "/var/lib/jenkins/credentials.xml",
    "/h/app/keystore.properties",
    "/h/k/key.ppk",
    "/h/k/upload.jks",
    "/h/k/release.gpg",
    "/h/notes/no-extension",
    "/h/keys/sa.json",
    "/h/.m2/settings-security.xml",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view path = kPaths[data[0] % (sizeof kPaths / sizeof kPaths[0])];
  const std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<catena::access::Discovery> found = catena::access::examine(path, content, "salt");
  catena::access::classify(found, {});
  (void)catena::access::access_findings(found);
  // Each reader on its own, whatever the name says.
  (void)catena::access::strip_url_credentials(content);
  (void)catena::access::parse_url(content);
  switch (data[0] % 6) {
    case 0:
      (void)catena::access::flatten_json(content);
      break;
    case 1:
      (void)catena::access::flatten_yaml(content);
      break;
    case 2:
      (void)catena::access::flatten_toml(content);
      break;
    case 3:
      (void)catena::access::flatten_ini(content);
      break;
    case 4:
      (void)catena::access::flatten_git_config(content);
      break;
    default:
      (void)catena::access::flatten_xml(content);
      break;
  }
  return 0;
}
