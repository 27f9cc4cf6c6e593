#pragma once
// Readers of credential and configuration files. Each returns the discoveries of one file's
// content (path, owner and mode are filled in by the caller); a file that cannot be parsed
// gives one "unparsed" discovery with the reason. Secret values leave only as fingerprints.
#include <string>
#include <string_view>
#include <vector>

#include "catena/access/access.hpp"

namespace catena::access {

struct UrlParts {
  std::string scheme, user, password, host, path;
  std::string redacted;  // the URL without its password
};
/// Splits a URL or scp-like git address ("git@host:path"); a long bare user name in an
/// http(s) URL is taken as a token.
UrlParts parse_url(std::string_view url);

std::vector<Discovery> read_ssh_config(std::string_view text);
std::vector<Discovery> read_known_hosts(std::string_view text);
std::vector<Discovery> read_git_credentials(std::string_view text, std::string_view salt);
std::vector<Discovery> read_git_config(std::string_view text,
                                       std::string_view salt,
                                       bool repository);
std::vector<Discovery> read_gh_hosts(std::string_view text,
                                     std::string_view salt,
                                     std::string_view kind,
                                     bool glab);
std::vector<Discovery> read_npmrc(std::string_view text, std::string_view salt);
std::vector<Discovery> read_pypirc(std::string_view text, std::string_view salt);
std::vector<Discovery> read_cargo_credentials(std::string_view text, std::string_view salt);
std::vector<Discovery> read_docker_config(std::string_view text, std::string_view salt);
std::vector<Discovery> read_maven_settings(std::string_view text, std::string_view salt);
std::vector<Discovery> read_gem_credentials(std::string_view text, std::string_view salt);
std::vector<Discovery> read_nuget_config(std::string_view text, std::string_view salt);
std::vector<Discovery> read_aws(std::string_view text, std::string_view salt, bool config);
std::vector<Discovery> read_gcloud_json(std::string_view text, std::string_view salt);
std::vector<Discovery> read_gcloud_configuration(std::string_view text);
std::vector<Discovery> read_azure(std::string_view name,
                                  std::string_view text,
                                  std::string_view salt);
std::vector<Discovery> read_kubeconfig(std::string_view text, std::string_view salt);
std::vector<Discovery> read_github_runner(std::string_view text);
/// A runner's `.credentials`: the OAuth client id it registered with (not a secret; the key
/// is in `.credentials_rsaparams`).
std::vector<Discovery> read_github_runner_credentials(std::string_view text);
std::vector<Discovery> read_gitlab_runner(std::string_view text, std::string_view salt);
std::vector<Discovery> read_buildkite(std::string_view text, std::string_view salt);
/// A file whose whole content is a secret (a runner's key, Jenkins' master.key).
std::vector<Discovery> read_secret_file(std::string_view kind,
                                        std::string_view category,
                                        std::string_view target,
                                        std::string_view text,
                                        std::string_view salt);
std::vector<Discovery> read_pkcs11_module(std::string_view text);
/// A script that runs a code-signing tool; a literal password on its command line is a secret.
std::vector<Discovery> read_signing_script(std::string_view text, std::string_view salt);

}  // namespace catena::access
