#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pwd.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "catena/access/access.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "credentials.hpp"
#include "keys.hpp"

namespace catena::access {
namespace {

enum class Reader {
  None,
  SshConfig,
  KnownHosts,
  SshKey,
  GitConfig,
  GitRepoConfig,
  GitCredentials,
  GhHosts,
  GlabConfig,
  Npmrc,
  Pypirc,
  Cargo,
  Docker,
  Maven,
  Gem,
  Nuget,
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
  GpgKeyfile,
  OpenPgp,
  Pkcs12,
  KeyFile,
  Pkcs11Module,
  Script,
};

std::string_view first_line_of(std::string_view text) { return text.substr(0, text.find('\n')); }

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view extension(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot);
}

bool has(std::string_view path, std::string_view part) {
  return path.find(part) != std::string_view::npos;
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
  if (name == ".npmrc") return Reader::Npmrc;
  if (name == ".pypirc") return Reader::Pypirc;
  if (path.ends_with("/.cargo/credentials") || path.ends_with("/.cargo/credentials.toml")) {
    return Reader::Cargo;
  }
  if (path.ends_with("/.docker/config.json")) return Reader::Docker;
  if (path.ends_with("/.m2/settings.xml") || path.ends_with("/.m2/settings-security.xml")) {
    return Reader::Maven;
  }
  if (path.ends_with("/.gem/credentials") || path.ends_with("/.local/share/gem/credentials")) {
    return Reader::Gem;
  }
  if (lower_name == "nuget.config") return Reader::Nuget;
  if (path.ends_with("/.aws/credentials")) return Reader::AwsCredentials;
  if (path.ends_with("/.aws/config")) return Reader::AwsConfig;
  if (has(path, "/gcloud/")) {
    if (name == "application_default_credentials.json" || name == "adc.json" ||
        (has(path, "/legacy_credentials/") && ext == ".json")) {
      return Reader::GcloudJson;
    }
    if (name == "credentials.db" || name == "access_tokens.db") return Reader::GcloudStore;
    if (has(path, "/configurations/config_")) return Reader::GcloudConfig;
    return Reader::None;
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
  if (name == "secret-file" || name == "jenkins-agent-secret") return Reader::JenkinsAgentSecret;
  if (has(path, "/private-keys-v1.d/") && ext == ".key") return Reader::GpgKeyfile;
  if (name == "secring.gpg") return Reader::OpenPgp;
  if (has(path, "/pkcs11/modules/") && ext == ".module") return Reader::Pkcs11Module;
  if (ext == ".pfx" || ext == ".p12") return Reader::Pkcs12;
  if (ext == ".pem" || ext == ".key" || ext == ".asc" || ext == ".sec" || ext == ".gpg" ||
      ext == ".pgp" || name.starts_with("id_rsa") || name.starts_with("id_ed25519") ||
      name.starts_with("id_ecdsa") || name.starts_with("id_dsa")) {
    return Reader::KeyFile;
  }
  if (ext == ".sh" || ext == ".bash" || ext == ".ps1" || ext == ".bat" || ext == ".cmd" ||
      ext == ".mk" || name == "Makefile" || name == "makefile" || name == "justfile") {
    return Reader::Script;
  }
  return Reader::None;
}

// Extra files next to the one examined (a key's .pub, a key's certificate).
struct Siblings {
  std::string ssh_comment;
  std::string certificates;
};

bool named_for_signing(std::string_view path) {
  const std::string lower = ascii_lower(path);
  return has(lower, "sign") || has(lower, "release") || has(lower, "codesign");
}

std::vector<Discovery> run_reader(Reader reader,
                                  std::string_view path,
                                  std::string_view content,
                                  std::string_view salt,
                                  const Siblings& siblings) {
  const std::string_view name = base_name(path);
  switch (reader) {
    case Reader::None:
      return {};
    case Reader::SshConfig:
      return read_ssh_config(content);
    case Reader::KnownHosts:
      return read_known_hosts(content);
    case Reader::SshKey:
      if (!looks_like_pem_private_key(content)) return {};
      return examine_ssh_key(content, siblings.ssh_comment);
    case Reader::GitConfig:
      return read_git_config(content, salt, false);
    case Reader::GitRepoConfig:
      return read_git_config(content, salt, true);
    case Reader::GitCredentials:
      return read_git_credentials(content, salt);
    case Reader::GhHosts:
      return read_gh_hosts(content, salt, "gh-token", false);
    case Reader::GlabConfig:
      return read_gh_hosts(content, salt, "glab-token", true);
    case Reader::Npmrc:
      return read_npmrc(content, salt);
    case Reader::Pypirc:
      return read_pypirc(content, salt);
    case Reader::Cargo:
      return read_cargo_credentials(content, salt);
    case Reader::Docker:
      return read_docker_config(content, salt);
    case Reader::Maven:
      return read_maven_settings(content, salt);
    case Reader::Gem:
      return read_gem_credentials(content, salt);
    case Reader::Nuget:
      return read_nuget_config(content, salt);
    case Reader::AwsCredentials:
      return read_aws(content, salt, false);
    case Reader::AwsConfig:
      return read_aws(content, salt, true);
    case Reader::GcloudJson:
      return read_gcloud_json(content, salt);
    case Reader::GcloudStore: {
      Discovery d;
      d.kind = "gcloud-credential-store";
      d.category = "cloud";
      d.target = "google cloud";
      d.holds_secret = true;
      d.protection = "none";
      d.detail = "SQLite store of gcloud credentials (contents not read)";
      return {d};
    }
    case Reader::GcloudConfig:
      return read_gcloud_configuration(content);
    case Reader::Azure:
      return read_azure(name, content, salt);
    case Reader::Kube:
      return read_kubeconfig(content, salt);
    case Reader::GithubRunner:
      return read_github_runner(content);
    case Reader::GithubRunnerKey:
      return read_secret_file("github-runner-key", "ci", "GitHub Actions runner", content, salt);
    case Reader::GithubRunnerCredentials:
      return read_github_runner_credentials(content);
    case Reader::GitlabRunner:
      return read_gitlab_runner(content, salt);
    case Reader::Buildkite:
      return read_buildkite(content, salt);
    case Reader::JenkinsKey:
      return read_secret_file("jenkins-master-key", "ci", "Jenkins controller", content, salt);
    case Reader::JenkinsAgentSecret:
      return read_secret_file("jenkins-agent-secret", "ci", "Jenkins agent", content, salt);
    case Reader::GpgKeyfile:
      return examine_gpg_keyfile(name, content);
    case Reader::OpenPgp:
      return examine_openpgp(content);
    case Reader::Pkcs12:
      return examine_pkcs12(content);
    case Reader::Pkcs11Module:
      return read_pkcs11_module(content);
    case Reader::Script:
      return read_signing_script(content, salt);
    case Reader::KeyFile:
      if (content.find("PGP PRIVATE KEY BLOCK") != std::string_view::npos) {
        return examine_openpgp(content);
      }
      if (content.find("ENCRYPTED COSIGN PRIVATE KEY") != std::string_view::npos ||
          content.find("ENCRYPTED SIGSTORE PRIVATE KEY") != std::string_view::npos) {
        return examine_cosign(content, salt);
      }
      if (content.starts_with("untrusted comment:")) {
        if (has(first_line_of(content), "minisign")) return examine_minisign(content, salt);
        if (has(first_line_of(content), "signify")) return examine_signify(content);
        return {};
      }
      if (looks_like_pem_private_key(content)) {
        return examine_pem(content, siblings.certificates, named_for_signing(path));
      }
      return {};
  }
  return {};
}

}  // namespace

std::string secret_fingerprint(std::string_view salt, std::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac, &length);
  return "hmac-sha256:" + to_hex(std::span<const uint8_t>(mac, length));
}

std::vector<Discovery> examine(std::string_view path,
                               std::string_view content,
                               std::string_view salt) {
  std::vector<Discovery> out = run_reader(reader_for(path), path, content, salt, {});
  for (Discovery& d : out) d.path = std::string(path);
  return out;
}

namespace {

// Directories that hold caches, package stores, toolchains and VCS objects: never credentials,
// often millions of files.
constexpr std::string_view kSkippedNames[] = {
    ".cache",    "node_modules",   ".npm",          ".hg",
    ".svn",      "__pycache__",    "site-packages", ".rustup",
    ".nvm",      ".pyenv",         ".sdkman",       ".mozilla",
    ".vscode",   ".vscode-server", ".gradle",       "snap",
    ".steam",    ".wine",          ".Trash",        ".venv",
    "venv",      ".tox",           ".ccache",       ".conda",
    "anaconda3", "miniconda3",     ".pub-cache",    ".nuget/packages",
};
constexpr std::string_view kSkippedSuffixes[] = {
    "/.cargo/registry",
    "/.cargo/git",
    "/.m2/repository",
    "/go/pkg",
    "/.config/google-chrome",
    "/.config/chromium",
    "/.local/share/Trash",
    "/.nuget/packages",
    "/.local/lib",
    "/.local/share/containers",
    "/.local/share/docker",
};

bool skipped_directory(std::string_view path, std::string_view name) {
  for (std::string_view n : kSkippedNames) {
    if (name == n) return true;
  }
  for (std::string_view suffix : kSkippedSuffixes) {
    if (path.ends_with(suffix)) return true;
  }
  return false;
}

// Reads `path` only if it is still the regular file `expected` describes (same device and
// inode): a directory on the path swapped for a symlink between the look and the read — a race
// any user can run in their own home — cannot make catena read another file.
Result<std::string> read_same_file(const std::string& path,
                                   const struct stat& expected,
                                   uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return make_error(ErrorCode::Io, errno_text(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(ErrorCode::Io, errno_text(errno));
  if (!S_ISREG(st.st_mode) || st.st_dev != expected.st_dev || st.st_ino != expected.st_ino) {
    return make_error(ErrorCode::Io, "the file was replaced while it was examined");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return make_error(ErrorCode::LimitExceeded, "larger than " + human_bytes(max_bytes));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorCode::Io, errno_text(errno));
    if (n == 0) break;  // shrank while read: what is there
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

class OwnerNames {
 public:
  std::string name(uid_t uid) {
    auto it = cache_.find(uid);
    if (it != cache_.end()) return it->second;
    std::string out = std::to_string(uid);
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
      out = found->pw_name;
    }
    cache_.emplace(uid, out);
    return out;
  }

 private:
  std::map<uid_t, std::string> cache_;
};

class Walker {
 public:
  Walker(const Options& options, Report& report) : options_(options), report_(report) {}

  // `required`: a root that does not exist is recorded (a home asked for), not skipped.
  void walk(const std::string& root, unsigned max_depth, bool required) {
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) {
      if (errno != ENOENT || required) record_unreadable(root, "directory", std::strerror(errno));
      return;
    }
    if (S_ISREG(st.st_mode)) {
      examine_file(root, st);
      return;
    }
    if (!S_ISDIR(st.st_mode)) return;
    std::vector<std::pair<std::string, unsigned>> pending{{root, 0}};
    while (!pending.empty()) {
      auto [dir, depth] = std::move(pending.back());
      pending.pop_back();
      DIR* handle = ::opendir(dir.c_str());
      if (handle == nullptr) {
        record_unreadable(dir, "directory", std::strerror(errno));
        continue;
      }
      ++report_.directories_walked;
      std::vector<std::string> names;
      while (dirent* entry = ::readdir(handle)) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        names.emplace_back(name);
      }
      ::closedir(handle);
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) {
        const std::string path = dir == "/" ? "/" + name : dir + "/" + name;
        struct stat entry_st {};
        if (::lstat(path.c_str(), &entry_st) != 0) continue;  // vanished
        if (S_ISDIR(entry_st.st_mode)) {
          if (name == ".git") {
            // A repository: its remotes and credentials, not its objects.
            struct stat config_st {};
            const std::string config = path + "/config";
            if (::lstat(config.c_str(), &config_st) == 0 && S_ISREG(config_st.st_mode)) {
              examine_file(config, config_st);
            }
            continue;
          }
          if (depth + 1 > max_depth || skipped_directory(path, name)) continue;
          pending.emplace_back(path, depth + 1);
        } else if (S_ISREG(entry_st.st_mode)) {
          examine_file(path, entry_st);
        } else if (const Reader reader = reader_for(path);
                   reader != Reader::None && reader != Reader::Script) {
          examine_special(path, entry_st);
        }
      }
    }
  }

 private:
  void record_unreadable(const std::string& path, std::string_view category, std::string reason) {
    Discovery d = unparsed(category, "cannot be read: " + reason);
    d.holds_secret = false;
    d.path = path;
    report_.discoveries.push_back(std::move(d));
  }

  // A credential file that is a symlink (dotfile managers make them) is read through it; one
  // that is broken, a FIFO or a device is recorded, never opened.
  void examine_special(const std::string& path, const struct stat& st) {
    if (S_ISLNK(st.st_mode)) {
      struct stat target {};
      auto canonical = canonical_path(path);
      if (!canonical || ::stat(canonical->c_str(), &target) != 0) {
        add(path, st, {unparsed("file", "a broken symbolic link")});
        return;
      }
      // Followed only to a file of the link's owner: a link to /etc/shadow must not put that
      // file's lines into a report.
      if (S_ISREG(target.st_mode) && target.st_uid == st.st_uid) {
        examine_file(path, target, *canonical);
        return;
      }
      if (S_ISREG(target.st_mode)) {
        add(path, st,
            {unparsed("file", "a symbolic link to a file of another owner, not followed")});
        return;
      }
      add(path, st, {unparsed("file", "a symbolic link to something other than a file")});
      return;
    }
    add(path, st, {unparsed("file", "not a regular file")});
  }

  // A key's .pub or certificate beside it, read only when it is a regular file of the key's
  // owner.
  std::string read_sibling(const std::string& path, uid_t owner, uint64_t max_bytes) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != owner) return {};
    auto text = read_same_file(path, st, max_bytes);
    return text ? std::move(*text) : std::string();
  }

  // `source`: where the bytes are read from when `path` is a symlink to it.
  void examine_file(const std::string& path,
                    const struct stat& st,
                    const std::string& source = {}) {
    const Reader reader = reader_for(path);
    if (reader == Reader::None) return;
    // Scripts are many and rarely signing scripts: only small ones are read.
    const uint64_t limit = reader == Reader::Script ? 256 * 1024 : options_.max_file_bytes;
    if (static_cast<uint64_t>(st.st_size) > limit) {
      if (reader == Reader::Script || reader == Reader::KeyFile) return;
      add(path, st,
          {unparsed("file", "larger than " + human_bytes(limit) + " (" +
                                human_bytes(static_cast<uint64_t>(st.st_size)) + "), not read")});
      return;
    }
    if (reader == Reader::GcloudStore) {
      // Presence is the fact; the SQLite content is not read.
      add(path, st, run_reader(reader, path, {}, options_.salt, {}));
      return;
    }
    auto content = read_same_file(source.empty() ? path : source, st, limit);
    ++report_.files_examined;
    if (!content) {
      add(path, st, {unparsed("file", "cannot be read: " + content.error().message)});
      return;
    }
    Siblings siblings;
    if (reader == Reader::SshKey || reader == Reader::KeyFile) {
      const std::string pub = read_sibling(path + ".pub", st.st_uid, 64 * 1024);
      // "type base64 comment": the comment is the rest of the first line.
      std::string_view line = trim_space(first_line_of(pub));
      size_t first = line.find(' ');
      size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
      if (second != std::string_view::npos) {
        siblings.ssh_comment = std::string(trim_space(line.substr(second + 1)));
      }
    }
    if (reader == Reader::KeyFile) {
      const size_t dot = path.rfind('.');
      const std::string stem =
          dot == std::string::npos || dot < path.rfind('/') ? path : path.substr(0, dot);
      for (const char* ext : {".crt", ".cer", ".pem", ".cert.pem", "-cert.pem"}) {
        const std::string other = stem + ext;
        if (other != path) siblings.certificates += read_sibling(other, st.st_uid, 256 * 1024);
      }
    }
    add(path, st, run_reader(reader, path, *content, options_.salt, siblings));
  }

  void add(const std::string& path, const struct stat& st, std::vector<Discovery> found) {
    for (Discovery& d : found) {
      d.path = path;
      d.owner = owners_.name(st.st_uid);
      d.mode = st.st_mode & 07777;
      report_.discoveries.push_back(std::move(d));
    }
  }

  const Options& options_;
  Report& report_;
  OwnerNames owners_;
};

// Host names (or "host/path" for repositories) a discovery reaches, for matching the inventory.
std::string target_host(const Discovery& d) {
  if (d.target.find("://") != std::string::npos || d.target.find('@') != std::string::npos) {
    return parse_url(d.target).host;
  }
  std::string host = ascii_lower(d.target);
  const size_t slash = host.find('/');
  if (slash != std::string::npos) host = host.substr(0, slash);
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(':') == colon) host = host.substr(0, colon);
  return host;
}

bool matches_any(const std::vector<std::string>& patterns, std::string_view text) {
  const std::string lower = ascii_lower(text);
  for (const std::string& pattern : patterns) {
    if (::fnmatch(ascii_lower(pattern).c_str(), lower.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string repository_of(const Discovery& d) {
  UrlParts url = parse_url(d.target);
  std::string path = url.path;
  if (path.ends_with(".git")) path.resize(path.size() - 4);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return url.host + "/" + path;
}

bool is_default_ssh_key_name(std::string_view path) {
  const std::string_view name = base_name(path);
  return name == "id_rsa" || name == "id_ed25519" || name == "id_ecdsa" || name == "id_dsa" ||
         name == "id_ecdsa_sk" || name == "id_ed25519_sk" || name == "id_xmss";
}

std::string home_of(std::string_view path) {
  const size_t ssh = path.find("/.ssh/");
  return ssh == std::string_view::npos ? std::string() : std::string(path.substr(0, ssh));
}

}  // namespace

Result<Inventory> parse_inventory(std::string_view toml_text) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return tl::unexpected(Error{ErrorCode::Parse,
                                "not valid TOML: " + std::string(e.description()) + " at line " +
                                    std::to_string(e.source().begin.line),
                                {}});
  }
  Inventory inventory;
  const toml::table* build = table["build"].as_table();
  if (build == nullptr) {
    if (table.contains("build")) {
      return tl::unexpected(Error{ErrorCode::Parse, "[build] must be a table", {}});
    }
    return inventory;
  }
  inventory.declared = true;
  for (const auto& [key, value] : *build) {
    std::vector<std::string>* list = nullptr;
    if (key == "hosts") list = &inventory.hosts;
    if (key == "registries") list = &inventory.registries;
    if (key == "repositories") list = &inventory.repositories;
    if (key == "signing_identities") list = &inventory.signing_identities;
    if (list == nullptr) {
      return tl::unexpected(Error{ErrorCode::Parse,
                                  "unknown key build." + std::string(key.str()) +
                                      " (expected hosts, registries, repositories, "
                                      "signing_identities)",
                                  {}});
    }
    const toml::array* array = value.as_array();
    if (array == nullptr) {
      return tl::unexpected(Error{
          ErrorCode::Parse, "build." + std::string(key.str()) + " must be a list of strings", {}});
    }
    for (const toml::node& item : *array) {
      const auto* text = item.as_string();
      if (text == nullptr) {
        return tl::unexpected(
            Error{ErrorCode::Parse,
                  "build." + std::string(key.str()) + " must be a list of strings",
                  {}});
      }
      list->push_back(text->get());
    }
  }
  return inventory;
}

void classify(std::vector<Discovery>& discoveries, const Inventory& inventory) {
  for (Discovery& d : discoveries) {
    bool critical = false;
    if (d.kind == "unparsed") {
      critical = false;
    } else if (d.category == "signing") {
      // Signing material is the build's identity; a config naming a module or key id is not.
      critical = d.holds_secret || d.kind == "pkcs11-module" ||
                 (inventory.declared && matches_any(inventory.signing_identities, d.account));
      if (inventory.declared && !d.target.empty() &&
          matches_any(inventory.signing_identities, d.target)) {
        critical = true;
      }
    } else if (d.category == "ci") {
      critical = true;
    } else if (!inventory.declared) {
      critical = d.category == "publish" && d.holds_secret;
    } else if (d.category == "publish") {
      critical = matches_any(inventory.registries, target_host(d)) ||
                 matches_any(inventory.hosts, target_host(d));
    } else if (d.category == "source") {
      critical = matches_any(inventory.hosts, target_host(d)) ||
                 matches_any(inventory.repositories, repository_of(d));
    } else if (d.category == "ssh" || d.category == "cloud") {
      critical = d.kind != "ssh-private-key" && matches_any(inventory.hosts, target_host(d));
    } else if (d.category == "key" && !d.target.empty()) {
      critical = matches_any(inventory.signing_identities, d.target);
    }
    d.build_critical = critical;
  }
  // An SSH key reaches what its home's configuration sends it to: the hosts naming it as their
  // IdentityFile, or, for a default key name, any host that names none and every known host.
  for (Discovery& key : discoveries) {
    if (key.kind != "ssh-private-key") continue;
    const std::string home = home_of(key.path);
    const std::string_view key_name = base_name(key.path);
    std::vector<std::string> reached;
    for (const Discovery& host : discoveries) {
      if (!host.build_critical || home_of(host.path) != home) continue;
      if (host.kind != "ssh-host" && host.kind != "ssh-known-host") continue;
      const size_t identity = host.detail.find("identity ");
      bool uses = false;
      if (host.kind == "ssh-host" && identity != std::string::npos) {
        std::string file = host.detail.substr(identity + 9);
        file = file.substr(0, file.find(';'));
        uses = base_name(file) == key_name;
      } else {
        uses = is_default_ssh_key_name(key.path);
      }
      if (uses && std::find(reached.begin(), reached.end(), host.target) == reached.end()) {
        reached.push_back(host.target);
      }
    }
    if (!reached.empty()) {
      key.build_critical = true;
      key.target.clear();
      for (const std::string& host : reached) key.target += (key.target.empty() ? "" : ", ") + host;
    }
  }
  std::sort(discoveries.begin(), discoveries.end(), [](const Discovery& a, const Discovery& b) {
    return std::tie(a.path, a.kind, a.target) < std::tie(b.path, b.kind, b.target);
  });
}

bool holds_build_access(const std::vector<Discovery>& discoveries) {
  return std::any_of(discoveries.begin(), discoveries.end(),
                     [](const Discovery& d) { return d.build_critical; });
}

std::vector<Finding> access_findings(const std::vector<Discovery>& discoveries) {
  std::vector<Finding> out;
  std::set<std::string> readable_reported;
  for (const Discovery& d : discoveries) {
    const auto add_common = [&](Finding& f) {
      f.add_evidence("kind", d.kind);
      if (!d.target.empty()) f.add_evidence("target", d.target);
      if (!d.fingerprint.empty()) f.add_evidence("fingerprint", d.fingerprint);
      if (!d.owner.empty()) f.add_evidence("owner", d.owner);
    };
    if (d.kind == "unparsed") {
      Finding f{.rule = "ACCESS_FILE_UNPARSED", .severity = Severity::Info, .path = d.path};
      f.message = "A file that may hold access to the build could not be examined.";
      f.add_evidence("reason", d.detail);
      out.push_back(std::move(f));
      continue;
    }
    if (d.signing && d.holds_secret && d.protection == "none") {
      Finding f{
          .rule = "ACCESS_SIGNING_KEY_UNPROTECTED", .severity = Severity::Critical, .path = d.path};
      f.message =
          "Code-signing material is stored without a passphrase: anyone who can read "
          "this file can sign as its owner.";
      add_common(f);
      if (!d.detail.empty()) f.add_evidence("detail", d.detail);
      out.push_back(std::move(f));
    }
    if (d.kind == "ssh-private-key" && d.protection == "none") {
      Finding f{.rule = "ACCESS_SSH_KEY_UNPROTECTED",
                .severity = d.build_critical ? Severity::High : Severity::Medium,
                .path = d.path};
      f.message = d.build_critical
                      ? "An SSH private key without a passphrase reaches a build-critical host."
                      : "An SSH private key is stored without a passphrase.";
      add_common(f);
      if (!d.detail.empty()) f.add_evidence("key", d.detail);
      out.push_back(std::move(f));
    }
    if (d.kind == "signing-script" && d.holds_secret) {
      Finding f{
          .rule = "ACCESS_SIGNING_PASSWORD_IN_SCRIPT", .severity = Severity::High, .path = d.path};
      f.message = "A script passes a literal password to a code-signing tool.";
      add_common(f);
      out.push_back(std::move(f));
    }
    if (d.holds_secret && (d.mode & 0044) != 0 && readable_reported.insert(d.path).second) {
      const bool world = (d.mode & 0004) != 0;
      Finding f{.rule = "ACCESS_CREDENTIAL_WORLD_READABLE",
                .severity = world ? Severity::High : Severity::Medium,
                .path = d.path};
      f.message = world ? "A credential file is readable by every user of the host."
                        : "A credential file is readable by its group.";
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", d.mode & 07777);
      f.add_evidence("mode", mode);
      add_common(f);
      out.push_back(std::move(f));
    }
  }
  return out;
}

Report discover(const Options& options, const Inventory& inventory) {
  Report report;
  Walker walker(options, report);
  std::set<std::string> seen;
  for (const std::string& home : options.homes) {
    if (home.empty() || home == "/" || !seen.insert(home).second) continue;
    walker.walk(home, options.max_depth, true);
  }
  if (options.system_places) {
    for (const char* place : {"/etc/gitlab-runner", "/etc/buildkite-agent",
                              "/var/lib/jenkins/secrets", "/etc/pkcs11/modules"}) {
      walker.walk(place, 2, false);
    }
  }
  classify(report.discoveries, inventory);
  report.findings = access_findings(report.discoveries);
  return report;
}

}  // namespace catena::access
