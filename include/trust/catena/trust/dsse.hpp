#pragma once
/// DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse): a payload, its type and
/// signatures over the pre-authentication encoding (PAE) of both.
///
///   CATENA_TRY(std::string envelope, dsse_sign("application/vnd.in-toto+json", payload, key));
///   CATENA_TRY(DsseOpened opened, dsse_open(envelope, "application/vnd.in-toto+json", keys));
///   if (opened.verified_by.empty()) ...  // no given key signed it
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/trust/keys.hpp"

namespace catena::trust {

/// The envelope as JSON text, with one signature whose keyid is the key's catena key id.
[[nodiscard]] Result<std::string> dsse_sign(std::string_view payload_type,
                                            std::string_view payload,
                                            const SigningKey& key);

struct DsseOpened {
  std::string payload;                   // decoded; trust it only if verified_by is non-empty
  std::vector<std::string> verified_by;  // catena key ids of the given keys that signed it
  std::vector<std::string> problems;     // each signature no given key verified, and why
};

/// Parse error when the envelope is malformed, its payloadType is not `payload_type`, it has
/// no signature, or two signatures name the same keyid. A signature names its key by either
/// key id (catena's or securesystemslib's) or by none; base64 may be standard or URL-safe,
/// padded or not.
/// Base64 as DSSE allows it: standard or URL-safe alphabet, padded or not. Parse error
/// otherwise (also for a text that mixes the two alphabets).
[[nodiscard]] Result<std::string> dsse_base64_decode(std::string text);

[[nodiscard]] Result<DsseOpened> dsse_open(std::string_view envelope,
                                           std::string_view payload_type,
                                           const std::vector<VerifyingKey>& keys);

}  // namespace catena::trust
