#pragma once
/// Signing keys (OpenSSL): Ed25519 by default, ECDSA P-256 on request, RSA (RSASSA-PSS with
/// SHA-256) when read from a file; PEM files and the securesystemslib JSON files that
/// `in-toto-keygen` writes; signatures over DSSE's pre-authentication encoding.
///
///   CATENA_TRY_STATUS(generate_key_files("release", KeyType::Ed25519));  // release, release.pub
///   CATENA_TRY(SigningKey key, SigningKey::load("release"));
///   CATENA_TRY(std::string sig, key.sign(bytes));
///   CATENA_TRY(VerifyingKey pub, VerifyingKey::load("release.pub"));
///   bool ok = pub.verify(bytes, sig);
///
/// Each key carries two ids: key_id(), the SHA-256 of its DER SubjectPublicKeyInfo (catena's
/// own, used in DSSE envelopes and baselines), and sslib().keyid, the SHA-256 of its
/// securesystemslib canonical-JSON description (in-toto layouts and links).
#include <memory>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena::trust {

enum class KeyType { Ed25519, EcdsaP256, Rsa };

/// Writes `path` (the private key, PKCS#8 PEM, mode 0600, never over an existing file) and
/// `path`.pub (SubjectPublicKeyInfo PEM). Usage error when either exists. Ed25519 or ECDSA.
[[nodiscard]] Result<void> generate_key_files(const std::string& path, KeyType type);

/// How securesystemslib describes a public key: keytype "ed25519" (public = 64 hex digits),
/// "rsa" or "ecdsa" (public = PEM text); scheme "ed25519", "rsassa-pss-sha256" or
/// "ecdsa-sha2-nistp256".
struct SslibKey {
  std::string keytype;
  std::string scheme;
  std::string public_value;
  std::string keyid;
};

/// securesystemslib's key id: hex SHA-256 of the canonical JSON of keytype, scheme, keyval
/// {public} and keyid_hash_algorithms ["sha256","sha512"].
std::string sslib_keyid(std::string_view keytype,
                        std::string_view scheme,
                        std::string_view public_value);

class VerifyingKey {
 public:
  /// A PEM public key (or a private key, whose public half is taken) or a securesystemslib
  /// JSON key file. Parse error otherwise.
  [[nodiscard]] static Result<VerifyingKey> load(const std::string& path);
  [[nodiscard]] static Result<VerifyingKey> from_pem(std::string_view pem);
  /// A key as a securesystemslib key object states it. The key material must be of the
  /// keytype and the scheme one catena verifies with that keytype (no algorithm confusion):
  /// Unsupported or Parse error otherwise.
  [[nodiscard]] static Result<VerifyingKey> from_sslib(std::string_view keytype,
                                                       std::string_view scheme,
                                                       std::string_view public_value);
  bool verify(std::string_view message, std::string_view signature) const;
  KeyType type() const { return type_; }
  const std::string& key_id() const { return key_id_; }
  const SslibKey& sslib() const { return sslib_; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  KeyType type_ = KeyType::Ed25519;
  std::string key_id_;
  SslibKey sslib_;
};

class SigningKey {
 public:
  /// A PEM private key file or a securesystemslib JSON private key file. Parse error
  /// otherwise (also for an encrypted key); the key's bytes never appear in a message.
  [[nodiscard]] static Result<SigningKey> load(const std::string& path);
  /// The same, read from an open descriptor (a pipe, `3<key`); `name` names it in messages.
  [[nodiscard]] static Result<SigningKey> load_fd(int fd, const std::string& name);
  /// The same, from the file's text (wiped before returning).
  [[nodiscard]] static Result<SigningKey> from_text(std::string text, const std::string& name);
  [[nodiscard]] Result<std::string> sign(std::string_view message) const;
  KeyType type() const { return type_; }
  const std::string& key_id() const { return key_id_; }
  const SslibKey& sslib() const { return sslib_; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  KeyType type_ = KeyType::Ed25519;
  std::string key_id_;
  SslibKey sslib_;
};

/// DSSE v1 pre-authentication encoding of a payload.
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

}  // namespace catena::trust
