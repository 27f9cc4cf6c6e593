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
#include <utility>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/formats/ole.hpp"
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

/// A certificate a signature carries or chains through, as a blocklist names it.
struct CertificateId {
  std::string role;  // signer, chain (carried or built), timestamp (the timestamp's certificates)
  std::string subject, issuer;
  std::string serial;             // lower-case hex of the serial number's bytes
  std::string thumbprint_sha256;  // lower-case hex of the SHA-256 of the DER
};

struct Signature {
  std::string kind = "authenticode";  // authenticode (PE), msi, macho, kernel-module
  int depth = 0;                      // 0: a WIN_CERTIFICATE entry; 1: nested in it ...
  std::string subject, issuer, serial, thumbprint_sha256;
  std::string digest_algorithm;  // "sha256", "sha1", ...
  std::string signed_digest;     // hex, from SpcIndirectDataContent
  std::string file_digest;       // hex, computed over the file
  bool digest_ok = false;
  bool signature_ok = false;  // the signer's signature over the signed attributes and content
  /// False when the signer's key is not at hand (a kernel module's signer certificate not in the
  /// trust store): signature_ok then says nothing.
  bool verifiable = true;
  std::string chain;         // trusted, untrusted, expired, bad_eku, error
  std::string chain_detail;  // OpenSSL's reason when not trusted
  std::optional<int64_t> timestamp_ns;
  std::string timestamp_signer;
  /// The timestamp token's own signature holds and it stamps this signature; only then is the
  /// chain judged at its time.
  bool timestamp_verified = false;
  // Mach-O: the slice's architecture, the CodeDirectory's identifier and Team ID, its cdhash,
  // whether it is ad hoc (hashes without a signer), and what did not match the file.
  std::string arch, identifier, team_id, cdhash;
  bool adhoc = false;
  uint64_t pages_checked = 0;
  std::vector<std::string> mismatches;  // "code page 12", "special slot 2 (requirements)"
  /// Non-zero bytes (file offset, length) inside the slice that the signature does not cover.
  std::vector<std::pair<uint64_t, uint64_t>> uncovered;
  /// Every certificate of the signature: its signer, the certificates it carries and the chain
  /// built to the trust store, and its timestamp's.
  std::vector<CertificateId> certificates;
  std::string error;  // why the signature could not be read at all (then nothing else is set)
};

/// Every signature of the file. A blob that is not PKCS#7 gives a Signature with `error` set.
std::vector<Signature> verify_authenticode(std::span<const std::byte> file,
                                           const formats::PeInfo& pe,
                                           const TrustStore& store);

/// The signatures of an MSI installer: the \x05DigitalSignature stream (PKCS#7, with nested
/// ones) over the streams' contents, and over the entries' metadata too when an
/// \x05MsiDigitalSignatureEx stream is present.
std::vector<Signature> verify_msi_authenticode(std::span<const std::byte> file,
                                               const formats::OleFile& ole,
                                               const TrustStore& store);

}  // namespace catena::trust
