#pragma once
/// Authenticode verification of PE files with OpenSSL: every signature in the certificate table
/// and every nested one (OID 1.3.6.1.4.1.311.2.4.1), each judged on its own.
///
///   CATENA_TRY(TrustStore store, TrustStore::load({}));        // the system bundle
///   CATENA_TRY(formats::PeInfo pe, formats::parse_pe(bytes));
///   std::vector<Signature> sigs = verify_authenticode(bytes, pe, store);
///
/// Per signature: the digest the signature vouches for against the file's Authenticode digest;
/// the signer's signature over it (PKCS#7 signed attributes); the signer's chain to the trust
/// store, judged at the time of a trusted timestamp when there is one (RFC 3161, OID
/// 1.3.6.1.4.1.311.3.3.1, or a PKCS#9 countersignature's signing time) and now otherwise; and the
/// code-signing extended key usage.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/formats/pe.hpp"

namespace catena::trust {

/// A cap on nested signatures (each may nest again); real files carry one or two.
inline constexpr int kMaxSignatureDepth = 4;

class TrustStore {
 public:
  /// The system bundle (/etc/ssl/certs/ca-certificates.crt) plus each PEM file in `extra`.
  [[nodiscard]] static Result<TrustStore> load(const std::vector<std::string>& extra,
                                               bool system = true);
  struct Impl;
  std::shared_ptr<Impl> impl;
};

struct Signature {
  int depth = 0;  // 0: a WIN_CERTIFICATE entry; 1: nested in it ...
  std::string subject, issuer, serial, thumbprint_sha256;
  std::string digest_algorithm;  // "sha256", "sha1", ...
  std::string signed_digest;     // hex, from SpcIndirectDataContent
  std::string file_digest;       // hex, computed over the file
  bool digest_ok = false;
  bool signature_ok = false;  // the signer's signature over the signed attributes and content
  std::string chain;          // trusted, untrusted, expired, bad_eku, error
  std::string chain_detail;   // OpenSSL's reason when not trusted
  std::optional<int64_t> timestamp_ns;
  std::string timestamp_signer;
  std::string error;  // why the signature could not be read at all (then nothing else is set)
};

/// Every signature of the file. A blob that is not PKCS#7 gives a Signature with `error` set.
std::vector<Signature> verify_authenticode(std::span<const std::byte> file,
                                           const formats::PeInfo& pe,
                                           const TrustStore& store);

}  // namespace catena::trust
