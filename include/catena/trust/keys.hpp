#pragma once
/// Signing keys (OpenSSL): Ed25519 by default, ECDSA P-256 on request; PEM files; signatures
/// over DSSE's pre-authentication encoding.
///
///   CATENA_TRY_STATUS(generate_key_files("release", KeyType::Ed25519));  // release, release.pub
///   CATENA_TRY(SigningKey key, SigningKey::load("release"));
///   CATENA_TRY(std::string sig, key.sign(bytes));
///   CATENA_TRY(VerifyingKey pub, VerifyingKey::load("release.pub"));
///   bool ok = pub.verify(bytes, sig);
#include <memory>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena::trust {

enum class KeyType { Ed25519, EcdsaP256 };

/// Writes `path` (the private key, PKCS#8 PEM, mode 0600, never over an existing file) and
/// `path`.pub (SubjectPublicKeyInfo PEM). Usage error when either exists.
[[nodiscard]] Result<void> generate_key_files(const std::string& path, KeyType type);

/// Hex SHA-256 of the public key's DER SubjectPublicKeyInfo: a stable key id.
class VerifyingKey {
 public:
  /// A PEM public key (or a private key, whose public half is taken). Parse error otherwise.
  [[nodiscard]] static Result<VerifyingKey> load(const std::string& path);
  [[nodiscard]] static Result<VerifyingKey> from_pem(std::string_view pem);
  bool verify(std::string_view message, std::string_view signature) const;
  const std::string& key_id() const { return key_id_; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::string key_id_;
};

class SigningKey {
 public:
  /// A PEM private key file. Parse error otherwise; the key's bytes never appear in a message.
  [[nodiscard]] static Result<SigningKey> load(const std::string& path);
  [[nodiscard]] Result<std::string> sign(std::string_view message) const;
  const std::string& key_id() const { return key_id_; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::string key_id_;
};

/// DSSE v1 pre-authentication encoding of a payload.
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

}  // namespace catena::trust
