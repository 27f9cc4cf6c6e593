#pragma once
/// OpenPGP (GnuPG) public keys as securesystemslib describes them in in-toto layouts, and the
/// signatures `gpg` makes for in-toto, verified with OpenSSL.
///
///   CATENA_TRY(GpgKey key, GpgKey::from_json(layout_key_object_text));
///   GpgSignature sig{.keyid = ..., .other_headers = ..., .signature = ...};  // bytes
///   if (auto problem = key.verify(canonical_bytes, sig, now)) ...;            // why not
///
/// Verification needs no keyring and no gpg: the layout already holds each key's numbers
/// (RSA n and e, DSA p q g y, Ed25519's point), so the key is built with OpenSSL and the
/// signature checked over what OpenPGP signs for a v4 signature: the content, the signature's
/// hashed header (`other_headers`), 0x04 0xff and the header's length. GPGME would first need
/// each key as an OpenPGP packet in a keyring, which the layout does not carry.
///
/// Stricter than securesystemslib, on purpose: the keyid must be the v4 fingerprint of the
/// key's numbers and creation time (so a key cannot be filed under another's id), the key's
/// type and method must agree, a signature must be a v4 binary-document signature whose
/// header names the key's algorithm, and its hash must be SHA-256 (the only hash the reference
/// verifies with; anything else would fail there too).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::trust {

struct GpgSignature {
  std::string keyid;          // 40 hex digits, lower case
  std::string other_headers;  // bytes: the v4 signature packet's hashed part
  std::string signature;      // bytes: RSA s, DSA DER (r, s), or Ed25519 r || s
};

class GpgKey {
 public:
  /// A securesystemslib GPG public key object (type, method, hashes, keyid, creation_time,
  /// validity_period, keyval.public, subkeys), as JSON text. Parse error when malformed, when
  /// it holds private material, or when a keyid is not its key's fingerprint; Unsupported for
  /// an algorithm other than RSA (2048 bits or more), DSA or Ed25519.
  [[nodiscard]] static Result<GpgKey> from_json(std::string_view text);
  /// True when `text` is a JSON object describing a GPG key (its method starts "pgp+").
  static bool looks_like_gpg_key(std::string_view text);

  const std::string& keyid() const;
  /// The primary key or one of its subkeys has this keyid.
  bool covers(std::string_view keyid) const;
  /// Nothing when `signature` is a valid signature of `content` by this key or the subkey it
  /// names; otherwise why not (expired, wrong algorithm, invalid). `now`: Unix seconds.
  std::optional<std::string> verify(std::string_view content,
                                    const GpgSignature& signature,
                                    int64_t now) const;

  struct Part;  // a primary key or subkey, defined where it is used

 private:
  std::vector<std::shared_ptr<const Part>> parts_;  // the primary key first
};

}  // namespace catena::trust
