// Credentials in configuration files: each reader takes a file's parsed entries (or text) and
// returns what it grants, with token values replaced by salted hashes before anything leaves.
#include "credentials.hpp"

#include <algorithm>
#include <map>

#include "catena/core/text.hpp"
#include "flatten.hpp"
#include "keys.hpp"

namespace catena::access {
namespace {

std::string lower(std::string_view s) { return ascii_lower(s); }

bool is_env_reference(std::string_view value) {
  return value.starts_with("${") || value.starts_with("$") || value.starts_with("%") ||
         value.starts_with("{env.");
}

Discovery make(std::string kind, std::string category, std::string target) {
  Discovery d;
  d.kind = std::move(kind);
  d.category = std::move(category);
  d.target = std::move(target);
  d.protection = "not-applicable";
  return d;
}

// Records a secret value as its fingerprint; a reference to an environment variable is not a
// secret in the file.
void set_secret(Discovery& d, std::string_view salt, std::string_view value) {
  value = trim_space(value);
  if (value.empty()) return;
  if (is_env_reference(value)) {
    d.detail += std::string(d.detail.empty() ? "" : "; ") + "secret taken from the environment";
    return;
  }
  d.holds_secret = true;
  d.protection = "none";
  d.fingerprint = secret_fingerprint(salt, value);
}

std::vector<Discovery> unparsed_from(std::string_view category, const Error& error) {
  return {unparsed(category, error.message)};
}

}  // namespace

UrlParts parse_url(std::string_view url) {
  UrlParts parts;
  url = trim_space(url);
  size_t scheme_end = url.find("://");
  std::string_view rest = url;
  if (scheme_end != std::string_view::npos) {
    parts.scheme = std::string(url.substr(0, scheme_end));
    rest = url.substr(scheme_end + 3);
  } else {
    // scp-like git syntax: user@host:path
    const size_t colon = url.find(':');
    const size_t slash = url.find('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
      std::string_view authority = url.substr(0, colon);
      const size_t at = authority.rfind('@');
      if (at != std::string_view::npos) {
        parts.user = std::string(authority.substr(0, at));
        authority = authority.substr(at + 1);
      }
      parts.scheme = "ssh";
      parts.host = lower(authority);
      parts.path = std::string(url.substr(colon + 1));
      parts.redacted = (parts.user.empty() ? "" : parts.user + "@") + parts.host + ":" + parts.path;
      return parts;
    }
  }
  const size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) parts.path = std::string(rest.substr(path_start + 1));
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      parts.password = std::string(userinfo.substr(colon + 1));
      userinfo = userinfo.substr(0, colon);
    }
    parts.user = std::string(userinfo);
    // A bare token as the user name (https://TOKEN@github.com) is a secret too.
    if (parts.password.empty() && parts.user.size() >= 20 &&
        (parts.scheme == "https" || parts.scheme == "http")) {
      parts.password = parts.user;
      parts.user.clear();
    }
  }
  std::string host(authority);
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  parts.host = lower(host);
  parts.redacted = (parts.scheme.empty() ? "" : parts.scheme + "://") +
                   (parts.user.empty() ? "" : parts.user + "@") + std::string(authority) +
                   (parts.path.empty() ? "" : "/" + parts.path);
  return parts;
}

std::vector<Discovery> read_ssh_config(std::string_view text) {
  std::vector<Discovery> out;
  struct Block {
    std::vector<std::string> patterns;
    std::string hostname, user, identity, proxy, agent;
    bool forward_agent = false;
  };
  std::vector<Block> blocks;
  blocks.push_back({});  // options before any Host apply to every host
  TrimmedLines lines(text);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    if (line.empty() || line.front() == '#') continue;
    size_t sep = line.find_first_of(" \t=");
    if (sep == std::string_view::npos) continue;
    const std::string key = lower(line.substr(0, sep));
    std::string_view value = trim_space(line.substr(sep));
    if (!value.empty() && value.front() == '=') value = trim_space(value.substr(1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "host" || key == "match") {
      Block block;
      if (key == "host") {
        size_t p = 0;
        while (p < value.size()) {
          size_t e = value.find_first_of(" \t", p);
          if (e == std::string_view::npos) e = value.size();
          if (e > p) block.patterns.emplace_back(value.substr(p, e - p));
          p = e + 1;
        }
      }
      blocks.push_back(std::move(block));
      continue;
    }
    Block& b = blocks.back();
    if (key == "hostname") b.hostname = std::string(value);
    if (key == "user") b.user = std::string(value);
    if (key == "identityfile" && b.identity.empty()) b.identity = std::string(value);
    if (key == "proxyjump") b.proxy = std::string(value);
    if (key == "identityagent") b.agent = std::string(value);
    if (key == "forwardagent") b.forward_agent = lower(value) == "yes";
  }
  for (const Block& b : blocks) {
    if (!b.agent.empty() && lower(b.agent) != "none") {
      Discovery d = make("ssh-agent", "ssh", b.agent);
      d.detail = "agent socket for " +
                 (b.patterns.empty() ? std::string("every host") : b.patterns.front());
      out.push_back(std::move(d));
    }
    for (const std::string& pattern : b.patterns) {
      if (pattern.find_first_of("*?!") != std::string::npos && b.hostname.empty()) continue;
      Discovery d = make("ssh-host", "ssh", lower(b.hostname.empty() ? pattern : b.hostname));
      d.account = b.user;
      d.detail = "alias " + pattern;
      if (!b.identity.empty()) d.detail += "; identity " + b.identity;
      if (!b.proxy.empty()) d.detail += "; via " + b.proxy;
      if (b.forward_agent) d.detail += "; forwards the agent";
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<Discovery> read_known_hosts(std::string_view text) {
  constexpr size_t kMaxHosts = 2000;
  std::vector<Discovery> out;
  size_t hashed = 0;
  TrimmedLines lines(text);
  while (out.size() < kMaxHosts) {
    auto next = lines.next();
    if (!next) break;
    std::string_view line = *next;
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '@') {  // @cert-authority / @revoked
      const size_t sp = line.find(' ');
      if (sp == std::string_view::npos) continue;
      line = trim_space(line.substr(sp));
    }
    std::string_view hosts = line.substr(0, line.find_first_of(" \t"));
    if (hosts.starts_with("|1|")) {
      ++hashed;
      continue;
    }
    size_t p = 0;
    while (p < hosts.size() && out.size() < kMaxHosts) {
      size_t e = hosts.find(',', p);
      if (e == std::string_view::npos) e = hosts.size();
      std::string host(hosts.substr(p, e - p));
      p = e + 1;
      if (host.empty() || host.front() == '!') continue;
      if (host.front() == '[') host = host.substr(1, host.find(']') - 1);
      out.push_back(make("ssh-known-host", "ssh", lower(host)));
    }
  }
  if (hashed > 0) {
    Discovery d = make("ssh-known-host", "ssh", "(hashed)");
    d.detail = std::to_string(hashed) + " hashed host names";
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_git_credentials(std::string_view text, std::string_view salt) {
  std::vector<Discovery> out;
  TrimmedLines lines(text);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    if (line.empty() || line.front() == '#') continue;
    UrlParts url = parse_url(line);
    if (url.host.empty() || line.find("://") == std::string_view::npos) {
      out.push_back(unparsed("source", "a line that is not a URL"));
      continue;
    }
    Discovery d = make("git-credential", "source",
                       url.scheme + "://" + url.host + (url.path.empty() ? "" : "/" + url.path));
    d.account = url.user;
    set_secret(d, salt, url.password);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_git_config(std::string_view text,
                                       std::string_view salt,
                                       bool repository) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("source", entries.error());
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.empty()) continue;
    const std::string section = lower(e.keys.front());
    const std::string key = lower(e.keys.back());
    if (section == "remote" && e.keys.size() == 3 && (key == "url" || key == "pushurl")) {
      UrlParts url = parse_url(e.value);
      Discovery d = make("git-remote", "source", url.redacted);
      d.account = url.user;
      d.detail = "remote " + e.keys[1];
      set_secret(d, salt, url.password);
      out.push_back(std::move(d));
    } else if (section == "url" && e.keys.size() == 3 &&
               (key == "insteadof" || key == "pushinsteadof")) {
      UrlParts url = parse_url(e.keys[1]);
      if (url.password.empty()) continue;
      Discovery d = make("git-credential", "source", url.redacted);
      d.account = url.user;
      d.detail = "credentials in a url.insteadOf rewrite";
      set_secret(d, salt, url.password);
      out.push_back(std::move(d));
    } else if (section == "credential" && key == "helper") {
      const std::string scope = e.keys.size() == 3 ? e.keys[1] : "every host";
      std::string_view helper = trim_space(e.value);
      Discovery d = make("git-credential-helper", "source", scope);
      if (helper.starts_with('!')) {
        // An inline shell helper may embed the secret it prints: never shown.
        d.detail = "inline shell helper (not shown)";
        set_secret(d, salt, helper);
      } else {
        d.detail = "helper " + std::string(helper.substr(0, helper.find(' ')));
      }
      out.push_back(std::move(d));
    } else if (section == "http" && key == "extraheader" &&
               lower(e.value).find("authorization") != std::string::npos) {
      const std::string scope = e.keys.size() == 3 ? e.keys[1] : "every remote";
      Discovery d = make("git-credential", "source", scope);
      d.detail = "an Authorization header in http.extraheader";
      const size_t colon = e.value.find(':');
      set_secret(d, salt, colon == std::string::npos ? e.value : e.value.substr(colon + 1));
      out.push_back(std::move(d));
    } else if (!repository && section == "user" && key == "signingkey") {
      Discovery d = make("git-signing-config", "signing", "git commit and tag signing");
      d.account = e.value;
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<Discovery> read_gh_hosts(std::string_view text,
                                     std::string_view salt,
                                     std::string_view kind,
                                     bool glab) {
  auto entries = flatten_yaml(text);
  if (!entries) return unparsed_from("source", entries.error());
  std::map<std::string, Discovery> by_host;
  for (const Entry& e : *entries) {
    // gh: host/{oauth_token,user}, host/users/NAME/oauth_token; glab: hosts/HOST/{token,user}.
    size_t base = glab ? 1 : 0;
    if (glab && (e.keys.empty() || e.keys.front() != "hosts")) continue;
    if (e.keys.size() < base + 2) continue;
    const std::string& host = e.keys[base];
    auto [it, inserted] = by_host.try_emplace(host, make(std::string(kind), "source", host));
    Discovery& d = it->second;
    const std::string& key = e.keys.back();
    if (key == "user" || key == "username") d.account = e.value;
    if (key == "oauth_token" || key == "token") set_secret(d, salt, e.value);
  }
  std::vector<Discovery> out;
  for (auto& [host, d] : by_host) {
    if (!d.holds_secret && d.detail.empty()) d.detail = "token kept in the system keyring";
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_npmrc(std::string_view text, std::string_view salt) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::string default_registry = "registry.npmjs.org";
  for (const Entry& e : *entries) {
    if (e.keys.size() == 1 && e.keys[0] == "registry") {
      default_registry = parse_url(e.value).host;
    }
  }
  std::map<std::string, Discovery> by_registry;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 1) continue;
    std::string_view key = e.keys[0];
    std::string registry = default_registry;
    // `//host/path/:_authToken`: scoped to a registry.
    if (key.starts_with("//")) {
      const size_t colon = key.rfind(":");
      if (colon == std::string_view::npos) continue;
      registry = parse_url("https:" + std::string(key.substr(0, colon))).host;
      key = key.substr(colon + 1);
    }
    if (key != "_authToken" && key != "_auth" && key != "_password" && key != "username" &&
        key != "email") {
      continue;
    }
    auto [it, inserted] = by_registry.try_emplace(registry, make("npm-token", "publish", registry));
    Discovery& d = it->second;
    if (key == "username") {
      d.account = e.value;
    } else if (key != "email") {
      set_secret(d, salt, e.value);
    }
  }
  std::vector<Discovery> out;
  for (auto& [registry, d] : by_registry) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_pypirc(std::string_view text, std::string_view salt) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::map<std::string, Discovery> by_section;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 2 || lower(e.keys[0]) == "distutils") continue;
    const std::string& section = e.keys[0];
    auto [it, inserted] =
        by_section.try_emplace(section, make("pypi-credential", "publish",
                                             section == "pypi"       ? "upload.pypi.org"
                                             : section == "testpypi" ? "test.pypi.org"
                                                                     : section));
    Discovery& d = it->second;
    const std::string key = lower(e.keys[1]);
    if (key == "repository") d.target = parse_url(e.value).host;
    if (key == "username") d.account = e.value;
    if (key == "password") set_secret(d, salt, e.value);
  }
  std::vector<Discovery> out;
  for (auto& [section, d] : by_section) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_cargo_credentials(std::string_view text, std::string_view salt) {
  auto entries = flatten_toml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.empty() || e.keys.back() != "token") continue;
    std::string target = "crates.io";
    if (e.keys.size() == 3 && e.keys[0] == "registries") target = e.keys[1];
    Discovery d = make("cargo-token", "publish", target);
    set_secret(d, salt, e.value);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_docker_config(std::string_view text, std::string_view salt) {
  auto entries = flatten_json(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::map<std::string, Discovery> by_registry;
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.size() == 3 && e.keys[0] == "auths") {
      const std::string host =
          parse_url(e.keys[1]).host.empty() ? e.keys[1] : parse_url(e.keys[1]).host;
      auto [it, inserted] = by_registry.try_emplace(host, make("docker-auth", "publish", host));
      Discovery& d = it->second;
      if (e.keys[2] == "auth") {
        // base64 "user:password": only the user is kept.
        if (auto decoded = base64_decode(e.value)) {
          d.account = decoded->substr(0, decoded->find(':'));
        }
        set_secret(d, salt, e.value);
      } else if (e.keys[2] == "identitytoken" || e.keys[2] == "password" ||
                 e.keys[2] == "registrytoken") {
        set_secret(d, salt, e.value);
      } else if (e.keys[2] == "username") {
        d.account = e.value;
      }
    } else if (e.keys.size() == 1 && e.keys[0] == "credsStore") {
      Discovery d = make("docker-credential-helper", "publish", "every registry");
      d.detail = "docker-credential-" + e.value;
      out.push_back(std::move(d));
    } else if (e.keys.size() == 2 && e.keys[0] == "credHelpers") {
      Discovery d = make("docker-credential-helper", "publish", e.keys[1]);
      d.detail = "docker-credential-" + e.value;
      out.push_back(std::move(d));
    }
  }
  for (auto& [registry, d] : by_registry) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_maven_settings(std::string_view text, std::string_view salt) {
  auto entries = flatten_xml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::vector<Discovery> out;
  std::optional<Discovery> current;
  std::vector<std::string> seen;
  const auto flush = [&] {
    if (current) out.push_back(std::move(*current));
    current.reset();
    seen.clear();
  };
  for (const Entry& e : *entries) {
    if (e.keys.size() != 4 || e.keys[1] != "servers" || e.keys[2] != "server") continue;
    const std::string& key = e.keys[3];
    // A key seen again starts the next <server>.
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) flush();
    seen.push_back(key);
    if (!current) current = make("maven-server", "publish", "");
    if (key == "id") current->target = e.value;
    if (key == "username") current->account = e.value;
    if (key == "password" || key == "passphrase") set_secret(*current, salt, e.value);
    if (key == "privateKey") current->detail = "private key file " + e.value;
  }
  flush();
  return out;
}

std::vector<Discovery> read_gem_credentials(std::string_view text, std::string_view salt) {
  auto entries = flatten_yaml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 1) continue;
    std::string target = e.keys[0];
    if (target == ":rubygems_api_key" || target == "rubygems_api_key") target = "rubygems.org";
    if (target.starts_with(':')) target.erase(0, 1);
    if (target.find("://") != std::string::npos) target = parse_url(target).host;
    Discovery d = make("gem-credential", "publish", target);
    set_secret(d, salt, e.value);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_nuget_config(std::string_view text, std::string_view salt) {
  auto entries = flatten_xml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::vector<Discovery> out;
  std::map<std::string, Discovery> by_source;
  std::string pending_key;
  for (const Entry& e : *entries) {
    if (e.keys.size() < 4 || e.keys[e.keys.size() - 2] != "add") continue;
    const std::string& section = e.keys[1];
    const std::string& attribute = e.keys.back();
    if (attribute == "@key") {
      pending_key = e.value;
      continue;
    }
    if (attribute != "@value") continue;
    if (section == "packageSourceCredentials" && e.keys.size() == 5) {
      const std::string& source = e.keys[2];
      auto [it, inserted] =
          by_source.try_emplace(source, make("nuget-credential", "publish", source));
      const std::string key = lower(pending_key);
      if (key == "username") it->second.account = e.value;
      if (key == "password" || key == "cleartextpassword") set_secret(it->second, salt, e.value);
      if (key == "cleartextpassword") it->second.detail = "clear-text password";
    } else if (section == "apikeys" && e.keys.size() == 4) {
      Discovery d = make("nuget-api-key", "publish", parse_url(pending_key).host);
      set_secret(d, salt, e.value);
      out.push_back(std::move(d));
    }
  }
  for (auto& [source, d] : by_source) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_aws(std::string_view text, std::string_view salt, bool config) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("cloud", entries.error());
  std::map<std::string, Discovery> by_profile;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 2) continue;
    std::string profile = e.keys[0];
    if (profile.starts_with("profile ")) profile = std::string(trim_space(profile.substr(8)));
    if (profile.starts_with("sso-session") || profile.starts_with("services")) continue;
    auto [it, inserted] = by_profile.try_emplace(
        profile,
        make(config ? "aws-profile" : "aws-credential", "cloud", "aws profile " + profile));
    Discovery& d = it->second;
    const std::string key = lower(e.keys[1]);
    if (key == "aws_access_key_id") d.account = e.value;  // an identifier, not a secret
    if (key == "aws_secret_access_key" || key == "aws_session_token") {
      set_secret(d, salt, e.value);
      d.kind = "aws-credential";
    }
    if (key == "role_arn") d.detail += std::string(d.detail.empty() ? "" : "; ") + e.value;
    if (key == "sso_start_url") d.detail += std::string(d.detail.empty() ? "" : "; ") + "sso";
    if (key == "credential_process") {
      d.detail += std::string(d.detail.empty() ? "" : "; ") + "credential_process";
    }
  }
  std::vector<Discovery> out;
  for (auto& [profile, d] : by_profile) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_gcloud_json(std::string_view text, std::string_view salt) {
  auto entries = flatten_json(text);
  if (!entries) return unparsed_from("cloud", entries.error());
  Discovery d = make("gcloud-credential", "cloud", "google cloud");
  std::string type = value_at(*entries, {"type"});
  if (!type.empty()) d.detail = type;
  std::string account = value_at(*entries, {"client_email"});
  if (account.empty()) account = value_at(*entries, {"client_id"});
  d.account = account;
  const std::string project = value_at(*entries, {"project_id"});
  if (!project.empty()) d.target = "google cloud project " + project;
  for (const char* key : {"private_key", "refresh_token", "client_secret"}) {
    const std::string value = value_at(*entries, {key});
    if (!value.empty()) {
      set_secret(d, salt, value);
      break;
    }
  }
  return {d};
}

std::vector<Discovery> read_gcloud_configuration(std::string_view text) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("cloud", entries.error());
  Discovery d = make("gcloud-account", "cloud", "google cloud");
  d.account = value_at(*entries, {"core", "account"});
  const std::string project = value_at(*entries, {"core", "project"});
  if (!project.empty()) d.target = "google cloud project " + project;
  return {d};
}

std::vector<Discovery> read_azure(std::string_view name,
                                  std::string_view text,
                                  std::string_view salt) {
  auto entries = flatten_json(text);
  if (!entries) return unparsed_from("cloud", entries.error());
  Discovery d = make("azure-credential", "cloud", "azure");
  std::vector<std::string> accounts;
  for (const Entry& e : *entries) {
    const std::string key = e.keys.empty() ? "" : lower(e.keys.back());
    if (key == "username" ||
        (e.keys.size() >= 2 && key == "name" && e.keys[e.keys.size() - 2] == "user")) {
      if (std::find(accounts.begin(), accounts.end(), e.value) == accounts.end()) {
        accounts.push_back(e.value);
      }
    }
    if (key == "secret" || key == "refreshtoken" || key == "accesstoken" ||
        key == "client_secret" || key == "refresh_token" || key == "access_token") {
      if (!d.holds_secret) set_secret(d, salt, e.value);
    }
  }
  if (name == "azureProfile.json") d.kind = "azure-profile";
  for (const std::string& a : accounts) d.account += (d.account.empty() ? "" : ", ") + a;
  return {d};
}

std::vector<Discovery> read_kubeconfig(std::string_view text, std::string_view salt) {
  auto entries = flatten_yaml(text);
  if (!entries) return unparsed_from("cloud", entries.error());
  struct Item {
    std::map<std::string, std::string> fields;
  };
  std::map<std::string, std::map<std::string, Item>> lists;  // clusters/contexts/users by index
  for (const Entry& e : *entries) {
    if (e.keys.size() < 3) continue;
    const std::string& list = e.keys[0];
    if (list != "clusters" && list != "contexts" && list != "users") continue;
    std::string field;
    for (size_t i = 2; i < e.keys.size(); ++i) field += (i > 2 ? "/" : "") + e.keys[i];
    lists[list][e.keys[1]].fields[field] = e.value;
  }
  const auto find_named = [&](const std::string& list, const std::string& name) -> const Item* {
    for (const auto& [index, item] : lists[list]) {
      auto it = item.fields.find("name");
      if (it != item.fields.end() && it->second == name) return &item;
    }
    return nullptr;
  };
  std::vector<Discovery> out;
  for (const auto& [index, context] : lists["contexts"]) {
    const auto field = [&](const Item* item, const std::string& key) {
      if (item == nullptr) return std::string();
      auto it = item->fields.find(key);
      return it == item->fields.end() ? std::string() : it->second;
    };
    const std::string name = field(&context, "name");
    const Item* cluster = find_named("clusters", field(&context, "context/cluster"));
    const Item* user = find_named("users", field(&context, "context/user"));
    const std::string server = field(cluster, "cluster/server");
    Discovery d = make("kube-context", "cloud", server.empty() ? name : server);
    d.account = field(&context, "context/user");
    d.detail = "context " + name;
    for (const char* key : {"user/token", "user/client-key-data", "user/password"}) {
      const std::string value = field(user, key);
      if (!value.empty()) {
        set_secret(d, salt, value);
        break;
      }
    }
    if (!field(user, "user/client-key").empty()) d.detail += "; client key file";
    const std::string command = field(user, "user/exec/command");
    if (!command.empty()) {
      d.detail +=
          "; exec " +
          command.substr(command.rfind('/') == std::string::npos ? 0 : command.rfind('/') + 1);
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_github_runner(std::string_view text) {
  auto entries = flatten_json(text);
  if (!entries) return unparsed_from("ci", entries.error());
  Discovery d = make("github-runner", "ci", value_at(*entries, {"gitHubUrl"}));
  d.account = value_at(*entries, {"agentName"});
  const std::string pool = value_at(*entries, {"poolName"});
  if (!pool.empty()) d.detail = "pool " + pool;
  return {d};
}

std::vector<Discovery> read_github_runner_credentials(std::string_view text) {
  auto entries = flatten_json(text);
  if (!entries) return unparsed_from("ci", entries.error());
  Discovery d = make("github-runner-registration", "ci",
                     parse_url(value_at(*entries, {"data", "authorizationUrl"})).host);
  d.account = value_at(*entries, {"data", "clientId"});
  d.detail = "scheme " + value_at(*entries, {"scheme"});
  return {d};
}

std::vector<Discovery> read_gitlab_runner(std::string_view text, std::string_view salt) {
  auto entries = flatten_toml(text);
  if (!entries) return unparsed_from("ci", entries.error());
  std::map<std::string, Discovery> by_index;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 3 || e.keys[0] != "runners") continue;
    auto [it, inserted] = by_index.try_emplace(e.keys[1], make("gitlab-runner", "ci", ""));
    Discovery& d = it->second;
    if (e.keys[2] == "url") d.target = e.value;
    if (e.keys[2] == "name") d.account = e.value;
    if (e.keys[2] == "token") set_secret(d, salt, e.value);
    if (e.keys[2] == "executor") d.detail = "executor " + e.value;
  }
  std::vector<Discovery> out;
  for (auto& [index, d] : by_index) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_buildkite(std::string_view text, std::string_view salt) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("ci", entries.error());
  Discovery d = make("buildkite-agent", "ci", "agent.buildkite.com");
  const std::string endpoint = value_at(*entries, {"endpoint"});
  if (!endpoint.empty()) d.target = parse_url(endpoint).host;
  d.account = value_at(*entries, {"name"});
  set_secret(d, salt, value_at(*entries, {"token"}));
  return {d};
}

std::vector<Discovery> read_secret_file(std::string_view kind,
                                        std::string_view category,
                                        std::string_view target,
                                        std::string_view text,
                                        std::string_view salt) {
  Discovery d = make(std::string(kind), std::string(category), std::string(target));
  set_secret(d, salt, text);
  return {d};
}

std::vector<Discovery> read_pkcs11_module(std::string_view text) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("signing", entries.error());
  std::string module = value_at(*entries, {"module"});
  Discovery d = make("pkcs11-module", "signing", module);
  d.protection = "hardware";
  return {d};
}

std::vector<Discovery> read_signing_script(std::string_view text, std::string_view salt) {
  static constexpr std::string_view kTools[] = {"osslsigncode", "signtool",    "jsign",
                                                "codesign",     "cosign sign", "gpg --detach-sign"};
  std::string tool;
  for (std::string_view t : kTools) {
    if (text.find(t) != std::string_view::npos) {
      tool = std::string(t.substr(0, t.find(' ')));
      break;
    }
  }
  if (tool.empty()) return {};
  Discovery d = make("signing-script", "signing", tool);
  // A literal password after a password option: the word that follows, unless it names a
  // variable.
  static constexpr std::string_view kOptions[] = {
      "-pass ", "--storepass ", "--storepass=", "--keypass ", "--keypass=", " /p ", "-p:"};
  for (std::string_view option : kOptions) {
    size_t at = text.find(option);
    if (at == std::string_view::npos) continue;
    std::string_view rest = text.substr(at + option.size());
    rest = rest.substr(0, rest.find_first_of(" \t\r\n"));
    if (rest.size() >= 2 && (rest.front() == '"' || rest.front() == '\'') &&
        rest.back() == rest.front()) {
      rest = rest.substr(1, rest.size() - 2);
    }
    if (rest.empty()) continue;
    set_secret(d, salt, rest);
    if (d.holds_secret) d.detail = "a literal signing password on the command line";
    break;
  }
  return {d};
}

}  // namespace catena::access
