// Credentials in configuration files: each reader takes a file's parsed entries (or text) and
// returns what it grants; every secret value goes to Secrets, which keeps only its fingerprint.
#include "credentials.hpp"

#include <algorithm>
#include <map>

#include "catena/core/text.hpp"
#include "flatten.hpp"
#include "keys.hpp"

namespace catena::access {
namespace {

std::string lower(std::string_view s) { return ascii_lower(s); }

std::vector<Discovery> unparsed_from(std::string_view category, const Error& error) {
  return {unparsed(category, error.message)};
}

}  // namespace

Discovery make(std::string kind, std::string category, std::string target) {
  Discovery d;
  d.kind = std::move(kind);
  d.category = std::move(category);
  d.target = std::move(target);
  d.protection = "not-applicable";
  return d;
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

std::vector<Discovery> read_git_credentials(std::string_view text, Secrets& secrets) {
  std::vector<Discovery> out;
  TrimmedLines lines(text);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    if (line.empty() || line.front() == '#') continue;
    const UrlParts url = parse_url(line);
    if (url.host.empty() || line.find("://") == std::string_view::npos) {
      out.push_back(unparsed("source", "a line that is not a URL"));
      continue;
    }
    Discovery d = make("git-credential", "source", url.redacted);
    d.account = url.user;
    // Everything in the credential store is a credential, a lone user name included.
    secrets.hold(d, url.secret);
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

// A plain helper name ("store", "cache --timeout=300",
// "/usr/lib/git-core/git-credential-libsecret") is shown; anything else (an inline shell command, a
// helper with arguments that may carry a token) is not.
std::string describe_helper(std::string_view helper) {
  const std::string_view name = helper.substr(0, helper.find_first_of(" \t"));
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '/' || c == '.';
    if (!plain) return "a helper command (not shown)";
  }
  return "helper " + std::string(name);
}

// Header names whose value is a credential.
bool credential_header(std::string_view header) {
  const std::string name = ascii_lower(trim_space(header));
  return name.find("auth") != std::string::npos || name.find("token") != std::string::npos ||
         name.find("key") != std::string::npos || name.find("secret") != std::string::npos ||
         name.find("cookie") != std::string::npos || name.find("password") != std::string::npos;
}

}  // namespace

std::vector<Discovery> read_git_config(std::string_view text, Secrets& secrets, bool repository) {
  auto entries = flatten_git_config(text);
  if (!entries) return unparsed_from("source", entries.error());
  std::vector<Discovery> out;
  // A subsection that is a URL with credentials ([credential "https://u:p@host"],
  // [http "https://u:p@host/"], [url "https://u:p@host/"]) is one credential, whatever its keys.
  std::map<std::string, size_t> credential_scopes;
  const auto scope_of = [&](const Entry& e) -> std::string {
    if (e.keys.size() != 3) return e.keys.front() == "url" ? "" : "every host";
    Discovery probe = make("git-credential", "source", "");
    const std::string redacted = url_target(secrets, probe, e.keys[1]);
    if (probe.holds_secret && credential_scopes.emplace(e.keys[1], out.size()).second) {
      probe.target = redacted;
      probe.detail = "credentials in the name of a [" + e.keys[0] + "] section";
      out.push_back(std::move(probe));
    }
    return redacted;
  };
  for (const Entry& e : *entries) {
    if (e.keys.size() < 2) continue;
    const std::string& section = e.keys.front();
    const std::string& key = e.keys.back();
    if (section == "remote" && e.keys.size() == 3 && (key == "url" || key == "pushurl")) {
      Discovery d = make("git-remote", "source", "");
      d.detail = "remote " + e.keys[1];
      d.target = url_target(secrets, d, e.value);
      out.push_back(std::move(d));
    } else if (section == "url" && e.keys.size() == 3) {
      (void)scope_of(e);
    } else if (section == "credential") {
      const std::string scope = scope_of(e);
      if (key == "helper") {
        const std::string_view helper = trim_space(e.value);
        if (helper.empty()) continue;  // an empty helper resets the list
        Discovery d = make("git-credential-helper", "source", scope);
        d.detail = describe_helper(helper);
        if (helper.starts_with('!')) {
          // An inline shell helper may embed the secret it prints.
          secrets.hold(d, helper);
        }
        out.push_back(std::move(d));
      } else if (key == "username") {
        for (Discovery& d : out) {
          if (d.kind == "git-credential-helper" && d.target == scope) d.account = e.value;
        }
      }
    } else if (section == "http") {
      const std::string scope = e.keys.size() == 3 ? scope_of(e) : "every remote";
      if (key != "extraheader") continue;
      const size_t colon = e.value.find(':');
      const std::string_view header = colon == std::string::npos
                                          ? std::string_view()
                                          : std::string_view(e.value).substr(0, colon);
      if (!credential_header(header)) continue;
      Discovery d = make("git-credential", "source", scope);
      d.detail = "a " + std::string(trim_space(header)) + " header in http.extraheader";
      secrets.remember(e.value);
      secrets.hold(d, std::string_view(e.value).substr(colon + 1));
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
                                     Secrets& secrets,
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
    if (key == "oauth_token" || key == "token") secrets.hold(d, e.value);
  }
  std::vector<Discovery> out;
  for (auto& [host, d] : by_host) {
    if (!d.holds_secret && d.detail.empty()) d.detail = "token kept in the system keyring";
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_npmrc(std::string_view text, Secrets& secrets) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::string default_registry = "registry.npmjs.org";
  std::map<std::string, Discovery> by_registry;
  const auto registry_entry = [&](const std::string& registry) -> Discovery& {
    return by_registry.try_emplace(registry, make("npm-token", "publish", registry)).first->second;
  };
  // `registry=` and `@scope:registry=` URLs may carry credentials of their own.
  for (const Entry& e : *entries) {
    if (e.keys.size() != 1 || !e.keys[0].ends_with("registry")) continue;
    Discovery probe = make("npm-token", "publish", "");
    url_target(secrets, probe, e.value);
    const std::string host = parse_url(e.value).host;
    if (e.keys[0] == "registry" && !host.empty()) default_registry = host;
    if (probe.holds_secret) {
      Discovery& d = registry_entry(host);
      secrets.hold(d, parse_url(e.value).secret);
      d.detail = "credentials in the registry URL";
    }
  }
  for (const Entry& e : *entries) {
    if (e.keys.size() != 1) continue;
    std::string_view key = e.keys[0];
    std::string registry = default_registry;
    // `//host/path/:_authToken`: scoped to a registry.
    if (key.starts_with("//")) {
      const size_t colon = key.rfind(':');
      if (colon == std::string_view::npos) continue;
      registry = parse_url("https:" + std::string(key.substr(0, colon))).host;
      key = key.substr(colon + 1);
    }
    if (key != "_authToken" && key != "_auth" && key != "_password" && key != "username" &&
        key != "email" && key != "certfile" && key != "keyfile") {
      continue;
    }
    Discovery& d = registry_entry(registry);
    if (key == "username") {
      d.account = e.value;
    } else if (key == "_auth" || key == "_password") {
      // base64 of "user:password" (_auth) or of the password (_password).
      secrets.hold_basic_auth(d, e.value, key == "_auth");
    } else if (key == "_authToken") {
      secrets.hold(d, e.value);
    } else if (key == "keyfile") {
      d.detail += std::string(d.detail.empty() ? "" : "; ") + "client key file";
    }
  }
  std::vector<Discovery> out;
  for (auto& [registry, d] : by_registry) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_pypirc(std::string_view text, Secrets& secrets) {
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
    if (key == "repository") {
      url_target(secrets, d, e.value);
      d.target = parse_url(e.value).host;
    }
    if (key == "username") d.account = e.value;
    if (key == "password") secrets.hold(d, e.value);
  }
  std::vector<Discovery> out;
  for (auto& [section, d] : by_section) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_cargo_credentials(std::string_view text, Secrets& secrets) {
  auto entries = flatten_toml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.empty() || e.keys.back() != "token") continue;
    std::string target = "crates.io";
    if (e.keys.size() == 3 && e.keys[0] == "registries") target = e.keys[1];
    Discovery d = make("cargo-token", "publish", target);
    secrets.hold(d, e.value);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_docker_config(std::string_view text, Secrets& secrets) {
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
        // base64 of "user:password": only the user is kept. Without a colon it is a token.
        secrets.hold_basic_auth(d, e.value, true);
      } else if (e.keys[2] == "identitytoken" || e.keys[2] == "password" ||
                 e.keys[2] == "registrytoken") {
        secrets.hold(d, e.value);
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

std::vector<Discovery> read_maven_settings(std::string_view text, Secrets& secrets) {
  auto entries = flatten_xml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  std::vector<Discovery> out;
  // settings-security.xml: the master password that decrypts the {...} passwords. Maven
  // encrypts it with a key built into Maven, so it is as good as clear text.
  for (const Entry& e : *entries) {
    if (e.keys.size() == 2 && e.keys[0] == "settingsSecurity" && e.keys[1] == "master") {
      Discovery d = make("maven-master-password", "publish", "every Maven server");
      secrets.hold(d, e.value);
      d.detail = "master password (encrypted with Maven's built-in key: as good as clear text)";
      out.push_back(std::move(d));
    }
  }
  std::map<uint32_t, Discovery> by_server;  // keyed by the <server> element
  for (const Entry& e : *entries) {
    if (e.keys.size() != 4 || e.keys[1] != "servers" || e.keys[2] != "server") continue;
    Discovery& d =
        by_server.try_emplace(e.parent, make("maven-server", "publish", "")).first->second;
    const std::string& key = e.keys[3];
    if (key == "id") d.target = e.value;
    if (key == "username") d.account = e.value;
    if (key == "password" || key == "passphrase") {
      const std::string_view value = trim_space(e.value);
      secrets.hold(d, value);
      if (value.starts_with('{') && value.ends_with('}') && d.holds_secret) {
        d.protection = "local-key";
        d.detail += std::string(d.detail.empty() ? "" : "; ") +
                    "encrypted with the master password of ~/.m2/settings-security.xml: only as "
                    "safe as that file";
      }
    }
    if (key == "privateKey") {
      d.detail += std::string(d.detail.empty() ? "" : "; ") + "private key file " + e.value;
    }
  }
  for (auto& [element, d] : by_server) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_gem_credentials(std::string_view text, Secrets& secrets) {
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
    secrets.hold(d, e.value);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_nuget_config(std::string_view text, Secrets& secrets) {
  auto entries = flatten_xml(text);
  if (!entries) return unparsed_from("publish", entries.error());
  // <add key=".." value=".."/>: the two attributes of one element, in either order.
  struct Add {
    std::vector<std::string> keys;  // the element's path
    std::string key, value;
  };
  std::map<uint32_t, Add> adds;
  for (const Entry& e : *entries) {
    if (e.keys.size() < 4 || e.keys[e.keys.size() - 2] != "add") continue;
    Add& add = adds[e.element];
    add.keys.assign(e.keys.begin(), e.keys.end() - 1);
    if (e.keys.back() == "@key") add.key = e.value;
    if (e.keys.back() == "@value") add.value = e.value;
  }
  std::vector<Discovery> out;
  std::map<std::string, Discovery> by_source;
  for (const auto& [element, add] : adds) {
    const std::string& section = add.keys[1];
    if (section == "packageSourceCredentials" && add.keys.size() == 4) {
      const std::string& source = add.keys[2];
      Discovery& d =
          by_source.try_emplace(source, make("nuget-credential", "publish", source)).first->second;
      const std::string key = lower(add.key);
      if (key == "username") d.account = add.value;
      if (key == "password" || key == "cleartextpassword") secrets.hold(d, add.value);
      if (key == "cleartextpassword") d.detail = "clear-text password";
      if (key == "password" && d.holds_secret) {
        d.detail = "encrypted with Windows DPAPI (readable by the same user on the same machine)";
      }
    } else if (section == "apikeys" && add.keys.size() == 3) {
      Discovery d = make("nuget-api-key", "publish", "");
      d.target = url_target(secrets, d, add.key);
      secrets.hold(d, add.value);
      out.push_back(std::move(d));
    } else if (section == "packageSources" && add.keys.size() == 3) {
      // A source URL with credentials in it.
      Discovery d = make("nuget-credential", "publish", "");
      d.target = url_target(secrets, d, add.value);
      if (d.holds_secret) out.push_back(std::move(d));
    }
  }
  for (auto& [source, d] : by_source) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_aws(std::string_view text, Secrets& secrets, bool config) {
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
      secrets.hold(d, e.value);
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

std::vector<Discovery> read_gcloud_json(std::string_view text, Secrets& secrets) {
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
  const std::string impersonated = value_at(*entries, {"service_account_impersonation_url"});
  if (!impersonated.empty()) {
    d.detail += "; impersonates " +
                parse_url(impersonated).path.substr(parse_url(impersonated).path.rfind('/') + 1);
  }
  // At any depth: an impersonated or external account nests its source credentials.
  for (const Entry& e : *entries) {
    if (e.keys.empty()) continue;
    const std::string& key = e.keys.back();
    if (key == "private_key" || key == "refresh_token" || key == "client_secret" ||
        key == "access_token" || key == "subject_token") {
      secrets.hold(d, e.value);
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

std::vector<Discovery> read_azure(std::string_view name, std::string_view text, Secrets& secrets) {
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
      if (!d.holds_secret) secrets.hold(d, e.value);
    }
  }
  if (name == "azureProfile.json") d.kind = "azure-profile";
  for (const std::string& a : accounts) d.account += (d.account.empty() ? "" : ", ") + a;
  return {d};
}

std::vector<Discovery> read_kubeconfig(std::string_view text, Secrets& secrets) {
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
    Discovery d = make("kube-context", "cloud", "");
    d.target = server.empty() ? name : url_target(secrets, d, server);
    d.account = field(&context, "context/user");
    d.detail = "context " + name;
    if (user != nullptr) {
      for (const auto& [key, value] : user->fields) {
        // Every value under auth-provider's config and exec's env, and the classic fields.
        const bool provider_secret =
            key.starts_with("user/auth-provider/config/") &&
            (key.ends_with("secret") || key.ends_with("token") || key.ends_with("-key"));
        const bool env_value = key.starts_with("user/exec/env/") && key.ends_with("/value");
        if (key == "user/token" || key == "user/client-key-data" || key == "user/password" ||
            provider_secret || env_value) {
          secrets.hold(d, value);
        }
      }
      // A literal secret among exec's args: the value after (or attached to) a secret option.
      std::string previous;
      for (size_t i = 0;; ++i) {
        const std::string arg = field(user, "user/exec/args/" + std::to_string(i));
        if (arg.empty()) break;
        const std::string lower_arg = lower(arg);
        const size_t eq = arg.find('=');
        const auto secret_option = [](std::string_view option) {
          return option.starts_with("-") && (option.find("token") != std::string_view::npos ||
                                             option.find("secret") != std::string_view::npos ||
                                             option.find("password") != std::string_view::npos ||
                                             option.find("key") != std::string_view::npos);
        };
        if (secret_option(previous)) secrets.hold(d, arg);
        if (eq != std::string::npos && secret_option(std::string_view(lower_arg).substr(0, eq))) {
          secrets.hold(d, arg.substr(eq + 1));
        }
        previous = lower_arg;
      }
    }
    if (!field(user, "user/client-key").empty()) d.detail += "; client key file";
    const std::string provider = field(user, "user/auth-provider/name");
    if (!provider.empty()) d.detail += "; auth-provider " + provider;
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

std::vector<Discovery> read_gitlab_runner(std::string_view text, Secrets& secrets) {
  auto entries = flatten_toml(text);
  if (!entries) return unparsed_from("ci", entries.error());
  std::map<std::string, Discovery> by_index;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 3 || e.keys[0] != "runners") continue;
    auto [it, inserted] = by_index.try_emplace(e.keys[1], make("gitlab-runner", "ci", ""));
    Discovery& d = it->second;
    if (e.keys[2] == "url") d.target = url_target(secrets, d, e.value);
    if (e.keys[2] == "name") d.account = e.value;
    if (e.keys[2] == "token") secrets.hold(d, e.value);
    if (e.keys[2] == "executor") d.detail = "executor " + e.value;
  }
  std::vector<Discovery> out;
  for (auto& [index, d] : by_index) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_buildkite(std::string_view text, Secrets& secrets) {
  auto entries = flatten_ini(text);
  if (!entries) return unparsed_from("ci", entries.error());
  Discovery d = make("buildkite-agent", "ci", "agent.buildkite.com");
  const std::string endpoint = value_at(*entries, {"endpoint"});
  if (!endpoint.empty()) {
    url_target(secrets, d, endpoint);
    d.target = parse_url(endpoint).host;
  }
  d.account = value_at(*entries, {"name"});
  secrets.hold(d, value_at(*entries, {"token"}));
  return {d};
}

std::vector<Discovery> read_secret_file(std::string_view kind,
                                        std::string_view category,
                                        std::string_view target,
                                        std::string_view text,
                                        Secrets& secrets) {
  Discovery d = make(std::string(kind), std::string(category), std::string(target));
  secrets.hold(d, text);
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

std::vector<Discovery> read_signing_script(std::string_view text, Secrets& secrets) {
  // Each tool by a word that only a signing command line has.
  static constexpr std::pair<std::string_view, std::string_view> kTools[] = {
      {"osslsigncode", "osslsigncode"},
      {"signtool", "signtool"},
      {"jsign", "jsign"},
      {"codesign ", "codesign"},
      {"cosign sign", "cosign"},
      {"COSIGN_PASSWORD", "cosign"},
      {"jarsigner", "jarsigner"},
      {"apksigner", "apksigner"},
      {"--detach-sign", "gpg"},
      {"--clearsign", "gpg"},
      {"gpg -b", "gpg"},
      {"gpg --sign", "gpg"},
      {"minisign -S", "minisign"},
      {"minisign -s", "minisign"},
      {"signify -S", "signify"},
      {"Set-AuthenticodeSignature", "Set-AuthenticodeSignature"},
      {"notarytool", "notarytool"},
      {"productsign", "productsign"},
      {"rpmsign", "rpmsign"},
      {"debsign", "debsign"},
      {"dpkg-sig", "dpkg-sig"},
  };
  std::string tool;
  for (const auto& [word, name] : kTools) {
    if (text.find(word) != std::string_view::npos) {
      tool = std::string(name);
      break;
    }
  }
  if (tool.empty()) return {};
  Discovery d = make("signing-script", "signing", tool);
  // A literal password after a password option (or in an environment assignment): the word
  // that follows, unless it names a variable.
  static constexpr std::string_view kOptions[] = {"-pass ",
                                                  "-pass:",
                                                  "--pass ",
                                                  "--pass=",
                                                  "-storepass ",
                                                  "--storepass ",
                                                  "--storepass=",
                                                  "-keypass ",
                                                  "--keypass ",
                                                  "--keypass=",
                                                  " /p ",
                                                  "-p:",
                                                  "--ks-pass pass:",
                                                  "--key-pass pass:",
                                                  "--ks-pass=pass:",
                                                  "--key-pass=pass:",
                                                  "--passphrase ",
                                                  "--passphrase=",
                                                  "--password ",
                                                  "--password=",
                                                  "-Password ",
                                                  "COSIGN_PASSWORD=",
                                                  "MINISIGN_PASSWORD=",
                                                  "-passin pass:",
                                                  "-p pass:",
                                                  "--pin=",
                                                  "-readpass ",
                                                  "pass:"};
  for (std::string_view option : kOptions) {
    size_t at = 0;
    while ((at = text.find(option, at)) != std::string_view::npos) {
      std::string_view rest = text.substr(at + option.size());
      at += option.size();
      rest = rest.substr(0, rest.find_first_of(" \t\r\n;&|)"));
      if (rest.size() >= 2 && (rest.front() == '"' || rest.front() == '\'') &&
          rest.back() == rest.front()) {
        rest = rest.substr(1, rest.size() - 2);
      }
      if (rest.empty() || rest.starts_with("-") || rest.starts_with("env:") ||
          rest.starts_with("file:") || rest.starts_with("fd:") || rest.starts_with("stdin") ||
          rest.starts_with("(") || rest.starts_with("@")) {
        continue;
      }
      if (secrets.hold(d, rest)) d.detail = "a literal signing password in the script";
    }
  }
  return {d};
}

}  // namespace catena::access
