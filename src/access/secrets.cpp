#include "secrets.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "catena/core/text.hpp"

namespace catena::access {
namespace {

constexpr std::string_view kRedacted = "[secret]";
// Shorter remembered values are scrubbed only where they are a whole field: replacing every
// "ab" in a report would garble it and tell an observer the value anyway.
constexpr size_t kMinScrubbedLength = 4;

bool url_token_end(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == '`' || c == '\\';
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == '[' || c == ']' || c == ':' || c == '%';
}

// Where the userinfo of the URL whose authority starts at `start` ends (the '@'), or npos.
size_t userinfo_end(std::string_view text, size_t start, size_t end) {
  size_t authority_end = start;
  while (authority_end < end && text[authority_end] != '/' && text[authority_end] != '?' &&
         text[authority_end] != '#') {
    ++authority_end;
  }
  const std::string_view authority = text.substr(start, authority_end - start);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) return start + at;
  // A password holding '/' (or '?', '#') ends the authority early: "u:pa/ss@host". Any ':'
  // before it followed by an '@' later makes the whole span up to that '@' credentials.
  if (authority.find(':') == std::string_view::npos) return std::string_view::npos;
  const size_t later = text.substr(authority_end, end - authority_end).find('@');
  if (later == std::string_view::npos) return std::string_view::npos;
  const size_t candidate = authority_end + later;
  // "host:8080/path@v1" is a port and a path; a host must follow a credentials '@'.
  const size_t after = candidate + 1;
  if (after >= end || !host_char(text[after])) return std::string_view::npos;
  // "host.example:8443/a/@scope" is a host and a port: a dotted (or bracketed, or localhost)
  // name before digits. "u:1234/5@host" is a user and a password.
  const std::string_view before = authority.substr(0, authority.find(':'));
  const std::string_view after_colon = authority.substr(authority.find(':') + 1);
  bool digits = !after_colon.empty();
  for (char c : after_colon) digits = digits && c >= '0' && c <= '9';
  const bool host_like = before.find('.') != std::string_view::npos || before.starts_with('[') ||
                         before == "localhost";
  if (digits && host_like) return std::string_view::npos;
  return candidate;
}

std::string_view strip_quotes(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

}  // namespace

Secrets::~Secrets() {
  for (std::string& v : values_) OPENSSL_cleanse(v.data(), v.size());
}

bool is_env_reference(std::string_view value) {
  value = trim_space(value);
  return value.starts_with("${") || value.starts_with("$") ||
         (value.size() >= 3 && value.front() == '%' && value.back() == '%') ||
         value.starts_with("{env.");
}

bool Secrets::hold(Discovery& d, std::string_view value) {
  value = trim_space(value);
  if (value.empty()) return false;
  if (is_env_reference(value)) {
    const std::string_view note = "secret taken from the environment";
    if (d.detail.find(note) == std::string::npos) {
      d.detail += std::string(d.detail.empty() ? "" : "; ") + std::string(note);
    }
    return false;
  }
  remember(value);
  d.holds_secret = true;
  if (d.protection.empty() || d.protection == "not-applicable") d.protection = "none";
  if (d.fingerprint.empty()) d.fingerprint = fingerprint(value);
  return true;
}

void Secrets::hold_basic_auth(Discovery& d, std::string_view base64, bool with_user) {
  if (auto decoded = base64_decode(trim_space(base64))) {
    const size_t colon = with_user ? decoded->find(':') : std::string::npos;
    if (colon != std::string::npos) {
      d.account = decoded->substr(0, colon);
      remember(decoded->substr(colon + 1));
    } else {
      remember(*decoded);
    }
    OPENSSL_cleanse(decoded->data(), decoded->size());
  }
  hold(d, base64);
}

void Secrets::remember(std::string_view value) {
  value = trim_space(value);
  if (value.empty()) return;
  for (std::string_view v : {value, strip_quotes(value)}) {
    if (std::find(values_.begin(), values_.end(), v) == values_.end()) values_.emplace_back(v);
  }
}

std::string Secrets::fingerprint(std::string_view value) const {
  return secret_fingerprint(key_, value);
}

std::string Secrets::scrub(std::string_view text) const {
  std::string out = strip_url_credentials(text);
  // Longest first, so a value holding a shorter one is removed whole.
  std::vector<const std::string*> order;
  for (const std::string& v : values_) order.push_back(&v);
  std::sort(order.begin(), order.end(),
            [](const std::string* a, const std::string* b) { return a->size() > b->size(); });
  for (const std::string* v : order) {
    if (v->size() < kMinScrubbedLength) {
      if (trim_space(out) == *v) out = std::string(kRedacted);
      continue;
    }
    size_t at = 0;
    while ((at = out.find(*v, at)) != std::string::npos) {
      out.replace(at, v->size(), kRedacted);
      at += kRedacted.size();
    }
  }
  return out;
}

void Secrets::scrub(std::vector<Discovery>& discoveries) const {
  for (Discovery& d : discoveries) {
    d.target = scrub(d.target);
    d.account = scrub(d.account);
    d.detail = scrub(d.detail);
  }
}

std::string strip_url_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;
  size_t search = 0;
  while (true) {
    const size_t sep = text.find("://", search);
    if (sep == std::string_view::npos) break;
    const size_t start = sep + 3;
    size_t end = start;
    while (end < text.size() && !url_token_end(text[end])) ++end;
    const size_t at = userinfo_end(text, start, end);
    if (at != std::string_view::npos) {
      out.append(text.substr(copied, start - copied));
      copied = at + 1;
    }
    search = std::max(start, at == std::string_view::npos ? start : at + 1);
  }
  out.append(text.substr(copied));
  return out;
}

bool looks_like_token(std::string_view value) {
  static constexpr std::string_view kPrefixes[] = {
      "ghp_",   "gho_", "ghu_",  "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-",
      "glcbt-", "npm_", "pypi-", "xox",  "AKIA", "ATBB",        "ya29.",  "sk-",   "hf_"};
  if (value.size() >= 20) return true;
  for (std::string_view p : kPrefixes) {
    if (value.starts_with(p)) return true;
  }
  return false;
}

UrlParts parse_url(std::string_view url) {
  UrlParts parts;
  url = trim_space(url);
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    // scp-like git syntax: user@host:path (the user is an account name such as "git").
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
      parts.host = ascii_lower(authority);
      parts.path = std::string(url.substr(colon + 1));
      parts.redacted = (parts.user.empty() ? "" : parts.user + "@") + parts.host + ":" + parts.path;
      return parts;
    }
  }
  parts.scheme =
      scheme_end == std::string_view::npos ? std::string() : ascii_lower(url.substr(0, scheme_end));
  const size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t at = scheme_end == std::string_view::npos ? url.substr(0, url.find('/')).rfind('@')
                                                         : userinfo_end(url, start, url.size());
  std::string_view rest = url.substr(start);
  if (at != std::string_view::npos && at >= start) {
    std::string_view userinfo = url.substr(start, at - start);
    rest = url.substr(at + 1);
    const size_t colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    std::string_view password =
        colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
    const bool http = parts.scheme.find("http") != std::string::npos;
    if (colon == std::string_view::npos && http) {
      // https://TOKEN@host: GitHub, GitLab and Bitbucket take a token as the user name.
      parts.user_hidden = true;
      parts.secret = std::string(user);
    } else if (colon != std::string_view::npos &&
               (password.empty() || ascii_lower(password) == "x-oauth-basic")) {
      parts.user_hidden = true;
      parts.secret = std::string(user);
    } else {
      parts.user = std::string(user);
      parts.secret = std::string(password);
    }
  }
  const size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    parts.path = std::string(rest.substr(path_start + (rest[path_start] == '/' ? 1 : 0)));
  }
  std::string host(authority);
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  parts.host = ascii_lower(host);
  // The userinfo is never part of the redacted form; strip again in case the split was wrong.
  parts.redacted = strip_url_credentials(
      (parts.scheme.empty() ? "" : parts.scheme + "://") + std::string(authority) +
      (path_start == std::string_view::npos ? "" : std::string(rest.substr(path_start))));
  return parts;
}

std::string url_target(Secrets& secrets, Discovery& d, std::string_view url) {
  UrlParts parts = parse_url(url);
  if (!parts.secret.empty()) {
    if (parts.user_hidden && !looks_like_token(parts.secret)) {
      // Probably a person's name; not shown, not taken for a credential either.
      secrets.remember(parts.secret);
      d.detail += std::string(d.detail.empty() ? "" : "; ") + "a user name in the URL (not shown)";
    } else {
      secrets.hold(d, parts.secret);
    }
  }
  if (d.account.empty()) d.account = parts.user;
  return parts.redacted;
}

}  // namespace catena::access
