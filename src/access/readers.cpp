#include "readers.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"
#include "credentials.hpp"
#include "keys.hpp"
#include "secrets.hpp"

namespace catena::access {
namespace {

std::string_view first_line_of(std::string_view text) { return text.substr(0, text.find('\n')); }

std::string_view extension(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot);
}

bool has(std::string_view path, std::string_view part) {
  return path.find(part) != std::string_view::npos;
}

bool named_for_signing(std::string_view path) {
  const std::string lower = ascii_lower(path);
  return has(lower, "sign") || has(lower, "release") || has(lower, "codesign") ||
         has(lower, "upload");
}

// The first bytes of an OpenPGP secret-key packet (tag 5), old or new format.
bool openpgp_secret_packet(std::string_view content) {
  if (content.empty()) return false;
  const auto tag = static_cast<unsigned char>(content.front());
  if ((tag & 0x80) == 0) return false;
  return (tag & 0x40) != 0 ? (tag & 0x3f) == 5 : ((tag >> 2) & 0x0f) == 5;
}

bool java_keystore_magic(std::string_view content) {
  return content.starts_with("\xfe\xed\xfe\xed") || content.starts_with("\xce\xce\xce\xce");
}

Discovery gcloud_store() {
  Discovery d;
  d.kind = "gcloud-credential-store";
  d.category = "cloud";
  d.target = "google cloud";
  d.holds_secret = true;
  d.protection = "none";
  d.detail = "SQLite store of gcloud credentials (contents not read)";
  return d;
}

std::vector<Discovery> key_file(std::string_view path,
                                std::string_view content,
                                Secrets& secrets,
                                const Siblings& siblings) {
  if (content.find("PGP PRIVATE KEY BLOCK") != std::string_view::npos ||
      openpgp_secret_packet(content)) {
    return examine_openpgp(content);
  }
  if (content.find("ENCRYPTED COSIGN PRIVATE KEY") != std::string_view::npos ||
      content.find("ENCRYPTED SIGSTORE PRIVATE KEY") != std::string_view::npos) {
    return examine_cosign(content, secrets);
  }
  if (content.starts_with("untrusted comment:")) {
    if (has(first_line_of(content), "minisign")) return examine_minisign(content, secrets);
    if (has(first_line_of(content), "signify")) return examine_signify(content);
    return {};
  }
  if (content.starts_with("PuTTY-User-Key-File-")) return examine_putty(content);
  if (java_keystore_magic(content)) return examine_java_keystore(path, content);
  if (content.find("-----BEGIN OPENSSH PRIVATE KEY-----") != std::string_view::npos) {
    return examine_ssh_key(content, siblings.ssh_comment);
  }
  if (looks_like_pem_private_key(content)) {
    return examine_pem(content, siblings.certificates, named_for_signing(path));
  }
  return {};
}

std::vector<Discovery> dispatch(Reader reader,
                                std::string_view path,
                                std::string_view content,
                                Secrets& secrets,
                                const Siblings& siblings) {
  const std::string_view name = base_name(path);
  switch (reader) {
    case Reader::None:
      return {};
    case Reader::Sniff:
      return dispatch(sniff(path, content), path, content, secrets, siblings);
    case Reader::SshConfig:
      return read_ssh_config(content);
    case Reader::KnownHosts:
      return read_known_hosts(content);
    case Reader::SshKey:
      if (content.starts_with("PuTTY-User-Key-File-")) return examine_putty(content);
      if (!looks_like_pem_private_key(content)) return {};
      return examine_ssh_key(content, siblings.ssh_comment);
    case Reader::GitConfig:
      return read_git_config(content, secrets, false);
    case Reader::GitRepoConfig:
      return read_git_config(content, secrets, true);
    case Reader::GitCredentials:
      return read_git_credentials(content, secrets);
    case Reader::GhHosts:
      return read_gh_hosts(content, secrets, "gh-token", false);
    case Reader::GlabConfig:
      return read_gh_hosts(content, secrets, "glab-token", true);
    case Reader::HubConfig:
      return read_hub_config(content, secrets);
    case Reader::Npmrc:
      return read_npmrc(content, secrets);
    case Reader::YarnRc:
      return read_yarnrc(content, secrets);
    case Reader::Pypirc:
      return read_pypirc(content, secrets);
    case Reader::PipConf:
      return read_pip_conf(content, secrets);
    case Reader::Cargo:
      return read_cargo_credentials(content, secrets);
    case Reader::Docker:
      return read_docker_config(content, secrets);
    case Reader::Maven:
      return read_maven_settings(content, secrets);
    case Reader::Gradle:
      return read_gradle_properties(content, secrets);
    case Reader::Gem:
      return read_gem_credentials(content, secrets);
    case Reader::Nuget:
      return read_nuget_config(content, secrets);
    case Reader::Netrc:
      return read_netrc(content, secrets);
    case Reader::Terraform:
      return read_terraform_credentials(content, secrets);
    case Reader::VaultToken:
      return read_secret_file("vault-token", "cloud", "HashiCorp Vault", content, secrets);
    case Reader::AwsCredentials:
      return read_aws(content, secrets, false);
    case Reader::AwsConfig:
      return read_aws(content, secrets, true);
    case Reader::GcloudJson:
      return read_gcloud_json(content, secrets);
    case Reader::GcloudStore:
      return {gcloud_store()};
    case Reader::GcloudConfig:
      return read_gcloud_configuration(content);
    case Reader::Azure:
      return read_azure(name, content, secrets);
    case Reader::Kube:
      return read_kubeconfig(content, secrets);
    case Reader::GithubRunner:
      return read_github_runner(content);
    case Reader::GithubRunnerKey:
      return read_secret_file("github-runner-key", "ci", "GitHub Actions runner", content, secrets);
    case Reader::GithubRunnerCredentials:
      return read_github_runner_credentials(content);
    case Reader::GitlabRunner:
      return read_gitlab_runner(content, secrets);
    case Reader::Buildkite:
      return read_buildkite(content, secrets);
    case Reader::JenkinsKey:
      return read_secret_file("jenkins-master-key", "ci", "Jenkins controller", content, secrets);
    case Reader::JenkinsAgentSecret:
      return read_secret_file("jenkins-agent-secret", "ci", "Jenkins agent", content, secrets);
    case Reader::JenkinsCredentials:
      return read_jenkins_credentials(content, secrets);
    case Reader::JenkinsAdminPassword:
      return read_secret_file("jenkins-admin-password", "ci", "Jenkins controller", content,
                              secrets);
    case Reader::JenkinsSecret: {
      auto out =
          read_secret_file("jenkins-secret-key", "ci", "Jenkins controller", content, secrets);
      for (Discovery& d : out) {
        if (!d.holds_secret) continue;
        d.protection = "local-key";
        d.detail = "encrypted with secrets/master.key beside it: only as safe as that file";
      }
      return out;
    }
    case Reader::GpgKeyfile:
      return examine_gpg_keyfile(name, content);
    case Reader::OpenPgp:
      return examine_openpgp(content);
    case Reader::Pkcs12:
      return examine_pkcs12(content, named_for_signing(path));
    case Reader::JavaKeystore:
      return examine_java_keystore(path, content);
    case Reader::KeystoreProperties:
      return read_keystore_properties(content, secrets);
    case Reader::PuttyKey:
      return examine_putty(content);
    case Reader::Pkcs11Module:
      return read_pkcs11_module(content);
    case Reader::Script:
      return read_signing_script(content, secrets);
    case Reader::KeyFile:
      return key_file(path, content, secrets, siblings);
  }
  return {};
}

}  // namespace

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

Reader reader_for(std::string_view path) {
  const std::string_view name = base_name(path);
  const std::string lower_name = ascii_lower(name);
  const std::string_view ext = extension(lower_name);
  if (has(path, "/.ssh/")) {
    if (name == "config") return Reader::SshConfig;
    if (name.starts_with("known_hosts")) return Reader::KnownHosts;
    if (ext == ".pub" || name.starts_with("authorized_keys") || name == "environment" ||
        name == "rc" || ext == ".old") {
      return Reader::None;
    }
    return Reader::SshKey;
  }
  if (path.ends_with("/.git/config")) return Reader::GitRepoConfig;
  if (name == ".gitconfig" || path.ends_with("/.config/git/config")) return Reader::GitConfig;
  if (name == ".git-credentials" || path.ends_with("/.config/git/credentials")) {
    return Reader::GitCredentials;
  }
  if (path.ends_with("/gh/hosts.yml")) return Reader::GhHosts;
  if (path.ends_with("/glab-cli/config.yml")) return Reader::GlabConfig;
  if (path.ends_with("/.config/hub")) return Reader::HubConfig;
  if (name == ".npmrc") return Reader::Npmrc;
  if (name == ".yarnrc.yml") return Reader::YarnRc;
  if (name == ".pypirc") return Reader::Pypirc;
  if (name == "pip.conf" || name == "pip.ini") return Reader::PipConf;
  if (path.ends_with("/.cargo/credentials") || path.ends_with("/.cargo/credentials.toml")) {
    return Reader::Cargo;
  }
  if (path.ends_with("/.docker/config.json")) return Reader::Docker;
  if (path.ends_with("/.m2/settings.xml") || path.ends_with("/.m2/settings-security.xml")) {
    return Reader::Maven;
  }
  if (name == "gradle.properties") return Reader::Gradle;
  if (path.ends_with("/.gem/credentials") || path.ends_with("/.local/share/gem/credentials")) {
    return Reader::Gem;
  }
  if (lower_name == "nuget.config") return Reader::Nuget;
  if (name == ".netrc" || name == "_netrc") return Reader::Netrc;
  if (name == "credentials.tfrc.json") return Reader::Terraform;
  if (name == ".vault-token") return Reader::VaultToken;
  if (path.ends_with("/.aws/credentials")) return Reader::AwsCredentials;
  if (path.ends_with("/.aws/config")) return Reader::AwsConfig;
  // gcloud's own configuration directory; a project merely named gcloud is read as any other.
  if (has(path, "/.config/gcloud/")) {
    if (name == "application_default_credentials.json" || name == "adc.json" ||
        (has(path, "/legacy_credentials/") && ext == ".json")) {
      return Reader::GcloudJson;
    }
    if (name == "credentials.db" || name == "access_tokens.db") return Reader::GcloudStore;
    if (has(path, "/configurations/config_")) return Reader::GcloudConfig;
  }
  if (has(path, "/.azure/") &&
      (name == "msal_token_cache.json" || name == "accessTokens.json" ||
       name == "azureProfile.json" || name == "service_principal_entries.json")) {
    return Reader::Azure;
  }
  if (path.ends_with("/.kube/config") || lower_name == "kubeconfig" ||
      (has(path, "/.kube/") && (ext == ".yaml" || ext == ".yml" || ext == ".conf"))) {
    return Reader::Kube;
  }
  if (name == ".runner") return Reader::GithubRunner;
  if (name == ".credentials_rsaparams") return Reader::GithubRunnerKey;
  if (name == ".credentials" && has(path, "runner")) return Reader::GithubRunnerCredentials;
  if ((has(path, "gitlab-runner/") && name == "config.toml")) return Reader::GitlabRunner;
  if (name == "buildkite-agent.cfg") return Reader::Buildkite;
  if (path.ends_with("/secrets/master.key")) return Reader::JenkinsKey;
  if (path.ends_with("/secrets/initialAdminPassword")) return Reader::JenkinsAdminPassword;
  if (path.ends_with("/secrets/hudson.util.Secret")) return Reader::JenkinsSecret;
  if (name == "credentials.xml" && has(ascii_lower(path), "jenkins")) {
    return Reader::JenkinsCredentials;
  }
  if (name == "secret-file" || name == "jenkins-agent-secret") return Reader::JenkinsAgentSecret;
  if (has(path, "/private-keys-v1.d/") && ext == ".key") return Reader::GpgKeyfile;
  if (name == "secring.gpg") return Reader::OpenPgp;
  if (has(path, "/pkcs11/modules/") && ext == ".module") return Reader::Pkcs11Module;
  if (ext == ".pfx" || ext == ".p12") return Reader::Pkcs12;
  if (ext == ".jks" || ext == ".keystore" || ext == ".ks" || ext == ".jceks" || ext == ".bks" ||
      lower_name == "keystore") {
    return Reader::JavaKeystore;
  }
  if (name == "keystore.properties" || name == "key.properties" || name == "signing.properties") {
    return Reader::KeystoreProperties;
  }
  if (ext == ".ppk") return Reader::PuttyKey;
  if (ext == ".pem" || ext == ".key" || ext == ".asc" || ext == ".sec" || ext == ".gpg" ||
      ext == ".pgp" || name.starts_with("id_rsa") || name.starts_with("id_ed25519") ||
      name.starts_with("id_ecdsa") || name.starts_with("id_dsa")) {
    return Reader::KeyFile;
  }
  if (ext == ".sh" || ext == ".bash" || ext == ".ps1" || ext == ".bat" || ext == ".cmd" ||
      ext == ".mk" || name == "Makefile" || name == "makefile" || name == "justfile") {
    return Reader::Script;
  }
  // A key may be saved under any name: files without a telling extension are sniffed.
  if (ext.empty() || ext == ".txt" || ext == ".priv" || ext == ".private" || ext == ".json" ||
      ext == ".bak" || ext == ".backup") {
    return Reader::Sniff;
  }
  return Reader::None;
}

Reader sniff(std::string_view path, std::string_view head) {
  if (head.find("-----BEGIN OPENSSH PRIVATE KEY-----") != std::string_view::npos ||
      looks_like_pem_private_key(head) || head.starts_with("PuTTY-User-Key-File-") ||
      head.find("-----BEGIN PGP PRIVATE KEY BLOCK-----") != std::string_view::npos ||
      head.find("ENCRYPTED SIGSTORE PRIVATE KEY") != std::string_view::npos ||
      head.find("ENCRYPTED COSIGN PRIVATE KEY") != std::string_view::npos ||
      (head.starts_with("untrusted comment:") && has(first_line_of(head), "secret key"))) {
    return Reader::KeyFile;
  }
  if (java_keystore_magic(head)) return Reader::JavaKeystore;
  if (extension(ascii_lower(base_name(path))) == ".json" &&
      head.find("\"private_key\"") != std::string_view::npos &&
      head.find("service_account") != std::string_view::npos) {
    return Reader::GcloudJson;
  }
  return Reader::None;
}

uint64_t size_limit(Reader reader, uint64_t configured) {
  switch (reader) {
    case Reader::Script:
      return 256 * 1024;  // scripts are many and rarely signing scripts
    case Reader::Sniff:
      return 64 * 1024;
    default:
      return configured;
  }
}

bool quietly_skipped_when_large(Reader reader) {
  return reader == Reader::Script || reader == Reader::KeyFile || reader == Reader::Sniff;
}

bool wants_public_key(Reader reader) {
  return reader == Reader::SshKey || reader == Reader::KeyFile || reader == Reader::Sniff;
}

bool wants_certificates(Reader reader) {
  return reader == Reader::KeyFile || reader == Reader::Sniff;
}

std::string secret_fingerprint(std::string_view key, std::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac, &length);
  return "hmac-sha256:" + to_hex(std::span<const uint8_t>(mac, length));
}

std::vector<Discovery> run_reader(Reader reader,
                                  std::string_view path,
                                  std::string_view content,
                                  std::string_view key,
                                  const Siblings& siblings) {
  Secrets secrets(key);
  std::vector<Discovery> out = dispatch(reader, path, content, secrets, siblings);
  secrets.scrub(out);
  return out;
}

std::vector<Discovery> examine(std::string_view path,
                               std::string_view content,
                               std::string_view key) {
  std::vector<Discovery> out = run_reader(reader_for(path), path, content, key, {});
  for (Discovery& d : out) d.path = std::string(path);
  return out;
}

}  // namespace catena::access
