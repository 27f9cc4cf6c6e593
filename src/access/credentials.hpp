#pragma once
// Readers of credential and configuration files. Each returns the discoveries of one file's
// content (path, owner and mode are filled in by the caller); a file that cannot be parsed
// gives one "unparsed" discovery with the reason. Every secret value goes through Secrets.
#include <string>
#include <string_view>
#include <vector>

#include "catena/access/access.hpp"
#include "secrets.hpp"

namespace catena::access {

/// A discovery of `kind` in `category` reaching `target`, holding no secret yet.
Discovery make(std::string kind, std::string category, std::string target);

std::vector<Discovery> read_ssh_config(std::string_view text);
std::vector<Discovery> read_known_hosts(std::string_view text);
std::vector<Discovery> read_git_credentials(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_git_config(std::string_view text, Secrets& secrets, bool repository);
std::vector<Discovery> read_gh_hosts(std::string_view text,
                                     Secrets& secrets,
                                     std::string_view kind,
                                     bool glab);
std::vector<Discovery> read_npmrc(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_pypirc(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_cargo_credentials(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_docker_config(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_maven_settings(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_gem_credentials(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_nuget_config(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_aws(std::string_view text, Secrets& secrets, bool config);
std::vector<Discovery> read_gcloud_json(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_gcloud_configuration(std::string_view text);
std::vector<Discovery> read_azure(std::string_view name, std::string_view text, Secrets& secrets);
std::vector<Discovery> read_kubeconfig(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_github_runner(std::string_view text);
/// A runner's `.credentials`: the OAuth client id it registered with (not a secret; the key
/// is in `.credentials_rsaparams`).
std::vector<Discovery> read_github_runner_credentials(std::string_view text);
std::vector<Discovery> read_gitlab_runner(std::string_view text, Secrets& secrets);
std::vector<Discovery> read_buildkite(std::string_view text, Secrets& secrets);
/// A file whose whole content is a secret (a runner's key, Jenkins' master.key).
std::vector<Discovery> read_secret_file(std::string_view kind,
                                        std::string_view category,
                                        std::string_view target,
                                        std::string_view text,
                                        Secrets& secrets);
std::vector<Discovery> read_pkcs11_module(std::string_view text);
/// A script that runs a code-signing tool; a literal password on its command line is a secret.
std::vector<Discovery> read_signing_script(std::string_view text, Secrets& secrets);

// Readers in tokens.cpp.
std::vector<Discovery> read_hub_config(std::string_view text, Secrets& secrets);
/// Yarn Berry's .yarnrc.yml: npmAuthToken/npmAuthIdent at the top, per registry and per scope.
std::vector<Discovery> read_yarnrc(std::string_view text, Secrets& secrets);
/// pip.conf: index-url and extra-index-url with credentials in them.
std::vector<Discovery> read_pip_conf(std::string_view text, Secrets& secrets);
/// gradle.properties: signing.password and every property naming a password, token or secret.
std::vector<Discovery> read_gradle_properties(std::string_view text, Secrets& secrets);
/// .netrc: `machine HOST login USER password SECRET`, tokens across lines, macdef bodies skipped.
std::vector<Discovery> read_netrc(std::string_view text, Secrets& secrets);
/// Terraform's credentials.tfrc.json: a token per host.
std::vector<Discovery> read_terraform_credentials(std::string_view text, Secrets& secrets);
/// Jenkins credentials.xml: each credential's id, user and its encrypted secret.
std::vector<Discovery> read_jenkins_credentials(std::string_view text, Secrets& secrets);
/// Android/Gradle keystore.properties: the keystore and key passwords in clear text.
std::vector<Discovery> read_keystore_properties(std::string_view text, Secrets& secrets);

}  // namespace catena::access
