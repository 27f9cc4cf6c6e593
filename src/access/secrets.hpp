#pragma once
// The one way a secret leaves a credential file: as a keyed fingerprint. Every reader hands each
// secret value it meets to a Secrets; before any discovery leaves the access module, scrub()
// removes URL credentials and every value a reader handed over from each of its strings, so a
// reader that puts a secret into a target, account or detail by mistake still prints nothing.
#include <string>
#include <string_view>
#include <vector>

#include "catena/access/access.hpp"

namespace catena::access {

class Secrets {
 public:
  /// `key`: the store's HMAC key for fingerprints.
  explicit Secrets(std::string_view key) : key_(key) {}
  ~Secrets();
  Secrets(const Secrets&) = delete;
  Secrets& operator=(const Secrets&) = delete;

  /// `d` holds `value`: its fingerprint becomes the discovery's, and the value is never shown.
  /// A reference to an environment variable (`${TOKEN}`, `$TOKEN`, `%TOKEN%`) is not a secret
  /// in the file: it is noted in the detail instead. Returns whether a secret was recorded.
  bool hold(Discovery& d, std::string_view value);
  /// HTTP basic credentials as base64 of "user:password" (`with_user`) or of a password alone:
  /// `d` holds the encoded value; a user name before the colon becomes the account, and the
  /// decoded password is remembered. Without a colon the whole decoded value is the secret.
  void hold_basic_auth(Discovery& d, std::string_view base64, bool with_user);
  /// A value that must never be shown without being the discovery's fingerprint (the other
  /// half of a pair, a value inside a larger one).
  void remember(std::string_view value);
  std::string fingerprint(std::string_view value) const;
  std::string_view key() const { return key_; }

  /// `text` without URL credentials and without any remembered value.
  std::string scrub(std::string_view text) const;
  /// scrub() over every string field of every discovery but its path.
  void scrub(std::vector<Discovery>& discoveries) const;

 private:
  std::string_view key_;
  std::vector<std::string> values_;
};

/// True for `${X}`, `$X`, `%X%`, `{env.X}`: a value taken from the environment at run time.
bool is_env_reference(std::string_view value);

/// `text` with the user name and password of every URL in it removed, in any scheme and
/// anywhere in the text (a git subsection name, a header, a malformed URL), also when the
/// password holds a '/', '@' or ':' that would split a naive parse. Over-removal is preferred
/// to a leak: after "scheme://", everything up to the '@' that starts the host goes.
std::string strip_url_credentials(std::string_view text);

struct UrlParts {
  std::string scheme, host, path;
  std::string user;          // a user name that names rather than grants (empty when hidden)
  std::string secret;        // a password, or a token given as the user name
  bool user_hidden = false;  // an http(s) user name without a password: it may be a token
  std::string redacted;      // the URL without its userinfo
};
/// Splits a URL or scp-like git address ("git@host:path"). In http(s) URLs a user name without
/// a password is hidden (GitHub, GitLab and Bitbucket accept a token there) and taken as the
/// secret; `TOKEN:x-oauth-basic@` and `TOKEN:@` make the user name the secret.
UrlParts parse_url(std::string_view url);

/// Whether a hidden URL user name looks like a token rather than a person's name: long, or
/// with a known token prefix.
bool looks_like_token(std::string_view value);

/// The URL as a target: its secret held by `d` through `secrets`, a shown user name as the
/// account (when `d` has none yet), and the URL without its userinfo returned.
std::string url_target(Secrets& secrets, Discovery& d, std::string_view url);

}  // namespace catena::access
