// Tokens and passwords in the configuration of package managers, CI and infrastructure tools
// that keep them in their own formats (netrc, Java properties, Yarn, Terraform, Jenkins).
#include <map>

#include "catena/core/text.hpp"
#include "credentials.hpp"
#include "flatten.hpp"
#include "keys.hpp"

namespace catena::access {
namespace {

bool names_secret(std::string_view key) {
  const std::string lower = ascii_lower(key);
  if (lower.ends_with("keyid") || lower.ends_with("key.id") || lower.ends_with("keyalias") ||
      lower.ends_with("username") || lower.ends_with("user")) {
    return false;
  }
  return lower.find("password") != std::string::npos || lower.find("passwd") != std::string::npos ||
         lower.find("token") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.ends_with("apikey") || lower.ends_with("api.key") || lower.ends_with("pass");
}

// Java .properties: `key=value`, `key: value` or `key value`; `#`/`!` comments; a trailing
// backslash continues the line.
std::vector<std::pair<std::string, std::string>> read_properties(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string logical;
  TrimmedLines lines(text);
  while (auto next = lines.next()) {
    std::string_view line = *next;
    if (logical.empty() && (line.empty() || line.front() == '#' || line.front() == '!')) continue;
    if (line.ends_with('\\')) {
      logical.append(line.substr(0, line.size() - 1));
      continue;
    }
    logical.append(line);
    const size_t sep = logical.find_first_of("=: \t");
    if (sep == std::string::npos) {
      out.emplace_back(logical, "");
    } else {
      std::string_view value = trim_space(std::string_view(logical).substr(sep + 1));
      if (!value.empty() && (value.front() == '=' || value.front() == ':')) {
        value = trim_space(value.substr(1));
      }
      out.emplace_back(std::string(trim_space(std::string_view(logical).substr(0, sep))),
                       std::string(value));
    }
    logical.clear();
  }
  return out;
}

}  // namespace

std::vector<Discovery> read_hub_config(std::string_view text, Secrets& secrets) {
  auto entries = flatten_yaml(text);
  if (!entries) return {unparsed("source", entries.error().message)};
  // host: [ {user, oauth_token, protocol} ]
  std::map<std::string, Discovery> by_host;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 3) continue;
    Discovery& d =
        by_host.try_emplace(e.keys[0] + "/" + e.keys[1], make("hub-token", "source", e.keys[0]))
            .first->second;
    if (e.keys[2] == "user") d.account = e.value;
    if (e.keys[2] == "oauth_token") secrets.hold(d, e.value);
  }
  std::vector<Discovery> out;
  for (auto& [host, d] : by_host) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_yarnrc(std::string_view text, Secrets& secrets) {
  auto entries = flatten_yaml(text);
  if (!entries) return {unparsed("publish", entries.error().message)};
  std::map<std::string, Discovery> by_scope;
  std::string default_registry = "registry.yarnpkg.com";
  for (const Entry& e : *entries) {
    if (e.keys.size() == 1 && e.keys[0] == "npmRegistryServer") {
      Discovery probe = make("yarn-token", "publish", "");
      url_target(secrets, probe, e.value);
      default_registry = parse_url(e.value).host;
      if (probe.holds_secret) {
        Discovery& d =
            by_scope.try_emplace(default_registry, make("yarn-token", "publish", default_registry))
                .first->second;
        secrets.hold(d, parse_url(e.value).secret);
      }
    }
  }
  for (const Entry& e : *entries) {
    if (e.keys.empty()) continue;
    const std::string& key = e.keys.back();
    if (key != "npmAuthToken" && key != "npmAuthIdent") continue;
    std::string target = default_registry;
    if (e.keys.size() == 3 && e.keys[0] == "npmRegistries") {
      target = parse_url(e.keys[1].starts_with("//") ? "https:" + e.keys[1] : e.keys[1]).host;
    } else if (e.keys.size() == 3 && e.keys[0] == "npmScopes") {
      target = "@" + e.keys[1];
    }
    Discovery& d =
        by_scope.try_emplace(target, make("yarn-token", "publish", target)).first->second;
    if (key == "npmAuthIdent") {
      // "user:password" in clear (or base64 of it).
      const size_t colon = e.value.find(':');
      if (colon != std::string::npos) {
        d.account = e.value.substr(0, colon);
        secrets.remember(e.value.substr(colon + 1));
      }
    }
    secrets.hold(d, e.value);
  }
  std::vector<Discovery> out;
  for (auto& [scope, d] : by_scope) out.push_back(std::move(d));
  return out;
}

std::vector<Discovery> read_pip_conf(std::string_view text, Secrets& secrets) {
  auto entries = flatten_ini(text);
  if (!entries) return {unparsed("publish", entries.error().message)};
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.empty()) continue;
    const std::string key = ascii_lower(e.keys.back());
    if (key != "index-url" && key != "extra-index-url" && key != "index_url" &&
        key != "extra_index_url") {
      continue;
    }
    // extra-index-url may list several URLs.
    std::string_view urls = e.value;
    size_t pos = 0;
    while (pos < urls.size()) {
      size_t end = urls.find_first_of(" \t\r\n", pos);
      if (end == std::string_view::npos) end = urls.size();
      const std::string_view url = urls.substr(pos, end - pos);
      pos = end + 1;
      if (url.empty()) continue;
      Discovery d = make("pip-index-credential", "publish", "");
      d.target = url_target(secrets, d, url);
      if (!d.holds_secret) continue;
      d.detail += std::string(d.detail.empty() ? "" : "; ") + "credentials in " + key;
      d.target = parse_url(url).host;
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<Discovery> read_gradle_properties(std::string_view text, Secrets& secrets) {
  std::vector<Discovery> out;
  Discovery signing = make("gradle-signing-config", "signing", "Gradle signing plugin");
  signing.signing = true;
  std::map<std::string, Discovery> by_repository;
  for (const auto& [key, value] : read_properties(text)) {
    if (key.starts_with("signing.")) {
      if (key == "signing.keyId") signing.account = value;
      if (key == "signing.password") secrets.hold(signing, value);
      if (key == "signing.secretKeyRingFile") signing.detail = "key ring " + value;
      if (key == "signing.key" || key == "signingInMemoryKey") secrets.hold(signing, value);
      continue;
    }
    if (key == "signingInMemoryKey" || key == "signingInMemoryKeyPassword") {
      secrets.hold(signing, value);
      continue;
    }
    if (!names_secret(key)) continue;
    // ossrhPassword, mavenCentralPassword, artifactoryToken: one discovery per property.
    Discovery& d =
        by_repository.try_emplace(key, make("gradle-credential", "publish", key)).first->second;
    secrets.hold(d, value);
  }
  for (const auto& [key, value] : read_properties(text)) {
    // The user name that goes with a password property of the same stem.
    const std::string lower = ascii_lower(key);
    if (!lower.ends_with("username") && !lower.ends_with("user")) continue;
    const std::string stem = key.substr(0, key.size() - (lower.ends_with("username") ? 8 : 4));
    for (auto& [property, d] : by_repository) {
      if (property.starts_with(stem) && !stem.empty()) d.account = value;
    }
  }
  if (signing.holds_secret || !signing.account.empty()) out.push_back(std::move(signing));
  for (auto& [key, d] : by_repository) {
    if (d.holds_secret) out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_netrc(std::string_view text, Secrets& secrets) {
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
      ++pos;
    }
    if (pos >= text.size()) break;
    if (text[pos] == '#') {  // a comment to the end of the line
      pos = text.find('\n', pos);
      if (pos == std::string_view::npos) break;
      continue;
    }
    std::string token;
    if (text[pos] == '"') {
      ++pos;
      while (pos < text.size() && text[pos] != '"') {
        if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
        token.push_back(text[pos++]);
      }
      ++pos;
    } else {
      while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\n' &&
             text[pos] != '\r') {
        token.push_back(text[pos++]);
      }
    }
    if (token == "macdef") {
      // A macro's body runs to the next empty line: never credentials, never shown.
      const size_t blank = text.find("\n\n", pos);
      pos = blank == std::string_view::npos ? text.size() : blank + 2;
      continue;
    }
    tokens.push_back(std::move(token));
  }
  std::vector<Discovery> out;
  std::optional<Discovery> current;
  const auto flush = [&] {
    if (current) out.push_back(std::move(*current));
    current.reset();
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& word = tokens[i];
    const bool has_value = i + 1 < tokens.size();
    if (word == "machine" && has_value) {
      flush();
      current = make("netrc-credential", "source", ascii_lower(tokens[++i]));
    } else if (word == "default") {
      flush();
      current = make("netrc-credential", "source", "every host");
    } else if (word == "login" && has_value) {
      if (!current) current = make("netrc-credential", "source", "every host");
      current->account = tokens[++i];
    } else if ((word == "password" || word == "account") && has_value) {
      if (!current) current = make("netrc-credential", "source", "every host");
      secrets.hold(*current, tokens[++i]);
    } else {
      // An unknown word: never shown, in case it is a value out of place.
      secrets.remember(word);
    }
  }
  flush();
  return out;
}

std::vector<Discovery> read_terraform_credentials(std::string_view text, Secrets& secrets) {
  auto entries = flatten_json(text);
  if (!entries) return {unparsed("cloud", entries.error().message)};
  std::vector<Discovery> out;
  for (const Entry& e : *entries) {
    if (e.keys.size() != 3 || e.keys[0] != "credentials" || e.keys[2] != "token") continue;
    Discovery d = make("terraform-token", "cloud", ascii_lower(e.keys[1]));
    secrets.hold(d, e.value);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_jenkins_credentials(std::string_view text, Secrets& secrets) {
  auto entries = flatten_xml(text);
  if (!entries) return {unparsed("ci", entries.error().message)};
  // Each credential is an element whose children are id, username, password, secret, ...;
  // group the children by that element.
  std::map<uint32_t, Discovery> by_credential;
  for (const Entry& e : *entries) {
    if (e.keys.size() < 2) continue;
    const std::string& key = e.keys.back();
    const bool secret = key == "password" || key == "secret" || key == "privateKey" ||
                        key == "passphrase" || key == "apiToken" || key == "secretBytes" ||
                        key == "token";
    const bool named = key == "id" || key == "username" || key == "description";
    if (!secret && !named) continue;
    Discovery& d =
        by_credential.try_emplace(e.parent, make("jenkins-credential", "ci", "")).first->second;
    if (key == "id") d.target = "Jenkins credential " + e.value;
    if (key == "username") d.account = e.value;
    if (secret && secrets.hold(d, e.value)) {
      const std::string_view value = trim_space(e.value);
      if (value.starts_with('{') && value.ends_with('}')) {
        d.protection = "local-key";
        d.detail = "encrypted with the controller's secrets/hudson.util.Secret and master.key";
      }
    }
  }
  std::vector<Discovery> out;
  for (auto& [element, d] : by_credential) {
    if (!d.holds_secret) continue;
    if (d.target.empty()) d.target = "Jenkins controller";
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> read_keystore_properties(std::string_view text, Secrets& secrets) {
  Discovery d = make("android-signing-config", "signing", "Android app signing");
  d.signing = true;
  for (const auto& [key, value] : read_properties(text)) {
    const std::string lower = ascii_lower(key);
    if (lower == "storefile") d.detail = "keystore " + value;
    if (lower == "keyalias") d.account = value;
    if (lower == "storepassword" || lower == "keypassword" || lower == "password") {
      secrets.hold(d, value);
    }
  }
  if (!d.holds_secret && d.detail.empty()) return {};
  if (d.holds_secret) {
    d.detail += std::string(d.detail.empty() ? "" : "; ") + "keystore password in clear text";
  }
  return {d};
}

}  // namespace catena::access
