#pragma once
// The reader table: which reader a file gets, from its path (and for files of no telling name,
// from its first bytes), and the one place every reader's discoveries leave through, scrubbed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catena/access/access.hpp"

namespace catena::access {

enum class Reader {
  None,
  Sniff,  // no telling name: the first bytes decide (a key, a service-account JSON)
  SshConfig,
  KnownHosts,
  SshKey,
  GitConfig,
  GitRepoConfig,
  GitCredentials,
  GhHosts,
  GlabConfig,
  HubConfig,
  Npmrc,
  YarnRc,
  Pypirc,
  PipConf,
  Cargo,
  Docker,
  Maven,
  Gradle,
  Gem,
  Nuget,
  Netrc,
  Terraform,
  VaultToken,
  AwsCredentials,
  AwsConfig,
  GcloudJson,
  GcloudStore,
  GcloudConfig,
  Azure,
  Kube,
  GithubRunner,
  GithubRunnerKey,
  GithubRunnerCredentials,
  GitlabRunner,
  Buildkite,
  JenkinsKey,
  JenkinsAgentSecret,
  JenkinsCredentials,
  JenkinsAdminPassword,
  JenkinsSecret,
  GpgKeyfile,
  OpenPgp,
  Pkcs12,
  JavaKeystore,
  KeystoreProperties,
  PuttyKey,
  KeyFile,
  Pkcs11Module,
  Script,
};

/// The reader for a file, from its path alone.
Reader reader_for(std::string_view path);

/// For a file that reader_for() gave Reader::Sniff: the reader its first bytes call for, or
/// Reader::None.
Reader sniff(std::string_view path, std::string_view head);

/// How many bytes a reader reads at most (a larger file is recorded unparsed, or for scripts,
/// keys and sniffed files of no telling name, passed over).
uint64_t size_limit(Reader reader, uint64_t configured);
/// Whether a file too large for its reader is passed over rather than recorded unparsed.
bool quietly_skipped_when_large(Reader reader);

/// Files beside the one examined: a key's .pub comment, certificates beside a key.
struct Siblings {
  std::string ssh_comment;
  std::string certificates;
};
/// Which siblings a reader wants.
bool wants_public_key(Reader reader);
bool wants_certificates(Reader reader);

/// Runs the reader over one file's content. Every discovery it returns has been scrubbed of
/// the secrets the reader met and of URL credentials; `key` is the HMAC key for fingerprints.
std::vector<Discovery> run_reader(Reader reader,
                                  std::string_view path,
                                  std::string_view content,
                                  std::string_view key,
                                  const Siblings& siblings);

std::string_view base_name(std::string_view path);

}  // namespace catena::access
